//! Catalog queries (ssr only): a page of a list by keyset, in any order, in a department
//! or category, filtered, searched by full-text on either backend; its facets; "did you
//! mean"; suggestions while typing.
//!
//! One query shape serves both backends. What differs is where the words are: SQLite
//! keeps an FTS5 index beside `products` (joined by rowid, ranked by `bm25`),
//! PostgreSQL a `tsvector` column with a GIN index (ranked by `ts_rank`); see the
//! migrations `departments_search`.

use std::collections::HashMap;

use db::{on, Backend, Db};

use super::model::*;

/// Matches PostgreSQL ranks a search among, at most (beside the exact names).
const RANK_WINDOW: i64 = FACET_LIMIT;

const COLUMNS: &str = "p.id, p.slug, p.name, p.description, p.price_cents, p.image, p.stock";

/// A department (no parent) or a category, with the products it holds and how many of
/// those are in stock (kept by the database's triggers).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Category {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub parent_id: Option<i64>,
    pub products: i64,
    pub in_stock: i64,
}

impl Category {
    fn shelf(&self) -> Shelf {
        Shelf {
            slug: self.slug.clone(),
            name: self.name.clone(),
        }
    }

    fn held(&self, filters: &Filters) -> i64 {
        match filters.in_stock {
            true => self.in_stock,
            false => self.products,
        }
    }
}

/// Every department and category, by name (a shop has tens or hundreds: one small read).
pub async fn categories(db: &Db) -> Result<Vec<Category>, sqlx::Error> {
    on!(db.reader(), p => {
        sqlx::query_as::<_, Category>(
            "SELECT id, slug, name, parent_id, products, in_stock FROM categories
             ORDER BY lower(name), id",
        )
        .fetch_all(p)
        .await
    })
}

/// What to list: the search text, the order, the department or category (its slug), the
/// filters, where the page starts and how many products it holds.
#[derive(Debug, Clone, Default)]
pub struct Listing<'a> {
    pub q: &'a str,
    pub sort: Sort,
    pub shelf: Option<&'a str>,
    pub filters: Filters,
    pub cursor: Option<Cursor>,
    pub size: usize,
}

/// Where a list looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    All,
    Department(i64),
    Category { id: i64, department: i64 },
}

/// A value bound to a query.
#[derive(Debug, Clone, PartialEq)]
enum Arg {
    Int(i64),
    Real(f64),
    Text(String),
}

/// The arguments of a query being written: each `arg` gives the placeholder to write
/// (`$1`, `$2`, …, which both backends read), and one argument may be used twice.
#[derive(Debug, Default)]
struct Args(Vec<Arg>);

impl Args {
    fn arg(&mut self, a: Arg) -> String {
        self.0.push(a);
        format!("${}", self.0.len())
    }
}

/// Binds every argument of `args` to `query`, in order.
macro_rules! bound {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for a in &$args.0 {
            query = match a {
                Arg::Int(v) => query.bind(*v),
                Arg::Real(v) => query.bind(*v),
                Arg::Text(v) => query.bind(v.clone()),
            };
        }
        query
    }};
}

/// The words of a search as the backend's full-text engine reads them: every word must
/// be there; a word of three letters or more also matches as the start of a longer one,
/// and so does the last word (being typed) from two. The words are letters and digits
/// only ([`words`]), so nothing of the input is read as the engine's syntax.
fn match_text(backend: Backend, words: &[String]) -> String {
    let last = words.len().saturating_sub(1);
    let prefix =
        |i: usize, w: &str| w.chars().count() >= 3 || (i == last && w.chars().count() >= 2);
    let terms = words
        .iter()
        .enumerate()
        .map(|(i, w)| match (backend, prefix(i, w)) {
            (Backend::Sqlite, true) => format!("\"{w}\"*"),
            (Backend::Sqlite, false) => format!("\"{w}\""),
            (Backend::Postgres, true) => format!("{w}:*"),
            (Backend::Postgres, false) => w.clone(),
        });
    let joiner = match backend {
        Backend::Sqlite => " ",
        Backend::Postgres => " & ",
    };
    terms.collect::<Vec<_>>().join(joiner)
}

