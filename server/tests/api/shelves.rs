//! Departments and categories, their facets and filters, and full-text search (ranking,
//! typos, suggestions, hostile input) over HTTP, on the demo catalog, on both backends.

use crate::common::*;

async fn list(app: &TestApp, form: &[(&str, &str)]) -> serde_json::Value {
    let res = app.post(&app.raw(), "/api/list_products", form).await;
    assert_eq!(res.status(), 200, "{form:?}");
    res.json_value().await
}

fn names(page: &serde_json::Value) -> Vec<String> {
    page["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

/// The facets as (name, count) pairs.
fn facets(page: &serde_json::Value) -> Vec<(String, Option<i64>)> {
    page["facets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["shelf"]["name"].as_str().unwrap().to_string(),
                f["count"].as_i64(),
            )
        })
        .collect()
}

/// A server-rendered page without its hydration markers.
fn plain(html: &str) -> String {
    html.replace("<!>", "")
}

fn facet(name: &str, count: i64) -> (String, Option<i64>) {
    (name.to_string(), Some(count))
}

async fn exec_bound(app: &TestApp, sql: &str, value: i64) {
    db::on!(app.state.db.writer(), p => sqlx::query(sql).bind(value).execute(p).await.map(|_| ()))
        .unwrap();
}

#[tokio::test]
async fn departments_and_categories_have_pages_with_breadcrumbs_and_facets() {
    let app = TestApp::spawn().await;
    // The whole catalog: the departments, with the products each holds.
    let all = list(&app, &[]).await;
    assert_eq!(
        facets(&all),
        [
            facet("Desk & travel", 2),
            facet("Home", 4),
            facet("Kitchen", 6)
        ]
    );
    assert!(all["found"].is_null() && all["trail"] == serde_json::json!([]));
    // A department: its categories; its products, from all of them.
    let kitchen = list(&app, &[("shelf", "kitchen")]).await;
    assert_eq!(
        facets(&kitchen),
        [
            facet("Mugs & cups", 1),
            facet("Serveware", 2),
            facet("Teapots & kettles", 3)
        ]
    );
    assert_eq!(kitchen["found"]["count"], 6);
    assert_eq!(names(&kitchen).len(), 6);
    // A category: its own products, its department's categories beside it.
    let teapots = list(&app, &[("shelf", "teapots-kettles"), ("sort", "price_asc")]).await;
    assert_eq!(
        names(&teapots),
        ["Pour-over Dripper", "Enamel Teapot", "Copper Kettle"]
    );
    let current: Vec<&str> = teapots["facets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["current"] == true)
        .map(|f| f["shelf"]["slug"].as_str().unwrap())
        .collect();
    assert_eq!(current, ["teapots-kettles"]);
    let trail: Vec<&str> = teapots["trail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(trail, ["Kitchen", "Teapots & kettles"]);

    // The pages themselves, rendered on the server.
    let client = app.raw();
    let html = plain(&get_html(&client, &app, "/c/teapots-kettles").await);
    assert!(
        html.contains(r#"<nav aria-label="Breadcrumb" class="breadcrumbs">"#),
        "{html}"
    );
    assert!(html.contains(r#"<a href="/c/kitchen">Kitchen</a>"#));
    assert!(html.contains(r#"<span aria-current="page">Teapots &amp; kettles</span>"#));
    assert!(html.contains(r#"<h1 class="shelf-title">Teapots &amp; kettles</h1>"#));
    assert!(
        html.contains(r#"action="/c/teapots-kettles""#),
        "the form searches here"
    );
    assert_eq!(html.matches("class=\"product-card\"").count(), 3);
    // Unknown shelves are a 404, as a page and to the API.
    let res = client
        .get(app.url("/c/no-such-shelf"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = app
        .post(&client, "/api/list_products", &[("shelf", "no-such-shelf")])
        .await;
    assert_eq!(res.status(), 404);
    // A product's page says where it is shelved; lists leave that out of their JSON.
    let kettle = plain(&get_html(&client, &app, "/products/copper-kettle").await);
    assert!(
        kettle.contains(r#"<a href="/c/kitchen">Kitchen</a> / <a href="/c/teapots-kettles">Teapots &amp; kettles</a> / <span aria-current="page">Copper Kettle</span>"#),
        "{kettle}"
    );
    let res = app
        .post(&client, "/api/get_product", &[("slug", "copper-kettle")])
        .await;
    let one: serde_json::Value = res.json_value().await;
    assert_eq!(one["trail"][1]["slug"], "teapots-kettles");
    assert!(teapots["products"][0].get("trail").is_none());
    // The menu's departments.
    let res = client.get(app.url("/api/shelves")).send().await.unwrap();
    let shelves: serde_json::Value = res.json_value().await;
    assert_eq!(shelves[2]["shelf"]["name"], "Kitchen");
    assert_eq!(shelves[2]["categories"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn price_and_stock_filters_narrow_every_list() {
    let app = TestApp::spawn().await;
    // Kitchen between 25 and 70: carafe 29, teapot 49, board 65.
    let mid = list(
        &app,
        &[("shelf", "kitchen"), ("min", "25"), ("max", "70.00")],
    )
    .await;
    assert_eq!(
        names(&mid),
        ["Enamel Teapot", "Glass Carafe", "Oak Cutting Board"]
    );
    assert_eq!(mid["found"], serde_json::json!({"count": 3, "more": false}));
    assert_eq!(
        facets(&mid),
        [facet("Serveware", 2), facet("Teapots & kettles", 1)],
        "counted for the filter, empty categories left out"
    );
    // In stock only: the succulent (none left) goes, from the list and the counts.
    let home = list(&app, &[("shelf", "home")]).await;
    assert_eq!(home["found"]["count"], 4);
    let stocked = list(&app, &[("shelf", "home"), ("stock", "1")]).await;
    assert_eq!(stocked["found"]["count"], 3);
    assert!(!names(&stocked).contains(&"Potted Succulent".to_string()));
    assert_eq!(
        facets(&stocked),
        [facet("Lighting", 2), facet("Textiles", 1)]
    );
    // With words too; a price that is not one is no filter at all.
    let search = list(&app, &[("q", "mug"), ("max", "23")]).await;
    assert_eq!(names(&search), ["Pour-over Dripper"]);
    let ignored = list(
        &app,
        &[("shelf", "kitchen"), ("min", "lots"), ("max", "-5")],
    )
    .await;
    assert_eq!(ignored["found"]["count"], 6);
    // Without JavaScript: the filters are fields of the GET form, and their values show.
    let html = plain(&get_html(&app.raw(), &app, "/c/kitchen?min=25&max=70&stock=1").await);
    assert!(
        html.contains(r#"name="min""#) && html.contains(r#"value="25""#),
        "{html}"
    );
    assert!(html.contains(r#"name="stock" value="1""#));
    assert!(html.contains("checked"));
    assert_eq!(html.matches("class=\"product-card\"").count(), 3);
}

#[tokio::test]
async fn counts_follow_products_that_arrive_change_and_sell_out_while_people_shop() {
    let app = TestApp::spawn().await;
    let home_counts = |p: &serde_json::Value| facets(p);
    // A new lamp arrives in Lighting.
    let lighting: i64 = db::on!(app.state.db.reader(), p => sqlx::query_scalar(
        "SELECT id FROM categories WHERE slug = 'lighting'"
    ).fetch_one(p).await)
    .unwrap();
    exec_bound(
        &app,
        "INSERT INTO products (slug, name, description, price_cents, image, stock, category_id)
         VALUES ('paper-lantern', 'Paper Lantern', 'Rice paper over bamboo.', 3100, '/x.svg', 1, $1)",
        lighting,
    )
    .await;
    assert_eq!(home_counts(&list(&app, &[]).await)[1], facet("Home", 5));
    let lantern = product_id(&app, "paper-lantern").await;
    let found = list(&app, &[("q", "lantern")]).await;
    assert_eq!(names(&found), ["Paper Lantern"], "searchable at once");
    // Someone buys the only one: it is sold out, and "in stock only" counts it no more.
    let alice = app.browser();
    assert_eq!(app.login(&alice, "alice", ALICE.1).await.status(), 200);
    assert_eq!(add(&app, &alice, lantern, "1").await.status(), 200);
    let res = app.post(&alice, "/api/place_order", &ADDRESS).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let stocked = list(&app, &[("stock", "1")]).await;
    assert_eq!(home_counts(&stocked)[1], facet("Home", 3));
    assert_eq!(home_counts(&list(&app, &[]).await)[1], facet("Home", 5));
    // Renamed: found by its new name only.
    exec_bound(
        &app,
        "UPDATE products SET name = 'Rice Lamp' WHERE id = $1",
        lantern,
    )
    .await;
    assert!(names(&list(&app, &[("q", "lantern")]).await).is_empty());
    assert_eq!(
        names(&list(&app, &[("q", "rice lamp")]).await),
        ["Rice Lamp"]
    );
    // Moved to another department, then gone.
    let paper: i64 = db::on!(app.state.db.reader(), p => sqlx::query_scalar(
        "SELECT id FROM categories WHERE slug = 'paper'"
    ).fetch_one(p).await)
    .unwrap();
    db::on!(app.state.db.writer(), p => sqlx::query(
        "UPDATE products SET category_id = $1 WHERE id = $2"
    ).bind(paper).bind(lantern).execute(p).await.map(|_| ()))
    .unwrap();
    assert_eq!(
        home_counts(&list(&app, &[]).await),
        [
            facet("Desk & travel", 3),
            facet("Home", 4),
            facet("Kitchen", 6)
        ]
    );
    exec_bound(
        &app,
        "DELETE FROM order_items WHERE product_id = $1",
        lantern,
    )
    .await;
    exec_bound(&app, "DELETE FROM products WHERE id = $1", lantern).await;
    assert_eq!(
        home_counts(&list(&app, &[]).await),
        [
            facet("Desk & travel", 2),
            facet("Home", 4),
            facet("Kitchen", 6)
        ]
    );
    assert!(names(&list(&app, &[("q", "rice")]).await).is_empty());
}

#[tokio::test]
async fn search_ranks_an_exact_name_first_and_forgives_a_typo() {
    let app = TestApp::spawn().await;
    for (slug, name, description) in [
        (
            "kettle-stand",
            "Copper Kettle Stand",
            "Holds a copper kettle off the table.",
        ),
        ("kettle-cosy", "Kettle Cosy", "Keeps a copper kettle warm."),
    ] {
        db::on!(app.state.db.writer(), p => sqlx::query(
            "INSERT INTO products (slug, name, description, price_cents, image, stock)
             VALUES ($1, $2, $3, 1500, '/x.svg', 4)"
        ).bind(slug).bind(name).bind(description).execute(p).await.map(|_| ()))
        .unwrap();
    }
    // Every product with both words; the one named exactly so first, then names before
    // descriptions.
    let found = list(&app, &[("q", "Copper Kettle")]).await;
    assert_eq!(
        names(&found),
        ["Copper Kettle", "Copper Kettle Stand", "Kettle Cosy"]
    );
    assert!(found["corrected"].is_null());
    // A typo in each word: searched as the closest words the catalog holds, and said so.
    let typo = list(&app, &[("q", "coper ketle")]).await;
    assert_eq!(typo["corrected"], "copper kettle");
    assert_eq!(names(&typo)[0], "Copper Kettle");
    assert_eq!(typo["found"]["count"], 3);
    let html = plain(&get_html(&app.raw(), &app, "/?q=coper+ketle").await);
    assert!(html.contains("Showing results for"), "{html}");
    // Letters swapped count as one edit; a word nothing is close to finds nothing.
    assert_eq!(list(&app, &[("q", "tepaot")]).await["corrected"], "teapot");
    let none = list(&app, &[("q", "xylophone")]).await;
    assert!(names(&none).is_empty() && none["corrected"].is_null());
    // Each word also matches the start of a longer one ("succ" → "succulent").
    assert_eq!(
        names(&list(&app, &[("q", "succ")]).await),
        ["Potted Succulent"]
    );
    // The words matched are the page's to mark.
    let html = plain(&get_html(&app.raw(), &app, "/?q=copper").await);
    assert!(html.contains("<mark>Copper</mark> Kettle"), "{html}");
}

#[tokio::test]
async fn hostile_search_input_is_a_normal_search() {
    let app = TestApp::spawn().await;
    let long = "mug ".repeat(2560); // 10 KB
    let cases: &[(&str, &[&str])] = &[
        ("\"mug\"", &["Stoneware Mug", "Pour-over Dripper"]),
        ("mug*", &["Stoneware Mug", "Pour-over Dripper"]),
        ("name:mug", &[]),
        ("mug OR teapot", &[]),
        ("NEAR(mug teapot)", &[]),
        ("-mug", &["Stoneware Mug", "Pour-over Dripper"]),
        ("^stoneware", &["Stoneware Mug"]),
        ("stoneware & !mug | (", &["Stoneware Mug"]),
        ("mug:*", &["Stoneware Mug", "Pour-over Dripper"]),
        ("' OR 1=1 --", &[]),
        ("\0mug\0", &["Stoneware Mug", "Pour-over Dripper"]),
        ("\"", &[]),
        ("***", &[]),
        (&long, &["Stoneware Mug", "Pour-over Dripper"]),
    ];
    for (q, expected) in cases {
        let found = list(&app, &[("q", q)]).await;
        assert_eq!(names(&found), *expected, "{q:?}");
        let res = app
            .raw()
            .get(app.url("/api/suggest"))
            .query(&[("q", q)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "suggest {q:?}");
    }
}

#[tokio::test]
async fn suggestions_complete_what_is_typed() {
    let app = TestApp::spawn().await;
    let suggest = |q: &'static str| {
        let client = app.raw();
        let url = app.url("/api/suggest");
        async move {
            let res = client.get(url).query(&[("q", q)]).send().await.unwrap();
            assert_eq!(res.status(), 200);
            let v: serde_json::Value = res.json_value().await;
            v.as_array()
                .unwrap()
                .iter()
                .map(|s| s["name"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(suggest("cop").await, ["Copper Kettle"]);
    assert_eq!(suggest("Copper Ke").await, ["Copper Kettle"]);
    let co = suggest("co").await;
    assert_eq!(co.len(), 6, "at most six: {co:?}");
    assert!(suggest("").await.is_empty());
    assert!(suggest("zzzz").await.is_empty());
}
