//! Catalog queries (ssr only).

use db::{on, Db};

use super::model::{Product, Sort};

const COLUMNS: &str = "id, slug, name, description, price_cents, image, stock";

/// Products whose name contains `q` (case-insensitive; `%` and `_` match themselves),
/// in the chosen order. An empty `q` lists everything. `lower()` on both sides makes the
/// match and the order case-insensitive on both backends (names and queries are compared
/// as SQLite's NOCASE does: ASCII letters only).
pub async fn search_products(db: &Db, q: &str, sort: Sort) -> Result<Vec<Product>, sqlx::Error> {
    let order = match sort {
        Sort::Name => "lower(name), id",
        Sort::PriceUp => "price_cents, lower(name), id",
        Sort::PriceDown => "price_cents DESC, lower(name), id",
    };
    let pattern = format!(
        "%{}%",
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    on!(db.reader(), p => {
        sqlx::query_as::<_, Product>(&format!(
            "SELECT {COLUMNS} FROM products
              WHERE lower(name) LIKE lower($1) ESCAPE '\\' ORDER BY {order}"
        ))
        .bind(&pattern)
        .fetch_all(p)
        .await
    })
}

/// The product with this slug, if any.
pub async fn product_by_slug(db: &Db, slug: &str) -> Result<Option<Product>, sqlx::Error> {
    // No slug holds control characters (PostgreSQL refuses text with NUL bytes outright).
    if slug.is_empty() || slug.len() > 100 || slug.chars().any(char::is_control) {
        return Ok(None);
    }
    on!(db.reader(), p => {
        sqlx::query_as::<_, Product>(&format!("SELECT {COLUMNS} FROM products WHERE slug = $1"))
            .bind(slug)
            .fetch_optional(p)
            .await
    })
}
