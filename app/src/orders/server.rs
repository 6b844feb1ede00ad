//! Orders in SQL (ssr only). Placing an order is one transaction whose stock check and
//! writes see the same state, with no other writer slipping in between, and which
//! orders exactly the lines it checked:
//! - on SQLite it takes the database's write lock first (`BEGIN IMMEDIATE`);
//! - on PostgreSQL, where several processes may place orders at once, it locks the
//!   user's row (one checkout or guest-cart merge per user at a time, so an idempotency
//!   key gives one order), then the user's cart rows (a quantity cannot change under it), then their
//!   products in id order (`FOR NO KEY UPDATE`: no deadlocks with each other, and none
//!   with the foreign-key checks of cart writes), and only then reads the stock.
//!
//! The order's lines, the stock taken and the cart rows removed are the locked lines as
//! read, one by one; a line added meanwhile stays in the cart. Any failure rolls
//! everything back.

use std::future::Future;

use db::{on, Backend, Db};
use sessions::SessionId;

use super::model::{Order, OrderLine, OrderSummary};
use super::validate::{BillingAddress, BillingForm};
use crate::error::AppError;

/// A cart line as read, locked, by `place`.
#[derive(sqlx::FromRow)]
struct Line {
    cart_id: i64,
    product_id: i64,
    name: String,
    unit_price_cents: i64,
    quantity: i64,
    stock: i64,
}

/// Places `user_id`'s cart as an order and returns the order's id.
///
/// With an idempotency key that this user already used, nothing changes and the earlier
/// order's id is returned (a double submit is one order).
pub async fn place(
    db: &Db,
    user_id: i64,
    address: &BillingAddress,
    key: Option<&str>,
    now: i64,
) -> Result<i64, AppError> {
    let begin = db.pick("BEGIN IMMEDIATE", "BEGIN");
    let row_locks = db.backend() == Backend::Postgres;
    on!(db.writer(), p => {
        let mut tx = p.begin_with(begin).await?;
        // The cart rows this order may take (all of them on SQLite, which is locked whole).
        let locked = match row_locks {
            true => Some(tx.lock_checkout(user_id).await?),
            false => None,
        };
        if let Some(key) = key {
            if let Some(id) = tx.order_with_key(user_id, key).await? {
                return same_form_again(id, tx.cart_size(user_id).await?);
            }
        }
        let mut lines = tx.cart_lines(user_id).await?;
        if let Some(ids) = &locked {
            lines.retain(|l| ids.contains(&l.cart_id));
        }
        check_lines(&lines)?;
        let order_id = tx.write_order(user_id, now, address, key, &lines).await?;
        tx.commit().await?;
        Ok(order_id)
    })
}

/// An order was already placed with this form's key. If the cart is empty this is a
/// double submit (or a retry after a lost answer): the same order. If the cart holds
/// something, a stale form is being used for new items: refuse rather than say "placed".
fn same_form_again(order_id: i64, cart_size: i64) -> Result<i64, AppError> {
    match cart_size {
        0 => Ok(order_id),
        _ => Err(AppError::Conflict(format!(
            "This form was already used for order #{order_id}. Please reload the billing page to order what is in your cart now."
        ))),
    }
}

/// Refuses an empty cart, and a cart with more of a product than is in stock (naming
/// every short line).
fn check_lines(lines: &[Line]) -> Result<(), AppError> {
    if lines.is_empty() {
        return Err(AppError::Invalid(
            "Your cart is empty: add something before placing an order.".into(),
        ));
    }
    let short: Vec<String> = lines
        .iter()
        .filter(|l| l.quantity > l.stock)
        .map(|l| match l.stock {
            0 => format!("{} is sold out", l.name),
            stock => format!("only {stock} {} left (you have {})", l.name, l.quantity),
        })
        .collect();
    if short.is_empty() {
        return Ok(());
    }
    Err(AppError::Conflict(format!(
        "Not enough stock: {}. Please update your cart; nothing was ordered.",
        short.join("; ")
    )))
}

/// The steps of placing an order, inside its transaction.
trait CheckoutTx {
    /// PostgreSQL's row locks, in the order that cannot deadlock (module docs): the user,
    /// the user's cart rows, their products by id. Returns the locked cart rows' ids.
    fn lock_checkout(
        &mut self,
        user_id: i64,
    ) -> impl Future<Output = sqlx::Result<Vec<i64>>> + Send;

    /// The user's order placed with this idempotency key, if any.
    fn order_with_key(
        &mut self,
        user_id: i64,
        key: &str,
    ) -> impl Future<Output = sqlx::Result<Option<i64>>> + Send;

    /// How many lines the user's cart has.
    fn cart_size(&mut self, user_id: i64) -> impl Future<Output = sqlx::Result<i64>> + Send;

