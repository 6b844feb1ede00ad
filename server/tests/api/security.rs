//! Security headers and hostile input over HTTP.

use crate::common::*;

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// The nonce of a page's Content-Security-Policy.
fn csp_nonce(csp: &str) -> String {
    let start = csp.find("'nonce-").expect("a nonce in the policy") + 7;
    csp[start..].split('\'').next().unwrap().to_string()
}

#[tokio::test]
async fn pages_allow_only_their_own_scripts_and_every_response_is_hardened() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    let mut nonces = Vec::new();
    for path in ["/", "/products/stoneware-mug", "/login", "/no-such-page"] {
        let res = client.get(app.url(path)).send().await.unwrap();
        let csp = header(&res, "content-security-policy").to_string();
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("'wasm-unsafe-eval'") && !csp.contains("unsafe-inline"));
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("object-src 'none'"));
        assert_eq!(header(&res, "x-content-type-options"), "nosniff");
        assert_eq!(header(&res, "x-frame-options"), "DENY");
        assert_eq!(
            header(&res, "referrer-policy"),
            "strict-origin-when-cross-origin"
        );
        assert!(res.headers().get("strict-transport-security").is_none());
        let nonce = csp_nonce(&csp);
        let html = res.text().await.unwrap();
        // Every inline script Leptos writes carries this response's nonce.
        let scripts = html.matches("<script").count();
        assert!(scripts > 0, "{path}");
        assert_eq!(
            html.matches(&format!("<script type=\"module\" nonce=\"{nonce}\""))
                .count()
                + html.matches(&format!("<script nonce=\"{nonce}\"")).count(),
            scripts,
            "{path}: {html}"
        );
        nonces.push(nonce);
    }
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 4, "a fresh nonce per response");
    assert!(nonces.iter().all(|n| n.len() >= 22));

    // Not a page: nothing may run or load at all.
    let res = app.post(&client, "/api/cart_count", &[]).await;
    assert_eq!(
        header(&res, "content-security-policy"),
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
    );
    assert_eq!(header(&res, "x-content-type-options"), "nosniff");
}

/// Many pages at once, signed in and not, with cart changes between them: every page
/// still leaves with its own policy (its scripts' nonce) and the not-found page with 404.
/// A page without its policy gets the strict default one and never hydrates; the browser
/// tests once met such a page (see `app::page_response`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_of_a_busy_moment_leaves_with_its_own_policy_and_status() {
    use futures::StreamExt;
    let app = TestApp::spawn().await;
    let alice = app.browser();
    assert_eq!(app.login(&alice, "alice", ALICE.1).await.status(), 200);
    let guest = app.browser();
    let pages = [
        "/",
        "/cart",
        "/account",
        "/orders",
        "/billing",
        "/products/stoneware-mug",
        "/no-such-page",
    ];
    let mug = product_id(&app, "stoneware-mug").await;
    let checked = futures::stream::iter(0..280)
        .map(|i| {
            let (app, alice, guest, mug) = (&app, &alice, &guest, &mug);
            async move {
                let path = pages[i % pages.len()];
                if i % 5 == 0 {
                    // A server function between the pages.
                    add(app, alice, *mug, "1").await;
                }
                let client = if i % 2 == 0 || path == "/no-such-page" {
                    alice
                } else {
                    guest
                };
                let res = client.get(app.url(path)).send().await.unwrap();
                let status = res.status().as_u16();
                if res.status().is_redirection() {
                    return; // a private page sends the guest to sign in
                }
                let csp = header(&res, "content-security-policy").to_string();
                assert!(csp.contains("default-src 'self'"), "{path} (#{i}): {csp}");
                let nonce = csp_nonce(&csp);
                let html = res.text().await.unwrap();
                assert!(
                    html.contains(&format!("nonce=\"{nonce}\"")),
                    "{path} (#{i})"
                );
                assert_eq!(
                    status == 404,
                    path == "/no-such-page",
                    "{path} (#{i}): {status}"
                );
            }
        })
        .buffer_unordered(12)
        .count()
        .await;
    assert_eq!(checked, 280);
}

#[tokio::test]
async fn over_https_browsers_are_told_to_stay_on_https() {
    let app = TestApp::spawn_with(|c| c.sessions.secure = true).await;
    let res = app.raw().get(app.url("/")).send().await.unwrap();
    assert_eq!(
        header(&res, "strict-transport-security"),
        "max-age=63072000; includeSubDomains"
    );
}

async fn login_status(app: &TestApp, user: &str, password: &str) -> reqwest::Response {
    app.login(&app.raw(), user, password).await
}