/// A list's query being written: where the rows come from and the conditions they meet.
struct Query {
    backend: Backend,
    args: Args,
    from: String,
    conditions: Vec<String>,
    /// The placeholder of the search's words, if it has any.
    matched: Option<String>,
    /// The rows' id: `p.id`, or the FTS5 rowid when the list is ranked by the index alone.
    id: &'static str,
}

impl Query {
    /// Products matching `words` (every product if there are none).
    fn new(backend: Backend, words: &[String]) -> Query {
        let mut q = Query {
            backend,
            args: Args::default(),
            from: "products p".to_string(),
            conditions: Vec::new(),
            matched: None,
            id: "p.id",
        };
        if !words.is_empty() {
            let m = q.args.arg(Arg::Text(match_text(backend, words)));
            let (from, condition) = match backend {
                Backend::Sqlite => (
                    "products_fts JOIN products p ON p.id = products_fts.rowid",
                    format!("products_fts MATCH {m}"),
                ),
                Backend::Postgres => (
                    "products p",
                    format!("p.search @@ to_tsquery('simple', {m})"),
                ),
            };
            q.from = from.to_string();
            q.conditions.push(condition);
            q.matched = Some(m);
        }
        q
    }

    /// Products matching `words`, read from SQLite's FTS5 index alone (no row of
    /// `products` is read until the page's few are known): for a search of the whole
    /// catalog, unfiltered, by relevance, where joining every match to its product
    /// would be most of the work.
    fn ranked_alone(words: &[String]) -> Query {
        let mut q = Query::new(Backend::Sqlite, words);
        q.from = "products_fts".to_string();
        q.id = "products_fts.rowid";
        q
    }

    /// PostgreSQL ranks a broad search among its first [`RANK_WINDOW`] matches (and the
    /// products named exactly as searched): `ts_rank` reads each match's row, and a
    /// word a million products hold would have it read 20,000 rows for one page.
    /// SQLite's FTS5 ranks from its index alone and ranks every match.
    fn ranked_among_the_first(mut self, exact: &[i64]) -> Query {
        // A search: the filter holds the words' match at least.
        let filter = self.filter();
        let window = match exact.is_empty() {
            true => format!("SELECT p.* FROM products p {filter} LIMIT {RANK_WINDOW}"),
            false => {
                let ids: Vec<String> = exact.iter().map(|e| self.args.arg(Arg::Int(*e))).collect();
                let ids = ids.join(", ");
                format!(
                    "(SELECT p.* FROM products p {filter} AND p.id NOT IN ({ids}) LIMIT {RANK_WINDOW})
                     UNION ALL (SELECT p.* FROM products p {filter} AND p.id IN ({ids}))"
                )
            }
        };
        self.from = format!("({window}) p");
        self.conditions.clear();
        self
    }

    fn within(mut self, scope: Scope) -> Query {
        match scope {
            Scope::All => {}
            Scope::Category { id, .. } => {
                let c = self.args.arg(Arg::Int(id));
                self.conditions.push(format!("p.category_id = {c}"));
            }
            Scope::Department(id) => {
                // The department's pages walk the catalog's own order and keep the rows
                // of its categories (a good share of the catalog, so few are passed
                // over); `+` keeps SQLite from reading a category index and sorting.
                let d = self.args.arg(Arg::Int(id));
                let column = self.backend_pick("+p.category_id", "p.category_id");
                self.conditions.push(format!(
                    "{column} IN (SELECT id FROM categories WHERE parent_id = {d})"
                ));
            }
        }
        self
    }

    fn filtered(mut self, filters: &Filters) -> Query {
        if let Some(min) = filters.min_cents {
            let a = self.args.arg(Arg::Int(min));
            self.conditions.push(format!("p.price_cents >= {a}"));
        }
        if let Some(max) = filters.max_cents {
            let a = self.args.arg(Arg::Int(max));
            self.conditions.push(format!("p.price_cents <= {a}"));
        }
        if filters.in_stock {
            self.conditions.push("p.stock > 0".into());
        }
        self
    }

