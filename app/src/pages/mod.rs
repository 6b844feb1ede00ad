mod account;
mod billing;
mod cart;
mod catalog;
mod confirm;
mod login;
mod orders;
mod passkeys;
mod product;
mod recovery;
mod register;

pub use account::AccountPage;
pub use billing::BillingPage;
pub use cart::CartPage;
pub use catalog::CatalogPage;
pub use confirm::ConfirmPage;
pub use login::LoginPage;
pub use orders::{OrderPage, OrdersPage};
pub use product::ProductPage;
pub use recovery::{ForgotPage, ResetPage, VerifiedPage};
pub use register::RegisterPage;

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

// The pages a first visit rarely needs are lazy routes: built with `cargo leptos --split`,
// each is a wasm chunk of its own that the browser fetches on the first client-side
// visit (a page load of one of them preloads its chunk). The catalog, product and
// sign-in pages stay in the main module. On the server they render as any page.

/// A lazy route that shows `$page`, loaded on first use.
macro_rules! lazy_page {
    ($route:ident, $page:ident, $path:literal) => {
        #[doc = concat!("`", $path, "` ([`", stringify!($page), "`]), loaded on first use.")]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page/> }.into_any()
            }
        }
    };
}

lazy_page!(CartRoute, CartPage, "/cart");
lazy_page!(BillingRoute, BillingPage, "/billing");
lazy_page!(OrdersRoute, OrdersPage, "/orders");
lazy_page!(OrderRoute, OrderPage, "/orders/:id");
lazy_page!(AccountRoute, AccountPage, "/account");
lazy_page!(RegisterRoute, RegisterPage, "/register");
lazy_page!(ConfirmRoute, ConfirmPage, "/confirm");

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
    spawn_local(ConfirmRoute::preload());
}
