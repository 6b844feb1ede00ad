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

/// Fetches the lazy routes' chunks in the background as soon as the first page is
/// interactive, all side by side, so that a later click shows its page without waiting
/// for the network. Of the orders tried (docs/PERFORMANCE.md, "code splitting"), this one
/// keeps every step of catalog → product → cart → billing under a second on the slow
/// profile even when the clicks come at once.
#[cfg(feature = "hydrate")]
pub fn preload_lazy_routes() {
    use leptos::task::spawn_local;
    spawn_local(CartRoute::preload());
    spawn_local(BillingRoute::preload());
    spawn_local(AccountRoute::preload());
    spawn_local(OrdersRoute::preload());
    spawn_local(OrderRoute::preload());
    spawn_local(RegisterRoute::preload());
}
