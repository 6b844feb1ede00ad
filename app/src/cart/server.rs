//! Cart storage (ssr only). Every change is one SQL statement whose bounds are checked
//! inside the statement, so concurrent requests can never lose an update or push a line
//! past 99 or past the stock.

use sessions::SessionId;
use sqlx::SqlitePool;

use super::CartLine;
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
pub async fn lines(pool: &SqlitePool, owner: Owner) -> Result<Vec<CartLine>, sqlx::Error> {
    let col = owner.column();
    sqlx::query_as::<_, CartLine>(&format!(
        "SELECT p.id AS product_id, p.slug, p.name, p.image, p.price_cents AS unit_price_cents,
                c.quantity, p.stock
           FROM cart_items c JOIN products p ON p.id = c.product_id
          WHERE c.{col} = ?
          ORDER BY c.added_at, c.id"
    ))
    .bind(owner.id())
    .fetch_all(pool)
    .await
}

/// Total number of items in `owner`'s cart.
pub async fn count(pool: &SqlitePool, owner: Owner) -> Result<i64, sqlx::Error> {
    let col = owner.column();
    sqlx::query_scalar(&format!(
        "SELECT COALESCE(SUM(quantity), 0) FROM cart_items WHERE {col} = ?"
    ))
    .bind(owner.id())
    .fetch_one(pool)
    .await
}

/// Stock of a product, or `None` if there is no such product.
pub async fn stock_of(pool: &SqlitePool, product_id: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT stock FROM products WHERE id = ?")
        .bind(product_id)
        .fetch_optional(pool)
        .await
}

async fn quantity_of(pool: &SqlitePool, owner: Owner, product_id: i64) -> Result<i64, sqlx::Error> {
    let col = owner.column();
    sqlx::query_scalar(&format!(
        "SELECT COALESCE(MAX(quantity), 0) FROM cart_items WHERE {col} = ? AND product_id = ?"
    ))
    .bind(owner.id())
    .bind(product_id)
    .fetch_one(pool)
    .await
}

/// Explains why a bounded change did not apply.
async fn refusal(
    pool: &SqlitePool,
    owner: Owner,
    product_id: i64,
    wanted_extra: i64,
) -> Result<AppError, sqlx::Error> {
    let Some(stock) = stock_of(pool, product_id).await? else {
        return Ok(AppError::NotFound);
    };
    let have = quantity_of(pool, owner, product_id).await?;
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
    pool: &SqlitePool,
    owner: Owner,
    product_id: i64,
    quantity: i64,
    now: i64,
) -> Result<(), AppError> {
    let col = owner.column();
    let changed = sqlx::query(&format!(
        "INSERT INTO cart_items ({col}, product_id, quantity, added_at)
         SELECT ?1, p.id, ?2, ?3 FROM products p WHERE p.id = ?4 AND p.stock >= ?2
         ON CONFLICT ({col}, product_id) WHERE {col} IS NOT NULL
         DO UPDATE SET quantity = quantity + excluded.quantity
          WHERE quantity + excluded.quantity <= MIN({MAX_QUANTITY}, (SELECT stock FROM products WHERE id = excluded.product_id))"
    ))
    .bind(owner.id())
    .bind(quantity)
    .bind(now)
    .bind(product_id)
    .execute(pool)
    .await
    .map_err(|e| session_gone(e, owner))?
    .rows_affected();
    if changed == 1 {
        Ok(())
    } else {
        Err(refusal(pool, owner, product_id, quantity).await?)
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
    pool: &SqlitePool,
    owner: Owner,
    product_id: i64,
    quantity: i64,
) -> Result<(), AppError> {
    if quantity == 0 {
        return remove(pool, owner, product_id).await;
    }
    let col = owner.column();
    let changed = sqlx::query(&format!(
        "UPDATE cart_items SET quantity = ?1
          WHERE {col} = ?2 AND product_id = ?3
            AND ?1 <= (SELECT stock FROM products WHERE id = ?3)"
    ))
    .bind(quantity)
    .bind(owner.id())
    .bind(product_id)
    .execute(pool)
    .await?
    .rows_affected();
    if changed == 1 {
        return Ok(());
    }
    if quantity_of(pool, owner, product_id).await? == 0 {
        return Err(AppError::NotFound);
    }
    let stock = stock_of(pool, product_id).await?.unwrap_or(0);
    Err(AppError::Invalid(format!("Only {stock} in stock.")))
}

/// Removes a line. Removing a line that is not there is not an error (the outcome the
/// caller wanted holds), so double clicks are harmless.
pub async fn remove(pool: &SqlitePool, owner: Owner, product_id: i64) -> Result<(), AppError> {
    let col = owner.column();
    sqlx::query(&format!(
        "DELETE FROM cart_items WHERE {col} = ? AND product_id = ?"
    ))
    .bind(owner.id())
    .bind(product_id)
    .execute(pool)
    .await?;
    Ok(())
}

/// At sign-in: moves the guest cart of `session` into `user_id`'s saved cart in one
/// transaction. Quantities add up, capped at 99 and at the stock; the guest rows go.
pub async fn merge_guest_cart(
    pool: &SqlitePool,
    session: SessionId,
    user_id: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO cart_items (user_id, product_id, quantity, added_at)
         SELECT ?2, c.product_id, MIN(c.quantity, 99, p.stock), c.added_at
           FROM cart_items c JOIN products p ON p.id = c.product_id
          WHERE c.session_id = ?1 AND p.stock > 0
         ON CONFLICT (user_id, product_id) WHERE user_id IS NOT NULL
         DO UPDATE SET quantity = MAX(quantity, MIN(quantity + excluded.quantity, 99,
                                   (SELECT stock FROM products WHERE id = excluded.product_id)))",
    )
    .bind(session)
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM cart_items WHERE session_id = ?")
        .bind(session)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}