    fn backend_pick(&self, sqlite: &'static str, postgres: &'static str) -> &'static str {
        match self.backend {
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
        }
    }

    fn filter(&self) -> String {
        match self.conditions.is_empty() {
            true => String::new(),
            false => format!("WHERE {}", self.conditions.join(" AND ")),
        }
    }
}

/// The order of a list: ascending SQL expressions ending in the unique id, and the types
/// of their values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    /// By relevance: an exact name first, then the engine's score (lower is better).
    Score,
    /// `lower(name), id`
    Name,
    /// `price_cents, lower(name), id`
    PriceUp,
    /// `-price_cents, lower(name), id`: high to low.
    PriceDown,
}

impl Order {
    fn of(sort: Sort, searching: bool) -> Order {
        match sort {
            Sort::Best if searching => Order::Score,
            Sort::Best | Sort::Name => Order::Name,
            Sort::PriceUp => Order::PriceUp,
            Sort::PriceDown => Order::PriceDown,
        }
    }

    /// The key's expressions. Each order but `Score` is an index (migrations
    /// `catalog_keys`, and per category `departments_search`); `Score` is computed for
    /// the products matched: first those named exactly as searched (`exact`, their ids),
    /// then by the engine's score.
    fn key(self, q: &mut Query, exact: &[i64]) -> Vec<String> {
        let name = "lower(p.name)".to_string();
        let id = q.id.to_string();
        match self {
            Order::Name => vec![name, id],
            Order::PriceUp => vec!["p.price_cents".into(), name, id],
            Order::PriceDown => vec!["(-p.price_cents)".into(), name, id],
            Order::Score => {
                let miss = match exact.is_empty() {
                    true => "CAST(1 AS BIGINT)".to_string(),
                    false => {
                        let ids: Vec<String> =
                            exact.iter().map(|e| q.args.arg(Arg::Int(*e))).collect();
                        format!(
                            "CAST(CASE WHEN {id} IN ({}) THEN 0 ELSE 1 END AS BIGINT)",
                            ids.join(", ")
                        )
                    }
                };
                let score = match (q.backend, &q.matched) {
                    (Backend::Sqlite, _) => "bm25(products_fts, 10.0, 1.0)".to_string(),
                    (Backend::Postgres, Some(m)) => {
                        format!("CAST(-ts_rank(p.search, to_tsquery('simple', {m})) AS DOUBLE PRECISION)")
                    }
                    (Backend::Postgres, None) => "0.0".to_string(),
                };
                vec![miss, score, id]
            }
        }
    }
}

/// The products named exactly `exact` (case aside), at most 100: a search for a name
/// shows them first.
async fn named(db: &Db, exact: &str) -> Result<Vec<i64>, sqlx::Error> {
    if exact.is_empty() {
        return Ok(Vec::new());
    }
    on!(db.reader(), p => {
        sqlx::query_scalar::<_, i64>(
            "SELECT id FROM products WHERE lower(name) = $1 ORDER BY id LIMIT 100",
        )
        .bind(exact)
        .fetch_all(p)
        .await
    })
}