#[tokio::test]
async fn failed_sign_ins_back_off_per_account_and_the_owner_gets_back_in_after_the_wait() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        let res = login_status(&app, "alice", "guessing-the-password").await;
        assert_eq!(res.status(), 401);
    }
    // Now even the right password waits: answered at once, without checking it.
    let res = login_status(&app, "alice", ALICE.1).await;
    assert_eq!(res.status(), 429);
    assert_eq!(header(&res, "retry-after"), "60");
    let body = res.json_value().await;
    assert_eq!(body["error"], "too_many_requests");
    assert_eq!(body["retry_after_secs"], 60);
    // Unknown names are throttled exactly like real ones (nothing to enumerate).
    for _ in 0..5 {
        login_status(&app, "nobody-here", "guessing-the-password").await;
    }
    assert_eq!(
        login_status(&app, "nobody-here", "whatever-password")
            .await
            .status(),
        429
    );
    // Another account from the same network is not affected.
    assert_eq!(login_status(&app, "bob", BOB.1).await.status(), 200);
    // A plain form is sent back with the message instead.
    let res = app
        .post_html(
            &app.raw(),
            "/api/login",
            &[("username", "alice"), ("password", ALICE.1)],
        )
        .await;
    assert_eq!(res.status(), 302);
    assert!(header(&res, "location").starts_with("/login?error=too_many"));

    // After the wait the owner gets in, and the count starts afresh.
    app.clock.advance(61);
    assert_eq!(login_status(&app, "alice", ALICE.1).await.status(), 200);
    for _ in 0..4 {
        login_status(&app, "alice", "guessing-the-password").await;
    }
    assert_eq!(login_status(&app, "alice", ALICE.1).await.status(), 200);
}

#[tokio::test]
async fn the_wait_doubles_while_guessing_goes_on_and_never_exceeds_fifteen_minutes() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        login_status(&app, "alice", "guessing-the-password").await;
    }
    let mut waits = Vec::new();
    for _ in 0..6 {
        let res = login_status(&app, "alice", "guessing-the-password").await;
        let wait: i64 = header(&res, "retry-after").parse().unwrap();
        waits.push(wait);
        app.clock.advance(wait);
        // The next guess after the wait fails and doubles it.
        assert_eq!(
            login_status(&app, "alice", "guessing-the-password")
                .await
                .status(),
            401
        );
    }
    assert_eq!(waits, [60, 120, 240, 480, 900, 900]);
    // The owner, after the last wait, still gets in.
    let res = login_status(&app, "alice", "guessing-the-password").await;
    app.clock
        .advance(header(&res, "retry-after").parse().unwrap());
    assert_eq!(login_status(&app, "alice", ALICE.1).await.status(), 200);
}

#[tokio::test]
async fn guessing_across_many_accounts_from_one_network_is_slowed() {
    let app = TestApp::spawn().await;
    for i in 0..20 {
        let res = login_status(&app, &format!("victim{i}"), "guessing-the-password").await;
        assert_eq!(res.status(), 401, "attempt {i}");
    }
    let res = login_status(&app, "victim99", "guessing-the-password").await;
    assert_eq!(res.status(), 429);
    assert_eq!(header(&res, "retry-after"), "60");
}

