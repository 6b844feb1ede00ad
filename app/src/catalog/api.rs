use crate::error::AppError;
use leptos::prelude::*;

use super::model::*;

/// `POST /api/list_products` — optional `q` (matches product names, case-insensitive),
/// `sort` (`name`, `price_asc`, `price_desc`) and a cursor: `after` (the id a page's
/// `next` gave: the page after it) or `before` (a page's `prev`: the page before it).
/// Answers one page of at most 24 products with its `next` and `prev` (`null` at either
/// end). A cursor that names no product gives the first page.
#[server(prefix = "/api", endpoint = "list_products", output = crate::codec::Json)]
pub async fn list_products(
    q: Option<String>,
    sort: Option<String>,
    after: Option<i64>,
    before: Option<i64>,
) -> Result<ProductPage, AppError> {
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
    let cursor = match (after, before) {
        (Some(id), _) => Some(Cursor::After(id)),
        (None, Some(id)) => Some(Cursor::Before(id)),
        (None, None) => None,
    };
    super::server::search_page(&db, &q, sort, cursor, PAGE_SIZE)
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
