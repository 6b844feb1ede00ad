use super::validate::BillingForm;
use crate::error::{AppError, FieldError};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::model::*;

/// What a refused plain-form submission leaves with the session.
#[cfg_attr(not(feature = "ssr"), allow(dead_code))]
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Draft {
    form: BillingForm,
    error: AppError,
}

/// `POST /api/billing_page` — the signed-in user's cart, the form's values and a fresh
/// idempotency key. With `after_error`, also why the last plain-form submission was refused.
#[server(prefix = "/api", endpoint = "billing_page", output = crate::codec::Json)]
pub async fn billing_page(after_error: bool) -> Result<BillingData, AppError> {
    let (session, user) = crate::session::signed_in()?;
    let db = crate::state::db()?;
    let lines = crate::cart::server::lines(&db, crate::cart::server::Owner::User(user)).await?;
    // A draft is only shown right after the refusal that left it; otherwise a
    // returning customer gets the address of their last order.
    let draft = match session.id().filter(|_| after_error) {
        Some(id) => super::server::load_draft(&db, id)
            .await?
            .and_then(|json| serde_json::from_str::<Draft>(&json).ok()),
        None => None,
    };
    let (form, error) = match draft {
        Some(d) => (d.form, Some(d.error)),
        None => (
            super::server::last_address(&db, user)
                .await?
                .unwrap_or_default(),
            None,
        ),
    };
    let mut key = [0u8; 16];
    getrandom::fill(&mut key)
        .map_err(|e| AppError::internal("random number generator failed", e))?;
    let username = crate::auth::server::display_name(user)
        .await?
        .ok_or(AppError::Unauthorized)?;
    Ok(BillingData {
        username,
        cart: crate::cart::Cart { lines },
        form,
        error,
        idempotency_key: key.iter().map(|b| format!("{b:02x}")).collect(),
    })
}

/// `POST /api/place_order` — fields `name`, `address_line1`, `address_line2` (optional),
/// `city`, `postal_code`, `country` (ISO 3166 alpha-2, one the shop delivers to) and an
/// optional `idempotency_key` (1–64 of `A-Za-z0-9-_`). Sign-in required.
///
/// In one transaction: checks the stock, writes the order and its lines at today's
/// prices, takes the items out of stock and empties the cart; answers the order's id and
/// goes to `/orders/<id>?placed=1`. The same key again answers the same order. Refusals:
/// 401 anonymous, 422 invalid fields (each named in `fields`) or an empty cart, 409 not
/// enough stock; nothing changes. No payment data: orders are paid on delivery.
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/api", endpoint = "place_order", output = crate::codec::Json)]
pub async fn place_order(
    name: String,
    address_line1: String,
    address_line2: Option<String>,
    city: String,
    postal_code: String,
    country: String,
    idempotency_key: Option<String>,
) -> Result<i64, AppError> {
    let form = BillingForm {
        name,
        address_line1,
        address_line2: address_line2.unwrap_or_default(),
        city,
        postal_code,
        country,
    };
    let outcome: Result<i64, AppError> = async {
        let (_, user) = crate::session::signed_in()?;
        let address = form.validate().map_err(AppError::InvalidFields)?;
        let key = super::validate::idempotency_key(idempotency_key.as_deref())
            .map_err(AppError::Invalid)?;
        let db = crate::state::db()?;
        let now = crate::state::app_state()?.sessions.now();
        super::server::place(&db, user, &address, key, now).await
    }
    .await;
    let (Ok(session), Ok(db)) = (crate::session::session(), crate::state::db()) else {
        return Err(AppError::Internal(crate::error::Cause::note(
            "no session or database in the request's context",
        )));
    };
    match outcome {
        Ok(id) => {
            // Every open page of the user: the cart is empty, the order history longer.
            if let Ok(state) = crate::state::app_state() {
                state.sessions.publish(sessions::Event::new(
                    sessions::EventKind::OrderPlaced,
                    session.user_id(),
                    session.id(),
                ));
            }
            // The order is committed: a failure to tidy up must not report it as failed.
            if let Some(sid) = session.id() {
                if let Err(e) = super::server::delete_draft(&db, sid).await {
                    tracing::warn!(error = %e, "could not delete a billing draft");
                }
            }
            leptos_axum::redirect(&format!("/orders/{id}?placed=1"));
            Ok(id)
        }
        Err(AppError::Unauthorized) if crate::forms::is_plain_form_post() => {
            leptos_axum::redirect("/login?next=/billing");
            Ok(0)
        }
        // A plain form post: keep what was typed with the session (not in the URL: it is
        // an address) and go back to the form, which shows it with the errors. Losing the
        // draft only loses the convenience, so a failure to save it is logged, not shown.
        Err(error) if crate::forms::is_plain_form_post() => {
            // The edge for this error: it becomes a redirect, not an answer body.
            error.log_cause();
            if let Some(sid) = session.id() {
                let draft = Draft {
                    form: form.bounded(),
                    error: error.clone(),
                };
                if let Err(e) = keep_draft(&db, sid, &draft).await {
                    tracing::warn!(error = ?e, "could not keep a billing draft");
                }
            }
            leptos_axum::redirect(&format!("/billing?error={}", error.code()));
            Ok(0)
        }
        Err(error) => Err(error),
    }
}

/// Keeps what a plain form post typed, with its refusal, for the billing page to show.
#[cfg(feature = "ssr")]
async fn keep_draft(
    db: &db::Db,
    session: sessions::SessionId,
    draft: &Draft,
) -> Result<(), AppError> {
    let json = serde_json::to_string(draft)
        .map_err(|e| AppError::internal("billing draft not encodable", e))?;
    let now = crate::state::app_state()?.sessions.now();
    Ok(super::server::save_draft(db, session, &json, now).await?)
}

/// `POST /api/list_orders` — the signed-in user's orders, newest first.
#[server(prefix = "/api", endpoint = "list_orders", output = crate::codec::Json)]
pub async fn list_orders() -> Result<Vec<OrderSummary>, AppError> {
    let (_, user) = crate::session::signed_in()?;
    Ok(super::server::list(&crate::state::db()?, user).await?)
}

/// `POST /api/get_order` — field `id`. One of the signed-in user's orders; any other id
/// (another user's included) is 404.
#[server(prefix = "/api", endpoint = "get_order", output = crate::codec::Json)]
pub async fn get_order(id: i64) -> Result<Order, AppError> {
    let (_, user) = crate::session::signed_in()?;
    super::server::get(&crate::state::db()?, user, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The field errors of an error, for inline display.
pub fn field_errors(error: Option<&AppError>) -> Vec<FieldError> {
    match error {
        Some(AppError::InvalidFields(fields)) => fields.clone(),
        _ => Vec::new(),
    }
}
