//! `server import`: products from CSV or JSON lines into either backend, in batches,
//! idempotent by slug; bad rows refused with their line numbers, the rest loaded.

use server::import::{import, Format, Summary};

use crate::common::*;

async fn product_count(app: &TestApp) -> i64 {
    db::on!(app.state.db.reader(), p => sqlx::query_scalar("SELECT COUNT(*) FROM products")
        .fetch_one(p)
        .await)
    .unwrap()
}

async fn run(app: &TestApp, text: &str, format: Format) -> Summary {
    import(&app.state.db, text.as_bytes(), format, |_| {})
        .await
        .expect("import")
}

fn widgets(n: usize, price: i64) -> String {
    (0..n)
        .map(|i| {
            serde_json::json!({
                "slug": format!("widget-{i:05}"),
                "name": format!("Widget {i:05}"),
                "description": "A widget.",
                "price_cents": price,
                "stock": 3,
            })
            .to_string()
                + "\n"
        })
        .collect()
}

#[tokio::test]
async fn json_lines_load_in_batches_and_a_second_run_changes_nothing_twice() {
    let app = TestApp::spawn().await;
    let before = product_count(&app).await;
    let text = widgets(2_500, 700); // three batches of at most 1000
    let first = run(&app, &text, Format::JsonLines).await;
    assert_eq!(
        (first.rows, first.added, first.updated, first.refused),
        (2_500, 2_500, 0, 0)
    );
    assert_eq!(product_count(&app).await, before + 2_500);
    // Again, with a new price: the same products, updated, none added.
    let again = run(&app, &widgets(2_500, 900), Format::JsonLines).await;
    assert_eq!((again.added, again.updated), (0, 2_500));
    assert_eq!(product_count(&app).await, before + 2_500);
    let res = app
        .post(&app.raw(), "/api/list_products", &[("q", "widget 02499")])
        .await;
    let page = res.json_value().await;
    assert_eq!(page["products"][0]["price_cents"], 900, "{page}");
    assert_eq!(
        page["products"][0]["image"],
        server::import::PLACEHOLDER_IMAGE
    );
}

#[tokio::test]
async fn bad_rows_are_refused_with_their_line_and_the_rest_is_loaded() {
    let app = TestApp::spawn().await;
    let before = product_count(&app).await;
    let lines = [
        r#"{"slug":"good-one","name":"Good One","price_cents":100}"#,
        r#"{"slug":"Bad Slug","name":"x","price_cents":100}"#,
        "",
        r#"{"slug":"no-price","name":"No Price"}"#,
        "not json at all",
        r#"{"slug":"negative","name":"Negative","price_cents":-5}"#,
        r#"{"slug":"nul","name":"A\u0000B","price_cents":5}"#,
        &format!(
            r#"{{"slug":"long","name":"{}","price_cents":5}}"#,
            "n".repeat(10_000)
        ),
        r#"{"slug":"bad-image","name":"Bad image","price_cents":5,"image":"javascript:alert(1)"}"#,
        r#"{"slug":"good-two","name":"Good Two","price_cents":200,"stock":4,"image":"/images/logo.svg"}"#,
    ];
    let summary = run(&app, &lines.join("\n"), Format::JsonLines).await;
    assert_eq!(summary.rows, 9, "the blank line is no row");
    assert_eq!((summary.added, summary.refused), (2, 7), "{summary}");
    let refused: Vec<u64> = summary.first_refusals.iter().map(|(l, _)| *l).collect();
    assert_eq!(refused, vec![2, 4, 5, 6, 7, 8, 9], "{summary}");
    assert!(summary.first_refusals[0].1.contains("slug"), "{summary}");
    assert!(
        summary.first_refusals[1].1.contains("price_cents"),
        "{summary}"
    );
    assert_eq!(product_count(&app).await, before + 2);
}