/// One page of a list (with its breadcrumbs, facets and count), or `None` if `shelf`
/// names no department or category.
///
/// Keyset pagination: the page is the rows after (or before) the cursor row's key in
/// the list's order, so a page deep in the list costs what the first costs — for the
/// orders with an index, one range of it. A cursor that names no product of the list
/// starts from the beginning. A search whose words the catalog does not hold searches
/// for the closest words it does (`corrected`).
pub async fn list(db: &Db, listing: &Listing<'_>) -> Result<Option<ProductPage>, sqlx::Error> {
    let shelves = categories(db).await?;
    let scope = match listing.shelf {
        None => Scope::All,
        Some(slug) => match shelves.iter().find(|c| c.slug == slug) {
            None => return Ok(None),
            Some(c) => match c.parent_id {
                None => Scope::Department(c.id),
                Some(department) => Scope::Category {
                    id: c.id,
                    department,
                },
            },
        },
    };
    let mut words = words(listing.q);
    if words.is_empty() && !listing.q.trim().is_empty() {
        // Only punctuation: a search for nothing the catalog can hold.
        return Ok(Some(ProductPage {
            trail: trail(&shelves, scope),
            found: Some(Found {
                count: 0,
                more: false,
            }),
            ..Default::default()
        }));
    }
    let order = Order::of(listing.sort, !words.is_empty());
    let exact = match order {
        Order::Score => named(db, &listing.q.trim().to_lowercase()).await?,
        _ => Vec::new(),
    };
    let mut page = page(db, listing, scope, &words, &exact, order).await?;
    // Nothing found: if it is the words (no product anywhere holds them all, rather than
    // none here or in this price range), search for the closest words instead. Asked
    // only then, so a search that finds something pays nothing for it.
    let mut corrected = None;
    if page.products.is_empty() && !words.is_empty() && !any_match(db, &words).await? {
        if let Some(closer) = correct(db, &words).await? {
            let text = closer.join(" ");
            let exact = match order {
                Order::Score => named(db, &text).await?,
                _ => Vec::new(),
            };
            words = closer;
            page = self::page(db, listing, scope, &words, &exact, order).await?;
            corrected = Some(text);
        }
    }
    let (facets, found) = facets(db, &shelves, scope, &words, &listing.filters).await?;
    page.trail = trail(&shelves, scope);
    page.facets = facets;
    page.found = found;
    page.corrected = corrected;
    Ok(Some(page))
}

/// The page itself.
async fn page(
    db: &Db,
    listing: &Listing<'_>,
    scope: Scope,
    words: &[String],
    exact: &[i64],
    order: Order,
) -> Result<ProductPage, sqlx::Error> {
    let at = match listing.cursor {
        Some(c) => key_at(db, scope, words, exact, order, cursor_id(c))
            .await?
            .map(|key| (c, key)),
        None => None,
    };
    let forwards = !matches!(at, Some((Cursor::Before(_), _)));
    let alone = db.backend() == Backend::Sqlite
        && order == Order::Score
        && scope == Scope::All
        && listing.filters == Filters::default();
    let mut q = match alone {
        true => Query::ranked_alone(words),
        false => Query::new(db.backend(), words)
            .within(scope)
            .filtered(&listing.filters),
    };
    if db.backend() == Backend::Postgres && order == Order::Score {
        q = q.ranked_among_the_first(exact);
    }
    let key = order.key(&mut q, exact);
    let (op, dir) = match forwards {
        true => (">", "ASC"),
        false => ("<", "DESC"),
    };
    if let Some((_, values)) = &at {
        let places: Vec<String> = values.iter().map(|v| q.args.arg(v.clone())).collect();
        // The bound on the first column alone is implied by the row comparison, but it is
        // what lets SQLite start the index range there (a row comparison over an
        // expression index alone is a scan from the start: 6 ms instead of 0.01 ms at
        // 100,000 rows).
        q.conditions.push(format!(
            "{} {op}= {} AND ({}) {op} ({})",
            key[0],
            places[0],
            key.join(", "),
            places.join(", ")
        ));
    }
    let order_by = key
        .iter()
        .map(|k| format!("{k} {dir}"))
        .collect::<Vec<_>>()
        .join(", ");
    let limit = listing.size as i64 + 1;
    let mut rows = match alone {
        false => {
            let sql = format!(
                "SELECT {COLUMNS} FROM {} {} ORDER BY {order_by} LIMIT {limit}",
                q.from,
                q.filter()
            );
            on!(db.reader(), p => {
                bound!(sqlx::query_as::<_, Product>(&sql), q.args).fetch_all(p).await
            })?
        }
        true => {
            let sql = format!(
                "SELECT {} FROM {} {} ORDER BY {order_by} LIMIT {limit}",
                q.id,
                q.from,
                q.filter()
            );
            let ids = on!(db.reader(), p => {
                bound!(sqlx::query_scalar::<_, i64>(&sql), q.args).fetch_all(p).await
            })?;
            products_by_id(db, &ids).await?
        }
    };
    let more = rows.len() > listing.size;
    if !forwards && !more {
        // Back at the start: the first page, full, as a visitor would see it.
        let first = Listing {
            cursor: None,
            ..listing.clone()
        };
        return Box::pin(page(db, &first, scope, words, exact, order)).await;
    }
    rows.truncate(listing.size);
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
        ..Default::default()
    })
}

