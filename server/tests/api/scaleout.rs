//! Several server processes on one database (each test server has its own router, pools,
//! session cache and change listener): what one of them does, the others honour at once.

use std::time::{Duration, Instant};

use crate::common::*;

/// Who `app` thinks the holder of `token` is.
async fn who(app: &TestApp, token: &str) -> Option<String> {
    let res = app
        .post_with_cookie("/api/current_user", cookie_header(token))
        .await;
    assert_eq!(res.status(), 200);
    res.json_value().await["username"]
        .as_str()
        .map(str::to_string)
}

/// Signs alice in on `app` and returns her session token.
async fn sign_in(app: &TestApp) -> String {
    let res = app.login(&app.raw(), "alice", ALICE.1).await;
    assert_eq!(res.status(), 200);
    session_token(res.headers()).expect("a session cookie")
}

/// How long until every one of `apps` refuses `token` (panics after 5 s).
async fn until_refused(apps: &[&TestApp], token: &str) -> Duration {
    let start = Instant::now();
    for app in apps {
        while who(app, token).await.is_some() {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "a server still accepts an ended session"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    start.elapsed()
}

#[tokio::test]
async fn a_session_ended_on_one_server_is_refused_by_the_others_within_a_second() {
    let a = TestApp::spawn_first_of_several().await;
    let b = a.spawn_beside().await;
    let c = a.spawn_beside().await;
    for round in 0..3 {
        // Signed in on A, used on B and C (which now hold it in memory).
        let token = sign_in(&a).await;
        for app in [&a, &b, &c] {
            assert_eq!(who(app, &token).await.as_deref(), Some("alice"));
        }
        // Signed out on C.
        let res = c
            .post_with_cookie("/api/logout", cookie_header(&token))
            .await;
        assert_eq!(res.status(), 200);
        let took = until_refused(&[&a, &b, &c], &token).await;
        eprintln!("round {round}: refused everywhere {took:?} after the sign-out");
        assert!(took < Duration::from_secs(1), "{took:?}");
    }
    // Revoking "everything else" on B ends A's sessions on A and C as well.
    let first = sign_in(&a).await;
    let second = sign_in(&c).await;
    for app in [&a, &b, &c] {
        assert!(who(app, &first).await.is_some() && who(app, &second).await.is_some());
    }
    let res = b
        .post_with_cookie("/api/revoke_other_sessions", cookie_header(&second))
        .await;
    assert_eq!(res.status(), 200);
    let took = until_refused(&[&a, &b, &c], &first).await;
    assert!(took < Duration::from_secs(1), "{took:?}");
    for app in [&a, &b, &c] {
        assert_eq!(who(app, &second).await.as_deref(), Some("alice"));
    }
}

#[tokio::test]
async fn a_server_whose_listener_was_cut_off_still_refuses_ended_sessions() {
    let a = TestApp::spawn_first_of_several().await;
    let b = a.spawn_beside().await;
    let token = sign_in(&a).await;
    assert_eq!(who(&b, &token).await.as_deref(), Some("alice"));
    if a.backend() == db::Backend::Postgres {
        assert_eq!(b.state.sessions.cached(), 1, "B serves it from memory");
        // Cut every listener's connection, then end the session while they are down:
        // that notification is lost.
        exec(
            &a,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
        )
        .await;
    }
    let res = a
        .post_with_cookie("/api/logout", cookie_header(&token))
        .await;
    assert_eq!(res.status(), 200);
    let took = until_refused(&[&b], &token).await;
    assert!(took < Duration::from_secs(1), "{took:?}");

    // The listener comes back, and with it the cache and the announcements.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !b.state.sessions.cache_enabled() && b.state.sessions.config().cache_capacity > 0 {
        assert!(Instant::now() < deadline, "the listener did not come back");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let token = sign_in(&a).await;
    assert_eq!(who(&b, &token).await.as_deref(), Some("alice"));
    let res = a
        .post_with_cookie("/api/logout", cookie_header(&token))
        .await;
    assert_eq!(res.status(), 200);
    let took = until_refused(&[&b], &token).await;
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[tokio::test]
async fn fifty_adds_spread_over_three_servers_are_exactly_fifty() {
    let a = TestApp::spawn_first_of_several().await;
    let b = a.spawn_beside().await;
    let c = a.spawn_beside().await;
    let token = sign_in(&a).await;
    exec(&a, "UPDATE products SET stock = 1000").await;
    let mug = product_id(&a, "stoneware-mug").await.to_string();
    let form = [("product_id", mug.as_str()), ("quantity", "1")];
    let apps = [&a, &b, &c];
    let answers = futures::future::join_all((0..50).map(|i| {
        apps[i % 3].post_form_with_cookie("/api/add_to_cart", cookie_header(&token), &form)
    }))
    .await;
    assert!(answers.iter().all(|r| r.status() == 200));
    let quantity: i64 = db::on!(a.state.db.writer(), p => sqlx::query_scalar(
        "SELECT quantity FROM cart_items WHERE user_id IS NOT NULL"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    assert_eq!(quantity, 50);
}

#[tokio::test]
async fn one_idempotency_key_over_three_servers_is_one_order_and_the_last_item_sells_once() {
    let a = TestApp::spawn_first_of_several().await;
    let b = a.spawn_beside().await;
    let c = a.spawn_beside().await;
    let apps = [&a, &b, &c];
    let token = sign_in(&a).await;
    let mug = product_id(&a, "stoneware-mug").await;
    let res = add_with_cookie(&a, &token, mug, "1").await;
    assert_eq!(res.status(), 200);
    let order = [
        ("name", "Alice Liddell"),
        ("address_line1", "1 Rabbit Hole"),
        ("city", "Oxford"),
        ("postal_code", "OX1 1DP"),
        ("country", "GB"),
        ("idempotency_key", "one-key-three-servers"),
    ];
    let answers = futures::future::join_all((0..10).map(|i| {
        apps[i % 3].post_form_with_cookie("/api/place_order", cookie_header(&token), &order)
    }))
    .await;
    let mut ids = Vec::new();
    for res in answers {
        assert_eq!(res.status(), 200);
        ids.push(res.text().await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    exec(&a, "DELETE FROM orders").await;

    // The last unit, bought by alice on A and bob on B at the same moment.
    let bob = {
        let res = b.login(&b.raw(), "bob", BOB.1).await;
        session_token(res.headers()).unwrap()
    };
    let kettle = product_id(&a, "copper-kettle").await.to_string();
    for (app, t) in [(&a, &token), (&b, &bob)] {
        let res = app
            .post_form_with_cookie(
                "/api/add_to_cart",
                cookie_header(t),
                &[("product_id", kettle.as_str()), ("quantity", "1")],
            )
            .await;
        assert_eq!(res.status(), 200);
    }
    exec(
        &a,
        &format!("UPDATE products SET stock = 1 WHERE id = {kettle}"),
    )
    .await;
    let mut keyless = order.to_vec();
    keyless.pop();
    let (x, y) = tokio::join!(
        a.post_form_with_cookie("/api/place_order", cookie_header(&token), &keyless),
        b.post_form_with_cookie("/api/place_order", cookie_header(&bob), &keyless),
    );
    let mut statuses = [x.status().as_u16(), y.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let stock: i64 = db::on!(a.state.db.writer(), p => sqlx::query_scalar(
        "SELECT stock FROM products WHERE slug = 'copper-kettle'"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    assert_eq!(stock, 0);
}
