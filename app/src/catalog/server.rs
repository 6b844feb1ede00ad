//! Catalog queries (ssr only).

use sqlx::SqlitePool;

use super::{Product, Sort};

const COLUMNS: &str = "id, slug, name, description, price_cents, image, stock";

/// Products whose name contains `q` (case-insensitive; `%` and `_` match themselves),
/// in the chosen order. An empty `q` lists everything.
pub async fn search_products(
    pool: &SqlitePool,
    q: &str,
    sort: Sort,
) -> Result<Vec<Product>, sqlx::Error> {
    let order = match sort {
        Sort::Name => "name COLLATE NOCASE",
        Sort::PriceUp => "price_cents, name COLLATE NOCASE",
        Sort::PriceDown => "price_cents DESC, name COLLATE NOCASE",
    };
    let pattern = format!(
        "%{}%",
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    sqlx::query_as::<_, Product>(&format!(
        "SELECT {COLUMNS} FROM products WHERE name LIKE ? ESCAPE '\\' ORDER BY {order}"
    ))
    .bind(pattern)
    .fetch_all(pool)
    .await
}

/// The product with this slug, if any.
pub async fn product_by_slug(
    pool: &SqlitePool,
    slug: &str,
) -> Result<Option<Product>, sqlx::Error> {
    sqlx::query_as::<_, Product>(&format!("SELECT {COLUMNS} FROM products WHERE slug = ?"))
        .bind(slug)
        .fetch_optional(pool)
        .await
}
