//! Catalog queries (ssr only).

use sqlx::SqlitePool;

use super::Product;

const COLUMNS: &str = "id, slug, name, description, price_cents, image, stock";

/// Every product, alphabetically.
pub async fn all_products(pool: &SqlitePool) -> Result<Vec<Product>, sqlx::Error> {
    sqlx::query_as::<_, Product>(&format!(
        "SELECT {COLUMNS} FROM products ORDER BY name COLLATE NOCASE"
    ))
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
