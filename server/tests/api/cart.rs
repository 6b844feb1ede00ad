//! The cart over HTTP: guest carts, bounds, atomic changes, merge at sign-in.

use crate::common::*;

async fn update(
    app: &TestApp,
    client: &reqwest::Client,
    product: i64,
    quantity: &str,
) -> reqwest::Response {
    app.post(
        client,
        "/api/update_cart_item",
        &[("product_id", &product.to_string()), ("quantity", quantity)],
    )
    .await
}

async fn cart_rows(app: &TestApp) -> i64 {
    db::on!(app.state.db.writer(), p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM cart_items"
    )
    .fetch_one(p)
    .await)
    .unwrap()
}

#[tokio::test]
async fn the_first_add_creates_the_guest_session() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    let mug = product_id(&app, "stoneware-mug").await;
    assert!(set_cookies(client.get(app.url("/")).send().await.unwrap().headers()).is_empty());
    assert_eq!(app.session_count().await, 0);
    let res = add(&app, &client, mug, "2").await;
    assert_eq!(res.status(), 200);
    assert!(
        session_token(res.headers()).is_some(),
        "the first add sets the session cookie"
    );
    assert_eq!(res.text().await.unwrap(), r#"{"count":2}"#);
    assert_eq!(app.session_count().await, 1);
    // The next add reuses the same session.
    let res = add(&app, &client, mug, "1").await;
    assert!(set_cookies(res.headers()).is_empty());
    assert_eq!(res.text().await.unwrap(), r#"{"count":3}"#);
    assert_eq!(app.session_count().await, 1);
    let html = get_html(&client, &app, "/cart").await;
    assert!(
        html.contains("Stoneware Mug") && html.contains("$72.00"),
        "{html}"
    );
}

#[tokio::test]
async fn bad_quantities_and_unknown_products_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    let mug = product_id(&app, "stoneware-mug").await;
    let cases: [(&str, &str, u16); 9] = [
        ("1", "0", 422),
        ("1", "100", 422),
        ("1", "-1", 422),
        ("1", "abc", 400),
        ("1", "99999999999999999999999", 400),
        ("1", "1.5", 400),
        ("999999", "1", 404),
        ("-5", "1", 404),
        ("x' OR 1=1 --", "1", 400),
    ];
    for (product, quantity, status) in cases {
        let product = if product == "1" {
            mug.to_string()
        } else {
            product.to_string()
        };
        let res = app
            .post(
                &client,
                "/api/add_to_cart",
                &[("product_id", &product), ("quantity", quantity)],
            )
            .await;
        assert_eq!(
            res.status(),
            status,
            "product {product} quantity {quantity}"
        );
        let body = res.text().await.unwrap();
        assert!(body.contains("\"message\""), "{body}");
    }
    let res = app
        .post(&client, "/api/add_to_cart", &[("quantity", "1")])
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(cart_rows(&app).await, 0);
    assert_eq!(
        app.session_count().await,
        0,
        "refused input creates no session"
    );
}

