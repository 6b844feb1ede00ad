//! `/pkg`: the wasm, JavaScript and CSS that cargo-leptos builds.
//!
//! A release build made with `--precompress` leaves `.br` and `.gz` copies next to each
//! file; they are sent as they are to a browser that accepts them, so no request pays for
//! compression. With `hash-files` (on in `Cargo.toml`) every name carries a hash of the
//! content, so a new build means new URLs and the files can be cached for a year without
//! ever being revalidated. Without hashed names (a build without `LEPTOS_HASH_FILES`) the
//! browser must revalidate each time, or it would run an old wasm against a new server.

use std::path::PathBuf;

use axum::http::{header, HeaderValue};
use leptos::config::LeptosOptions;
use tower::Layer;
use tower_http::services::ServeDir;
use tower_http::set_header::{SetResponseHeader, SetResponseHeaderLayer};

/// Cache policy for files whose name changes with their content.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Cache policy for files that keep their name across builds.
pub const REVALIDATE: &str = "no-cache";

/// The URL prefix of the built files, e.g. `/pkg`.
pub fn prefix(options: &LeptosOptions) -> String {
    format!("/{}", options.site_pkg_dir.trim_matches('/'))
}

/// What [`pkg_service`] returns.
pub type PkgService = SetResponseHeader<SetResponseHeader<ServeDir, HeaderValue>, HeaderValue>;

/// The service for [`prefix`]: precompressed when possible, cached according to whether
/// the names are hashed. An unknown file is a plain 404.
pub fn pkg_service(options: &LeptosOptions) -> PkgService {
    let dir = PathBuf::from(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let files = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false);
    let policy = if options.hash_files {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let files =
        SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static(policy))
            .layer(files);
    // The same URL has up to three bodies: a shared cache must keep them apart.
    SetResponseHeaderLayer::if_not_present(
        header::VARY,
        HeaderValue::from_static("accept-encoding"),
    )
    .layer(files)
}

/// With hashed names on, the page needs `hash.txt` (written by the build beside the
/// binary) to name the files; without it every page would fail. And the lazy routes
/// (`app/src/pages/mod.rs`) load only from a build made with `--split` (its `hash.txt`
/// names the split loader); without it their pages would be dead in the browser.
/// Checked at start-up so the server refuses to start with one clear line instead.
pub fn check_hash_file(options: &LeptosOptions) -> Result<(), String> {
    if !options.hash_files {
        return Ok(());
    }
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot locate the server binary: {e}"))?;
    let path = exe
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join(options.hash_file.as_ref());
    let Ok(names) = std::fs::read_to_string(&path) else {
        return Err(format!(
            "LEPTOS_HASH_FILES is on but {} is missing: build the site with `cargo leptos build \
             --split` (it writes that file), or set LEPTOS_HASH_FILES=false",
            path.display()
        ));
    };
    if !names.lines().any(|l| l.starts_with("split:")) {
        return Err(
            "the site was built without --split, so its lazy pages (cart, billing, orders, \
             account, register) cannot load in the browser: build it with `cargo leptos \
             build --split` (or `cargo leptos watch --split`)"
                .to_string(),
        );
    }
    Ok(())
}
