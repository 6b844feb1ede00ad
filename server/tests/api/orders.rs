//! Billing and orders over HTTP: the checkout transaction, its refusals, idempotency,
//! privacy between users, and the plain-form (no JavaScript) round trip.

use crate::common::*;

/// The billing form with some fields replaced (and an optional idempotency key).
fn form<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form: Vec<(&str, &str)> = ADDRESS.to_vec();
    for (k, v) in changes {
        match form.iter_mut().find(|(f, _)| f == k) {
            Some(field) => field.1 = v,
            None => form.push((k, v)),
        }
    }
    form
}

async fn signed_in(app: &TestApp, user: &str, password: &str) -> reqwest::Client {
    let client = app.browser();
    assert_eq!(app.login(&client, user, password).await.status(), 200);
    client
}

async fn alice(app: &TestApp) -> reqwest::Client {
    signed_in(app, "alice", ALICE.1).await
}

async fn place(
    app: &TestApp,
    client: &reqwest::Client,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    app.post(client, "/api/place_order", fields).await
}

async fn update_to_zero(app: &TestApp, client: &reqwest::Client, product: i64) {
    let res = app
        .post(
            client,
            "/api/update_cart_item",
            &[("product_id", &product.to_string()), ("quantity", "0")],
        )
        .await;
    assert_eq!(res.status(), 200);
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    db::on!(app.state.db.writer(), p => sqlx::query_scalar(sql)
        .fetch_one(p)
        .await)
    .unwrap()
}

async fn stock(app: &TestApp, product: i64) -> i64 {
    db::on!(app.state.db.writer(), p => sqlx::query_scalar(
        "SELECT stock FROM products WHERE id = $1"
    )
    .bind(product)
    .fetch_one(p)
    .await)
    .unwrap()
}

/// Everything an order touches, to prove a refusal changed nothing.
async fn snapshot(app: &TestApp) -> (i64, i64, i64, i64) {
    (
        scalar(app, "SELECT COUNT(*) FROM orders").await,
        scalar(app, "SELECT COUNT(*) FROM order_items").await,
        scalar(
            app,
            "SELECT COALESCE(CAST(SUM(quantity) AS BIGINT), 0) FROM cart_items",
        )
        .await,
        scalar(app, "SELECT CAST(SUM(stock) AS BIGINT) FROM products").await,
    )
}

#[tokio::test]
async fn placing_an_order_records_it_takes_the_stock_and_empties_the_cart() {
    let app = TestApp::spawn().await;
    let client = alice(&app).await;
    let mug = product_id(&app, "stoneware-mug").await;
    let board = product_id(&app, "oak-cutting-board").await;
    let (mug_stock, board_stock) = (stock(&app, mug).await, stock(&app, board).await);
    assert_eq!(add(&app, &client, mug, "2").await.status(), 200);
    assert_eq!(add(&app, &client, board, "1").await.status(), 200);

    let billing = client.get(app.url("/billing")).send().await.unwrap();
    assert_eq!(billing.status(), 200);
    let html = billing.text().await.unwrap();
    assert!(
        html.contains("Stoneware Mug") && html.contains("Place order"),
        "{html}"
    );
    assert!(
        !html.contains("card number"),
        "no card data is ever asked for"
    );

    let res = place(&app, &client, &form(&[("idempotency_key", "k-1")])).await;
    assert_eq!(res.status(), 200);
    let id: i64 = res.text().await.unwrap().parse().unwrap();

    let (total, name, country): (i64, String, String) =
        db::on!(app.state.db.writer(), p => sqlx::query_as(
            "SELECT total_cents, billing_name, country FROM orders WHERE id = $1"
        )
        .bind(id)
        .fetch_one(p)
        .await)
        .unwrap();
    let expected: i64 = db::on!(app.state.db.writer(), p => {
        sqlx::query_scalar(
        "SELECT CAST(SUM(price_cents * CASE slug WHEN 'stoneware-mug' THEN 2 ELSE 1 END) AS BIGINT)
           FROM products WHERE slug IN ('stoneware-mug', 'oak-cutting-board')",
    )
    .fetch_one(p)
    .await
    })
    .unwrap();
    assert_eq!(
        (total, name.as_str(), country.as_str()),
        (expected, "Alice Liddell", "GB")
    );
    assert_eq!(stock(&app, mug).await, mug_stock - 2);
    assert_eq!(stock(&app, board).await, board_stock - 1);
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM cart_items").await, 0);
    let count = app.post(&client, "/api/cart_count", &[]).await;
    assert_eq!(count.text().await.unwrap(), "0");

    // The confirmation page and the list.
    let page = client
        .get(app.url(&format!("/orders/{id}?placed=1")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("Order #{id}")) && html.contains("Thank you"),
        "{html}"
    );
    assert!(html.contains("Oak Cutting Board") && html.contains("United Kingdom"));
    let list = app
        .post(&client, "/api/list_orders", &[])
        .await
        .json_value()
        .await;
    assert_eq!(list[0]["id"], id);
    assert_eq!(list[0]["item_count"], 3);
    assert_eq!(list[0]["total_cents"], expected);
    let html = get_html(&client, &app, "/orders").await;
    assert!(html.contains(&format!("/orders/{id}")), "{html}");

    // Prices are the ones paid, whatever the catalog says later.
    db::on!(app.state.db.writer(), p => sqlx::query(
        "UPDATE products SET price_cents = price_cents * 10, name = 'Renamed'"
    )
    .execute(p)
    .await
    .map(|_| ()))
    .unwrap();
    let order = app
        .post(&client, "/api/get_order", &[("id", &id.to_string())])
        .await
        .json_value()
        .await;
    assert_eq!(order["total_cents"], expected);
    assert_eq!(order["lines"][0]["name"], "Stoneware Mug");
}