#[tokio::test]
async fn stock_and_the_99_cap_bound_every_line() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    let succulent = product_id(&app, "potted-succulent").await; // stock 0
    let kettle = product_id(&app, "copper-kettle").await; // stock 6
    let res = add(&app, &client, succulent, "1").await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("sold out"));
    assert_eq!(add(&app, &client, kettle, "5").await.status(), 200);
    let res = add(&app, &client, kettle, "2").await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("Only 6 in stock (you have 5"));
    assert_eq!(add(&app, &client, kettle, "1").await.status(), 200);
    let res = update(&app, &client, kettle, "7").await;
    assert_eq!(res.status(), 422);
    let qty: i64 = db::on!(app.state.db.writer(), p => sqlx::query_scalar(
        "SELECT quantity FROM cart_items"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    assert_eq!(qty, 6);
}

#[tokio::test]
async fn update_and_remove() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    let mug = product_id(&app, "stoneware-mug").await;
    let lamp = product_id(&app, "brass-desk-lamp").await;
    add(&app, &client, mug, "1").await;
    add(&app, &client, lamp, "1").await;
    let res = update(&app, &client, mug, "4").await;
    assert_eq!(res.text().await.unwrap(), r#"{"count":5}"#);
    let res = update(&app, &client, lamp, "0").await;
    assert_eq!(res.text().await.unwrap(), r#"{"count":4}"#);
    let res = update(&app, &client, lamp, "2").await;
    assert_eq!(res.status(), 404, "not in the cart");
    let res = app
        .post(
            &client,
            "/api/remove_cart_item",
            &[("product_id", &mug.to_string())],
        )
        .await;
    assert_eq!(res.text().await.unwrap(), r#"{"count":0}"#);
    let res = app
        .post(
            &client,
            "/api/remove_cart_item",
            &[("product_id", &mug.to_string())],
        )
        .await;
    assert_eq!(res.status(), 200, "removing twice is harmless");
    assert_eq!(cart_rows(&app).await, 0);
}

#[tokio::test]
async fn fifty_concurrent_adds_are_exactly_fifty() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    let notebook = product_id(&app, "linen-notebook").await; // stock 60
    add(&app, &client, notebook, "1").await; // creates the session first
    let before = std::time::Instant::now();
    let results =
        futures::future::join_all((0..50).map(|_| add(&app, &client, notebook, "1"))).await;
    let elapsed = before.elapsed();
    let ok = results.iter().filter(|r| r.status() == 200).count();
    eprintln!("50 concurrent add_to_cart: {ok} ok in {elapsed:?}");
    assert_eq!(ok, 50);
    let qty: i64 = db::on!(app.state.db.writer(), p => sqlx::query_scalar(
        "SELECT quantity FROM cart_items"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    assert_eq!(qty, 51);
    // And the bound holds under the same race: 20 more only fit 9.
    let results =
        futures::future::join_all((0..20).map(|_| add(&app, &client, notebook, "1"))).await;
    let ok = results.iter().filter(|r| r.status() == 200).count();
    let refused = results.iter().filter(|r| r.status() == 422).count();
    assert_eq!((ok, refused), (9, 11));
    let qty: i64 = db::on!(app.state.db.writer(), p => sqlx::query_scalar(
        "SELECT quantity FROM cart_items"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    assert_eq!(qty, 60);
}

#[tokio::test]
async fn the_guest_cart_merges_into_the_saved_cart_at_sign_in() {
    let app = TestApp::spawn().await;
    let mug = product_id(&app, "stoneware-mug").await;
    let kettle = product_id(&app, "copper-kettle").await; // stock 6
    let tote = product_id(&app, "canvas-tote").await;
    // Alice saved a cart on another device.
    let laptop = app.browser();
    app.login(&laptop, "alice", ALICE.1).await;
    add(&app, &laptop, mug, "1").await;
    add(&app, &laptop, kettle, "4").await;
    // Now, as a guest on her phone...
    let phone = app.browser();
    add(&app, &phone, mug, "2").await;
    add(&app, &phone, kettle, "4").await;
    add(&app, &phone, tote, "1").await;
    let res = app.login(&phone, "alice", ALICE.1).await;
    assert_eq!(res.status(), 200);
    let lines: Vec<(i64, i64)> = db::on!(app.state.db.writer(), p => {
        sqlx::query_as(
        "SELECT product_id, quantity FROM cart_items WHERE user_id IS NOT NULL ORDER BY product_id",
    )
    .fetch_all(p)
    .await
    })
    .unwrap();
    let mut expected = vec![(mug, 3), (kettle, 6), (tote, 1)]; // 4 + 4 capped at the stock of 6
    expected.sort();
    assert_eq!(lines, expected);
    let guest_rows: i64 = db::on!(app.state.db.writer(), p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM cart_items WHERE session_id IS NOT NULL"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    assert_eq!(guest_rows, 0, "the guest rows are gone");
    // The same cart on every device.
    for client in [&laptop, &phone] {
        let res = app.post(client, "/api/cart_count", &[]).await;
        assert_eq!(res.text().await.unwrap(), "10");
    }
    // Signing out leaves an anonymous, empty cart.
    app.post(&phone, "/api/logout", &[]).await;
    assert_eq!(
        app.post(&phone, "/api/cart_count", &[])
            .await
            .text()
            .await
            .unwrap(),
        "0"
    );
    assert_eq!(
        app.post(&laptop, "/api/cart_count", &[])
            .await
            .text()
            .await
            .unwrap(),
        "10"
    );
}

#[tokio::test]
async fn plain_form_posts_return_to_the_page() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    let mug = product_id(&app, "stoneware-mug").await;
    let res = client
        .post(app.url("/api/add_to_cart"))
        .header("accept", "text/html")
        .header("referer", app.url("/products/stoneware-mug"))
        .form(&[("product_id", mug.to_string()), ("quantity", "2".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    // (The server-function runtime leaves an empty query on the referer: harmless.)
    let location = res.headers()["location"].to_str().unwrap();
    assert_eq!(
        location.trim_end_matches('?'),
        app.url("/products/stoneware-mug")
    );
    let res = client
        .post(app.url("/api/add_to_cart"))
        .header("accept", "text/html")
        .header("referer", app.url("/products/stoneware-mug"))
        .form(&[("product_id", mug.to_string()), ("quantity", "500".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302, "errors go back to the form too");
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("__err="), "{location}");
    // Following it shows the refusal on the product page, in our own words.
    let page = client
        .get(&location)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("That could not be done"), "{page}");
    // A crafted link cannot put its own text on the page.
    let crafted = location.split("__err=").next().unwrap().to_string()
        + "__err="
        + &base64_url(r#"{"error":"invalid","message":"Account locked: call 555 0100"}"#);
    let page = client
        .get(&crafted)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("555 0100"), "{page}");
    assert!(page.contains("That could not be done"));
    let html = get_html(&client, &app, "/cart").await;
    assert_eq!(badge(&html), "2", "{html}");
}

fn base64_url(text: &str) -> String {
    use base64::Engine;
    // URL-safe base64 with padding, as the server-function runtime writes it.
    base64::engine::general_purpose::URL_SAFE.encode(text)
}

/// On `/cart` the badge and the lines come from one read of the cart (per request); they
/// must still agree, for a guest and for a signed-in user, and follow every change.
#[tokio::test]
async fn the_cart_page_and_its_badge_agree() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    let mug = product_id(&app, "stoneware-mug").await;
    let html = get_html(&client, &app, "/cart").await;
    assert!(!html.contains(r#"data-testid="line-"#));

    assert_eq!(add(&app, &client, mug, "3").await.status(), 200);
    let html = get_html(&client, &app, "/cart").await;
    assert_eq!(badge(&html), "3", "guest");
    assert!(html.contains(r#"data-testid="line-stoneware-mug""#));

    assert_eq!(app.login(&client, "alice", ALICE.1).await.status(), 200);
    let html = get_html(&client, &app, "/cart").await;
    assert_eq!(badge(&html), "3", "merged into alice's cart");
    let other = product_id(&app, "linen-notebook").await;
    assert_eq!(add(&app, &client, other, "2").await.status(), 200);
    let html = get_html(&client, &app, "/cart").await;
    assert_eq!(badge(&html), "5", "signed in");
    assert!(html.contains(r#"data-testid="line-linen-notebook""#));
}

#[tokio::test]
async fn new_guest_carts_are_limited_per_client_network() {
    use app::auth::throttle::{GUESTS_PER_WINDOW, GUEST_WINDOW_SECS};
    let app = TestApp::spawn().await;
    let mug = product_id(&app, "stoneware-mug").await;
    exec(&app, "UPDATE products SET stock = 100000").await;
    // One client without a cookie, adding over and over: a new guest session each time.
    let flood = futures::future::join_all(
        (0..GUESTS_PER_WINDOW + 20)
            .map(|_| async { add(&app, &app.raw(), mug, "1").await.status() }),
    )
    .await;
    let ok = flood.iter().filter(|s| s.as_u16() == 200).count();
    let refused = flood.iter().filter(|s| s.as_u16() == 429).count();
    assert_eq!((ok, refused), (GUESTS_PER_WINDOW as usize, 20));
    assert_eq!(app.session_count().await, i64::from(GUESTS_PER_WINDOW));
    let res = add(&app, &app.raw(), mug, "1").await;
    assert_eq!(res.status(), 429);
    let wait: i64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 0 && wait <= GUEST_WINDOW_SECS, "{wait}");
    // A shopper who already has a cart is not affected, and signing in still works.
    let shopper = app.browser();
    app.clock.advance(GUEST_WINDOW_SECS);
    assert_eq!(add(&app, &shopper, mug, "1").await.status(), 200);
    exec(&app, "UPDATE throttle_windows SET count = 1000000").await;
    assert_eq!(
        add(&app, &shopper, mug, "1").await.status(),
        200,
        "same guest session"
    );
    assert_eq!(app.login(&shopper, "alice", ALICE.1).await.status(), 200);
    assert_eq!(
        add(&app, &shopper, mug, "1").await.status(),
        200,
        "signed in"
    );
}
