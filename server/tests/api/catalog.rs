//! Catalog search and sort over HTTP (server-rendered pages and the API).

use crate::common::*;

fn card_order(html: &str) -> Vec<&str> {
    html.split("href=\"/products/")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect()
}

#[tokio::test]
async fn search_filters_by_name_case_insensitively() {
    let app = TestApp::spawn().await;
    let client = app.raw();
    for q in ["kettle", "KETTLE", "Copper%20K"] {
        let html = get_html(&client, &app, &format!("/?q={q}")).await;
        assert_eq!(card_order(&html), vec!["copper-kettle"], "{q}");
        assert!(html.contains(r#"name="q""#));
    }
    let res = app
        .post(&client, "/api/list_products", &[("q", "mug")])
        .await;
    let v: serde_json::Value = res.json_value().await;
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["slug"], "stoneware-mug");
}

#[tokio::test]
async fn sort_orders_by_name_or_price() {
    let app = TestApp::spawn().await;
    let client = app.raw();
    let page = |sort: &'static str| {
        let client = client.clone();
        let url = app.url(&format!("/?sort={sort}"));
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let by_name = page("name").await;
    assert_eq!(card_order(&by_name).first(), Some(&"beeswax-candle"));
    assert_eq!(card_order(&by_name).len(), 12);
    let up = page("price_asc").await;
    assert_eq!(card_order(&up).first(), Some(&"potted-succulent"));
    assert_eq!(card_order(&up).last(), Some(&"brass-desk-lamp"));
    let down = page("price_desc").await;
    assert_eq!(card_order(&down).first(), Some(&"brass-desk-lamp"));
    assert!(
        down.contains(r#"value="price_desc" selected"#),
        "the select shows the current sort"
    );
    // An unknown sort falls back to name order rather than failing.
    assert_eq!(card_order(&page("sideways").await), card_order(&by_name));
}

#[tokio::test]
async fn hostile_search_text_is_just_text() {
    let app = TestApp::spawn().await;
    let client = app.raw();
    for q in ["%25", "_", "%27%20OR%201%3D1%20--", "%5C"] {
        let res = client
            .get(app.url(&format!("/?q={q}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{q}");
        let html = res.text().await.unwrap();
        assert!(card_order(&html).is_empty(), "{q} matched something");
        assert!(html.contains("No products match"), "{q}");
    }
    let long = "a".repeat(5000);
    let res = app
        .post(&client, "/api/list_products", &[("q", long.as_str())])
        .await;
    assert_eq!(res.status(), 200);
    let products: i64 = db::on!(app.state.db.writer(), p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM products"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    assert_eq!(products, 12);
}
