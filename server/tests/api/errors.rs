//! Internal errors: the client gets a generic answer; the server log gets one line with
//! what failed and why (the database's own words), written where the error becomes its
//! answer, not at every `?` on the way.

use crate::common::*;

/// The lines of `log` that mention `needle`.
fn mentioning<'a>(log: &'a str, needle: &str) -> Vec<&'a str> {
    log.lines().filter(|l| l.contains(needle)).collect()
}

#[tokio::test]
async fn a_database_error_is_answered_without_detail_and_logged_once_with_its_cause() {
    let app = TestApp::spawn().await;
    let client = app.browser();
    let mug = product_id(&app, "stoneware-mug").await;
    assert_eq!(add(&app, &client, mug, "1").await.status(), 200);
    // The cart's table goes away under the running shop.
    exec(&app, "ALTER TABLE cart_items RENAME TO cart_items_gone").await;
    let mark = errors_logged();
    let res = app.post(&client, "/api/cart_count", &[]).await;
    assert_eq!(res.status(), 500);
    let body = res.text().await.unwrap();
    assert_eq!(
        body,
        r#"{"error":"internal","message":"Something went wrong on our side. Please try again."}"#
    );
    // The answer is written after the error was turned into it: its line is there now.
    let log = errors_since(mark);
    let lines = mentioning(&log, "cart_items");
    assert_eq!(lines.len(), 1, "one line for one error:\n{log}");
    assert!(lines[0].contains("database error"), "{}", lines[0]);
    exec(&app, "ALTER TABLE cart_items_gone RENAME TO cart_items").await;
}

#[tokio::test]
async fn a_failed_plain_form_is_redirected_with_a_code_and_logged_once_with_its_cause() {
    let app = TestApp::spawn().await;
    let client = app.raw();
    exec(&app, "ALTER TABLE users RENAME TO users_gone").await;
    let mark = errors_logged();
    let (name, password) = ALICE;
    let res = app
        .post_html(
            &client,
            "/api/login",
            &[("username", name), ("password", password), ("next", "/")],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let to = res.headers()["location"].to_str().unwrap().to_string();
    assert!(to.contains("error=internal"), "{to}");
    assert!(!to.contains("users"), "no detail in the address: {to}");
    let log = errors_since(mark);
    let lines = mentioning(&log, "users");
    assert_eq!(lines.len(), 1, "one line for one error:\n{log}");
    assert!(!log.contains(password), "a password in the log:\n{log}");
    exec(&app, "ALTER TABLE users_gone RENAME TO users").await;
}
