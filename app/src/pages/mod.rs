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

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

// The pages a first visit rarely needs are lazy routes: built with `cargo leptos --split`,
// each is a wasm chunk of its own that the browser fetches on the first client-side
// visit (a page load of one of them preloads its chunk). The catalog, product and
// sign-in pages stay in the main module. On the server they render as any page.

/// `/cart` ([`CartPage`]), loaded on first use.
pub struct CartRoute;

#[lazy_route]
impl LazyRoute for CartRoute {
    fn data() -> Self {
        CartRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <CartPage/> }.into_any()
    }
}

/// `/billing` ([`BillingPage`]), loaded on first use.
pub struct BillingRoute;

#[lazy_route]
impl LazyRoute for BillingRoute {
    fn data() -> Self {
        BillingRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <BillingPage/> }.into_any()
    }
}

/// `/orders` ([`OrdersPage`]), loaded on first use.
pub struct OrdersRoute;

#[lazy_route]
impl LazyRoute for OrdersRoute {
    fn data() -> Self {
        OrdersRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <OrdersPage/> }.into_any()
    }
}

/// `/orders/:id` ([`OrderPage`]), loaded on first use.
pub struct OrderRoute;

#[lazy_route]
impl LazyRoute for OrderRoute {
    fn data() -> Self {
        OrderRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <OrderPage/> }.into_any()
    }
}

/// `/account` ([`AccountPage`]), loaded on first use.
pub struct AccountRoute;

#[lazy_route]
impl LazyRoute for AccountRoute {
    fn data() -> Self {
        AccountRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <AccountPage/> }.into_any()
    }
}

/// `/register` ([`RegisterPage`]), loaded on first use.
pub struct RegisterRoute;

#[lazy_route]
impl LazyRoute for RegisterRoute {
    fn data() -> Self {
        RegisterRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <RegisterPage/> }.into_any()
    }
}

/// Fetches the lazy routes' chunks, one after the other, once the first page is
/// interactive (so they never compete with it): a later click then shows its page
/// without waiting for the network.
#[cfg(feature = "hydrate")]
pub async fn preload_lazy_routes() {
    CartRoute::preload().await;
    BillingRoute::preload().await;
    AccountRoute::preload().await;
    OrdersRoute::preload().await;
    OrderRoute::preload().await;
    RegisterRoute::preload().await;
}
