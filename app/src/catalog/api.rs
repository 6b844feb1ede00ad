use crate::error::AppError;
use leptos::prelude::*;

use super::model::*;

/// `POST /api/list_products` — optional `q` (matches product names, case-insensitive)
/// and `sort` (`name`, `price_asc`, `price_desc`).
#[server(prefix = "/api", endpoint = "list_products", output = crate::codec::Json)]
pub async fn list_products(
    q: Option<String>,
    sort: Option<String>,
) -> Result<Vec<Product>, AppError> {
    let db = crate::state::db()?;
    // Control characters cannot be part of a product name: dropped, not refused (it is
    // a search box).
    let q: String = q
        .unwrap_or_default()
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_QUERY_CHARS)
        .collect();
    let sort = Sort::parse(sort.as_deref());
    super::server::search_products(&db, &q, sort)
        .await
        .map_err(AppError::from)
}

/// `POST /api/get_product` (field `slug`) — one product; 404 when the slug is unknown.
#[server(prefix = "/api", endpoint = "get_product", output = crate::codec::Json)]
pub async fn get_product(slug: String) -> Result<Product, AppError> {
    let db = crate::state::db()?;
    let found = super::server::product_by_slug(&db, &slug).await;
    match found {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(AppError::NotFound),
        Err(e) => Err(e.into()),
    }
}
