//! Sudo mode: a sensitive action (ending another session, or all the others) needs a
//! proof of identity within `SUDO_SECS`: a sign-in, the current password at a password
//! change, or a confirmation (`/api/confirm_identity`), which rotates the token.

use crate::common::*;

/// The default window, 15 minutes.
const WINDOW: i64 = 15 * 60;

async fn revoke_others(app: &TestApp, client: &reqwest::Client) -> reqwest::Response {
    app.post(client, "/api/revoke_other_sessions", &[]).await
}

async fn confirm(app: &TestApp, client: &reqwest::Client, password: &str) -> reqwest::Response {
    app.post(client, "/api/confirm_identity", &[("password", password)])
        .await
}

/// Asserts `res` is the typed refusal the page turns into the confirm step.
async fn assert_sudo_required(res: reqwest::Response) {
    assert_eq!(res.status(), 403);
    let body = res.json_value().await;
    assert_eq!(body["error"], "sudo_required", "{body}");
}

#[tokio::test]
async fn a_sensitive_action_needs_a_recent_proof_and_a_confirmation_gives_one() {
    let app = TestApp::spawn().await;
    let laptop = app.browser();
    let (name, password) = ALICE;
    let signed_in = app.login(&laptop, name, password).await;
    assert_eq!(signed_in.status(), 200);
    let first_token = session_token(signed_in.headers()).unwrap();
    // The sign-in is a proof: right after it, the action works.
    assert_eq!(revoke_others(&app, &laptop).await.status(), 200);

    // Past the window: refused, with the typed error; nothing ended.
    app.clock.advance(WINDOW + 1);
    assert_sudo_required(revoke_others(&app, &laptop).await).await;

    // A wrong password is no proof.
    let res = confirm(&app, &laptop, "not-her-password-at-all").await;
    assert_eq!(res.status(), 422);
    assert_sudo_required(revoke_others(&app, &laptop).await).await;

    // The right one is, and it gives the session a new token.
    let res = confirm(&app, &laptop, password).await;
    assert_eq!(res.status(), 200);
    let token = session_token(res.headers()).expect("a new token");
    assert_ne!(token, first_token);
    let old = app
        .post_with_cookie("/api/current_user", cookie_header(&first_token))
        .await
        .json_value()
        .await;
    assert!(
        old.is_null(),
        "the token from before the proof still works: {old}"
    );
    assert_eq!(revoke_others(&app, &laptop).await.status(), 200);

    // Each sensitive action starts the window again; a stale one is not revived.
    app.clock.advance(WINDOW - 60);
    assert_eq!(revoke_others(&app, &laptop).await.status(), 200);
    app.clock.advance(WINDOW - 60);
    assert_eq!(revoke_others(&app, &laptop).await.status(), 200);
    app.clock.advance(WINDOW + 1);
    assert_sudo_required(revoke_others(&app, &laptop).await).await;
}

