//! The catalog's client-visible types: a product, the sort orders, the search bound.
//! Shared by the browser and the server: no SQL, no server functions here.

use serde::{Deserialize, Serialize};

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

/// One page of a product list, and where the pages beside it begin: `next` is the id
/// of this page's last product (the next page starts after it), `prev` the id of its
/// first (the previous page ends before it); `None` where there is no such page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ProductPage {
    pub products: Vec<Product>,
    pub next: Option<i64>,
    pub prev: Option<i64>,
}

/// Where a page of a list starts: after a product (forwards) or before one (backwards),
/// in the list's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    After(i64),
    Before(i64),
}

/// Products on one page of a list.
pub const PAGE_SIZE: usize = 24;

/// Longest search text considered (longer input is cut, not refused: it is a search box).
pub const MAX_QUERY_CHARS: usize = 100;