#[tokio::test]
async fn invalid_fields_are_each_named_and_nothing_changes() {
    let app = TestApp::spawn().await;
    let client = alice(&app).await;
    let mug = product_id(&app, "stoneware-mug").await;
    add(&app, &client, mug, "1").await;
    let before = snapshot(&app).await;

    let res = place(
        &app,
        &client,
        &form(&[
            ("name", "  "),
            ("postal_code", "OX1<script>"),
            ("country", "XX"),
        ]),
    )
    .await;
    assert_eq!(res.status(), 422);
    let body = res.json_value().await;
    assert_eq!(body["error"], "invalid");
    assert_eq!(body["message"], "Please correct the marked fields.");
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "postal_code", "country"]);
    assert_eq!(
        body["fields"][2]["message"],
        "Please choose a country from the list."
    );

    for bad in [
        form(&[("city", &"x".repeat(101))]),
        form(&[("address_line2", "line\u{7}two")]),
        form(&[("country", "gb")]),
        form(&[("idempotency_key", "not a key!")]),
    ] {
        assert_eq!(place(&app, &client, &bad).await.status(), 422, "{bad:?}");
    }
    // A missing field is a malformed request.
    let res = place(&app, &client, &ADDRESS[..5]).await;
    assert_eq!(res.status(), 400);
    assert_eq!(snapshot(&app).await, before, "refusals change nothing");

    // Text that looks like SQL is just text: stored as typed, harming nothing.
    let sql = "Robert'); DROP TABLE orders; --";
    let res = place(&app, &client, &form(&[("name", sql)])).await;
    assert_eq!(res.status(), 200);
    let stored: String = db::on!(app.state.db.writer(), p => sqlx::query_scalar(
        "SELECT billing_name FROM orders"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    assert_eq!(stored, sql);
}

#[tokio::test]
async fn an_empty_cart_and_an_anonymous_visitor_cannot_order() {
    let app = TestApp::spawn().await;
    let client = alice(&app).await;
    let res = place(&app, &client, &ADDRESS).await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        res.json_value().await["message"],
        "Your cart is empty: add something before placing an order."
    );

    let guest = app.browser();
    let mug = product_id(&app, "stoneware-mug").await;
    add(&app, &guest, mug, "1").await;
    let before = snapshot(&app).await;
    let res = place(&app, &guest, &ADDRESS).await;
    assert_eq!(res.status(), 401);
    // Without JavaScript, the form sends a guest to sign in first.
    let res = app.post_html(&guest, "/api/place_order", &ADDRESS).await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/login?next=/billing");
    assert_eq!(snapshot(&app).await, before);
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM orders").await, 0);
}