#[tokio::test]
async fn keep_me_signed_in_is_no_proof_and_signing_out_here_needs_none() {
    let app = TestApp::spawn().await;
    let laptop = app.browser();
    let (name, password) = ALICE;
    let res = app
        .post(
            &laptop,
            "/api/login",
            &[
                ("username", name),
                ("password", password),
                ("remember", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let phone = app.browser();
    assert_eq!(app.login(&phone, name, password).await.status(), 200);
    app.clock.advance(WINDOW + 1);
    // A remembered session, however long it lives, proves nothing by its age.
    assert_sudo_required(revoke_others(&app, &laptop).await).await;
    let sessions = app
        .post(&laptop, "/api/list_sessions", &[])
        .await
        .json_value()
        .await;
    let list = sessions.as_array().unwrap();
    let other = list.iter().find(|s| s["current"] == false).unwrap();
    let mine = list.iter().find(|s| s["current"] == true).unwrap();
    // Ending another device's session is sensitive…
    let res = app
        .post(
            &laptop,
            "/api/revoke_session",
            &[("handle", other["handle"].as_str().unwrap())],
        )
        .await;
    assert_sudo_required(res).await;
    // …signing out here is not.
    let res = app
        .post(
            &laptop,
            "/api/revoke_session",
            &[("handle", mine["handle"].as_str().unwrap())],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.whoami(&phone).await.as_deref(), Some("alice"));
}

#[tokio::test]
async fn the_current_password_at_a_password_change_is_a_proof() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    let (name, password) = ALICE;
    assert_eq!(app.login(&client, name, password).await.status(), 200);
    app.clock.advance(WINDOW + 1);
    assert_sudo_required(revoke_others(&app, &client).await).await;
    let new = "a-brand-new-passphrase-2026";
    let res = app
        .post(
            &client,
            "/api/change_password",
            &[
                ("current_password", password),
                ("new_password", new),
                ("new_password_confirm", new),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(revoke_others(&app, &client).await.status(), 200);
}

#[tokio::test]
async fn without_javascript_the_refusal_leads_to_the_confirm_page_and_back() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    let (name, password) = ALICE;
    assert_eq!(app.login(&client, name, password).await.status(), 200);
    app.clock.advance(WINDOW + 1);
    let res = app
        .post_html(&client, "/api/revoke_other_sessions", &[])
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(res.headers()["location"], "/confirm?next=/account");
    let page = get_html(&client, &app, "/confirm?next=/account").await;
    assert!(page.contains("Confirm it is you"), "{page}");
    // A wrong password comes back to the form with its code (and where to go after).
    let res = app
        .post_html(
            &client,
            "/api/confirm_identity",
            &[
                ("password", "wrong-wrong-wrong-wrong"),
                ("next", "/account"),
            ],
        )
        .await;
    let back = res.headers()["location"].to_str().unwrap().to_string();
    assert!(
        back.starts_with("/confirm?error=current_password"),
        "{back}"
    );
    assert!(back.contains("next=%2Faccount"), "{back}");
    let res = app
        .post_html(
            &client,
            "/api/confirm_identity",
            &[("password", password), ("next", "/account")],
        )
        .await;
    assert_eq!(res.headers()["location"], "/account");
    let res = app
        .post_html(&client, "/api/revoke_other_sessions", &[])
        .await;
    assert_eq!(res.headers()["location"], "/account");
    // Anonymous: the confirm page is behind the sign-in.
    let res = app.raw().get(app.url("/confirm")).send().await.unwrap();
    assert!(res.status().is_redirection());
}

#[tokio::test]
async fn a_proof_given_on_one_process_counts_on_another_and_its_absence_too() {
    let a = TestApp::spawn_first_of_several().await;
    let b = a.spawn_beside().await;
    // One browser; the cookie jar is per host, so it reaches both processes.
    let client = a.browser();
    let (name, password) = ALICE;
    assert_eq!(a.login(&client, name, password).await.status(), 200);
    // B serves the session (and keeps a copy of it in memory).
    assert_eq!(b.whoami(&client).await.as_deref(), Some("alice"));
    a.clock.advance(WINDOW + 1);
    b.clock.advance(WINDOW + 1);
    assert_sudo_required(revoke_others(&b, &client).await).await;
    assert_eq!(confirm(&a, &client, password).await.status(), 200);
    assert_eq!(revoke_others(&b, &client).await.status(), 200);
    a.clock.advance(WINDOW + 1);
    b.clock.advance(WINDOW + 1);
    assert_sudo_required(revoke_others(&b, &client).await).await;
    assert_sudo_required(revoke_others(&a, &client).await).await;
}

/// The proof time of the session row whose token is `token`, if the token still names one.
async fn proof_of(app: &TestApp, token: &str) -> Option<Option<i64>> {
    let hash = sessions::SessionToken::parse(token).unwrap().hash().0;
    db::on!(app.state.db.writer(), p => {
        sqlx::query_scalar("SELECT proved_at FROM sessions WHERE token_hash = $1")
            .bind(&hash[..])
            .fetch_optional(p)
            .await
    })
    .unwrap()
}

#[tokio::test]
async fn a_confirmation_whose_client_hangs_up_is_all_or_nothing() {
    let app = TestApp::spawn().await;
    let (name, password) = ALICE;
    let body = format!("password={password}");
    // How long a confirmation takes here (argon2 dominates), to hang up around its end.
    let probe = {
        let client = app.browser();
        assert_eq!(app.login(&client, name, password).await.status(), 200);
        let started = std::time::Instant::now();
        assert_eq!(confirm(&app, &client, password).await.status(), 200);
        started.elapsed()
    };
    let alice: i64 = db::on!(app.state.db.writer(), p => {
        sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
            .bind(name)
            .fetch_one(p)
            .await
    })
    .unwrap();
    let (mut landed_unanswered, mut refused_before) = (0, 0);
    // A staircase around the moment the proof is written: a hang-up that came too late
    // (answered) moves the next one earlier, one that came too early (nothing written)
    // moves it later, in ever smaller steps.
    let mut delay = probe;
    let mut step = probe / 10;
    // Until three landed (at most 200 tries: timing under a loaded machine wanders).
    let mut tries = 0;
    while landed_unanswered < 3 && tries < 200 {
        tries += 1;
        let res = app.login(&app.raw(), name, password).await;
        let token = session_token(res.headers()).unwrap();
        app.clock.advance(WINDOW + 1);
        let stale = proof_of(&app, &token).await.unwrap();
        let answered = post_and_hang_up(
            &app,
            "/api/confirm_identity",
            &format!("sid={token}"),
            &body,
            delay,
        )
        .await;
        // Long enough for a confirmation still under way to finish.
        tokio::time::sleep((probe * 3).max(std::time::Duration::from_millis(200))).await;
        match proof_of(&app, &token).await {
            // The old token still works: then nothing changed, not even the proof.
            Some(proof) => {
                assert_eq!(
                    proof, stale,
                    "a proof was recorded but the token not rotated"
                );
                refused_before += 1;
                delay += step;
            }
            // It was rotated away: then the proof is there, on the same row.
            None => {
                let sessions = app.state.sessions.user_sessions(alice).await.unwrap();
                let now = app.state.sessions.now();
                assert!(
                    sessions.iter().any(|s| s.proved_at == Some(now)),
                    "the token was rotated but no proof recorded"
                );
                if answered {
                    delay = delay.saturating_sub(step);
                } else {
                    landed_unanswered += 1;
                }
            }
        }
        step = (step * 9 / 10).max(std::time::Duration::from_micros(100));
    }
    println!(
        "{tries} hung-up confirmations (one takes {probe:?}): {landed_unanswered} landed without \
         their answer being read, {refused_before} ended before the proof"
    );
    assert!(
        landed_unanswered > 0,
        "no hang-up landed after the proof was written"
    );
}