    /// The user's cart lines with their products' names, prices and stock.
    fn cart_lines(&mut self, user_id: i64) -> impl Future<Output = sqlx::Result<Vec<Line>>> + Send;

    /// Writes the order and its lines at today's prices, takes the items out of stock and
    /// the lines out of the cart. Returns the order's id.
    fn write_order(
        &mut self,
        user_id: i64,
        now: i64,
        address: &BillingAddress,
        key: Option<&str>,
        lines: &[Line],
    ) -> impl Future<Output = sqlx::Result<i64>> + Send;
}

db::impl_for_both!(CheckoutTx {
    async fn lock_checkout(&mut self, user_id: i64) -> sqlx::Result<Vec<i64>> {
        // NO KEY UPDATE: checkouts of one user (and the merge of a guest cart at sign-in)
        // wait for each other; foreign-key checks (a new session, a new cart line) do not.
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE")
            .bind(user_id)
            .execute(&mut **self)
            .await?;
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT id, product_id FROM cart_items WHERE user_id = $1 ORDER BY id FOR UPDATE",
        )
        .bind(user_id)
        .fetch_all(&mut **self)
        .await?;
        let mut products: Vec<i64> = rows.iter().map(|r| r.1).collect();
        products.sort_unstable();
        products.dedup();
        for product in products {
            sqlx::query("SELECT id FROM products WHERE id = $1 FOR NO KEY UPDATE")
                .bind(product)
                .execute(&mut **self)
                .await?;
        }
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    async fn order_with_key(&mut self, user_id: i64, key: &str) -> sqlx::Result<Option<i64>> {
        sqlx::query_scalar("SELECT id FROM orders WHERE user_id = $1 AND idempotency_key = $2")
            .bind(user_id)
            .bind(key)
            .fetch_optional(&mut **self)
            .await
    }

    async fn cart_size(&mut self, user_id: i64) -> sqlx::Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM cart_items WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&mut **self)
            .await
    }

    async fn cart_lines(&mut self, user_id: i64) -> sqlx::Result<Vec<Line>> {
        sqlx::query_as(
            "SELECT c.id AS cart_id, p.id AS product_id, p.name, p.price_cents AS unit_price_cents,
                    c.quantity, p.stock
               FROM cart_items c JOIN products p ON p.id = c.product_id
              WHERE c.user_id = $1
              ORDER BY c.added_at, c.id",
        )
        .bind(user_id)
        .fetch_all(&mut **self)
        .await
    }

    async fn write_order(
        &mut self,
        user_id: i64,
        now: i64,
        address: &BillingAddress,
        key: Option<&str>,
        lines: &[Line],
    ) -> sqlx::Result<i64> {
        let a = address.get();
        let total: i64 = lines.iter().map(|l| l.unit_price_cents * l.quantity).sum();
        let order_id: i64 = sqlx::query_scalar(
            "INSERT INTO orders (user_id, created_at, total_cents, billing_name, address_line1,
                                 address_line2, city, postal_code, country, idempotency_key)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             RETURNING id",
        )
        .bind(user_id)
        .bind(now)
        .bind(total)
        .bind(&a.name)
        .bind(&a.address_line1)
        .bind(&a.address_line2)
        .bind(&a.city)
        .bind(&a.postal_code)
        .bind(&a.country)
        .bind(key)
        .fetch_one(&mut **self)
        .await?;
        for l in lines {
            sqlx::query(
                "INSERT INTO order_items
                        (order_id, product_id, name_at_purchase, unit_price_cents, quantity)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(order_id)
            .bind(l.product_id)
            .bind(&l.name)
            .bind(l.unit_price_cents)
            .bind(l.quantity)
            .execute(&mut **self)
            .await?;
            // The CHECK (stock >= 0) on products is a second guard behind `check_lines`.
            sqlx::query("UPDATE products SET stock = stock - $1 WHERE id = $2")
                .bind(l.quantity)
                .bind(l.product_id)
                .execute(&mut **self)
                .await?;
            sqlx::query("DELETE FROM cart_items WHERE id = $1")
                .bind(l.cart_id)
                .execute(&mut **self)
                .await?;
        }
        Ok(order_id)
    }
});