#[tokio::test]
async fn not_enough_stock_is_a_conflict_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let client = alice(&app).await;
    let mug = product_id(&app, "stoneware-mug").await;
    let board = product_id(&app, "oak-cutting-board").await;
    add(&app, &client, mug, "3").await;
    add(&app, &client, board, "1").await;
    // Someone else bought mugs in the meantime.
    db::on!(app.state.db.writer(), p => sqlx::query(
        "UPDATE products SET stock = 2 WHERE id = $1"
    )
    .bind(mug)
    .execute(p)
    .await
    .map(|_| ()))
    .unwrap();
    let before = snapshot(&app).await;
    let res = place(&app, &client, &ADDRESS).await;
    assert_eq!(res.status(), 409);
    let message = res.json_value().await["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("only 2 Stoneware Mug left (you have 3)"),
        "{message}"
    );
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn a_failure_in_the_middle_rolls_everything_back() {
    let app = TestApp::spawn().await;
    let client = alice(&app).await;
    let mug = product_id(&app, "stoneware-mug").await;
    let board = product_id(&app, "oak-cutting-board").await;
    add(&app, &client, mug, "2").await;
    add(&app, &client, board, "1").await;
    let before = snapshot(&app).await;
    // The last step (emptying the cart) fails after the order, its lines and the stock
    // were written inside the transaction.
    break_deletes(&app, "cart_items", "injected fault: disk on fire").await;
    let res = place(&app, &client, &form(&[("idempotency_key", "retry-me")])).await;
    assert_eq!(res.status(), 500);
    let body = res.text().await.unwrap();
    assert!(
        !body.contains("injected") && !body.contains("disk"),
        "{body}"
    );
    assert!(body.contains("Something went wrong on our side"), "{body}");
    assert_eq!(
        snapshot(&app).await,
        before,
        "no order, no lines, cart and stock as they were"
    );

    // Fault repaired: the same request (same key) now goes through, exactly once.
    mend_deletes(&app, "cart_items").await;
    let res = place(&app, &client, &form(&[("idempotency_key", "retry-me")])).await;
    assert_eq!(res.status(), 200);
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM orders").await, 1);
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM order_items").await, 2);
}

