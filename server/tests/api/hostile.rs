//! Hostile input over HTTP: every answer is a clear 4xx, never a 500, and nothing is
//! changed or lost.

use crate::common::*;

/// What hostile requests must leave alone.
async fn fingerprint(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for sql in [
        "SELECT COUNT(*) FROM users",
        "SELECT COUNT(*) FROM sessions",
        "SELECT COUNT(*) FROM cart_items",
        "SELECT COALESCE(CAST(SUM(quantity) AS BIGINT), 0) FROM cart_items",
        "SELECT COUNT(*) FROM orders",
        "SELECT CAST(SUM(stock) AS BIGINT) FROM products",
        "SELECT CAST(SUM(price_cents) AS BIGINT) FROM products",
        app.state.db.pick(
            "SELECT COUNT(*) FROM sqlite_master",
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
        ),
    ] {
        out.push(
            db::on!(app.state.db.writer(), p => sqlx::query_scalar(sql)
                .fetch_one(p)
                .await)
            .unwrap(),
        );
    }
    out
}

async fn raw_post(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn oversized_bodies_and_fields_are_refused() {
    let app = TestApp::spawn().await;
    let before = fingerprint(&app).await;
    // The server closes the connection after refusing an unread body, so each refused
    // request gets its own client (a pooled connection could be the closed one).
    let huge = format!("product_id=1&quantity=1&pad={}", "x".repeat(100 * 1024));
    let res = raw_post(&app, &app.browser(), "/api/add_to_cart", huge).await;
    assert_eq!(res.status(), 413);
    let huge_login = format!("username={}&password=x", "a".repeat(70 * 1024));
    assert_eq!(
        raw_post(&app, &app.browser(), "/api/login", huge_login)
            .await
            .status(),
        413
    );
    // Under the body limit, over every field limit: refused by the rules, not by a crash.
    let client = app.browser();
    let long = "a".repeat(20_000);
    let res = app
        .post(
            &client,
            "/api/login",
            &[("username", &long), ("password", &long)],
        )
        .await;
    assert_eq!(res.status(), 401);
    let res = app
        .post(
            &client,
            "/api/register",
            &[
                ("username", &long),
                ("email", "long@example.com"),
                ("password", &long),
                ("password_confirm", &long),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .post(&client, "/api/list_products", &[("q", &long)])
        .await;
    assert_eq!(res.status(), 200);
    let found: serde_json::Value = res.json_value().await;
    assert_eq!(found["products"], serde_json::json!([]), "{found}");
    assert!(
        found["next"].is_null() && found["prev"].is_null(),
        "{found}"
    );
    assert_eq!(fingerprint(&app).await, before);
}

#[tokio::test]
async fn invalid_utf8_is_a_client_error() {
    let app = TestApp::spawn().await;
    let before = fingerprint(&app).await;
    let client = app.browser();
    for (path, body) in [
        (
            "/api/login",
            b"username=alice&password=\xff\xfe\xfd".to_vec(),
        ),
        ("/api/login", b"username=\xc3\x28&password=x".to_vec()),
        ("/api/add_to_cart", b"product_id=1&quantity=\xff".to_vec()),
        ("/api/list_products", b"q=\xed\xa0\x80".to_vec()),
        ("/api/get_product", b"slug=\xf8\x88\x80\x80\x80".to_vec()),
    ] {
        let res = raw_post(&app, &client, path, body).await;
        let status = res.status().as_u16();
        assert!(
            (400..500).contains(&status),
            "{path}: {status} {}",
            res.text().await.unwrap()
        );
    }
    assert_eq!(fingerprint(&app).await, before);
}

/// An endpoint, its form, and the statuses it may answer.
type Check<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a [u16]);

#[tokio::test]
async fn sql_in_every_text_field_is_just_text() {
    let app = TestApp::spawn().await;
    let attacks = [
        "' OR '1'='1",
        "alice'--",
        "1; DROP TABLE users; --",
        "\" OR 1=1 --",
        "%' UNION SELECT password_hash FROM users --",
        "'); DELETE FROM sessions; --",
        "\\'; UPDATE products SET price_cents = 0; --",
        // NUL and other control characters: fine in SQLite text, refused by PostgreSQL.
        "x\0z",
        "\0' OR '1'='1",
        "y\u{1}\u{7f}q",
    ];
    let before = fingerprint(&app).await;
    let client = app.browser();
    for attack in attacks {
        let checks: [Check; 6] = [
            (
                "/api/login",
                vec![("username", attack), ("password", attack)],
                &[401, 429], // failed sign-ins are throttled after a few
            ),
            (
                "/api/login",
                vec![("username", "alice"), ("password", attack)],
                &[401, 429],
            ),
            (
                "/api/register",
                vec![
                    ("username", attack),
                    ("email", "attacker@example.com"),
                    ("password", "long enough password"),
                    ("password_confirm", "long enough password"),
                ],
                &[422],
            ),
            ("/api/get_product", vec![("slug", attack)], &[404]),
            (
                "/api/list_products",
                vec![("q", attack), ("sort", attack)],
                &[200, 400, 422],
            ),
            ("/api/revoke_session", vec![("handle", attack)], &[401]),
        ];
        for (path, form, allowed) in checks {
            let res = app.post(&client, path, &form).await;
            let status = res.status().as_u16();
            let body = res.text().await.unwrap();
            assert!(
                allowed.contains(&status),
                "{path} {attack:?}: {status} {body}"
            );
            assert!(!body.contains("$argon2"), "{path} leaked a hash");
            if path == "/api/list_products" && status == 200 {
                let found: serde_json::Value = serde_json::from_str(&body).unwrap();
                assert_eq!(
                    found["products"],
                    serde_json::json!([]),
                    "{attack:?} matched products"
                );
            }
        }
    }
    assert_eq!(fingerprint(&app).await, before, "nothing changed");
    app.clock.advance(3600); // past the sign-in backoff the guessing earned
                             // Signed in, a session handle that is not one names nothing.
    let alice = app.browser();
    assert_eq!(app.login(&alice, "alice", ALICE.1).await.status(), 200);
    for attack in attacks {
        let res = app
            .post(&alice, "/api/revoke_session", &[("handle", attack)])
            .await;
        assert_eq!(res.status(), 404, "{attack:?}");
    }
    assert_eq!(app.login(&app.raw(), "alice", ALICE.1).await.status(), 200);
}

#[tokio::test]
async fn quantities_and_ids_that_are_not_sensible_numbers_are_refused() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    let mug = product_id(&app, "stoneware-mug").await;
    assert_eq!(add(&app, &client, mug, "2").await.status(), 200);
    let before = fingerprint(&app).await;
    let mug = mug.to_string();
    for quantity in [
        "-1",
        "0",
        "100",
        "-9223372036854775808",
        "9223372036854775807",
        "99999999999999999999",
        "1.5",
        "1e3",
        "abc",
        "",
        " 1",
        "0x10",
        "NaN",
    ] {
        let res = app
            .post(
                &client,
                "/api/add_to_cart",
                &[("product_id", &mug), ("quantity", quantity)],
            )
            .await;
        let status = res.status().as_u16();
        assert!(
            matches!(status, 400 | 422),
            "quantity {quantity:?}: {status}"
        );
        if quantity == "0" {
            continue; // for an update, 0 means "remove"
        }
        let res = app
            .post(
                &client,
                "/api/update_cart_item",
                &[("product_id", &mug), ("quantity", quantity)],
            )
            .await;
        assert!(
            matches!(res.status().as_u16(), 400 | 422),
            "update {quantity:?}"
        );
    }
    for id in ["-1", "0", "9223372036854775807"] {
        let res = app
            .post(
                &client,
                "/api/add_to_cart",
                &[("product_id", id), ("quantity", "1")],
            )
            .await;
        assert_eq!(res.status(), 404, "product {id}");
    }
    for id in ["99999999999999999999", "abc", "", "1 OR 1=1"] {
        let res = app
            .post(
                &client,
                "/api/add_to_cart",
                &[("product_id", id), ("quantity", "1")],
            )
            .await;
        assert_eq!(res.status(), 400, "product {id:?}");
        let res = app.post(&client, "/api/get_order", &[("id", id)]).await;
        assert!(matches!(res.status().as_u16(), 400 | 401), "order {id:?}");
    }
    assert_eq!(fingerprint(&app).await, before);
    let count = app.post(&client, "/api/cart_count", &[]).await;
    assert_eq!(count.text().await.unwrap(), "2", "the cart is as it was");
}

#[tokio::test]
async fn unknown_functions_and_wrong_methods_are_refused_plainly() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    for path in [
        "/api/nope",
        "/api/drop_tables",
        "/api/",
        "/api/login/extra",
        "/api/LOGIN",
    ] {
        let res = app.post(&client, path, &[]).await;
        assert_eq!(res.status(), 404, "{path}");
        let body = res.json_value().await;
        assert_eq!(body["error"], "not_found", "{path}");
    }
    for path in ["/api/add_to_cart", "/api/login", "/api/place_order"] {
        let res = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 405, "GET {path}");
    }
    let res = client.put(app.url("/api/logout")).send().await.unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(app.session_count().await, 0);
}
