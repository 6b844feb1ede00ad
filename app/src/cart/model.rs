//! The cart's client-visible types: lines, the whole cart, what a change answers.
//! Shared by the browser and the server: no SQL, no server functions here.

use serde::{Deserialize, Serialize};

/// One line of a cart, with the product's current price. Money is integer cents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct CartLine {
    pub product_id: i64,
    pub slug: String,
    pub name: String,
    pub image: String,
    pub unit_price_cents: i64,
    pub quantity: i64,
    pub stock: i64,
}

impl CartLine {
    pub fn line_total_cents(&self) -> i64 {
        self.unit_price_cents * self.quantity
    }
}

/// A whole cart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    pub lines: Vec<CartLine>,
}

impl Cart {
    pub fn subtotal_cents(&self) -> i64 {
        self.lines.iter().map(CartLine::line_total_cents).sum()
    }

    pub fn item_count(&self) -> i64 {
        self.lines.iter().map(|l| l.quantity).sum()
    }
}

/// What every cart change answers: the new number of items (for the badge).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartSummary {
    pub count: i64,
}