/// These products, in this order.
async fn products_by_id(db: &Db, ids: &[i64]) -> Result<Vec<Product>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = Args::default();
    let places: Vec<String> = ids.iter().map(|id| args.arg(Arg::Int(*id))).collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM products p WHERE p.id IN ({})",
        places.join(", ")
    );
    let mut found = on!(db.reader(), p => {
        bound!(sqlx::query_as::<_, Product>(&sql), args).fetch_all(p).await
    })?;
    found.sort_by_key(|p| ids.iter().position(|id| *id == p.id));
    Ok(found)
}

/// The cursor row's key in `order`, if it is a product of the list's search and scope.
async fn key_at(
    db: &Db,
    scope: Scope,
    words: &[String],
    exact: &[i64],
    order: Order,
    id: i64,
) -> Result<Option<Vec<Arg>>, sqlx::Error> {
    let mut q = Query::new(db.backend(), words).within(scope);
    let key = order.key(&mut q, exact);
    let c = q.args.arg(Arg::Int(id));
    q.conditions.push(format!("p.id = {c}"));
    let sql = format!("SELECT {} FROM {} {}", key.join(", "), q.from, q.filter());
    Ok(match order {
        Order::Score => on!(db.reader(), p => {
            bound!(sqlx::query_as::<_, (i64, f64, i64)>(&sql), q.args).fetch_optional(p).await
        })?
        .map(|(miss, score, id)| vec![Arg::Int(miss), Arg::Real(score), Arg::Int(id)]),
        Order::Name => on!(db.reader(), p => {
            bound!(sqlx::query_as::<_, (String, i64)>(&sql), q.args).fetch_optional(p).await
        })?
        .map(|(name, id)| vec![Arg::Text(name), Arg::Int(id)]),
        Order::PriceUp | Order::PriceDown => on!(db.reader(), p => {
            bound!(sqlx::query_as::<_, (i64, String, i64)>(&sql), q.args).fetch_optional(p).await
        })?
        .map(|(price, name, id)| vec![Arg::Int(price), Arg::Text(name), Arg::Int(id)]),
    })
}

fn cursor_id(c: Cursor) -> i64 {
    match c {
        Cursor::After(id) | Cursor::Before(id) => id,
    }
}

/// The breadcrumbs: the department, then the category.
fn trail(shelves: &[Category], scope: Scope) -> Vec<Shelf> {
    let named = |id: i64| shelves.iter().find(|c| c.id == id).map(Category::shelf);
    match scope {
        Scope::All => Vec::new(),
        Scope::Department(id) => named(id).into_iter().collect(),
        Scope::Category { id, department } => {
            named(department).into_iter().chain(named(id)).collect()
        }
    }
}

