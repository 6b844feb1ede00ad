//! Orders' client-visible types: order lines, orders, the order list, the billing page.
//! Shared by the browser and the server: no SQL, no server functions here.

use super::validate::BillingForm;
use crate::cart::Cart;
use crate::error::AppError;
use serde::{Deserialize, Serialize};

/// One line of a placed order, at the price paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct OrderLine {
    pub product_id: i64,
    pub slug: String,
    pub name: String,
    pub unit_price_cents: i64,
    pub quantity: i64,
}

impl OrderLine {
    pub fn line_total_cents(&self) -> i64 {
        self.unit_price_cents * self.quantity
    }
}

/// A placed order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: i64,
    pub placed_at: String,
    pub total_cents: i64,
    pub status: String,
    pub address: BillingForm,
    pub lines: Vec<OrderLine>,
}

/// An order in the list of orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSummary {
    pub id: i64,
    pub placed_at: String,
    pub total_cents: i64,
    pub status: String,
    pub item_count: i64,
}

/// Everything the billing page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingData {
    /// Who is signed in (the page greets them).
    pub username: String,
    pub cart: Cart,
    /// The values to fill in: a refused submission's, else the last order's address.
    pub form: BillingForm,
    /// Why the last plain-form submission was refused (only right after it).
    pub error: Option<AppError>,
    /// A fresh key for the form, so a double submit places one order.
    pub idempotency_key: String,
}
