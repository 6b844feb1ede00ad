//! docs/ARCHITECTURE.md §4, rule by rule, over real HTTP against the real router and a real database.

use crate::common::*;
use sessions::SessionToken;

// Rule 1: no session until one is needed.
#[tokio::test]
async fn a_bare_visit_sets_no_cookie_and_creates_no_row() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    for path in [
        "/",
        "/products/stoneware-mug",
        "/cart",
        "/login",
        "/register",
        "/no-such-page",
    ] {
        let res = client.get(app.url(path)).send().await.unwrap();
        assert!(set_cookies(res.headers()).is_empty(), "{path} set a cookie");
    }
    assert_eq!(app.whoami(&client).await, None);
    let res = client.get(app.url("/billing")).send().await.unwrap();
    assert_eq!(res.status(), 302);
    assert!(set_cookies(res.headers()).is_empty());
    assert_eq!(app.session_count().await, 0);
}

// Rule 8: cookie attributes, on set and on clear.
#[tokio::test]
async fn the_cookie_is_httponly_lax_root_and_session_scoped_unless_remembered() {
    let app = TestApp::spawn().await;
    let res = app.login(&app.raw(), ALICE.0, ALICE.1).await;
    assert_eq!(res.status(), 200);
    let cookies = set_cookies(res.headers());
    // The session's, and the device cookie new-sign-in notices know the browser by.
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    let c = &session_cookie(res.headers());
    let device = cookies.iter().find(|c| c.starts_with("device=")).unwrap();
    assert!(
        device.contains("HttpOnly") && device.contains("SameSite=Lax"),
        "{device}"
    );
    let token = session_token(res.headers()).unwrap();
    assert_eq!(token.len(), 43);
    assert!(SessionToken::parse(&token).is_some());
    assert!(c.starts_with("sid="), "{c}");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(c.contains(attr), "{attr} missing: {c}");
    }
    for absent in ["Max-Age", "Expires", "Domain", "Secure"] {
        assert!(!c.contains(absent), "{absent} present: {c}");
    }
    assert_eq!(res.headers()["cache-control"], "no-store");

    // "Keep me signed in": a persistent cookie for 30 days.
    let res = app
        .post(
            &app.raw(),
            "/api/login",
            &[
                ("username", ALICE.0),
                ("password", ALICE.1),
                ("remember", "on"),
            ],
        )
        .await;
    let c = &session_cookie(res.headers());
    assert!(c.contains("Max-Age=2592000"), "{c}");

    // Clearing carries the same attributes.
    let token = session_token(res.headers()).unwrap();
    let res = app
        .post_with_cookie("/api/logout", cookie_header(&token))
        .await;
    let c = &set_cookies(res.headers())[0];
    assert!(c.starts_with("sid=;"), "{c}");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=0"] {
        assert!(c.contains(attr), "{attr} missing: {c}");
    }
}

#[tokio::test]
async fn over_https_the_cookie_is_secure_and_host_prefixed() {
    let app = TestApp::spawn_with(|c| c.sessions.secure = true).await;
    let res = app.login(&app.raw(), ALICE.0, ALICE.1).await;
    let cookies = set_cookies(res.headers());
    let c = cookies.iter().find(|c| c.contains("-sid=")).unwrap();
    assert!(c.starts_with("__Host-sid="), "{c}");
    let device = cookies.iter().find(|c| c.contains("-device=")).unwrap();
    assert!(
        device.starts_with("__Host-device=") && device.contains("Secure"),
        "{device}"
    );
    assert!(
        c.contains("Secure") && c.contains("Path=/") && !c.contains("Domain"),
        "{c}"
    );
    let token = session_token(res.headers()).unwrap();
    let res = app
        .post_with_cookie("/api/logout", format!("__Host-sid={token}"))
        .await;
    let c = &set_cookies(res.headers())[0];
    assert!(
        c.starts_with("__Host-sid=;") && c.contains("Secure") && c.contains("Max-Age=0"),
        "{c}"
    );
}