/// `user_id`'s orders, newest first.
pub async fn list(db: &Db, user_id: i64) -> Result<Vec<OrderSummary>, sqlx::Error> {
    let rows: Vec<(i64, i64, i64, String, i64)> = on!(db.reader(), p => {
        sqlx::query_as(
            "SELECT o.id, o.created_at, o.total_cents, o.status,
                    (SELECT COALESCE(CAST(SUM(quantity) AS BIGINT), 0)
                       FROM order_items WHERE order_id = o.id)
               FROM orders o
              WHERE o.user_id = $1
              ORDER BY o.created_at DESC, o.id DESC",
        )
        .bind(user_id)
        .fetch_all(p)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(
            |(id, created_at, total_cents, status, item_count)| OrderSummary {
                id,
                placed_at: format_time(created_at),
                total_cents,
                status,
                item_count,
            },
        )
        .collect())
}

/// One of `user_id`'s orders. Another user's order is `None`, exactly like a missing one.
pub async fn get(db: &Db, user_id: i64, order_id: i64) -> Result<Option<Order>, sqlx::Error> {
    type Row = (
        i64,
        i64,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
    );
    let row: Option<Row> = on!(db.reader(), p => {
        sqlx::query_as(
            "SELECT created_at, total_cents, status, billing_name, address_line1, address_line2,
                    city, postal_code, country
               FROM orders WHERE id = $1 AND user_id = $2",
        )
        .bind(order_id)
        .bind(user_id)
        .fetch_optional(p)
        .await
    })?;
    let Some((created_at, total_cents, status, name, line1, line2, city, postal, country)) = row
    else {
        return Ok(None);
    };
    // Lines in cart order: SQLite's rowid, PostgreSQL's `line` identity column.
    let lines_sql = db.pick(
        "SELECT i.product_id, p.slug, i.name_at_purchase AS name, i.unit_price_cents, i.quantity
           FROM order_items i JOIN products p ON p.id = i.product_id
          WHERE i.order_id = $1
          ORDER BY i.rowid",
        "SELECT i.product_id, p.slug, i.name_at_purchase AS name, i.unit_price_cents, i.quantity
           FROM order_items i JOIN products p ON p.id = i.product_id
          WHERE i.order_id = $1
          ORDER BY i.line",
    );
    let lines = on!(db.reader(), p => {
        sqlx::query_as::<_, OrderLine>(lines_sql)
            .bind(order_id)
            .fetch_all(p)
            .await
    })?;
    Ok(Some(Order {
        id: order_id,
        placed_at: format_time(created_at),
        total_cents,
        status,
        address: BillingForm {
            name,
            address_line1: line1,
            address_line2: line2,
            city,
            postal_code: postal,
            country,
        },
        lines,
    }))
}

/// The address of `user_id`'s latest order (to fill the billing form of a returning
/// customer).
pub async fn last_address(db: &Db, user_id: i64) -> Result<Option<BillingForm>, sqlx::Error> {
    let row: Option<(String, String, String, String, String, String)> = on!(db.reader(), p => {
        sqlx::query_as(
            "SELECT billing_name, address_line1, address_line2, city, postal_code, country
               FROM orders WHERE user_id = $1
              ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(user_id)
        .fetch_optional(p)
        .await
    })?;
    Ok(row.map(
        |(name, address_line1, address_line2, city, postal_code, country)| BillingForm {
            name,
            address_line1,
            address_line2,
            city,
            postal_code,
            country,
        },
    ))
}

/// Keeps what a refused plain-form submission held (as JSON) with the session.
pub async fn save_draft(
    db: &Db,
    session: SessionId,
    draft: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    on!(db.writer(), p => {
        sqlx::query(
            "INSERT INTO billing_drafts (session_id, draft, saved_at) VALUES ($1, $2, $3)
             ON CONFLICT (session_id) DO UPDATE SET draft = excluded.draft, saved_at = excluded.saved_at",
        )
        .bind(session)
        .bind(draft)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ())
    })
}

/// The session's saved draft, if any.
pub async fn load_draft(db: &Db, session: SessionId) -> Result<Option<String>, sqlx::Error> {
    on!(db.reader(), p => {
        sqlx::query_scalar("SELECT draft FROM billing_drafts WHERE session_id = $1")
            .bind(session)
            .fetch_optional(p)
            .await
    })
}

/// Forgets the session's draft (after an order went through).
pub async fn delete_draft(db: &Db, session: SessionId) -> Result<(), sqlx::Error> {
    on!(db.writer(), p => {
        sqlx::query("DELETE FROM billing_drafts WHERE session_id = $1")
            .bind(session)
            .execute(p)
            .await
            .map(|_| ())
    })
}

/// A Unix time as `26 November 2026, 19:53 UTC`.
pub fn format_time(unix: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => format!(
            "{} {} {}, {:02}:{:02} UTC",
            t.day(),
            t.month(),
            t.year(),
            t.hour(),
            t.minute()
        ),
        Err(_) => "unknown date".to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_shown_in_utc() {
        assert_eq!(
            super::format_time(1_767_225_600),
            "1 January 2026, 00:00 UTC"
        );
        assert_eq!(
            super::format_time(1_795_723_980),
            "26 November 2026, 20:13 UTC"
        );
    }
}