/// The facets of a list and how many products it holds. On the whole catalog the facets
/// are the departments; in a department its categories; in a category its department's
/// categories, the current one marked. Without words or a price range, the counts kept
/// per category answer; otherwise the matching products are counted, at most
/// [`FACET_LIMIT`] of them: beyond it the total says "more" and the facets carry no
/// counts. Facets that hold none of the list's products are left out.
async fn facets(
    db: &Db,
    shelves: &[Category],
    scope: Scope,
    words: &[String],
    filters: &Filters,
) -> Result<(Vec<Facet>, Option<Found>), sqlx::Error> {
    let (parent, current) = match scope {
        Scope::All => (None, None),
        Scope::Department(id) => (Some(id), None),
        Scope::Category { id, department } => (Some(department), Some(id)),
    };
    let offered: Vec<&Category> = shelves.iter().filter(|c| c.parent_id == parent).collect();
    // Counted by category (the products of each, and `None` for those in none).
    let (by_category, capped) = if words.is_empty() && !filters.prices() {
        let kept = shelves.iter().filter(|c| c.parent_id.is_some());
        (kept.map(|c| (Some(c.id), c.held(filters))).collect(), false)
    } else {
        let around = match scope {
            Scope::All => Scope::All,
            Scope::Department(d) | Scope::Category { department: d, .. } => Scope::Department(d),
        };
        count_by_category(db, around, words, filters).await?
    };
    let count_of = |c: &Category| -> i64 {
        match c.parent_id {
            Some(_) => by_category.get(&Some(c.id)).copied().unwrap_or(0),
            None => shelves
                .iter()
                .filter(|k| k.parent_id == Some(c.id))
                .map(|k| by_category.get(&Some(k.id)).copied().unwrap_or(0))
                .sum(),
        }
    };
    let facets = offered
        .iter()
        .map(|c| Facet {
            shelf: c.shelf(),
            count: (!capped).then(|| count_of(c)),
            current: current == Some(c.id),
        })
        .filter(|f| f.current || f.count != Some(0))
        .collect();
    let found = match scope {
        Scope::All if words.is_empty() && !filters.prices() => None,
        Scope::All | Scope::Department(_) => Some(Found {
            count: match scope {
                Scope::All => by_category.values().sum::<i64>().min(FACET_LIMIT),
                _ => offered
                    .iter()
                    .map(|c| count_of(c))
                    .sum::<i64>()
                    .min(FACET_LIMIT),
            },
            more: capped,
        }),
        Scope::Category { id, .. } if !capped => Some(Found {
            count: by_category.get(&Some(id)).copied().unwrap_or(0),
            more: false,
        }),
        Scope::Category { .. } => {
            let (alone, more) = count_by_category(db, scope, words, filters).await?;
            Some(Found {
                count: alone.values().sum::<i64>().min(FACET_LIMIT),
                more,
            })
        }
    };
    Ok((facets, found))
}

/// The list's products counted by category, at most [`FACET_LIMIT`] of them; `true` if
/// there were more.
async fn count_by_category(
    db: &Db,
    scope: Scope,
    words: &[String],
    filters: &Filters,
) -> Result<(HashMap<Option<i64>, i64>, bool), sqlx::Error> {
    let q = Query::new(db.backend(), words)
        .within(scope)
        .filtered(filters);
    let sql = format!(
        "SELECT c, COUNT(*) FROM (SELECT p.category_id AS c FROM {} {} LIMIT {}) t GROUP BY c",
        q.from,
        q.filter(),
        FACET_LIMIT + 1
    );
    let rows = on!(db.reader(), p => {
        bound!(sqlx::query_as::<_, (Option<i64>, i64)>(&sql), q.args).fetch_all(p).await
    })?;
    let total: i64 = rows.iter().map(|(_, n)| n).sum();
    Ok((rows.into_iter().collect(), total > FACET_LIMIT))
}

/// Whether any product holds all these words.
async fn any_match(db: &Db, words: &[String]) -> Result<bool, sqlx::Error> {
    let q = Query::new(db.backend(), words);
    let sql = format!("SELECT p.id FROM {} {} LIMIT 1", q.from, q.filter());
    let found = match db.backend() {
        Backend::Sqlite => on!(db.reader(), p => {
            bound!(sqlx::query_scalar::<_, i64>(&sql), q.args).fetch_optional(p).await
        })?,
        Backend::Postgres => on!(db.reader(), p => {
            // With `LIMIT 1` PostgreSQL's planner expects to meet a match soon in a scan
            // of the table and leaves the index out: a million rows read for words that
            // no product holds (230 ms instead of 0.1).
            let mut tx = p.begin().await?;
            sqlx::query("SET LOCAL enable_seqscan = off")
                .execute(&mut *tx)
                .await?;
            let found = bound!(sqlx::query_scalar::<_, i64>(&sql), q.args)
                .fetch_optional(&mut *tx)
                .await?;
            tx.commit().await?;
            found
        }),
    };
    Ok(found.is_some())
}

