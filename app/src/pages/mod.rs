mod account;
mod billing;
mod cart;
mod catalog;
mod login;
mod orders;
mod product;
mod register;

pub use account::AccountPage;
pub use billing::BillingPage;
pub use cart::CartPage;
pub use catalog::CatalogPage;
pub use login::LoginPage;
pub use orders::{OrderPage, OrdersPage};
pub use product::ProductPage;
pub use register::RegisterPage;
