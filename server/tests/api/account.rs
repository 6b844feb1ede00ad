//! The account page over HTTP: the session list, ending sessions, the password change,
//! and re-hashing of outdated password hashes at sign-in.

use crate::common::*;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";

/// A browser-like client with this user agent, signed in as `user`.
async fn device(app: &TestApp, user: (&str, &str), agent: &str) -> (reqwest::Client, String) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .user_agent(agent)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = app.login(&client, user.0, user.1).await;
    assert_eq!(res.status(), 200);
    let token = session_token(res.headers()).unwrap();
    (client, token)
}

async fn sessions(app: &TestApp, client: &reqwest::Client) -> serde_json::Value {
    let res = app.post(client, "/api/list_sessions", &[]).await;
    assert_eq!(res.status(), 200);
    res.json_value().await
}

#[tokio::test]
async fn the_list_shows_a_users_own_sessions_and_never_a_secret() {
    let app = TestApp::spawn().await;
    let (laptop, laptop_token) = device(&app, ALICE, FIREFOX).await;
    let (phone, phone_token) = device(&app, ALICE, IPHONE).await;
    let (bob, _) = device(&app, ("bob", BOB.1), FIREFOX).await;
    app.clock.advance(120);
    let list = sessions(&app, &phone).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    let devices: Vec<&str> = list.iter().map(|s| s["device"].as_str().unwrap()).collect();
    assert!(devices.contains(&"Firefox on Linux") && devices.contains(&"Safari on iOS"));
    let current: Vec<bool> = list
        .iter()
        .map(|s| s["current"].as_bool().unwrap())
        .collect();
    assert_eq!(current.iter().filter(|c| **c).count(), 1);
    let mine = list.iter().find(|s| s["current"] == true).unwrap();
    assert_eq!(mine["device"], "Safari on iOS");
    assert_eq!(mine["ip"], "127.0.0.x");
    assert_eq!(mine["created"], "1 January 2026, 00:00 UTC");
    for s in list {
        let handle = s["handle"].as_str().unwrap();
        assert!(handle.len() == 32 && handle.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    let text = serde_json::to_string(&list).unwrap();
    for secret in [&laptop_token, &phone_token] {
        assert!(!text.contains(secret.as_str()));
    }
    assert!(!text.contains("token") && !text.contains("hash") && !text.contains("\"id\""));
    // Bob sees only his own.
    assert_eq!(sessions(&app, &bob).await.as_array().unwrap().len(), 1);
    // The page lists them too.
    let html = get_html(&laptop, &app, "/account").await;
    assert!(
        html.contains("Safari on iOS") && html.contains("This device"),
        "{html}"
    );
    // Signed out: sign in first.
    assert_eq!(
        app.post(&app.raw(), "/api/list_sessions", &[])
            .await
            .status(),
        401
    );
    let res = app.raw().get(app.url("/account")).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/login?next=/account");
}

#[tokio::test]
async fn ending_one_session_and_all_others() {
    let app = TestApp::spawn().await;
    let (laptop, _) = device(&app, ALICE, FIREFOX).await;
    let (phone, _) = device(&app, ALICE, IPHONE).await;
    let (tablet, _) = device(&app, ALICE, IPHONE).await;
    let (bob, _) = device(&app, ("bob", BOB.1), FIREFOX).await;
    let phone_handle = sessions(&app, &phone)
        .await
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()["handle"]
        .as_str()
        .unwrap()
        .to_string();

    // Bob cannot end (or even detect) Alice's session: the same 404 as for nonsense.
    for handle in [
        phone_handle.as_str(),
        "0123456789abcdef0123456789abcdef",
        "'; --",
    ] {
        let res = app
            .post(&bob, "/api/revoke_session", &[("handle", handle)])
            .await;
        assert_eq!(res.status(), 404, "{handle}");
    }
    assert_eq!(app.whoami(&phone).await.as_deref(), Some("alice"));

    // Alice ends the phone's session from the laptop.
    let res = app
        .post(&laptop, "/api/revoke_session", &[("handle", &phone_handle)])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.text().await.unwrap(),
        "false",
        "not the current session"
    );
    assert_eq!(app.whoami(&phone).await, None);
    assert_eq!(sessions(&app, &laptop).await.as_array().unwrap().len(), 2);
    let res = app
        .post(&laptop, "/api/revoke_session", &[("handle", &phone_handle)])
        .await;
    assert_eq!(res.status(), 404, "already ended");

    // "Sign out all other sessions".
    let res = app.post(&laptop, "/api/revoke_other_sessions", &[]).await;
    assert_eq!(res.text().await.unwrap(), "1");
    assert_eq!(app.whoami(&tablet).await, None);
    assert_eq!(app.whoami(&laptop).await.as_deref(), Some("alice"));
    assert_eq!(
        app.whoami(&bob).await.as_deref(),
        Some("bob"),
        "other users untouched"
    );

    // Ending the current session signs out, like the logout button.
    let mine = sessions(&app, &laptop).await[0]["handle"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app
        .post(&laptop, "/api/revoke_session", &[("handle", &mine)])
        .await;
    assert_eq!(res.status(), 200);
    assert!(set_cookies(res.headers())[0].contains("Max-Age=0"));
    assert_eq!(res.text().await.unwrap(), "true");
    assert_eq!(app.whoami(&laptop).await, None);
}

async fn change(
    app: &TestApp,
    client: &reqwest::Client,
    current: &str,
    new: &str,
    confirm: &str,
) -> reqwest::Response {
    app.post(
        client,
        "/api/change_password",
        &[
            ("current_password", current),
            ("new_password", new),
            ("new_password_confirm", confirm),
        ],
    )
    .await
}

async fn stored_hash(app: &TestApp) -> String {
    db::on!(app.state.db.writer(), p => sqlx::query_scalar(
        "SELECT password_hash FROM users WHERE username = 'alice'"
    )
    .fetch_one(p)
    .await)
    .unwrap()
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_every_other_session() {
    let app = TestApp::spawn().await;
    let (laptop, old_token) = device(&app, ALICE, FIREFOX).await;
    let (phone, _) = device(&app, ALICE, IPHONE).await;
    let before = stored_hash(&app).await;
    let new = "a brand new passphrase";
    for (current, n, c, message) in [
        (
            "not-the-password",
            new,
            new,
            "Your current password is not right.",
        ),
        (
            ALICE.1,
            new,
            "a brand new passphrasE",
            "The two passwords do not match.",
        ),
        (
            ALICE.1,
            "short",
            "short",
            "Passwords need at least 15 characters. A few random words work well.",
        ),
        (
            ALICE.1,
            ALICE.1,
            ALICE.1,
            "The new password must differ from the current one.",
        ),
    ] {
        let res = change(&app, &laptop, current, n, c).await;
        assert_eq!(res.status(), 422, "{message}");
        assert_eq!(res.json_value().await["message"], message);
    }
    assert_eq!(stored_hash(&app).await, before, "refusals change nothing");
    assert_eq!(app.whoami(&phone).await.as_deref(), Some("alice"));

    let res = change(&app, &laptop, ALICE.1, new, new).await;
    assert_eq!(res.status(), 200);
    let rotated = session_token(res.headers()).expect("this session gets a new token");
    assert_ne!(rotated, old_token);
    assert_eq!(app.whoami(&laptop).await.as_deref(), Some("alice"));
    assert_eq!(app.whoami(&phone).await, None, "every other session ended");
    let res = app
        .post_with_cookie("/api/current_user", cookie_header(&old_token))
        .await;
    assert_eq!(res.text().await.unwrap(), "null", "the old token is dead");
    assert_ne!(stored_hash(&app).await, before);
    assert_eq!(app.login(&app.raw(), ALICE.0, ALICE.1).await.status(), 401);
    assert_eq!(app.login(&app.raw(), ALICE.0, new).await.status(), 200);
}

#[tokio::test]
async fn guessing_the_current_password_is_throttled() {
    let app = TestApp::spawn().await;
    let (laptop, _) = device(&app, ALICE, FIREFOX).await;
    let new = "a brand new passphrase";
    for _ in 0..5 {
        assert_eq!(
            change(&app, &laptop, "guess-guess-guess", new, new)
                .await
                .status(),
            422
        );
    }
    let res = change(&app, &laptop, ALICE.1, new, new).await;
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "60");
    assert_eq!(
        app.post(&app.raw(), "/api/change_password", &[])
            .await
            .status(),
        400
    );
    let anon = change(&app, &app.raw(), ALICE.1, new, new).await;
    assert_eq!(anon.status(), 401);
}

#[tokio::test]
async fn sign_in_rehashes_a_hash_made_with_older_settings() {
    use argon2::password_hash::{PasswordHasher, SaltString};
    use argon2::{Algorithm, Argon2, Params, Version};
    let app = TestApp::spawn().await;
    let old = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(4096, 1, 1, None).unwrap(),
    )
    .hash_password(
        ALICE.1.as_bytes(),
        &SaltString::encode_b64(b"an old salt 1234").unwrap(),
    )
    .unwrap()
    .to_string();
    db::on!(app.state.db.writer(), p => sqlx::query(
        "UPDATE users SET password_hash = $1 WHERE username = 'alice'"
    )
    .bind(&old)
    .execute(p)
    .await
    .map(|_| ()))
    .unwrap();
    assert_eq!(
        app.login(&app.raw(), ALICE.0, "wrong-password-here")
            .await
            .status(),
        401
    );
    assert_eq!(
        stored_hash(&app).await,
        old,
        "a failed sign-in changes nothing"
    );
    assert_eq!(app.login(&app.raw(), ALICE.0, ALICE.1).await.status(), 200);
    let upgraded = stored_hash(&app).await;
    assert!(
        upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{upgraded}"
    );
    assert_eq!(app.login(&app.raw(), ALICE.0, ALICE.1).await.status(), 200);
    assert_eq!(
        stored_hash(&app).await,
        upgraded,
        "today's hashes are left alone"
    );
}

#[tokio::test]
async fn a_password_change_that_fails_half_way_changes_nothing() {
    let app = TestApp::spawn().await;
    let (laptop, _) = device(&app, ALICE, FIREFOX).await;
    let (phone, _) = device(&app, ALICE, IPHONE).await;
    let before = stored_hash(&app).await;
    // Ending the other sessions fails after the new hash was written in the transaction.
    break_deletes(&app, "sessions", "injected fault").await;
    let new = "a-brand-new-password-2026";
    let res = change(&app, &phone, ALICE.1, new, new).await;
    assert_eq!(res.status(), 500);
    assert_eq!(stored_hash(&app).await, before, "the old hash is kept");
    assert_eq!(app.whoami(&laptop).await.as_deref(), Some("alice"));
    assert_eq!(app.whoami(&phone).await.as_deref(), Some("alice"));
    mend_deletes(&app, "sessions").await;
    // Repaired: the same change goes through, all of it.
    assert_eq!(change(&app, &phone, ALICE.1, new, new).await.status(), 200);
    assert_ne!(stored_hash(&app).await, before);
    assert_eq!(app.whoami(&laptop).await, None);
    assert_eq!(app.whoami(&phone).await.as_deref(), Some("alice"));
}

#[tokio::test]
async fn a_session_older_than_the_last_password_change_is_refused() {
    let app = TestApp::spawn().await;
    let (laptop, _) = device(&app, ALICE, FIREFOX).await;
    // Another process changed the password (and this one never heard of it).
    exec(
        &app,
        &format!(
            "UPDATE users SET password_changed_at = {} WHERE username = 'alice'",
            T0 + 5
        ),
    )
    .await;
    app.clock.advance(61); // past the time a copy in memory is trusted
    assert_eq!(app.whoami(&laptop).await, None);
    // Signing in again after the change works.
    let (again, _) = device(&app, ALICE, FIREFOX).await;
    assert_eq!(app.whoami(&again).await.as_deref(), Some("alice"));
}

#[tokio::test]
async fn a_revocation_whose_client_hangs_up_still_ends_the_other_sessions_at_once() {
    let app = TestApp::spawn().await;
    let (_laptop, laptop_token) = device(&app, ALICE, FIREFOX).await;
    let alice_id: i64 = db::on!(app.state.db.writer(), p => sqlx::query_scalar(
        "SELECT id FROM users WHERE username = 'alice'"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    let alice_sessions = || async {
        app.state
            .sessions
            .user_sessions(alice_id)
            .await
            .unwrap()
            .len()
    };
    let mut landed = 0;
    let mut landed_unanswered = 0;
    for attempt in 0..60u64 {
        // The phone is signed in and served from memory.
        let (phone, _) = app
            .state
            .sessions
            .create(Some(alice_id), false, &Default::default())
            .await
            .unwrap();
        let phone = cookie_header(&phone.expose());
        assert_eq!(
            app.post_with_cookie("/api/current_user", phone.clone())
                .await
                .json_value()
                .await["username"],
            "alice"
        );
        // The laptop asks to end every other session and hangs up after sending, a
        // little later each time, so some hang-ups land in the middle of the write.
        let delay = std::time::Duration::from_micros(attempt * 40);
        let cookie = format!("sid={laptop_token}");
        let answered =
            post_and_hang_up(&app, "/api/revoke_other_sessions", &cookie, "", delay).await;
        // Whenever the revocation reached the database, the phone is refused at once.
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(300);
        while alice_sessions().await > 1 && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        if alice_sessions().await == 1 {
            landed += 1;
            landed_unanswered += usize::from(!answered);
            let res = app.get_with_cookie("/billing", phone).await;
            assert!(
                res.status().is_redirection(),
                "attempt {attempt}: the ended phone session still opens /billing ({})",
                res.status()
            );
        } else {
            // The request never got going: end the phone session the normal way.
            let res = app
                .post_with_cookie("/api/revoke_other_sessions", cookie_header(&laptop_token))
                .await;
            assert_eq!(res.status(), 200);
        }
    }
    eprintln!(
        "hung-up revocations that reached the database: {landed} of 60, \
         {landed_unanswered} of them hung up before the answer"
    );
    assert!(
        landed_unanswered > 0,
        "no revocation reached the database after its client hung up before the answer: \
         the hang-up this test is about never happened"
    );
}