/// The words the catalog holds that are closest to `words`: each word the catalog does
/// not hold replaced by the nearest one it does (by edit distance, transpositions
/// counted once; at most 1 edit for words of 4 letters, 2 up to 8, 3 beyond; a tie goes
/// to the word more products hold). Shorter words and numbers are left as typed: too
/// many words are one edit away from them. `None` if no word changed.
async fn correct(db: &Db, words: &[String]) -> Result<Option<Vec<String>>, sqlx::Error> {
    let mut out = Vec::with_capacity(words.len());
    let mut changed = false;
    for w in words {
        let short = w.chars().count() < 4 || w.chars().all(|c| c.is_ascii_digit());
        if short || holds(db, w).await? {
            out.push(w.clone());
            continue;
        }
        let allowed = match w.chars().count() {
            0..=4 => 1,
            5..=8 => 2,
            _ => 3,
        };
        let best = candidates(db, w)
            .await?
            .into_iter()
            .map(|(term, products)| (strsim::osa_distance(w, &term), -products, term))
            .filter(|(d, _, _)| *d <= allowed)
            .min();
        match best {
            Some((_, _, term)) => {
                changed |= term != *w;
                out.push(term);
            }
            None => out.push(w.clone()),
        }
    }
    Ok(changed.then_some(out))
}

/// Whether some product holds `word`.
async fn holds(db: &Db, word: &str) -> Result<bool, sqlx::Error> {
    let sql = db.pick(
        "SELECT 1 FROM search_terms WHERE term = $1 AND doc > 0",
        "SELECT 1 FROM search_terms WHERE term = $1 AND products > 0",
    );
    let found = on!(db.reader(), p => {
        sqlx::query_scalar::<_, i32>(sql).bind(word).fetch_optional(p).await
    })?;
    Ok(found.is_some())
}

/// Words of the catalog that may be what `word` was meant to be, with how many products
/// hold each. SQLite: the words with the same first letter (a range of the FTS5
/// vocabulary). PostgreSQL: the 50 most similar by trigrams (pg_trgm's index), of
/// those that share at least a fifth of their trigrams.
async fn candidates(db: &Db, word: &str) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let Some(first) = word.chars().next() else {
        return Ok(Vec::new());
    };
    let after = char::from_u32(first as u32 + 1).unwrap_or(char::MAX);
    match db.backend() {
        Backend::Sqlite => on!(db.reader(), p => {
            sqlx::query_as::<_, (String, i64)>(
                "SELECT term, doc FROM search_terms WHERE term >= $1 AND term < $2 LIMIT 50000",
            )
            .bind(first.to_string())
            .bind(after.to_string())
            .fetch_all(p)
            .await
        }),
        Backend::Postgres => on!(db.reader(), p => {
            // Below pg_trgm's default of 0.3: one swap in a six-letter word ("tepaot")
            // shares only 3 of 11 trigrams with the word meant.
            let mut tx = p.begin().await?;
            sqlx::query("SET LOCAL pg_trgm.similarity_threshold = 0.2")
                .execute(&mut *tx)
                .await?;
            let found = sqlx::query_as::<_, (String, i64)>(
                "SELECT term, products FROM search_terms WHERE term % $1 AND products > 0
                 ORDER BY similarity(term, $1) DESC, term LIMIT 50",
            )
            .bind(word)
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(found)
        }),
    }
}

/// Products whose names match what is typed so far, best first.
pub async fn suggest(db: &Db, q: &str) -> Result<Vec<Suggestion>, sqlx::Error> {
    let words = words(q);
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let listing = Listing {
        q,
        size: SUGGESTIONS,
        ..Default::default()
    };
    let exact = named(db, &q.trim().to_lowercase()).await?;
    let found = page(db, &listing, Scope::All, &words, &exact, Order::Score).await?;
    Ok(found
        .products
        .into_iter()
        .map(|p| Suggestion {
            slug: p.slug,
            name: p.name,
        })
        .collect())
}

