//! Security headers and hostile input over HTTP.

mod common;

use common::*;

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

#[tokio::test]
async fn over_https_browsers_are_told_to_stay_on_https() {
    let app = TestApp::spawn_with(|c| c.sessions.secure = true).await;
    let res = app.raw().get(app.url("/")).send().await.unwrap();
    assert_eq!(
        header(&res, "strict-transport-security"),
        "max-age=63072000; includeSubDomains"
    );
}
