//! Catalog queries (ssr only).

use db::{on, Db};

use super::model::{Cursor, Product, ProductPage, Sort};

const COLUMNS: &str = "id, slug, name, description, price_cents, image, stock";

/// One column of a list's order: its SQL expression and whether it ascends.
struct Key {
    expr: &'static str,
    ascending: bool,
}

/// The order of `sort`, a unique key: it always ends in the id. Each order has an index
/// of its own (migration `catalog_keys`).
fn order_of(sort: Sort) -> &'static [Key] {
    const NAME: Key = Key {
        expr: "lower(name)",
        ascending: true,
    };
    const ID: Key = Key {
        expr: "id",
        ascending: true,
    };
    match sort {
        Sort::Name => &[NAME, ID],
        Sort::PriceUp => &[
            Key {
                expr: "price_cents",
                ascending: true,
            },
            NAME,
            ID,
        ],
        Sort::PriceDown => &[
            Key {
                expr: "price_cents",
                ascending: false,
            },
            NAME,
            ID,
        ],
    }
}

/// The rows after the cursor row in `order` (`forwards`), or before it, as SQL: the
/// expansion of a row comparison that allows mixed directions,
/// `(a > $a) OR (a = $a AND b > $b) OR …`. The cursor row's values are read by a
/// subquery on its id (`$2`), so the cursor is only an id.
fn keyset(order: &[Key], forwards: bool) -> String {
    let value = |k: &Key| format!("(SELECT {} FROM products WHERE id = $2)", k.expr);
    let mut terms = Vec::new();
    for (i, key) in order.iter().enumerate() {
        let mut parts: Vec<String> = order[..i]
            .iter()
            .map(|k| format!("{} = {}", k.expr, value(k)))
            .collect();
        let op = if key.ascending == forwards { ">" } else { "<" };
        parts.push(format!("{} {op} {}", key.expr, value(key)));
        terms.push(format!("({})", parts.join(" AND ")));
    }
    format!("({})", terms.join(" OR "))
}

fn order_by(order: &[Key], forwards: bool) -> String {
    order
        .iter()
        .map(|k| {
            let dir = if k.ascending == forwards {
                "ASC"
            } else {
                "DESC"
            };
            format!("{} {dir}", k.expr)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One page of the products whose name contains `q` (case-insensitive; `%` and `_`
/// match themselves; an empty `q` lists everything), in the order of `sort`, starting
/// at `cursor` (the first page without one). Keyset pagination: the page is read from
/// where the cursor row sits in the order's index, so page 500 costs what page 1 costs.
/// A cursor that names no product starts from the beginning. `lower()` on both sides
/// makes the match and the order case-insensitive on both backends.
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
    let cursor = match cursor {
        Some(c) if exists(db, cursor_id(c)).await? => Some(c),
        _ => None,
    };
    let order = order_of(sort);
    let forwards = !matches!(cursor, Some(Cursor::Before(_)));
    let after = match cursor {
        Some(_) => format!("AND {}", keyset(order, forwards)),
        None => String::new(),
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM products
          WHERE lower(name) LIKE lower($1) ESCAPE '\\' {after}
          ORDER BY {} LIMIT $3",
        order_by(order, forwards)
    );
    let id = cursor.map_or(0, cursor_id);
    let limit = size as i64 + 1;
    let mut rows = on!(db.reader(), p => {
        sqlx::query_as::<_, Product>(&sql)
            .bind(&pattern)
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
    let (has_next, has_prev) = match cursor {
        None => (more, false),
        Some(Cursor::After(_)) => (more, true),
        Some(Cursor::Before(_)) => (true, more),
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

async fn exists(db: &Db, id: i64) -> Result<bool, sqlx::Error> {
    let found: Option<(i64,)> = on!(db.reader(), p => {
        sqlx::query_as("SELECT id FROM products WHERE id = $1")
            .bind(id)
            .fetch_optional(p)
            .await
    })?;
    Ok(found.is_some())
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