#[tokio::test]
async fn csv_with_a_header_quotes_and_broken_rows() {
    let app = TestApp::spawn().await;
    let before = product_count(&app).await;
    let text = "slug,name,description,price_cents,stock\n\
                oak-spoon,Oak spoon,\"Carved, oiled, \"\"food safe\"\"\",1200,9\n\
                short-row,Short row\n\
                bad-price,Bad price,,twelve,1\n\
                \"multi-line\",\"Multi\nline name\",,100,1\n\
                birch-bowl,Birch bowl,A bowl.,3400,2\n";
    let summary = run(&app, text, Format::Csv).await;
    assert_eq!(
        (summary.rows, summary.added, summary.refused),
        (5, 2, 3),
        "{summary}"
    );
    let refused: Vec<u64> = summary.first_refusals.iter().map(|(l, _)| *l).collect();
    assert_eq!(refused, vec![3, 4, 5], "{summary}");
    assert_eq!(product_count(&app).await, before + 2);
    let page = app
        .post(&app.raw(), "/api/list_products", &[("q", "oak spoon")])
        .await
        .json_value()
        .await;
    assert_eq!(
        page["products"][0]["description"],
        "Carved, oiled, \"food safe\""
    );
}

#[tokio::test]
async fn the_command_loads_a_file_and_says_what_it_did() {
    let dir = tempfile::tempdir().unwrap();
    let url = db::testing::fresh_url(&dir.path().join("shop.db")).await;
    let file = dir.path().join("products.jsonl");
    let mut text = widgets(1_200, 500);
    text.push_str("{\"slug\":\"x\"}\n");
    std::fs::write(&file, text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("import")
        .arg(&file)
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "error")
        .output()
        .expect("run server import");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "some rows refused: {stderr}");
    assert!(
        stderr.contains("1201 rows: 1200 products added, 0 updated, 1 refused"),
        "{stderr}"
    );
    assert!(stderr.contains("line 1201: not a product"), "{stderr}");
    // A file of another kind is refused before anything is read.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["import", "products.xml"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("expected a .csv, .jsonl or .ndjson file")
    );
}

#[tokio::test]
async fn departments_and_categories_come_with_the_products() {
    let app = TestApp::spawn().await;
    let text = [
        r#"{"slug":"tin-cup","name":"Tin Cup","price_cents":900,"stock":2,"department":"Kitchen","category":"Mugs & cups"}"#,
        r#"{"slug":"camp-stove","name":"Camp Stove","price_cents":4900,"stock":1,"department":"Outdoors","category":"Cooking"}"#,
        r#"{"slug":"camp-pot","name":"Camp Pot","price_cents":2900,"department":"Outdoors","category":"Cooking"}"#,
        r#"{"slug":"lone-dept","name":"Lone","price_cents":100,"department":"Outdoors"}"#,
        r#"{"slug":"lone-cat","name":"Lone","price_cents":100,"category":"Cooking"}"#,
        r#"{"slug":"blank","name":"Blank","price_cents":100,"department":"Outdoors","category":"&&"}"#,
        // "Cooking" under another department: a category of its own, its slug prefixed.
        r#"{"slug":"wok","name":"Wok","price_cents":3900,"department":"Kitchen","category":"Cooking"}"#,
    ]
    .join("\n");
    let summary = run(&app, &text, Format::JsonLines).await;
    assert_eq!((summary.added, summary.refused), (4, 3), "{summary}");
    let lines: Vec<u64> = summary.first_refusals.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, [4, 5, 6]);
    assert!(summary.first_refusals[0]
        .1
        .contains("department without a category"));
    // Into the existing "Mugs & cups" (by name), and a new department with its category.
    let list = |shelf: &'static str| {
        let app = &app;
        async move {
            let res = app
                .post(&app.raw(), "/api/list_products", &[("shelf", shelf)])
                .await;
            assert_eq!(res.status(), 200, "{shelf}");
            res.json_value().await
        }
    };
    assert_eq!(list("mugs-cups").await["found"]["count"], 2);
    let outdoors = list("outdoors").await;
    assert_eq!(outdoors["found"]["count"], 2);
    assert_eq!(outdoors["facets"][0]["shelf"]["slug"], "cooking");
    assert_eq!(list("kitchen-cooking").await["found"]["count"], 1);
    // Imported again without a category, a product keeps its own; with one, it moves.
    let again = [
        r#"{"slug":"camp-pot","name":"Camp Pot","price_cents":2900}"#,
        r#"{"slug":"tin-cup","name":"Tin Cup","price_cents":900,"department":"Outdoors","category":"Cooking"}"#,
    ]
    .join("\n");
    run(&app, &again, Format::JsonLines).await;
    assert_eq!(list("outdoors").await["found"]["count"], 3);
    assert_eq!(list("mugs-cups").await["found"]["count"], 1);
}