/// The product with this slug, if any, with where it is shelved.
pub async fn product_by_slug(db: &Db, slug: &str) -> Result<Option<Product>, sqlx::Error> {
    // No slug holds control characters (PostgreSQL refuses text with NUL bytes outright).
    if slug.is_empty() || slug.len() > 100 || slug.chars().any(char::is_control) {
        return Ok(None);
    }
    let found = on!(db.reader(), p => {
        sqlx::query_as::<_, Product>(&format!("SELECT {COLUMNS} FROM products p WHERE p.slug = $1"))
            .bind(slug)
            .fetch_optional(p)
            .await
    })?;
    let Some(mut product) = found else {
        return Ok(None);
    };
    let shelves: Vec<(String, String)> = on!(db.reader(), p => {
        sqlx::query_as(
            "SELECT d.slug, d.name FROM products p
               JOIN categories c ON c.id = p.category_id
               JOIN categories d ON d.id = c.parent_id
              WHERE p.id = $1
             UNION ALL
             SELECT c.slug, c.name FROM products p
               JOIN categories c ON c.id = p.category_id
              WHERE p.id = $1 AND c.parent_id IS NOT NULL",
        )
        .bind(product.id)
        .fetch_all(p)
        .await
    })?;
    product.trail = shelves
        .into_iter()
        .map(|(slug, name)| Shelf { slug, name })
        .collect();
    Ok(Some(product))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_reach_the_engines_as_terms_only() {
        let w = words("oak \"mu");
        assert_eq!(match_text(Backend::Sqlite, &w), "\"oak\"* \"mu\"*");
        assert_eq!(match_text(Backend::Postgres, &w), "oak:* & mu:*");
        let w = words("a b");
        assert_eq!(match_text(Backend::Sqlite, &w), "\"a\" \"b\"");
        assert_eq!(match_text(Backend::Postgres, &w), "a & b");
    }
}

/// The id of the category `category` in the department `department`, both created
/// where missing (by name, without regard to case). A category's slug is its name's
/// (`mugs-cups` for "Mugs & cups"), or the department's and its own where another
/// department has a category of that name.
pub async fn shelve(db: &Db, department: &str, category: &str) -> Result<i64, sqlx::Error> {
    let d = find_or_add(db, None, department, &slugify(department)).await?;
    let own = slugify(category);
    let slug = match slug_taken(db, &own, d).await? {
        false => own,
        true => format!("{}-{own}", slugify(department)),
    };
    find_or_add(db, Some(d), category, &slug).await
}

/// Whether `slug` belongs to another shelf than a child of `parent`.
async fn slug_taken(db: &Db, slug: &str, parent: i64) -> Result<bool, sqlx::Error> {
    let other: Option<Option<i64>> = on!(db.reader(), p => {
        sqlx::query_scalar("SELECT parent_id FROM categories WHERE slug = $1")
            .bind(slug)
            .fetch_optional(p)
            .await
    })?;
    Ok(matches!(other, Some(owner) if owner != Some(parent)))
}

async fn find_or_add(
    db: &Db,
    parent: Option<i64>,
    name: &str,
    slug: &str,
) -> Result<i64, sqlx::Error> {
    on!(db.writer(), p => {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM categories WHERE parent_id IS NOT DISTINCT FROM $1
               AND lower(name) = lower($2)",
        )
        .bind(parent)
        .bind(name)
        .fetch_optional(p)
        .await?;
        match found {
            Some(id) => Ok(id),
            None => {
                sqlx::query_scalar(
                    "INSERT INTO categories (slug, name, parent_id) VALUES ($1, $2, $3)
                     ON CONFLICT (slug) DO UPDATE SET name = categories.name RETURNING id",
                )
                .bind(slug)
                .bind(name)
                .bind(parent)
                .fetch_one(p)
                .await
            }
        }
    })
}

/// A name as a slug: lower-case letters and digits, runs of anything else one `-`
/// ("Mugs & cups" → "mugs-cups"); at most 60 characters; `shelf` if nothing is left.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(60).collect();
    match slug.trim_end_matches('-') {
        "" => "shelf".to_string(),
        s => s.to_string(),
    }
}

#[cfg(test)]
mod slug_tests {
    use super::slugify;

    #[test]
    fn names_become_slugs() {
        assert_eq!(slugify("Mugs & cups"), "mugs-cups");
        assert_eq!(slugify("  Desk & travel "), "desk-travel");
        assert_eq!(slugify("Café"), "caf");
        assert_eq!(slugify("***"), "shelf");
    }
}
