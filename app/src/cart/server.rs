//! Cart storage (ssr only). Every change is one SQL statement whose bounds are checked
//! inside the statement, so concurrent requests can never lose an update or push a line
//! past 99 or past the stock.

use db::{on, Db};
use sessions::SessionId;

use super::model::CartLine;
use crate::error::AppError;

/// Whose cart: a guest session's or a signed-in user's (the same on every device).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Guest(SessionId),
    User(i64),
}

impl Owner {
    fn column(self) -> &'static str {
        match self {
            Owner::Guest(_) => "session_id",
            Owner::User(_) => "user_id",
        }
    }

    fn id(self) -> i64 {
        match self {
            Owner::Guest(s) => s.0,
            Owner::User(u) => u,
        }
    }
}

/// Largest quantity of one product in a cart.
pub const MAX_QUANTITY: i64 = 99;

/// The lines of `owner`'s cart, oldest first.
pub async fn lines(db: &Db, owner: Owner) -> Result<Vec<CartLine>, sqlx::Error> {
    let col = owner.column();
    on!(db.reader(), p => {
        sqlx::query_as::<_, CartLine>(&format!(
            "SELECT p.id AS product_id, p.slug, p.name, p.image, p.price_cents AS unit_price_cents,
                    c.quantity, p.stock
               FROM cart_items c JOIN products p ON p.id = c.product_id
              WHERE c.{col} = $1
              ORDER BY c.added_at, c.id"
        ))
        .bind(owner.id())
        .fetch_all(p)
        .await
    })
}

/// Total number of items in `owner`'s cart.
pub async fn count(db: &Db, owner: Owner) -> Result<i64, sqlx::Error> {
    let col = owner.column();
    // The cast: PostgreSQL sums BIGINTs as NUMERIC.
    on!(db.reader(), p => {
        sqlx::query_scalar(&format!(
            "SELECT COALESCE(CAST(SUM(quantity) AS BIGINT), 0) FROM cart_items WHERE {col} = $1"
        ))
        .bind(owner.id())
        .fetch_one(p)
        .await
    })
}

/// Stock of a product, or `None` if there is no such product.
pub async fn stock_of(db: &Db, product_id: i64) -> Result<Option<i64>, sqlx::Error> {
    on!(db.reader(), p => {
        sqlx::query_scalar("SELECT stock FROM products WHERE id = $1")
            .bind(product_id)
            .fetch_optional(p)
            .await
    })
}

async fn quantity_of(db: &Db, owner: Owner, product_id: i64) -> Result<i64, sqlx::Error> {
    let col = owner.column();
    on!(db.writer(), p => {
        sqlx::query_scalar(&format!(
            "SELECT COALESCE(MAX(quantity), 0) FROM cart_items WHERE {col} = $1 AND product_id = $2"
        ))
        .bind(owner.id())
        .bind(product_id)
        .fetch_one(p)
        .await
    })
}

/// Explains why a bounded change did not apply.
async fn refusal(
    db: &Db,
    owner: Owner,
    product_id: i64,
    wanted_extra: i64,
) -> Result<AppError, sqlx::Error> {
    let Some(stock) = stock_of(db, product_id).await? else {
        return Ok(AppError::NotFound);
    };
    let have = quantity_of(db, owner, product_id).await?;
    Ok(if stock == 0 {
        AppError::Invalid("Sorry, this product is sold out.".into())
    } else if have + wanted_extra > MAX_QUANTITY && stock >= MAX_QUANTITY {
        AppError::Invalid(format!(
            "You can have at most {MAX_QUANTITY} of one product (you have {have})."
        ))
    } else {
        AppError::Invalid(format!(
            "Only {stock} in stock (you have {have} in your cart)."
        ))
    })
}