#[tokio::test]
async fn the_same_idempotency_key_places_one_order() {
    let app = TestApp::spawn().await;
    let client = alice(&app).await;
    let mug = product_id(&app, "stoneware-mug").await;
    let mug_stock = stock(&app, mug).await;
    add(&app, &client, mug, "1").await;

    // Ten submits of the same form at once (an impatient double, triple… click).
    let key = form(&[("idempotency_key", "8f14e45fceea167a5a36dedd4bea2543")]);
    let answers = futures::future::join_all((0..10).map(|_| place(&app, &client, &key))).await;
    let mut ids = Vec::new();
    for res in answers {
        assert_eq!(res.status(), 200);
        ids.push(res.text().await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every submit answers the same order: {ids:?}");
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM orders").await, 1);
    assert_eq!(stock(&app, mug).await, mug_stock - 1, "stock taken once");

    // The same (stale) form used again for new items is refused, not answered "placed".
    add(&app, &client, mug, "1").await;
    let res = place(&app, &client, &key).await;
    assert_eq!(res.status(), 409);
    let message = res.json_value().await["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("already used for order"), "{message}");
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM orders").await, 1);
    update_to_zero(&app, &client, mug).await;

    // The key belongs to this user: bob using the same key gets his own order.
    let bob = signed_in(&app, "bob", BOB.1).await;
    add(&app, &bob, mug, "1").await;
    let res = place(&app, &bob, &key).await;
    assert_eq!(res.status(), 200);
    assert_ne!(res.text().await.unwrap(), ids[0]);
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM orders").await, 2);

    // A new key with an empty cart is a new (refused) attempt.
    let res = place(&app, &client, &form(&[("idempotency_key", "another")])).await;
    assert_eq!(res.status(), 422);
}

#[tokio::test]
async fn orders_are_private_to_their_owner() {
    let app = TestApp::spawn().await;
    let alice = alice(&app).await;
    let mug = product_id(&app, "stoneware-mug").await;
    add(&app, &alice, mug, "1").await;
    let id = place(&app, &alice, &ADDRESS).await.text().await.unwrap();

    let bob = signed_in(&app, "bob", BOB.1).await;
    let res = app.post(&bob, "/api/get_order", &[("id", &id)]).await;
    assert_eq!(res.status(), 404);
    let body = res.text().await.unwrap();
    assert!(
        !body.contains("Liddell") && !body.contains("Oxford"),
        "{body}"
    );
    let page = bob
        .get(app.url(&format!("/orders/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    let html = page.text().await.unwrap();
    assert!(!html.contains("Liddell") && !html.contains("Rabbit Hole"));
    let list = app
        .post(&bob, "/api/list_orders", &[])
        .await
        .json_value()
        .await;
    assert_eq!(list, serde_json::json!([]));
    // Ids that do not parse or do not exist are 404 too.
    for path in ["/orders/999999", "/orders/abc", "/orders/-1"] {
        assert_eq!(
            bob.get(app.url(path)).send().await.unwrap().status(),
            404,
            "{path}"
        );
    }
    // Signed out: sign in first.
    let res = app
        .raw()
        .get(app.url(&format!("/orders/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(
        res.headers()["location"],
        format!("/login?next=/orders/{id}").as_str()
    );
    let res = app.post(&app.raw(), "/api/list_orders", &[]).await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn without_javascript_errors_come_back_with_the_values_and_success_confirms() {
    let app = TestApp::spawn().await;
    let client = alice(&app).await;
    let mug = product_id(&app, "stoneware-mug").await;
    add(&app, &client, mug, "1").await;

    let res = app
        .post_html(
            &client,
            "/api/place_order",
            &form(&[("city", ""), ("name", "Alice Q. Liddell")]),
        )
        .await;
    assert_eq!(res.status(), 302);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(location, "/billing?error=invalid", "no address in the URL");
    let html = get_html(&client, &app, &location).await;
    assert!(html.contains("Please correct the marked fields."), "{html}");
    assert!(html.contains("Please enter a city."), "{html}");
    assert!(
        html.contains(r#"value="Alice Q. Liddell""#),
        "typed values are kept: {html}"
    );
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM orders").await, 0);
    // The draft belongs to that one round trip: a later visit starts afresh.
    let html = get_html(&client, &app, "/billing").await;
    assert!(!html.contains("Alice Q. Liddell") && !html.contains("Please enter a city."));

    // An absurdly long field is refused the same way (the draft keeps only a little over
    // the limit), not with a 500.
    let long = "x".repeat(20_000);
    let res = app
        .post_html(&client, "/api/place_order", &form(&[("city", &long)]))
        .await;
    assert_eq!(res.headers()["location"], "/billing?error=invalid");
    let html = get_html(&client, &app, "/billing?error=invalid").await;
    assert!(html.contains("At most 100 characters, please."), "{html}");
    assert!(!html.contains(&"x".repeat(102)));

    let res = app
        .post_html(
            &client,
            "/api/place_order",
            &form(&[("idempotency_key", "nojs-1")]),
        )
        .await;
    assert_eq!(res.status(), 302);
    let id = scalar(&app, "SELECT id FROM orders").await;
    assert_eq!(
        res.headers()["location"],
        format!("/orders/{id}?placed=1").as_str()
    );
    // A second submit of the same page (same key) lands on the same order.
    let res = app
        .post_html(
            &client,
            "/api/place_order",
            &form(&[("idempotency_key", "nojs-1")]),
        )
        .await;
    assert_eq!(
        res.headers()["location"],
        format!("/orders/{id}?placed=1").as_str()
    );
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM orders").await, 1);
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM billing_drafts").await, 0);
    // The next visit to billing offers the address of the last order.
    add(&app, &client, mug, "1").await;
    let html = get_html(&client, &app, "/billing").await;
    assert!(html.contains(r#"value="1 Rabbit Hole""#), "{html}");
}

#[tokio::test]
async fn the_last_items_go_to_exactly_as_many_buyers_as_there_are() {
    let app = TestApp::spawn().await;
    let kettle = product_id(&app, "copper-kettle").await;
    // Six shoppers each have one kettle in their cart; three are left.
    let mut buyers = Vec::new();
    for n in 0..6 {
        let client = app.browser();
        let name = format!("buyer{n}");
        let res = app
            .post(
                &client,
                "/api/register",
                &[
                    ("username", name.as_str()),
                    ("email", &format!("{}@example.com", name)),
                    ("password", "a-long-enough-password"),
                    ("password_confirm", "a-long-enough-password"),
                ],
            )
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(add(&app, &client, kettle, "1").await.status(), 200);
        buyers.push(client);
    }
    exec(
        &app,
        &format!("UPDATE products SET stock = 3 WHERE id = {kettle}"),
    )
    .await;

    // All six press "Place order" at the same moment.
    let answers = futures::future::join_all(buyers.iter().map(|c| place(&app, c, &ADDRESS))).await;
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort();
    assert_eq!(statuses, [200, 200, 200, 409, 409, 409]);
    assert_eq!(
        stock(&app, kettle).await,
        0,
        "never below zero, nothing left over"
    );
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM orders").await, 3);
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) FROM cart_items").await,
        3,
        "the three refused carts are untouched"
    );
}
