//! Catalog queries (ssr only).

use db::{on, Db};

use super::model::{Cursor, Product, ProductPage, Sort};

const COLUMNS: &str = "id, slug, name, description, price_cents, image, stock";

/// The order of `sort` as a tuple of ascending SQL expressions ending in the unique id,
/// each with an index of its own (migration `catalog_keys`). "Price, high to low" is
/// the order of `-price_cents`, so one row comparison serves every order.
fn key_of(sort: Sort) -> &'static str {
    match sort {
        Sort::Name => "lower(name), id",
        Sort::PriceUp => "price_cents, lower(name), id",
        Sort::PriceDown => "(-price_cents), lower(name), id",
    }
}

/// Where the cursor row sits in an order: its key's values.
enum KeyValue {
    Name(String, i64),
    Price(i64, String, i64),
}

/// The cursor row's key in `sort`'s order; `None` if it names no product.
async fn key_at(db: &Db, sort: Sort, id: i64) -> Result<Option<KeyValue>, sqlx::Error> {
    let row: Option<(i64, String)> = on!(db.reader(), p => {
        sqlx::query_as("SELECT price_cents, lower(name) FROM products WHERE id = $1")
            .bind(id)
            .fetch_optional(p)
            .await
    })?;
    Ok(row.map(|(price, name)| match sort {
        Sort::Name => KeyValue::Name(name, id),
        Sort::PriceUp => KeyValue::Price(price, name, id),
        Sort::PriceDown => KeyValue::Price(-price, name, id),
    }))
}

/// One page of the products whose name contains `q` (case-insensitive; `%` and `_`
/// match themselves; an empty `q` lists everything), in the order of `sort`, starting
/// at `cursor` (the first page without one). Keyset pagination: the page is one range
/// of the order's index, from the cursor row's key (a row comparison), so a page deep
/// in the list costs what the first costs. A cursor that names no product starts from
/// the beginning. `lower()` on both sides makes the match and the order
/// case-insensitive on both backends.
pub async fn search_page(
    db: &Db,
    q: &str,
    sort: Sort,
    cursor: Option<Cursor>,
    size: usize,
) -> Result<ProductPage, sqlx::Error> {
    let pattern = format!(
        "%{}%",
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let at = match cursor {
        Some(c) => key_at(db, sort, cursor_id(c)).await?.map(|key| (c, key)),
        None => None,
    };
    let forwards = !matches!(at, Some((Cursor::Before(_), _)));
    let key = key_of(sort);
    let mut conditions = Vec::new();
    if !q.is_empty() {
        conditions.push("lower(name) LIKE lower($1) ESCAPE '\\'".to_string());
    }
    let (op, dir) = if forwards {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    // The bound on the first column alone is implied by the row comparison, but it is
    // what lets SQLite start the index range there (a row comparison over an expression
    // index alone is a scan from the start: 6 ms instead of 0.01 ms at 100,000 rows).
    let first = key.split(", ").next().unwrap_or("id");
    match &at {
        Some((_, KeyValue::Name(..))) => {
            conditions.push(format!("{first} {op}= $3 AND ({key}) {op} ($3, $4)"))
        }
        Some((_, KeyValue::Price(..))) => {
            conditions.push(format!("{first} {op}= $2 AND ({key}) {op} ($2, $3, $4)"))
        }
        None => {}
    }
    let filter = match conditions.is_empty() {
        true => String::new(),
        false => format!("WHERE {}", conditions.join(" AND ")),
    };
    let order = key
        .split(", ")
        .map(|k| format!("{k} {dir}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!("SELECT {COLUMNS} FROM products {filter} ORDER BY {order} LIMIT $5");
    let (price, name, id) = match &at {
        Some((_, KeyValue::Name(name, id))) => (0, name.clone(), *id),
        Some((_, KeyValue::Price(price, name, id))) => (*price, name.clone(), *id),
        None => (0, String::new(), 0),
    };
    let limit = size as i64 + 1;
    let mut rows = on!(db.reader(), p => {
        sqlx::query_as::<_, Product>(&sql)
            .bind(&pattern)
            .bind(price)
            .bind(&name)
            .bind(id)
            .bind(limit)
            .fetch_all(p)
            .await
    })?;
    let more = rows.len() > size;
    if !forwards && !more {
        // Back at the start: the first page, full, as a visitor would see it.
        return Box::pin(search_page(db, q, sort, None, size)).await;
    }
    rows.truncate(size);
    if !forwards {
        rows.reverse();
    }
    let first = rows.first().map(|p| p.id);
    let last = rows.last().map(|p| p.id);
    // Forwards, the page after exists if one more row was found, the one before if this
    // page started after a cursor; backwards the other way round.
    let (has_next, has_prev) = match at {
        None => (more, false),
        Some((Cursor::After(_), _)) => (more, true),
        Some((Cursor::Before(_), _)) => (true, more),
    };
    Ok(ProductPage {
        next: if has_next { last } else { None },
        prev: if has_prev { first } else { None },
        products: rows,
    })
}

fn cursor_id(c: Cursor) -> i64 {
    match c {
        Cursor::After(id) | Cursor::Before(id) => id,
    }
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
