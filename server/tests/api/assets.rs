//! The built files under `/pkg`: precompressed copies chosen by `Accept-Encoding`, cache
//! policy by whether names are hashed, no session work, no directory listings.

use std::path::Path;

use crate::common::TestApp;
use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, SET_COOKIE};

const WASM: &[u8] = b"\0asm\x01\0\0\0 the real bytes";
const WASM_BR: &[u8] = b"brotli bytes of the wasm";
const WASM_GZ: &[u8] = b"gzip bytes of the wasm";
const JS: &str = "export default function init() {}";

/// A site root with a hashed build: the wasm with both compressed copies, the JS with none.
fn site(root: &Path) {
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("shop.0a1b2c.wasm"), WASM).unwrap();
    std::fs::write(pkg.join("shop.0a1b2c.wasm.br"), WASM_BR).unwrap();
    std::fs::write(pkg.join("shop.0a1b2c.wasm.gz"), WASM_GZ).unwrap();
    std::fs::write(pkg.join("shop.0a1b2c.js"), JS).unwrap();
}

async fn spawn_site(root: &Path, hashed: bool) -> TestApp {
    let root = root.to_str().unwrap().to_string();
    TestApp::spawn_custom(
        |_| {},
        move |o| {
            o.site_root = root.into();
            o.hash_files = hashed;
        },
    )
    .await
}

#[tokio::test]
async fn built_files_are_sent_precompressed_and_cached_for_good() {
    let dir = tempfile::tempdir().unwrap();
    site(dir.path());
    let app = spawn_site(dir.path(), true).await;
    let client = app.raw();
    let url = app.url("/pkg/shop.0a1b2c.wasm");

    for (accept, encoding, body) in [
        ("gzip, deflate, br, zstd", Some("br"), WASM_BR),
        ("gzip", Some("gzip"), WASM_GZ),
        ("identity", None, WASM),
    ] {
        let res = client
            .get(&url)
            .header(ACCEPT_ENCODING, accept)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{accept}");
        let headers = res.headers().clone();
        assert_eq!(
            headers.get(CONTENT_ENCODING).map(|v| v.to_str().unwrap()),
            encoding,
            "{accept}"
        );
        assert_eq!(headers[CONTENT_TYPE], "application/wasm", "{accept}");
        assert_eq!(
            headers[CACHE_CONTROL], "public, max-age=31536000, immutable",
            "{accept}"
        );
        assert!(
            headers.get_all("vary").iter().any(|v| v
                .to_str()
                .unwrap()
                .to_ascii_lowercase()
                .contains("accept-encoding")),
            "a cache must keep the encodings apart: {headers:?}"
        );
        assert!(headers.get(SET_COOKIE).is_none(), "no session for a file");
        assert_eq!(res.bytes().await.unwrap(), body, "{accept}");
    }

    // A file without precompressed copies is still served (compressed on the fly).
    let res = client
        .get(app.url("/pkg/shop.0a1b2c.js"))
        .header(ACCEPT_ENCODING, "identity")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), JS);

    // Unknown files and the directory itself are plain 404s: no listing, no page.
    for path in [
        "/pkg/shop.ffffff.wasm",
        "/pkg/",
        "/pkg/shop.0a1b2c.wasm.br/x",
    ] {
        let res = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
    // Climbing out of the directory (sent raw: an HTTP client would tidy the path).
    std::fs::write(dir.path().join("secret.txt"), "outside pkg").unwrap();
    for path in [
        "/pkg/../secret.txt",
        "/pkg/%2e%2e/secret.txt",
        "/pkg/..%2fsecret.txt",
    ] {
        let status = raw_get_status(&app, path).await;
        assert_eq!(status, "404", "{path}");
    }
    assert_eq!(app.session_count().await, 0);
}

#[tokio::test]
async fn unhashed_names_must_be_revalidated() {
    let dir = tempfile::tempdir().unwrap();
    site(dir.path());
    let app = spawn_site(dir.path(), false).await;
    let res = app
        .raw()
        .get(app.url("/pkg/shop.0a1b2c.wasm"))
        .header(ACCEPT_ENCODING, "br")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[CACHE_CONTROL], "no-cache");
    assert_eq!(res.headers()[CONTENT_ENCODING], "br");
}

/// The status code of a GET for `path` exactly as written.
async fn raw_get_status(app: &TestApp, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tcp.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response);
    assert!(!text.contains("outside pkg"), "{path} escaped: {text}");
    text.split(' ').nth(1).unwrap_or_default().to_string()
}