// Rule 3: login rotates the token; a planted (guest) token dies at login but its row
// (and what hangs off it) lives on under the new token.
#[tokio::test]
async fn login_rotates_the_token_and_the_old_one_is_rejected() {
    let app = TestApp::spawn().await;
    let (guest_token, guest) = app
        .state
        .sessions
        .create(None, false, &Default::default())
        .await
        .unwrap();
    let guest_cookie = guest_token.expose();
    let client = app.raw();
    let res = client
        .post(app.url("/api/login"))
        .header("cookie", cookie_header(&guest_cookie))
        .form(&[("username", ALICE.0), ("password", ALICE.1)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let new_token = session_token(res.headers()).expect("login sets a new token");
    assert_ne!(new_token, guest_cookie);
    // Same row, now signed in.
    assert_eq!(app.session_count().await, 1);
    let row: (i64, Option<i64>, Option<i64>) = db::on!(app.state.db.writer(), p => sqlx::query_as(
        "SELECT id, user_id, authenticated_at FROM sessions"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    assert_eq!(row.0, guest.id.0);
    assert!(row.1.is_some() && row.2 == Some(T0));

    // The old token is worthless at once. Rule 12: for a minute its answers leave the
    // cookie alone (the browser was given the new one); after that they clear it.
    assert_eq!(present(&app, &guest_cookie).await, ANONYMOUS_KEPT);
    app.clock.advance(61);
    assert_eq!(present(&app, &guest_cookie).await, ANONYMOUS_CLEARED);
    // The new one works.
    let res = app
        .post_with_cookie("/api/current_user", cookie_header(&new_token))
        .await;
    assert_eq!(res.text().await.unwrap(), r#"{"username":"alice"}"#);
    assert_eq!(app.session_count().await, 1);
}

#[tokio::test]
async fn signing_in_again_rotates_again_and_keeps_one_row() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    let first = session_token(app.login(&client, ALICE.0, ALICE.1).await.headers()).unwrap();
    let second = session_token(app.login(&client, ALICE.0, ALICE.1).await.headers()).unwrap();
    assert_ne!(first, second);
    assert_eq!(app.session_count().await, 1);
    // Signing in as someone else on the same browser starts a fresh session.
    let third = session_token(app.login(&client, "bob", BOB.1).await.headers()).unwrap();
    assert_ne!(third, second);
    assert_eq!(app.whoami(&client).await.as_deref(), Some("bob"));
    assert_eq!(app.session_count().await, 1);
}

// Rule 12: a request sent with the token a rotation replaces, answered after the
// rotation's answer (two tabs, a refetch still on its way when "Sign in" is pressed), is
// anonymous and leaves the cookie alone: clearing it would sign the browser out again,
// since by then the cookie is the new token. Every rotation: sign-in, password change,
// sudo confirmation. A token that was never issued, or whose session ended, is cleared.
#[tokio::test]
async fn a_request_still_carrying_a_replaced_token_does_not_undo_the_rotation() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let signed_in = session_token(app.login(&browser, ALICE.0, ALICE.1).await.headers()).unwrap();

    // The password change and the sudo confirmation each give the session a new token.
    let res = app
        .post(
            &browser,
            "/api/change_password",
            &[
                ("current_password", ALICE.1),
                ("new_password", "a-brand-new-password"),
                ("new_password_confirm", "a-brand-new-password"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let changed = session_token(res.headers()).expect("a password change rotates");
    let res = app
        .post(
            &browser,
            "/api/confirm_identity",
            &[("password", "a-brand-new-password")],
        )
        .await;
    assert_eq!(res.status(), 200);
    let confirmed = session_token(res.headers()).expect("a confirmation rotates");
    assert_eq!(app.whoami(&browser).await.as_deref(), Some("alice"));

    // The latest replaced token: anonymous (no page, no private data), cookie untouched.
    assert_eq!(present(&app, &changed).await, ANONYMOUS_KEPT);
    let res = app
        .get_with_cookie("/account", cookie_header(&changed))
        .await;
    assert_eq!(res.status(), 302, "a replaced token opens nothing");
    assert_eq!(set_cookies(res.headers()), Vec::<String>::new());
    // Only the token replaced last is remembered: the one before it is cleared as usual.
    assert_eq!(present(&app, &signed_in).await, ANONYMOUS_CLEARED);
    // A token never issued is cleared as before.
    let never = SessionToken::generate().unwrap().expose();
    assert_eq!(present(&app, &never).await, ANONYMOUS_CLEARED);
    // A request that would begin a guest session (an add-to-cart) is refused instead:
    // that session's cookie would replace the newer token. The browser tries again.
    let sessions_before = app.session_count().await;
    let mug = product_id(&app, "stoneware-mug").await;
    let res = add_with_cookie(&app, &changed, mug, "1").await;
    assert_eq!(res.status(), 409);
    assert_eq!(set_cookies(res.headers()), Vec::<String>::new());
    assert!(res.text().await.unwrap().contains("Please try again."));
    assert_eq!(app.session_count().await, sessions_before);
    // The browser, which has the newest token, is still signed in after all of it.
    assert_eq!(app.whoami(&browser).await.as_deref(), Some("alice"));

    // Once the session ends, its replaced token is cleared like any other.
    let res = app.post(&browser, "/api/logout", &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(present(&app, &changed).await, ANONYMOUS_CLEARED);
    assert_eq!(present(&app, &confirmed).await, ANONYMOUS_CLEARED);
}

// Rule 12 when the rotation is a new row: signing in as someone else ends the browser's
// session and begins another, which takes the old token over as replaced.
#[tokio::test]
async fn signing_in_as_someone_else_replaces_the_token_too() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let alices = session_token(app.login(&browser, ALICE.0, ALICE.1).await.headers()).unwrap();
    let bobs = session_token(app.login(&browser, "bob", BOB.1).await.headers()).unwrap();
    assert_ne!(alices, bobs);
    assert_eq!(app.session_count().await, 1, "alice's session ended");
    assert_eq!(present(&app, &alices).await, ANONYMOUS_KEPT);
    assert_eq!(app.whoami(&browser).await.as_deref(), Some("bob"));
    app.clock.advance(61);
    assert_eq!(present(&app, &alices).await, ANONYMOUS_CLEARED);
}

/// What an answer to `token` alone says: who it is for, and what it does to the cookie.
#[derive(Debug, PartialEq)]
struct Presented {
    /// The signed-in user's name; `None`: anonymous.
    user: Option<String>,
    cookie: Cookie,
}

#[derive(Debug, PartialEq)]
enum Cookie {
    LeftAlone,
    Cleared,
    Other(Vec<String>),
}

const ANONYMOUS_KEPT: Presented = Presented {
    user: None,
    cookie: Cookie::LeftAlone,
};
const ANONYMOUS_CLEARED: Presented = Presented {
    user: None,
    cookie: Cookie::Cleared,
};

/// Presents `token` alone (no jar) to `/api/current_user`.
async fn present(app: &TestApp, token: &str) -> Presented {
    let res = app
        .post_with_cookie("/api/current_user", cookie_header(token))
        .await;
    assert_eq!(res.status(), 200);
    let cookies = set_cookies(res.headers());
    let cookie = match cookies.as_slice() {
        [] => Cookie::LeftAlone,
        [one] if one.contains("Max-Age=0") => Cookie::Cleared,
        _ => Cookie::Other(cookies),
    };
    let user = serde_json::from_str::<Option<serde_json::Value>>(&res.text().await.unwrap())
        .unwrap()
        .map(|u| u["username"].as_str().unwrap().to_string());
    Presented { user, cookie }
}

// Rule 5: logout deletes the row; replaying the cookie is anonymous.
#[tokio::test]
async fn logout_kills_the_token_server_side() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    let token = session_token(app.login(&client, ALICE.0, ALICE.1).await.headers()).unwrap();
    assert_eq!(app.whoami(&client).await.as_deref(), Some("alice"));
    let res = app.post(&client, "/api/logout", &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["clear-site-data"], "\"storage\"");
    assert_eq!(res.headers()["location"], "/");
    assert_eq!(app.session_count().await, 0);
    assert_eq!(app.whoami(&client).await, None);
    // An attacker who copied the cookie before logout gets nothing.
    let res = app
        .post_with_cookie("/api/current_user", cookie_header(&token))
        .await;
    assert_eq!(res.text().await.unwrap(), "null");
    let res = app.get_with_cookie("/billing", cookie_header(&token)).await;
    assert_eq!(res.status(), 302);
    assert_eq!(app.session_count().await, 0);
}

// Rule 4: the idle deadline slides (written at most once a minute); the absolute one never moves.
#[tokio::test]
async fn idle_timeout_slides_with_activity_and_ends_an_unused_session() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    app.login(&client, ALICE.0, ALICE.1).await;
    let idle_of = |db: db::Db| async move {
        db::on!(db.writer(), p => sqlx::query_as::<_, (i64, i64)>(
            "SELECT last_seen_at, idle_expires_at FROM sessions"
        )
        .fetch_one(p)
        .await)
        .unwrap()
    };
    assert_eq!(idle_of(app.state.db.clone()).await, (T0, T0 + 1800));

    // Within the touch interval nothing is written.
    app.clock.advance(30);
    assert_eq!(app.whoami(&client).await.as_deref(), Some("alice"));
    assert_eq!(idle_of(app.state.db.clone()).await, (T0, T0 + 1800));

    // Active every 25 minutes for 2 hours: still signed in, deadline follows.
    for _ in 0..5 {
        app.clock.advance(25 * 60);
        assert_eq!(app.whoami(&client).await.as_deref(), Some("alice"));
    }
    let now = T0 + 30 + 5 * 25 * 60;
    assert_eq!(idle_of(app.state.db.clone()).await, (now, now + 1800));

    // 30 minutes of silence ends it, and the dead row is removed on sight.
    app.clock.advance(30 * 60);
    assert_eq!(app.whoami(&client).await, None);
    assert_eq!(app.session_count().await, 0);
}

#[tokio::test]
async fn absolute_timeout_ends_even_a_busy_session() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    app.login(&client, ALICE.0, ALICE.1).await;
    // Busy every 20 minutes for 11 h 40 min.
    for _ in 0..35 {
        app.clock.advance(20 * 60);
        assert_eq!(app.whoami(&client).await.as_deref(), Some("alice"));
    }
    let abs: i64 = db::on!(app.state.db.writer(), p => sqlx::query_scalar(
        "SELECT absolute_expires_at FROM sessions"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    assert_eq!(abs, T0 + 12 * 3600, "the absolute deadline never moves");
    app.clock.advance(20 * 60); // exactly 12 h after login
    assert_eq!(app.whoami(&client).await, None);
}

#[tokio::test]
async fn remembered_sessions_last_thirty_days_idle() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    app.post(
        &client,
        "/api/login",
        &[
            ("username", ALICE.0),
            ("password", ALICE.1),
            ("remember", "on"),
        ],
    )
    .await;
    app.clock.advance(29 * 24 * 3600);
    assert_eq!(app.whoami(&client).await.as_deref(), Some("alice"));
    app.clock.advance(24 * 3600);
    assert_eq!(app.whoami(&client).await, None, "30 days absolute");
}

// Rule 7: GC deletes exactly the expired rows.
#[tokio::test]
async fn garbage_collection_deletes_exactly_the_expired_rows() {
    let app = TestApp::spawn().await;
    let store = &app.state.sessions;
    let meta = Default::default();
    let (_, early) = store.create(None, false, &meta).await.unwrap(); // idle until T0+1800
    app.clock.advance(1000);
    let (_, later) = store.create(None, false, &meta).await.unwrap(); // idle until T0+2800
    let (_, remembered) = store.create(None, true, &meta).await.unwrap(); // 30 days
    app.clock.advance(900); // T0+1900: only `early` is past its idle deadline
    assert_eq!(store.delete_expired().await.unwrap(), 1);
    let ids: Vec<i64> = db::on!(app.state.db.writer(), p => sqlx::query_scalar(
        "SELECT id FROM sessions ORDER BY id"
    )
    .fetch_all(p)
    .await)
    .unwrap();
    assert_eq!(ids, vec![later.id.0, remembered.id.0]);
    assert!(!ids.contains(&early.id.0));
    app.clock.advance(1000); // T0+2900
    assert_eq!(store.delete_expired().await.unwrap(), 1);
    assert_eq!(store.delete_expired().await.unwrap(), 0);
    assert_eq!(app.session_count().await, 1);
}

// Rule 2: strict mode against hostile cookie values.
#[tokio::test]
async fn hostile_cookies_are_anonymous_create_nothing_and_are_cleared() {
    let app = TestApp::spawn().await;
    let unknown = SessionToken::generate().unwrap().expose();
    let valid = session_token(app.login(&app.raw(), ALICE.0, ALICE.1).await.headers()).unwrap();
    let before = app.session_count().await;
    let overlong = "A".repeat(4096);
    let cases: Vec<(&str, String)> = vec![
        ("empty", "sid=".into()),
        ("short", "sid=abc".into()),
        ("overlong", format!("sid={overlong}")),
        ("one char too long", format!("sid={unknown}A")),
        ("non-base64", format!("sid={}", "+/".repeat(21) + "+")),
        ("padded base64", format!("sid={}=", &unknown[..42])),
        ("valid-looking but unknown", format!("sid={unknown}")),
        (
            "sql text",
            "sid=' OR '1'='1'; DROP TABLE sessions; --".into(),
        ),
        ("path characters", "sid=../../../../etc/passwd".into()),
        ("quoted", format!("sid=\"{valid}\"")),
        (
            "many cookies of the same name",
            format!("sid={unknown}; sid={valid}"),
        ),
        (
            "many cookies, valid first",
            format!("sid={valid}; sid={unknown}"),
        ),
        ("same name, many headers", format!("sid={valid}; sid=x")),
    ];
    for (label, header) in &cases {
        let res = app
            .post_with_cookie("/api/current_user", header.as_str())
            .await;
        assert_eq!(res.status(), 200, "{label}");
        let clears = set_cookies(res.headers());
        assert!(
            clears.len() == 1 && clears[0].contains("Max-Age=0"),
            "{label}: {clears:?}"
        );
        assert_eq!(res.text().await.unwrap(), "null", "{label}");
        // Pages too: anonymous, no 500.
        let res = app.get_with_cookie("/cart", header.as_str()).await;
        assert_eq!(res.status(), 200, "{label}");
        assert!(!res.text().await.unwrap().contains("Hello, "), "{label}");
    }
    // Non-UTF-8 bytes in the header.
    let latin1 = reqwest::header::HeaderValue::from_bytes(b"sid=\xe9\xe9\xe9").unwrap();
    let res = app.post_with_cookie("/api/current_user", latin1).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "null");
    // Other cookies are ignored, not rejected.
    let res = app
        .post_with_cookie("/api/current_user", "theme=dark; lang=en")
        .await;
    assert!(set_cookies(res.headers()).is_empty());
    assert_eq!(
        app.session_count().await,
        before,
        "no row was created for any hostile value"
    );
    // The valid session was not harmed by any of it.
    let res = app
        .post_with_cookie("/api/current_user", cookie_header(&valid))
        .await;
    assert_eq!(res.text().await.unwrap(), r#"{"username":"alice"}"#);
}

// Rule 3: no user enumeration.
#[tokio::test]
async fn unknown_user_and_wrong_password_look_the_same() {
    let app = TestApp::spawn().await;
    let mut answers = Vec::new();
    for (user, pw) in [
        ("alice", "not-the-right-password"),
        ("nobody-here", "not-the-right-password"),
        ("ALICE", "wonderland-2025"),
        ("x", "y"),
    ] {
        let t = std::time::Instant::now();
        let res = app.login(&app.raw(), user, pw).await;
        let elapsed = t.elapsed();
        let status = res.status();
        let cookies = set_cookies(res.headers());
        let body = res.text().await.unwrap();
        eprintln!("login {user:>12}: {status} in {elapsed:?}");
        assert!(cookies.is_empty());
        answers.push((status, body));
    }
    assert_eq!(answers[0].0, 401);
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    assert!(answers[0].1.contains("Wrong username or password."));
    assert_eq!(app.session_count().await, 0);
    // Usernames are case-insensitive for the right password.
    assert_eq!(app.login(&app.raw(), "ALICE", ALICE.1).await.status(), 200);
}

// Redirect after login: local paths only.
#[tokio::test]
async fn next_is_followed_only_for_local_paths() {
    let app = TestApp::spawn().await;
    let html_login = |next: &'static str| {
        let app = &app;
        async move {
            let res = app
                .post_html(
                    &app.raw(),
                    "/api/login",
                    &[("username", ALICE.0), ("password", ALICE.1), ("next", next)],
                )
                .await;
            assert_eq!(res.status(), 302, "{next}");
            res.headers()["location"].to_str().unwrap().to_string()
        }
    };
    assert_eq!(html_login("/billing").await, "/billing");
    assert_eq!(
        html_login("/products/stoneware-mug?x=1").await,
        "/products/stoneware-mug?x=1"
    );
    for evil in [
        "https://evil.test/",
        "//evil.test/",
        "/\\evil.test",
        "\\\\evil.test",
        "https:evil.test",
        "javascript:alert(document.cookie)",
        "/\t/evil.test",
        " //evil.test",
        "evil.test",
    ] {
        assert_eq!(html_login(evil).await, "/", "{evil:?}");
    }
    // The JavaScript path is told the same target.
    let res = app
        .post(
            &app.raw(),
            "/api/login",
            &[
                ("username", ALICE.0),
                ("password", ALICE.1),
                ("next", "//evil.test"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["location"], "/");
}

#[tokio::test]
async fn a_plain_form_login_failure_returns_to_the_form_without_the_password() {
    let app = TestApp::spawn().await;
    let res = app
        .post_html(
            &app.raw(),
            "/api/login",
            &[
                ("username", "alice"),
                ("password", "wrong-password-123"),
                ("next", "/billing"),
            ],
        )
        .await;
    assert_eq!(res.status(), 302);
    let location = res.headers()["location"].to_str().unwrap();
    assert_eq!(
        location,
        "/login?error=credentials&username=alice&next=%2Fbilling"
    );
    assert!(!location.contains("wrong-password"));
    assert!(set_cookies(res.headers()).is_empty());
    let page = app
        .raw()
        .get(app.url(location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Wrong username or password."));
    assert!(page.contains(r#"value="alice""#));
    assert!(page.contains(r#"name="next" value="/billing""#), "{page}");
}

// Pages that know who you are, and the sign-in requirement of /billing.
#[tokio::test]
async fn billing_requires_sign_in_and_pages_greet_the_user() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    let res = client.get(app.url("/billing")).send().await.unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/login?next=/billing");
    assert_eq!(res.headers()["cache-control"], "no-store");

    let res = app
        .post_html(
            &client,
            "/api/login",
            &[
                ("username", ALICE.0),
                ("password", ALICE.1),
                ("next", "/billing"),
            ],
        )
        .await;
    assert_eq!(res.headers()["location"], "/billing");
    for path in ["/cart", "/billing"] {
        let res = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["cache-control"], "no-store", "{path}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains(r#"<strong class="greeting__name">alice"#),
            "{path}: {html}"
        );
        assert!(html.contains("Sign out"));
    }
    // The catalog shows the user too, so it is not cacheable while signed in.
    let res = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store");
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r#"data-testid="signed-in-user""#) && html.contains(">alice<"),
        "{html}"
    );
    // ...but it is for anonymous visitors.
    let res = app.raw().get(app.url("/")).send().await.unwrap();
    assert!(res.headers().get("cache-control").is_none());
}

// Rule 9: server functions are POST only and refuse cross-site requests.
#[tokio::test]
async fn server_functions_are_post_only_and_refuse_cross_site_requests() {
    let app = TestApp::spawn().await;
    let res = app
        .raw()
        .get(app.url(&format!("/api/login?username=alice&password={}", ALICE.1)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    for (header, value) in [
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
        ("origin", "https://evil.test"),
        ("origin", "null"),
    ] {
        let res = app
            .raw()
            .post(app.url("/api/login"))
            .header(header, value)
            .form(&[("username", ALICE.0), ("password", ALICE.1)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{header}: {value}");
        assert!(set_cookies(res.headers()).is_empty());
        let body = res.json_value().await;
        assert_eq!(body["error"], "forbidden");
        assert!(body["message"]
            .as_str()
            .unwrap()
            .starts_with("Cross-site request refused"));
    }
    assert_eq!(app.session_count().await, 0);
    // Same-origin browsers pass.
    let res = app
        .raw()
        .post(app.url("/api/login"))
        .header("origin", app.base.clone())
        .form(&[("username", ALICE.0), ("password", ALICE.1)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn registration_validates_and_signs_in() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[
                ("username", "al"),
                ("email", "al@example.com"),
                ("password", "a-long-enough-password"),
                ("password_confirm", "a-long-enough-password"),
            ],
            "3 to 32",
        ),
        (
            &[
                ("username", "carol"),
                ("email", "carol@example.com"),
                ("password", "too-short"),
                ("password_confirm", "too-short"),
            ],
            "at least 15",
        ),
        (
            &[
                ("username", "carol"),
                ("email", "carol@example.com"),
                ("password", "a-long-enough-password"),
                ("password_confirm", "a-different-password"),
            ],
            "do not match",
        ),
        (
            &[
                ("username", "ALICE"),
                ("email", "alice@example.com"),
                ("password", "a-long-enough-password"),
                ("password_confirm", "a-long-enough-password"),
            ],
            "taken",
        ),
        (
            &[
                ("username", "carol'); DROP TABLE users;--"),
                ("email", "carol@example.com"),
                ("password", "a-long-enough-password"),
                ("password_confirm", "a-long-enough-password"),
            ],
            "letters, digits",
        ),
    ];
    for (form, message) in cases {
        let res = app.post(&client, "/api/register", form).await;
        assert_eq!(res.status(), 422, "{form:?}");
        assert!(res.text().await.unwrap().contains(message), "{form:?}");
    }
    let res = app
        .post(&client, "/api/register", &[("username", "carol")])
        .await;
    assert_eq!(res.status(), 400, "missing fields are a client error");
    assert_eq!(app.session_count().await, 0);
    let long = "p".repeat(129);
    let res = app
        .post(
            &client,
            "/api/register",
            &[
                ("username", "carol"),
                ("email", "carol@example.com"),
                ("password", &long),
                ("password_confirm", &long),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);

    let res = app
        .post(
            &client,
            "/api/register",
            &[
                ("username", "carol"),
                ("email", "carol@example.com"),
                ("password", "a-long-enough-password"),
                ("password_confirm", "a-long-enough-password"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.whoami(&client).await.as_deref(), Some("carol"));
    app.post(&client, "/api/logout", &[]).await;
    assert_eq!(
        app.login(&client, "Carol", "a-long-enough-password")
            .await
            .status(),
        200
    );
    let users: i64 = db::on!(app.state.db.writer(), p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM users"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    assert_eq!(users, 3);
}

#[tokio::test]
async fn secrets_never_reach_responses() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    let res = app.login(&client, ALICE.0, ALICE.1).await;
    let body = res.text().await.unwrap();
    assert!(!body.contains("argon2"));
    let hash: Vec<u8> = db::on!(app.state.db.writer(), p => sqlx::query_scalar(
        "SELECT token_hash FROM sessions"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    assert_eq!(hash.len(), 32, "only the SHA-256 is stored");
    for path in ["/", "/cart", "/billing"] {
        let html = get_html(&client, &app, path).await;
        assert!(!html.contains("$argon2id$"), "{path}");
        assert!(!html.contains(ALICE.1), "{path}");
    }
}

/// The lookup is answered from memory (see sessions/src/cache.rs): every change made
/// through the store takes effect at once (the tests above), and a row removed behind
/// this process's back, by another process on the same file, stops working within the
/// touch interval.
#[tokio::test]
async fn sessions_are_served_from_memory_for_at_most_the_touch_interval() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    assert_eq!(app.login(&client, ALICE.0, ALICE.1).await.status(), 200);
    assert_eq!(app.whoami(&client).await.as_deref(), Some("alice"));
    assert_eq!(app.state.sessions.cached(), 1, "the lookup was kept");

    db::on!(app.state.db.writer(), p => sqlx::query(
        "DELETE FROM sessions"
    )
    .execute(p)
    .await
    .map(|_| ()))
    .unwrap();
    app.clock.advance(59);
    assert_eq!(
        app.whoami(&client).await.as_deref(),
        Some("alice"),
        "a copy younger than the touch interval is trusted"
    );
    app.clock.advance(1);
    assert_eq!(
        app.whoami(&client).await,
        None,
        "then the row is read again"
    );
    assert_eq!(app.state.sessions.cached(), 0);

    // Turned off, every request reads the table.
    let app = TestApp::spawn_with(|c| c.sessions.cache_capacity = 0).await;
    let client = app.browser();
    assert_eq!(app.login(&client, ALICE.0, ALICE.1).await.status(), 200);
    assert_eq!(app.whoami(&client).await.as_deref(), Some("alice"));
    assert_eq!(app.state.sessions.cached(), 0);
    db::on!(app.state.db.writer(), p => sqlx::query(
        "DELETE FROM sessions"
    )
    .execute(p)
    .await
    .map(|_| ()))
    .unwrap();
    assert_eq!(app.whoami(&client).await, None);
}

#[tokio::test]
async fn a_short_idle_timeout_slides_with_every_use() {
    // 3 s idle: the deadline must move on (nearly) every request, not once a minute.
    let app =
        TestApp::spawn_with(|c| c.sessions.idle_timeout = std::time::Duration::from_secs(3)).await;
    let client = app.browser();
    assert_eq!(app.login(&client, ALICE.0, ALICE.1).await.status(), 200);
    for step in 1..=10 {
        app.clock.advance(2);
        assert_eq!(
            app.whoami(&client).await.as_deref(),
            Some("alice"),
            "a request every 2 s, at {} s",
            2 * step
        );
    }
    app.clock.advance(3);
    assert_eq!(
        app.whoami(&client).await,
        None,
        "3 s without a request end it"
    );
}
