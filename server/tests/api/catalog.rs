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
    for q in ["kettle", "KETTLE", "Copper%20Ke", "copp%20KETT"] {
        let html = get_html(&client, &app, &format!("/?q={q}")).await;
        assert_eq!(card_order(&html), vec!["copper-kettle"], "{q}");
        assert!(html.contains(r#"name="q""#));
    }
    let res = app
        .post(&client, "/api/list_products", &[("q", "mug")])
        .await;
    let v: serde_json::Value = res.json_value().await;
    // The mug by its name, first; the dripper that "fits most mugs" by its description.
    assert_eq!(slugs(&v), ["stoneware-mug", "pour-over-dripper"]);
    assert!(v["next"].is_null() && v["prev"].is_null(), "{v}");
    assert_eq!(v["found"], serde_json::json!({"count": 2, "more": false}));
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

/// Adds `n` products named "Widget NNN" (prices repeating, so orders need their ties
/// broken) to the demo catalog.
async fn add_widgets(app: &TestApp, n: usize) {
    for i in 0..n {
        let (slug, name) = (format!("widget-{i:03}"), format!("Widget {i:03}"));
        let price = 500 + (i as i64 % 7) * 100;
        db::on!(app.state.db.writer(), p => sqlx::query(
            "INSERT INTO products (slug, name, description, price_cents, image, stock)
             VALUES ($1, $2, 'A widget.', $3, '/images/logo.svg', 5)"
        )
        .bind(&slug)
        .bind(&name)
        .bind(price)
        .execute(p)
        .await
        .map(|_| ()))
        .unwrap();
    }
}

async fn page(app: &TestApp, form: &[(&str, &str)]) -> serde_json::Value {
    let res = app.post(&app.raw(), "/api/list_products", form).await;
    assert_eq!(res.status(), 200);
    res.json_value().await
}

fn slugs(page: &serde_json::Value) -> Vec<String> {
    page["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["slug"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn lists_come_in_pages_that_follow_each_other_forwards_and_back() {
    let app = TestApp::spawn().await;
    add_widgets(&app, 61).await; // 73 products: pages of 24, 24, 24, 1
    for sort in ["name", "price_asc", "price_desc"] {
        // Forwards by `next`, until there is none.
        let mut pages = vec![page(&app, &[("sort", sort)]).await];
        assert!(pages[0]["prev"].is_null());
        while let Some(next) = pages.last().unwrap()["next"].as_i64() {
            let next = next.to_string();
            pages.push(page(&app, &[("sort", sort), ("after", &next)]).await);
            assert!(pages.len() <= 4, "{sort}: more pages than products");
        }
        let sizes: Vec<usize> = pages.iter().map(|p| slugs(p).len()).collect();
        assert_eq!(sizes, vec![24, 24, 24, 1], "{sort}");
        // Together: every product once, in the order of the whole list.
        let walked: Vec<String> = pages.iter().flat_map(slugs).collect();
        let all = all_in_order(&app, sort).await;
        assert_eq!(walked, all, "{sort}: pages skipped or repeated products");
        // Backwards by `prev` from the last page: the same pages.
        let mut back = vec![pages.last().unwrap().clone()];
        while let Some(prev) = back.last().unwrap()["prev"].as_i64() {
            let prev = prev.to_string();
            back.push(page(&app, &[("sort", sort), ("before", &prev)]).await);
            assert!(back.len() <= 4, "{sort}: more pages back than forwards");
        }
        back.reverse();
        let back: Vec<Vec<String>> = back.iter().map(slugs).collect();
        let forth: Vec<Vec<String>> = pages.iter().map(slugs).collect();
        assert_eq!(back, forth, "{sort}");
    }
    // A search is paged the same way; a cursor of no product starts at the beginning.
    let widgets = page(&app, &[("q", "widget")]).await;
    assert_eq!(slugs(&widgets).len(), 24);
    assert_eq!(slugs(&widgets)[0], "widget-000");
    let after = widgets["next"].as_i64().unwrap().to_string();
    let second = page(&app, &[("q", "widget"), ("after", &after)]).await;
    assert_eq!(slugs(&second)[0], "widget-024");
    let before = second["prev"].as_i64().unwrap().to_string();
    let back = page(&app, &[("q", "widget"), ("before", &before)]).await;
    assert_eq!(slugs(&back), slugs(&widgets), "a search's pages back");
    let filtered = page(&app, &[("q", "widget"), ("max", "6"), ("after", &after)]).await;
    assert!(!slugs(&filtered).is_empty() && !slugs(&filtered).contains(&"widget-000".to_string()));
    let lost = page(&app, &[("after", "999999")]).await;
    assert_eq!(slugs(&lost), slugs(&page(&app, &[]).await));
}

/// The whole list in `sort`'s order, as the database orders it.
async fn all_in_order(app: &TestApp, sort: &str) -> Vec<String> {
    let order = match sort {
        "name" => "lower(name), id",
        "price_asc" => "price_cents, lower(name), id",
        _ => "price_cents DESC, lower(name), id",
    };
    db::on!(app.state.db.reader(), p => sqlx::query_scalar::<_, String>(&format!(
        "SELECT slug FROM products ORDER BY {order}"
    ))
    .fetch_all(p)
    .await)
    .unwrap()
}

#[tokio::test]
async fn pages_are_plain_links_on_the_server_rendered_page() {
    let app = TestApp::spawn().await;
    add_widgets(&app, 30).await; // 42 products: 24 + 18
    let client = app.raw();
    let first = get_html(&client, &app, "/").await;
    assert_eq!(card_order(&first).len(), 24);
    assert!(!first.contains("Previous page"));
    let next = first
        .split("href=\"/?after=")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a link to the next page");
    let second = get_html(&client, &app, &format!("/?after={next}")).await;
    assert_eq!(card_order(&second).len(), 18);
    assert!(!second.contains("Next page"));
    assert!(second.contains("rel=\"prev\""), "a link back");
    // No card of the first page again, and only this page went into the HTML.
    for slug in card_order(&first) {
        assert!(!card_order(&second).contains(&slug), "{slug} on both pages");
    }
    // The first row's images load at once, the others lazily, all with their size set.
    assert_eq!(first.matches("loading=\"eager\"").count(), 4);
    assert_eq!(first.matches("loading=\"lazy\"").count(), 20);
    assert_eq!(first.matches("width=\"240\" height=\"240\"").count(), 24);
    // Junk in the cursor is no error: the first page.
    let junk = get_html(&client, &app, "/?after=abc").await;
    assert_eq!(card_order(&junk), card_order(&first));
}
