//! Passkeys at the HTTP level, driven by a software authenticator (`authenticator`) that
//! makes real keys and signatures: adding one (a sensitive action), signing in with it
//! without a username, using it as the proof for sudo mode, and every way an answer can
//! be wrong, each refused with `passkey_refused` and no session signed in.

use serde_json::Value;

use crate::authenticator::{Authenticator, Credential};
use crate::common::*;

/// The server function's answer: JSON text inside a JSON string.
async fn options(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> Value {
    let res = app.post(client, path, form).await;
    assert_eq!(res.status(), 200, "{path}");
    let text: String = serde_json::from_value(res.json_value().await).expect("a string");
    serde_json::from_str(&text).expect("options JSON")
}

fn soft(app: &TestApp) -> Authenticator {
    Authenticator::new(app.state.passkeys.rp.origin.as_str().trim_end_matches('/'))
}

/// Begins adding a passkey on `begin`, lets `auth` make it, and sends the answer from
/// `answer` (the same browser, or another one) named `name`.
async fn try_add(
    app: &TestApp,
    begin: &reqwest::Client,
    answer: &reqwest::Client,
    auth: &Authenticator,
    name: &str,
) -> (reqwest::Response, Credential) {
    let opts = options(app, begin, "/api/passkey_registration_options", &[]).await;
    let (credential, json) = auth.create(&opts);
    let res = app
        .post(
            answer,
            "/api/add_passkey",
            &[("name", name), ("credential", &json)],
        )
        .await;
    (res, credential)
}

/// Adds a passkey made by `auth` to the account `client` is signed in to.
async fn add_passkey(
    app: &TestApp,
    client: &reqwest::Client,
    auth: &Authenticator,
    name: &str,
) -> Credential {
    let (res, credential) = try_add(app, client, client, auth, name).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    credential
}

async fn sign_in(app: &TestApp, client: &reqwest::Client, assertion: &str) -> reqwest::Response {
    app.post(
        client,
        "/api/passkey_sign_in",
        &[("credential", assertion), ("next", "/cart")],
    )
    .await
}

/// Asserts a refusal: 401 `passkey_refused`, and `client` is not signed in.
async fn assert_refused(app: &TestApp, client: &reqwest::Client, res: reqwest::Response) {
    assert_eq!(res.status(), 401);
    let body = res.json_value().await;
    assert_eq!(body["error"], "passkey_refused", "{body}");
    assert_eq!(
        app.whoami(client).await,
        None,
        "a refused passkey signed in"
    );
}

async fn signed_in_with_passkey(
    app: &TestApp,
    name: &str,
    password: &str,
) -> (reqwest::Client, Authenticator, Credential) {
    let laptop = app.browser();
    assert_eq!(app.login(&laptop, name, password).await.status(), 200);
    let auth = soft(app);
    let credential = add_passkey(app, &laptop, &auth, "").await;
    (laptop, auth, credential)
}

#[tokio::test]
async fn add_a_passkey_then_sign_in_with_it_without_a_username() {
    let app = TestApp::spawn().await;
    let (name, password) = ALICE;
    let (laptop, auth, mut credential) = signed_in_with_passkey(&app, name, password).await;

    // Asked for a discoverable key with user verification.
    let opts = options(&app, &laptop, "/api/passkey_registration_options", &[]).await;
    let selection = &opts["publicKey"]["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "required", "{opts}");
    assert_eq!(selection["requireResidentKey"], true);
    assert_eq!(selection["userVerification"], "required");
    // The one already added is excluded (the authenticator must not make a second).
    let excluded = opts["publicKey"]["excludeCredentials"].as_array().unwrap();
    assert_eq!(excluded.len(), 1);

    // Listed, named after the device when no name was given.
    let list = app
        .post(&laptop, "/api/passkeys", &[])
        .await
        .json_value()
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["name"], "Unknown device", "{list}");
    assert_eq!(list[0]["synced"], false);
    assert!(list[0]["last_used"].is_null());

    // Another browser: a guest with a cart signs in with the passkey, no name typed.
    let phone = app.browser();
    let slug = "stoneware-mug";
    let pid = product_id(&app, slug).await;
    assert_eq!(add(&app, &phone, pid, "1").await.status(), 200);
    let guest_token = app
        .post(
            &phone,
            "/api/passkey_sign_in_options",
            &[("conditional", "false")],
        )
        .await;
    assert_eq!(guest_token.status(), 200);
    let opts: Value = serde_json::from_str(
        &serde_json::from_value::<String>(guest_token.json_value().await).unwrap(),
    )
    .unwrap();
    assert!(
        opts["publicKey"]["allowCredentials"]
            .as_array()
            .is_none_or(|a| a.is_empty()),
        "names no account: {opts}"
    );
    assert_eq!(opts["publicKey"]["userVerification"], "required");
    assert!(opts.get("mediation").is_none_or(Value::is_null), "{opts}");
    let assertion = auth.get(&mut credential, &opts);
    let res = sign_in(&app, &phone, &assertion).await;
    assert_eq!(res.status(), 200);
    assert!(
        session_token(res.headers()).is_some(),
        "the token rotates at sign-in"
    );
    assert_eq!(res.json_value().await, "/cart");
    assert_eq!(app.whoami(&phone).await.as_deref(), Some(name));
    // The guest cart joined the account's.
    let cart = app
        .post(&phone, "/api/get_cart", &[])
        .await
        .json_value()
        .await;
    assert!(cart.to_string().contains(slug), "{cart}");

    // The log says how, and the list when it was used.
    let log = app
        .post(&laptop, "/api/security_log", &[])
        .await
        .json_value()
        .await;
    let kinds: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(kinds.first(), Some(&"signed_in_with_passkey"), "{log}");
    assert!(kinds.contains(&"passkey_added"), "{log}");
    let list = app
        .post(&laptop, "/api/passkeys", &[])
        .await
        .json_value()
        .await;
    assert!(list[0]["last_used"].is_string(), "{list}");

    // Conditional mediation (the username field's autofill) gets its flag.
    let opts = options(
        &app,
        &app.browser(),
        "/api/passkey_sign_in_options",
        &[("conditional", "true")],
    )
    .await;
    assert_eq!(opts["mediation"], "conditional", "{opts}");
}

#[tokio::test]
async fn every_wrong_answer_is_refused_with_no_session() {
    let app = TestApp::spawn().await;
    let (name, password) = ALICE;
    let (laptop, auth, mut credential) = signed_in_with_passkey(&app, name, password).await;
    let guest = app.browser();
    let begin = |client: reqwest::Client| {
        let app = &app;
        async move {
            options(
                app,
                &client,
                "/api/passkey_sign_in_options",
                &[("conditional", "false")],
            )
            .await
        }
    };

    // Replayed: the same answer twice. The first signs in, the second finds no ceremony.
    let opts = begin(guest.clone()).await;
    let assertion = auth.get(&mut credential, &opts);
    assert_eq!(sign_in(&app, &guest, &assertion).await.status(), 200);
    app.post(&guest, "/api/logout", &[]).await;
    let res = sign_in(&app, &guest, &assertion).await;
    assert_refused(&app, &guest, res).await;

    // A challenge answered twice within one ceremony: used once only.
    let thief = app.browser();
    let opts = begin(thief.clone()).await;
    let first = auth.get(&mut credential, &opts);
    let second = auth.get(&mut credential, &opts);
    assert_eq!(sign_in(&app, &thief, &first).await.status(), 200);
    app.post(&thief, "/api/logout", &[]).await;
    let res = sign_in(&app, &thief, &second).await;
    assert_refused(&app, &thief, res).await;

    // Expired: the answer comes after five minutes.
    let slow = app.browser();
    let opts = begin(slow.clone()).await;
    app.clock.advance(301);
    let res = sign_in(&app, &slow, &auth.get(&mut credential, &opts)).await;
    assert_refused(&app, &slow, res).await;

    // Used by another session: the challenge was begun by one browser, answered by
    // another (which began none, or one of its own).
    let victim = app.browser();
    let opts = begin(victim.clone()).await;
    let attacker = app.browser();
    let res = sign_in(&app, &attacker, &auth.get(&mut credential, &opts)).await;
    assert_refused(&app, &attacker, res).await;
    let _ = begin(attacker.clone()).await;
    let res = sign_in(&app, &attacker, &auth.get(&mut credential, &opts)).await;
    assert_refused(&app, &attacker, res).await;

    // No user verification (a touch without PIN or biometrics).
    let lazy = app.browser();
    let opts = begin(lazy.clone()).await;
    let mut no_uv = auth.clone();
    no_uv.verify_user = false;
    let res = sign_in(&app, &lazy, &no_uv.get(&mut credential, &opts)).await;
    assert_refused(&app, &lazy, res).await;

    // A credential of another account: Alice's key presented as Bob's (his user handle).
    let bob = app.browser();
    let (bob_name, bob_password) = BOB;
    assert_eq!(app.login(&bob, bob_name, bob_password).await.status(), 200);
    let bob_credential = add_passkey(&app, &bob, &soft(&app), "Bob's key").await;
    let mixer = app.browser();
    let opts = begin(mixer.clone()).await;
    credential.counter += 1;
    let mixed = auth.assert(
        &credential,
        &opts,
        credential.counter,
        &bob_credential.user_handle,
    );
    let res = sign_in(&app, &mixer, &mixed).await;
    assert_refused(&app, &mixer, res).await;

    // Another authenticator's signature: a key that was never added.
    let stranger = app.browser();
    let opts = begin(stranger.clone()).await;
    let (mut unknown, _) =
        auth.create(&options(&app, &laptop, "/api/passkey_registration_options", &[]).await);
    unknown.user_handle = credential.user_handle.clone();
    let res = sign_in(&app, &stranger, &auth.get(&mut unknown, &opts)).await;
    assert_refused(&app, &stranger, res).await;

    // A counter that went backwards (a cloned key): refused, and the owner is told.
    let clone = app.browser();
    let opts = begin(clone.clone()).await;
    let stale = auth.assert(&credential, &opts, 1, &credential.user_handle);
    let res = sign_in(&app, &clone, &stale).await;
    assert_refused(&app, &clone, res).await;
    let log = app
        .post(&laptop, "/api/security_log", &[])
        .await
        .json_value()
        .await;
    assert_eq!(log[0]["kind"], "passkey_refused", "{log}");

    // A wrong origin (a phishing site relaying the challenge).
    let phished = app.browser();
    let opts = begin(phished.clone()).await;
    let mut phishing = auth.clone();
    phishing.origin = "https://oxide-and-oak.example".into();
    let res = sign_in(&app, &phished, &phishing.get(&mut credential, &opts)).await;
    assert_refused(&app, &phished, res).await;

    // Junk instead of a credential, and no ceremony at all.
    let junk = app.browser();
    let _ = begin(junk.clone()).await;
    for body in ["", "{}", "null", "\u{0}", &"x".repeat(10_000)] {
        let res = sign_in(&app, &junk, body).await;
        assert_refused(&app, &junk, res).await;
    }
    // After all that, the real one still works.
    let opts = begin(junk.clone()).await;
    assert_eq!(
        sign_in(&app, &junk, &auth.get(&mut credential, &opts))
            .await
            .status(),
        200
    );
    assert_eq!(app.whoami(&junk).await.as_deref(), Some(name));
}

#[tokio::test]
async fn registration_is_sensitive_and_checked() {
    let app = TestApp::spawn().await;
    let (name, password) = ALICE;
    let laptop = app.browser();
    assert_eq!(app.login(&laptop, name, password).await.status(), 200);
    let auth = soft(&app);

    // An answer to no ceremony, or to a ceremony of another session.
    let other = app.browser();
    assert_eq!(app.login(&other, name, password).await.status(), 200);
    let (res, _) = try_add(&app, &laptop, &other, &auth, "x").await;
    assert_eq!(res.status(), 401);
    assert_eq!(res.json_value().await["error"], "passkey_refused");
    // A phishing origin.
    let mut phishing = auth.clone();
    phishing.origin = "http://localhost:1".into();
    let (res, _) = try_add(&app, &laptop, &laptop, &phishing, "x").await;
    assert_eq!(res.status(), 401);
    // Without user verification.
    let mut no_uv = auth.clone();
    no_uv.verify_user = false;
    let (res, _) = try_add(&app, &laptop, &laptop, &no_uv, "x").await;
    assert_eq!(res.status(), 401);
    // A name that is not one line.
    let (res, _) = try_add(&app, &laptop, &laptop, &auth, "two\nlines").await;
    assert_eq!(res.status(), 422);
    let list = app
        .post(&laptop, "/api/passkeys", &[])
        .await
        .json_value()
        .await;
    assert_eq!(
        list,
        serde_json::json!([]),
        "a refused registration stored a passkey"
    );

    // A synced passkey, named.
    let mut synced = auth.clone();
    synced.synced = true;
    add_passkey(&app, &laptop, &synced, "Phone keychain").await;
    let list = app
        .post(&laptop, "/api/passkeys", &[])
        .await
        .json_value()
        .await;
    assert_eq!(list[0]["name"], "Phone keychain");
    assert_eq!(list[0]["synced"], true);
    let id = list[0]["id"].as_i64().unwrap().to_string();

    // Past the sudo window: adding and removing need a proof first; renaming does not.
    app.clock.advance(15 * 60 + 1);
    let res = app
        .post(&laptop, "/api/passkey_registration_options", &[])
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(res.json_value().await["error"], "sudo_required");
    let res = app
        .post(&laptop, "/api/remove_passkey", &[("id", &id)])
        .await;
    assert_eq!(res.status(), 403);
    let res = app
        .post(
            &laptop,
            "/api/rename_passkey",
            &[("id", &id), ("name", "Old phone")],
        )
        .await;
    assert_eq!(res.status(), 200);
    // A plain form is sent to the confirm step and back.
    let res = app
        .post_html(&laptop, "/api/remove_passkey", &[("id", &id)])
        .await;
    assert_eq!(res.headers()["location"], "/confirm?next=/account");

    // Bob cannot rename or remove Alice's passkey.
    let bob = app.browser();
    assert_eq!(app.login(&bob, BOB.0, BOB.1).await.status(), 200);
    let res = app
        .post(
            &bob,
            "/api/rename_passkey",
            &[("id", &id), ("name", "mine")],
        )
        .await;
    assert_eq!(res.status(), 404);
    let res = app.post(&bob, "/api/remove_passkey", &[("id", &id)]).await;
    assert_eq!(res.status(), 404);

    // After a proof, removing works, and the log says so.
    assert_eq!(
        app.post(&laptop, "/api/confirm_identity", &[("password", password)])
            .await
            .status(),
        200
    );
    assert_eq!(
        app.post(&laptop, "/api/remove_passkey", &[("id", &id)])
            .await
            .status(),
        200
    );
    let list = app
        .post(&laptop, "/api/passkeys", &[])
        .await
        .json_value()
        .await;
    assert_eq!(list, serde_json::json!([]));
    let log = app
        .post(&laptop, "/api/security_log", &[])
        .await
        .json_value()
        .await;
    assert_eq!(log[0]["kind"], "passkey_removed", "{log}");
}

#[tokio::test]
async fn a_passkey_is_a_proof_for_sudo_mode_on_every_process() {
    // Both processes serve one site: one origin (as behind the load balancer).
    let origin = || Some("http://localhost:8443".to_string());
    let sqlite = db::testing::backend() == db::Backend::Sqlite;
    let a = TestApp::spawn_with(|c| {
        c.webauthn_origin = origin();
        if sqlite {
            c.sessions.cache_capacity = 0;
        }
    })
    .await;
    let url = a.database_url.clone();
    let b = TestApp::spawn_with(|c| {
        c.webauthn_origin = origin();
        c.database_url = url;
        c.seed_demo_data = false;
        if sqlite {
            c.sessions.cache_capacity = 0;
        }
    })
    .await;
    let (name, password) = ALICE;
    let (laptop, auth, mut credential) = signed_in_with_passkey(&a, name, password).await;
    a.clock.advance(15 * 60 + 1);
    b.clock.advance(15 * 60 + 1);
    // The cookie jar sends the session to both servers (one host, 127.0.0.1).
    let res = a.post(&laptop, "/api/revoke_other_sessions", &[]).await;
    assert_eq!(res.status(), 403);

    // Begun on A, answered on B: the ceremony lives in the database.
    let opts = options(&a, &laptop, "/api/passkey_confirm_options", &[]).await;
    let allowed = opts["publicKey"]["allowCredentials"].as_array().unwrap();
    assert_eq!(allowed.len(), 1, "only this account's passkeys: {opts}");
    let res = b
        .post(
            &laptop,
            "/api/confirm_with_passkey",
            &[
                ("credential", &auth.get(&mut credential, &opts)),
                ("next", "/account"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        session_token(res.headers()).is_some(),
        "the proof rotates the token"
    );
    assert_eq!(res.json_value().await, "/account");
    // And counts on A.
    assert_eq!(
        a.post(&laptop, "/api/revoke_other_sessions", &[])
            .await
            .status(),
        200
    );

    // Another account's passkey is no proof for this one.
    a.clock.advance(15 * 60 + 1);
    b.clock.advance(15 * 60 + 1);
    let bob = a.browser();
    assert_eq!(a.login(&bob, BOB.0, BOB.1).await.status(), 200);
    let bob_auth = soft(&a);
    let mut bob_key = add_passkey(&a, &bob, &bob_auth, "").await;
    let opts = options(&a, &laptop, "/api/passkey_confirm_options", &[]).await;
    let res = a
        .post(
            &laptop,
            "/api/confirm_with_passkey",
            &[("credential", &bob_auth.get(&mut bob_key, &opts))],
        )
        .await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        a.post(&laptop, "/api/revoke_other_sessions", &[])
            .await
            .status(),
        403
    );
}

#[tokio::test]
async fn a_removal_whose_client_hangs_up_is_all_or_nothing() {
    let app = TestApp::spawn().await;
    let (name, password) = ALICE;
    let auth = soft(&app);
    let count = |sql: &'static str| {
        let db = app.state.db.clone();
        async move {
            db::on!(db.reader(), p => sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await).unwrap()
        }
    };
    // How long a removal takes here, to hang up around its end.
    let probe = {
        let client = app.browser();
        assert_eq!(app.login(&client, name, password).await.status(), 200);
        add_passkey(&app, &client, &auth, "probe").await;
        let list = app
            .post(&client, "/api/passkeys", &[])
            .await
            .json_value()
            .await;
        let id = list[0]["id"].as_i64().unwrap().to_string();
        let started = std::time::Instant::now();
        let res = app
            .post(&client, "/api/remove_passkey", &[("id", &id)])
            .await;
        assert_eq!(res.status(), 200);
        started.elapsed()
    };
    let (mut landed_unanswered, mut ended_before) = (0, 0);
    // A staircase around the moment the removal is written, as for a confirmation.
    let mut delay = probe;
    let mut step = probe / 10;
    let mut tries = 0;
    while landed_unanswered < 3 && tries < 200 {
        tries += 1;
        let client = app.browser();
        let res = app.login(&client, name, password).await;
        let token = session_token(res.headers()).unwrap();
        add_passkey(&app, &client, &auth, "doomed").await;
        let list = app
            .post(&client, "/api/passkeys", &[])
            .await
            .json_value()
            .await;
        let id = list[0]["id"].as_i64().unwrap();
        let logged =
            count("SELECT COUNT(*) FROM security_events WHERE kind = 'passkey_removed'").await;
        let body = format!("id={id}");
        let answered = post_and_hang_up(
            &app,
            "/api/remove_passkey",
            &format!("sid={token}"),
            &body,
            delay,
        )
        .await;
        // Long enough for a removal still under way to finish.
        tokio::time::sleep((probe * 3).max(std::time::Duration::from_millis(100))).await;
        let left = count("SELECT COUNT(*) FROM passkeys").await;
        let now_logged =
            count("SELECT COUNT(*) FROM security_events WHERE kind = 'passkey_removed'").await;
        // The passkey and its log row go together, or neither does.
        match left {
            1 => {
                assert_eq!(now_logged, logged, "logged as removed, but still there");
                ended_before += 1;
                delay += step;
                // Clean up for the next try (the sign-in above was a proof).
                let res = app
                    .post(&client, "/api/remove_passkey", &[("id", &id.to_string())])
                    .await;
                assert_eq!(res.status(), 200);
            }
            0 => {
                assert_eq!(
                    now_logged,
                    logged + 1,
                    "removed, but not in the security log"
                );
                if answered {
                    delay = delay.saturating_sub(step);
                } else {
                    landed_unanswered += 1;
                }
            }
            n => panic!("{n} passkeys left"),
        }
        step = (step * 9 / 10).max(std::time::Duration::from_micros(50));
    }
    println!(
        "{tries} hung-up removals (one takes {probe:?}): {landed_unanswered} landed without \
         their answer being read, {ended_before} ended before the removal"
    );
    assert!(
        landed_unanswered > 0,
        "no hang-up landed after the removal was written"
    );
}
