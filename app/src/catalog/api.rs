use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A product as shown to shoppers. Prices are integer cents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Product {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub price_cents: i64,
    pub image: String,
    pub stock: i64,
}

/// `POST /api/list_products` — the whole catalog, ordered by name.
#[server(prefix = "/api", endpoint = "list_products")]
pub async fn list_products() -> Result<Vec<Product>, AppError> {
    let pool = crate::state::pool()?;
    crate::error::respond(
        super::server::all_products(&pool)
            .await
            .map_err(AppError::from),
    )
}

/// `POST /api/get_product` (field `slug`) — one product; 404 when the slug is unknown.
#[server(prefix = "/api", endpoint = "get_product")]
pub async fn get_product(slug: String) -> Result<Product, AppError> {
    let pool = crate::state::pool()?;
    let found = super::server::product_by_slug(&pool, &slug).await;
    crate::error::respond(match found {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(AppError::NotFound),
        Err(e) => Err(e.into()),
    })
}
