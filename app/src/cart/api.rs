use crate::error::AppError;
use leptos::prelude::*;

use super::model::*;

#[cfg_attr(not(feature = "ssr"), allow(dead_code))]
fn check_quantity(quantity: i64, allow_zero: bool) -> Result<(), AppError> {
    let min = if allow_zero { 0 } else { 1 };
    if (min..=99).contains(&quantity) {
        Ok(())
    } else {
        Err(AppError::Invalid(format!(
            "Quantity must be a whole number from {min} to 99."
        )))
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::super::server::{self as store, Owner};
    use super::CartSummary;
    use crate::error::AppError;

    /// The current cart's owner; with `create`, a guest session is started if needed
    /// (this is the first moment an anonymous visitor gets a cookie).
    pub async fn owner(create: bool) -> Result<Option<Owner>, AppError> {
        let session = crate::session::session()?;
        if let Some(user) = session.user_id() {
            return Ok(Some(Owner::User(user)));
        }
        if create {
            if session.id().is_none() {
                // A new guest session: counted per client network (see the throttle).
                let state = crate::state::app_state()?;
                let network = crate::auth::throttle::network_key(&crate::session::client_network());
                if let Err(wait) = state
                    .throttle
                    .new_guest(&network, state.sessions.now())
                    .await?
                {
                    tracing::info!(retry_after_secs = wait, "new guest sessions throttled");
                    return Err(AppError::TooManyRequests {
                        retry_after_secs: wait,
                    });
                }
            }
            return Ok(Some(Owner::Guest(session.ensure().await?)));
        }
        Ok(session.id().map(Owner::Guest))
    }

    /// Runs a change of `owner`'s cart (`write`, given the database) in a task of its
    /// own and, once it has committed, tells every page open on that cart (other tabs,
    /// other devices of the user). A request dropped at any `.await` cannot leave the
    /// cart changed and those pages unaware.
    pub async fn change<F, Fut>(owner: Owner, write: F) -> Result<(), AppError>
    where
        F: FnOnce(db::Db) -> Fut,
        Fut: std::future::Future<Output = Result<(), AppError>> + Send + 'static,
    {
        let state = crate::state::app_state()?;
        let event = match owner {
            Owner::User(user) => sessions::Event::cart_changed(
                Some(user),
                crate::session::session().ok().and_then(|s| s.id()),
            ),
            Owner::Guest(session) => sessions::Event::cart_changed(None, Some(session)),
        };
        let work = write(state.db.clone());
        tokio::spawn(async move {
            work.await?;
            state.sessions.publish(event);
            Ok(())
        })
        .await
        .map_err(|e| AppError::internal("cart change task failed", e))?
    }

    pub async fn summary(owner: Option<Owner>) -> Result<CartSummary, AppError> {
        let count = match owner {
            Some(o) => store::count(&crate::state::db()?, o).await?,
            None => 0,
        };
        Ok(CartSummary { count })
    }
}

/// `POST /api/get_cart` — the current visitor's cart (empty for a visitor without one).
#[server(prefix = "/api", endpoint = "get_cart", output = crate::codec::Json)]
pub async fn get_cart() -> Result<Cart, AppError> {
    let Some(owner) = ssr::owner(false).await? else {
        return Ok(Cart::default());
    };
    let lines = super::server::lines(&crate::state::db()?, owner).await?;
    Ok(Cart { lines })
}

/// `POST /api/cart_count` — number of items in the cart (the header badge).
#[server(prefix = "/api", endpoint = "cart_count", output = crate::codec::Json)]
pub async fn cart_count() -> Result<i64, AppError> {
    Ok(ssr::summary(ssr::owner(false).await?).await?.count)
}

/// `POST /api/add_to_cart` — fields `product_id`, `quantity` (1–99). Adds to the line
/// (at most 99 and at most the stock). Unknown product: 404; bad quantity: 422.
#[server(prefix = "/api", endpoint = "add_to_cart", output = crate::codec::Json)]
pub async fn add_to_cart(product_id: i64, quantity: i64) -> Result<CartSummary, AppError> {
    check_quantity(quantity, false)?;
    let db = crate::state::db()?;
    // Refuse unknown products before a guest session is created for them.
    if super::server::stock_of(&db, product_id).await?.is_none() {
        return Err(AppError::NotFound);
    }
    let owner = ssr::owner(true).await?.ok_or_else(|| {
        AppError::Internal(crate::error::Cause::note("no session after ensuring one"))
    })?;
    let now = crate::state::app_state()?.sessions.now();
    ssr::change(owner, move |db| async move {
        super::server::add(&db, owner, product_id, quantity, now)
            .await
            .map(|_| ())
    })
    .await?;
    ssr::summary(Some(owner)).await
}

/// `POST /api/update_cart_item` — fields `product_id`, `quantity` (0–99; 0 removes).
/// A product that is not in the cart: 404.
#[server(prefix = "/api", endpoint = "update_cart_item", output = crate::codec::Json)]
pub async fn update_cart_item(product_id: i64, quantity: i64) -> Result<CartSummary, AppError> {
    check_quantity(quantity, true)?;
    let owner = ssr::owner(false).await?.ok_or(AppError::NotFound)?;
    ssr::change(owner, move |db| async move {
        super::server::set_quantity(&db, owner, product_id, quantity)
            .await
            .map(|_| ())
    })
    .await?;
    ssr::summary(Some(owner)).await
}

/// `POST /api/remove_cart_item` — field `product_id`. Removing what is not there is fine.
#[server(prefix = "/api", endpoint = "remove_cart_item", output = crate::codec::Json)]
pub async fn remove_cart_item(product_id: i64) -> Result<CartSummary, AppError> {
    let owner = ssr::owner(false).await?;
    if let Some(owner) = owner {
        ssr::change(owner, move |db| async move {
            super::server::remove(&db, owner, product_id).await
        })
        .await?;
    }
    ssr::summary(owner).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_are_integer_cents() {
        let line = |price, qty| CartLine {
            product_id: 1,
            slug: "x".into(),
            name: "X".into(),
            image: String::new(),
            unit_price_cents: price,
            quantity: qty,
            stock: 10,
        };
        let cart = Cart {
            lines: vec![line(2400, 2), line(1999, 3)],
        };
        assert_eq!(cart.subtotal_cents(), 4800 + 5997);
        assert_eq!(cart.item_count(), 5);
    }

    #[test]
    fn quantities_are_bounded() {
        assert!(check_quantity(1, false).is_ok());
        assert!(check_quantity(99, false).is_ok());
        assert!(check_quantity(0, false).is_err());
        assert!(check_quantity(0, true).is_ok());
        assert!(check_quantity(100, true).is_err());
        assert!(check_quantity(-1, true).is_err());
        assert!(check_quantity(i64::MAX, true).is_err());
    }
}