#[tokio::test]
async fn registrations_are_limited_per_network() {
    let app = TestApp::spawn().await;
    let register = |name: String| {
        let app = &app;
        async move {
            app.post(
                &app.raw(),
                "/api/register",
                &[
                    ("username", name.as_str()),
                    ("email", &format!("{}@example.com", name)),
                    ("password", "a-long-enough-password"),
                    ("password_confirm", "a-long-enough-password"),
                ],
            )
            .await
        }
    };
    for i in 0..10 {
        assert_eq!(register(format!("newbie{i}")).await.status(), 200);
    }
    let res = register("newbie10".into()).await;
    assert_eq!(res.status(), 429);
    assert_eq!(header(&res, "retry-after"), "3600");
    let users: i64 = db::on!(app.state.db.writer(), p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE username = 'newbie10'"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    assert_eq!(users, 0);
    app.clock.advance(3600);
    assert_eq!(register("newbie10".into()).await.status(), 200);
}

#[tokio::test]
async fn guesses_sent_in_parallel_cannot_slip_past_the_count() {
    let app = TestApp::spawn().await;
    let guesses = (0..30).map(|i| {
        let app = &app;
        async move {
            login_status(app, "alice", &format!("parallel-guess-{i:04}"))
                .await
                .status()
                .as_u16()
        }
    });
    let statuses = futures::future::join_all(guesses).await;
    let verified = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((verified, refused), (5, 25), "{statuses:?}");
}

#[tokio::test]
async fn throttle_counters_are_one_transaction_per_attempt_in_the_database() {
    use app::auth::throttle::{ACCOUNT_LIMIT, NETWORK_LIMIT, REGISTRATIONS_PER_HOUR};
    let app = TestApp::spawn().await;
    let throttle = &app.state.throttle;
    let keys = [
        ("user:carol", ACCOUNT_LIMIT),
        ("net:198.51.100.x", NETWORK_LIMIT),
    ];
    // 60 attempts arrive before any has been verified: exactly 5 get through.
    let outcomes = futures::future::join_all((0..60).map(|_| throttle.attempt(&keys, T0))).await;
    let passed = outcomes.iter().filter(|o| matches!(o, Ok(Ok(())))).count();
    assert!(outcomes.iter().all(|o| o.is_ok()), "{outcomes:?}");
    assert_eq!(passed, 5);
    assert_eq!(throttle.wait("user:carol", T0).await.unwrap(), Some(60));
    // A success takes its own count back, and only its own.
    throttle
        .succeeded(Some("user:carol"), "net:198.51.100.x", NETWORK_LIMIT)
        .await
        .unwrap();
    assert_eq!(throttle.wait("user:carol", T0).await.unwrap(), None);
    // Registrations: ten an hour per network, counted in one statement each.
    let net = "net:203.0.113.x";
    let outcomes = futures::future::join_all(
        (0..REGISTRATIONS_PER_HOUR + 5).map(|_| throttle.register(net, T0)),
    )
    .await;
    let passed = outcomes.iter().filter(|o| matches!(o, Ok(Ok(())))).count();
    assert_eq!(passed, REGISTRATIONS_PER_HOUR as usize);
    assert_eq!(throttle.register(net, T0 + 600).await.unwrap(), Err(3000));
    assert_eq!(throttle.register(net, T0 + 3600).await.unwrap(), Ok(()));
    // Quiet counters go; a blocked key stays until its wait is over.
    assert_eq!(throttle.prune(T0 + 1800).await.unwrap(), 0);
    assert!(throttle.prune(T0 + 2 * 3600).await.unwrap() >= 2);
    assert_eq!(throttle.wait("net:198.51.100.x", T0).await.unwrap(), None);
}

#[tokio::test]
async fn a_lock_out_counts_on_every_server_of_the_database() {
    let a = TestApp::spawn().await;
    let url = a.database_url.clone();
    let b = TestApp::spawn_with(move |c| {
        c.database_url = url;
        c.seed_demo_data = false;
    })
    .await;
    // Five wrong passwords, spread over both servers.
    for (n, server) in [&a, &b, &a, &b, &a].into_iter().enumerate() {
        let res = login_status(server, "alice", "not-the-password").await;
        assert_eq!(res.status(), 401, "guess {n}");
    }
    // Both now make alice wait, even with the right password.
    for server in [&a, &b] {
        let res = login_status(server, "alice", ALICE.1).await;
        assert_eq!(res.status(), 429);
        assert_eq!(header(&res, "retry-after"), "60");
    }
}

/// A sign-in as `user` with a forwarded client address (as a load balancer sends it).
async fn login_via(
    app: &TestApp,
    client_ip: &str,
    user: &str,
    password: &str,
) -> reqwest::Response {
    app.raw()
        .post(app.url("/api/login"))
        .header("x-forwarded-for", client_ip)
        .form(&[("username", user), ("password", password)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_the_one_counted_and_shown() {
    let app = TestApp::spawn_with(|c| {
        c.sessions.trusted_proxies = "127.0.0.1/32".parse().unwrap();
    })
    .await;
    // 20 failures from one client network (spread over names, so no account is blocked).
    for n in 0..20 {
        let res = login_via(
            &app,
            "198.51.100.7",
            &format!("nobody{n}"),
            "wrong-password",
        )
        .await;
        assert_eq!(res.status(), 401, "attempt {n}");
    }
    let res = login_via(&app, "198.51.100.99", "alice", ALICE.1).await;
    assert_eq!(res.status(), 429, "the network 198.51.100.x waits");
    // Another client behind the same proxy is not held up by it.
    let res = login_via(&app, "203.0.113.7", "alice", ALICE.1).await;
    assert_eq!(res.status(), 200);
    let token = session_token(res.headers()).unwrap();
    let list = app
        .post_with_cookie("/api/list_sessions", cookie_header(&token))
        .await
        .json_value()
        .await;
    assert_eq!(list[0]["ip"], "203.0.113.x", "{list}");
}

#[tokio::test]
async fn a_forwarded_address_from_an_untrusted_peer_is_ignored() {
    let app = TestApp::spawn().await; // TRUSTED_PROXIES empty: the default
    for n in 0..20 {
        // A client pretending to come from ever new networks.
        let res = login_via(
            &app,
            &format!("192.0.2.{n}"),
            &format!("nobody{n}"),
            "wrong",
        )
        .await;
        assert_eq!(res.status(), 401, "attempt {n}");
    }
    let res = login_via(&app, "203.0.113.7", "alice", ALICE.1).await;
    assert_eq!(res.status(), 429, "all counted against its real network");
    app.clock.advance(3600);
    let res = login_via(&app, "203.0.113.7", "alice", ALICE.1).await;
    assert_eq!(res.status(), 200);
    let token = session_token(res.headers()).unwrap();
    let list = app
        .post_with_cookie("/api/list_sessions", cookie_header(&token))
        .await
        .json_value()
        .await;
    assert_eq!(list[0]["ip"], "127.0.0.x", "{list}");
}
