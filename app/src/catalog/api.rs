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

/// How the catalog is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Name,
    PriceUp,
    PriceDown,
}

impl Sort {
    pub const ALL: [Sort; 3] = [Sort::Name, Sort::PriceUp, Sort::PriceDown];

    /// The `sort` query value. Unknown values fall back to the default.
    pub fn parse(value: Option<&str>) -> Sort {
        match value {
            Some("price_asc") => Sort::PriceUp,
            Some("price_desc") => Sort::PriceDown,
            _ => Sort::Name,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Name => "name",
            Sort::PriceUp => "price_asc",
            Sort::PriceDown => "price_desc",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Sort::Name => "Name",
            Sort::PriceUp => "Price: low to high",
            Sort::PriceDown => "Price: high to low",
        }
    }
}

/// Longest search text considered (longer input is cut, not refused: it is a search box).
pub const MAX_QUERY_CHARS: usize = 100;

/// `POST /api/list_products` — optional `q` (matches product names, case-insensitive)
/// and `sort` (`name`, `price_asc`, `price_desc`).
#[server(prefix = "/api", endpoint = "list_products")]
pub async fn list_products(
    q: Option<String>,
    sort: Option<String>,
) -> Result<Vec<Product>, AppError> {
    let pool = crate::state::pool()?;
    let q: String = q
        .unwrap_or_default()
        .trim()
        .chars()
        .take(MAX_QUERY_CHARS)
        .collect();
    let sort = Sort::parse(sort.as_deref());
    crate::error::respond(
        super::server::search_products(&pool, &q, sort)
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