/// Adds `quantity` of a product: one atomic upsert that refuses to go past 99 or past
/// the stock.
pub async fn add(
    db: &Db,
    owner: Owner,
    product_id: i64,
    quantity: i64,
    now: i64,
) -> Result<(), AppError> {
    let col = owner.column();
    // Two-value MIN is not portable (PostgreSQL's is LEAST); the bound is two conditions.
    let changed = on!(db.writer(), p => {
        sqlx::query(&format!(
            "INSERT INTO cart_items ({col}, product_id, quantity, added_at)
             SELECT $1, p.id, $2, $3 FROM products p WHERE p.id = $4 AND p.stock >= $2
             ON CONFLICT ({col}, product_id) WHERE {col} IS NOT NULL
             DO UPDATE SET quantity = cart_items.quantity + excluded.quantity
              WHERE cart_items.quantity + excluded.quantity <= {MAX_QUANTITY}
                AND cart_items.quantity + excluded.quantity
                    <= (SELECT stock FROM products WHERE id = excluded.product_id)"
        ))
        .bind(owner.id())
        .bind(quantity)
        .bind(now)
        .bind(product_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
    })
    .map_err(|e| session_gone(e, owner))?;
    if changed == 1 {
        Ok(())
    } else {
        Err(refusal(db, owner, product_id, quantity).await?)
    }
}

/// A guest's session deleted (signed out, ended elsewhere) while this request was under
/// way: the foreign key refuses the write, so the cart cannot outlive its session. That
/// is the caller's race, not a server fault.
fn session_gone(e: sqlx::Error, owner: Owner) -> AppError {
    match (&e, owner) {
        (sqlx::Error::Database(db), Owner::Guest(_)) if db.is_foreign_key_violation() => {
            AppError::Conflict(
                "Your session ended while this was being saved. Please try again.".into(),
            )
        }
        _ => e.into(),
    }
}

/// Sets a line's quantity (0 removes it), bounded by the stock in the same statement.
pub async fn set_quantity(
    db: &Db,
    owner: Owner,
    product_id: i64,
    quantity: i64,
) -> Result<(), AppError> {
    if quantity == 0 {
        return remove(db, owner, product_id).await;
    }
    let col = owner.column();
    let changed = on!(db.writer(), p => {
        sqlx::query(&format!(
            "UPDATE cart_items SET quantity = $1
              WHERE {col} = $2 AND product_id = $3
                AND $1 <= (SELECT stock FROM products WHERE id = $3)"
        ))
        .bind(quantity)
        .bind(owner.id())
        .bind(product_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
    })?;
    if changed == 1 {
        return Ok(());
    }
    if quantity_of(db, owner, product_id).await? == 0 {
        return Err(AppError::NotFound);
    }
    let stock = stock_of(db, product_id).await?.unwrap_or(0);
    Err(AppError::Invalid(format!("Only {stock} in stock.")))
}

/// Removes a line. Removing a line that is not there is not an error (the outcome the
/// caller wanted holds), so double clicks are harmless.
pub async fn remove(db: &Db, owner: Owner, product_id: i64) -> Result<(), AppError> {
    let col = owner.column();
    on!(db.writer(), p => {
        sqlx::query(&format!(
            "DELETE FROM cart_items WHERE {col} = $1 AND product_id = $2"
        ))
        .bind(owner.id())
        .bind(product_id)
        .execute(p)
        .await
        .map(|_| ())
    })?;
    Ok(())
}

/// At sign-in: moves the guest cart of `session` into `user_id`'s saved cart in one
/// transaction. Quantities add up, capped at 99 and at the stock; the guest rows go.
/// Returns how many lines were added or raised.
pub async fn merge_guest_cart(
    db: &Db,
    session: SessionId,
    user_id: i64,
) -> Result<u64, sqlx::Error> {
    // Scalar MIN/MAX of several values: SQLite's MIN/MAX, PostgreSQL's LEAST/GREATEST.
    let merge = db.pick(
        "INSERT INTO cart_items (user_id, product_id, quantity, added_at)
         SELECT $2, c.product_id, MIN(c.quantity, 99, p.stock), c.added_at
           FROM cart_items c JOIN products p ON p.id = c.product_id
          WHERE c.session_id = $1 AND p.stock > 0
         ON CONFLICT (user_id, product_id) WHERE user_id IS NOT NULL
         DO UPDATE SET quantity = MAX(cart_items.quantity,
                                      MIN(cart_items.quantity + excluded.quantity, 99,
                                          (SELECT stock FROM products WHERE id = excluded.product_id)))",
        "INSERT INTO cart_items (user_id, product_id, quantity, added_at)
         SELECT $2, c.product_id, LEAST(c.quantity, 99, p.stock), c.added_at
           FROM cart_items c JOIN products p ON p.id = c.product_id
          WHERE c.session_id = $1 AND p.stock > 0
         ON CONFLICT (user_id, product_id) WHERE user_id IS NOT NULL
         DO UPDATE SET quantity = GREATEST(cart_items.quantity,
                                           LEAST(cart_items.quantity + excluded.quantity, 99,
                                                 (SELECT stock FROM products WHERE id = excluded.product_id)))",
    );
    let lock_user = db.backend() == db::Backend::Postgres;
    on!(db.writer(), p => {
        let mut tx = p.begin().await?;
        if lock_user {
            // Taken first, as a checkout takes it, so the two never wait on each other
            // the other way round (the merge's upsert locks the user's cart rows).
            sqlx::query("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        let merged = sqlx::query(merge)
            .bind(session)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM cart_items WHERE session_id = $1")
            .bind(session)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(merged)
    })
}
