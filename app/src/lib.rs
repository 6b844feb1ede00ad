//! The Oxide & Oak shop: routes, pages, components and server functions.
//!
//! Compiled twice: with `ssr` into the server binary, with `hydrate` into the wasm.

pub mod account;
pub mod auth;
pub mod cart;
pub mod catalog;
pub mod chunks;
pub mod codec;
pub mod components;
pub mod email;
pub mod error;
#[cfg(feature = "ssr")]
pub mod forms;
pub mod live;
#[cfg(feature = "ssr")]
pub mod mail;
pub mod money;
pub mod orders;
#[cfg(feature = "ssr")]
pub mod outage;
#[cfg(feature = "ssr")]
pub mod page_response;
pub mod pages;
pub mod passkeys;
#[cfg(feature = "ssr")]
pub mod security;
#[cfg(feature = "ssr")]
pub mod session;
#[cfg(feature = "ssr")]
pub mod state;
pub mod url;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Link, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    Lazy, ParamSegment, SsrMode, StaticSegment,
};

use components::{Header, NotFound};
use pages::{
    AccountRoute, BillingRoute, CartRoute, CatalogPage, ConfirmRoute, ForgotPage, LoginPage,
    OrderRoute, OrdersRoute, ProductPage, RegisterRoute, ResetPage, VerifiedPage,
};

/// Pages that need a signed-in user. The server answers an anonymous request for one
/// of them (or anything below it) with a redirect to `/login?next=<path>`.
pub const SIGN_IN_REQUIRED: &[&str] = &["/billing", "/account", "/orders", "/confirm"];

/// Pages whose content depends on who asks. They are sent with `Cache-Control: no-store`.
pub const PRIVATE_PAGES: &[&str] = &[
    "/cart",
    "/billing",
    "/account",
    "/orders",
    "/login",
    "/register",
    "/forgot",
    "/reset",
    "/verify",
    "/verified",
];

/// The pages of mailed links and the forms they lead to: they send no `Referer`
/// (`Referrer-Policy: no-referrer`) and are never cached.
pub const TOKEN_PAGES: &[&str] = &["/forgot", "/reset", "/verify", "/verified"];

/// Whether `path` is one of `pages` or below one of them.
pub fn path_in(path: &str, pages: &[&str]) -> bool {
    pages.iter().any(|p| {
        path == *p
            || path
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// The HTML document around the app (server only renders it; the client hydrates `<body>`).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    security::set_page_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                // Both read the hashed file names (`hash-files`) that the build wrote.
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: header plus routed pages.
///
/// Every route renders in `SsrMode::Async`: the server waits for the page's data and sends
/// complete HTML, so pages work before (or without) the wasm, and a page can still set its
/// status code (404) and headers after loading its data.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let auth = auth::Auth::provide();
    cart::CartState::provide(auth);
    live::LiveFeed::provide();
    catalog::ShownProducts::provide();
    // `body[data-hydrated]` is set by `frontend` once hydration (lazy routes included)
    // is complete.
    view! {
        <Link rel="icon" type_="image/svg+xml" href="/images/logo.svg"/>
        <Title text="Oxide & Oak"/>
        <Router>
            <Header/>
            <live::LiveEvents/>
            <chunks::FollowNavigation/>
            <main class="page">
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=StaticSegment("") view=CatalogPage ssr=SsrMode::Async/>
                    <Route
                        path=(StaticSegment("c"), ParamSegment("slug"))
                        view=CatalogPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("products"), ParamSegment("slug"))
                        view=ProductPage
                        ssr=SsrMode::Async
                    />
                    <Route path=StaticSegment("login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("forgot") view=ForgotPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("reset") view=ResetPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("verified") view=VerifiedPage ssr=SsrMode::Async/>
                    <Route
                        path=StaticSegment("register")
                        view={Lazy::<RegisterRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route path=StaticSegment("cart") view={Lazy::<CartRoute>::new()} ssr=SsrMode::Async/>
                    <Route
                        path=StaticSegment("billing")
                        view={Lazy::<BillingRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=StaticSegment("orders")
                        view={Lazy::<OrdersRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=StaticSegment("account")
                        view={Lazy::<AccountRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=StaticSegment("confirm")
                        view={Lazy::<ConfirmRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("orders"), ParamSegment("id"))
                        view={Lazy::<OrderRoute>::new()}
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
            <footer class="site-footer">
                <p>"Oxide & Oak · a demo shop with sessions done right"</p>
            </footer>
        </Router>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_matching_respects_segments() {
        assert!(path_in("/billing", SIGN_IN_REQUIRED));
        assert!(path_in("/orders/12", SIGN_IN_REQUIRED));
        assert!(!path_in("/billingx", SIGN_IN_REQUIRED));
        assert!(!path_in("/", SIGN_IN_REQUIRED));
        assert!(path_in("/cart", PRIVATE_PAGES));
    }
}
