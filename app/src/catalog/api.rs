// `list_products` takes each of its form fields as an argument (a server function's
// fields are its arguments), and a list has eight.
#![allow(clippy::too_many_arguments)]

use crate::error::AppError;
use leptos::prelude::*;

use super::model::*;

/// `POST /api/list_products` — one page of at most 24 products, with its `next` and
/// `prev` (`null` at either end), its breadcrumbs (`trail`), `facets`, `found` and, when
/// the words matched nothing, the words searched instead (`corrected`). All fields are
/// optional:
/// - `q`: search words (names and descriptions, every word, each also as the start of a
///   longer one; anything but letters and digits only separates words);
/// - `sort`: `best` (relevance; by name without words), `name`, `price_asc`, `price_desc`;
/// - `shelf`: a department's or category's slug (404 if there is none);
/// - `min`, `max`: a price range in the currency ("12.50"; anything else is ignored);
///   `stock`: `1` for products in stock only;
/// - `after` (a page's `next`: the page after it) or `before` (a `prev`: the page
///   before). A cursor that names no product of the list gives the first page.
#[server(prefix = "/api", endpoint = "list_products", output = crate::codec::Json)]
pub async fn list_products(
    q: Option<String>,
    sort: Option<String>,
    shelf: Option<String>,
    min: Option<String>,
    max: Option<String>,
    stock: Option<String>,
    after: Option<i64>,
    before: Option<i64>,
) -> Result<ProductPage, AppError> {
    let db = crate::state::db()?;
    let q = search_text(q);
    let filters = Filters {
        min_cents: min.as_deref().and_then(parse_price),
        max_cents: max.as_deref().and_then(parse_price),
        in_stock: stock.as_deref() == Some("1"),
    };
    let cursor = match (after, before) {
        (Some(id), _) => Some(Cursor::After(id)),
        (None, Some(id)) => Some(Cursor::Before(id)),
        (None, None) => None,
    };
    let listing = super::server::Listing {
        q: &q,
        sort: Sort::parse(sort.as_deref()),
        shelf: shelf.as_deref().filter(|s| !s.is_empty()),
        filters,
        cursor,
        size: PAGE_SIZE,
    };
    match super::server::list(&db, &listing).await {
        Ok(Some(page)) => Ok(page),
        Ok(None) => Err(AppError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// `GET /api/suggest?q=…` — up to 6 products whose names match what is typed so far
/// (`[{slug, name}]`, best first; none for fewer than one letter or digit).
#[server(prefix = "/api", endpoint = "suggest", input = server_fn::codec::GetUrl, output = crate::codec::Json)]
pub async fn suggest(q: Option<String>) -> Result<Vec<Suggestion>, AppError> {
    let db = crate::state::db()?;
    let q = search_text(q);
    super::server::suggest(&db, &q)
        .await
        .map_err(AppError::from)
}

/// A search box's text as searched: control characters dropped (they cannot be part of
/// a product's text), at most [`MAX_QUERY_CHARS`] characters (longer input is cut, not
/// refused: it is a search box).
#[cfg(feature = "ssr")]
fn search_text(q: Option<String>) -> String {
    q.unwrap_or_default()
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_QUERY_CHARS)
        .collect()
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

/// `GET /api/shelves` — the departments, each with its categories (for the menu).
#[server(prefix = "/api", endpoint = "shelves", input = server_fn::codec::GetUrl, output = crate::codec::Json)]
pub async fn shelves() -> Result<Vec<Department>, AppError> {
    let db = crate::state::db()?;
    let all = super::server::categories(&db).await?;
    Ok(all
        .iter()
        .filter(|d| d.parent_id.is_none())
        .map(|d| Department {
            shelf: Shelf {
                slug: d.slug.clone(),
                name: d.name.clone(),
            },
            categories: all
                .iter()
                .filter(|c| c.parent_id == Some(d.id))
                .map(|c| Shelf {
                    slug: c.slug.clone(),
                    name: c.name.clone(),
                })
                .collect(),
        })
        .collect())
}
