use leptos::prelude::*;

use crate::auth::use_auth;
use crate::cart::use_cart;

/// The header on every page: shop name, navigation (the catalog and its departments),
/// cart link and the user menu. On a phone (CSS, narrow screens) it is one row: the
/// name, a search link, the cart and a "Menu" button that opens the navigation and the
/// account below it; the button is a checkbox's label, so the menu opens without
/// JavaScript too.
#[component]
pub fn Header() -> impl IntoView {
    let auth = use_auth();
    let cart = use_cart();
    let departments = Resource::new(|| (), |_| crate::catalog::shelves());
    let menu_open = NodeRef::<leptos::html::Input>::new();
    // After hydration a click in the open menu closes it (the page behind it changes
    // without a load, which would leave the menu open).
    let close_menu = move |_| {
        if let Some(toggle) = menu_open.get_untracked() {
            toggle.set_checked(false);
        }
    };
    view! {
        <header class="site-header">
            <div class="site-header__inner">
                <a class="brand" href="/">
                    <img src="/images/logo.svg" alt="" width="32" height="32"/>
                    <span>"Oxide & Oak"</span>
                </a>
                <a class="search-link" href="/#search" aria-label="Search">
                    <svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20" fill="none"
                        stroke="currentColor" stroke-width="2" stroke-linecap="round">
                        <circle cx="10.5" cy="10.5" r="6.5"></circle>
                        <path d="M15.5 15.5L21 21"></path>
                    </svg>
                </a>
                <a class="cart-link" href="/cart" aria-label="Cart">
                    // Drawn here, not an emoji: a system without an emoji font
                    // would show an empty box.
                    <svg
                        class="cart-link__icon"
                        aria-hidden="true"
                        viewBox="0 0 24 24"
                        width="20"
                        height="20"
                        fill="none"
                        stroke="currentColor"
                        stroke-width="2"
                        stroke-linecap="round"
                        stroke-linejoin="round"
                    >
                        <path d="M3 4h2l2.4 10.2a1 1 0 0 0 1 .8h8.9a1 1 0 0 0 1-.8L20 8H6.2"></path>
                        <circle cx="9.5" cy="19" r="1.4"></circle>
                        <circle cx="17" cy="19" r="1.4"></circle>
                    </svg>
                    <span class="cart-link__label">"Cart"</span>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            let server = cart.count.await.unwrap_or(0);
                            view! {
                                <span class="cart-badge" data-testid="cart-count" aria-live="polite">
                                    {move || cart.shown(server)}
                                </span>
                            }
                        })}
                    </Transition>
                </a>
                <input type="checkbox" id="site-menu-toggle" class="menu-toggle" node_ref=menu_open
                    aria-label="Menu" aria-controls="site-menu"/>
                <label for="site-menu-toggle" class="menu-button" aria-hidden="true">
                    <svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20" fill="none"
                        stroke="currentColor" stroke-width="2" stroke-linecap="round">
                        <path d="M4 7h16M4 12h16M4 17h16"></path>
                    </svg>
                </label>
                <div class="site-menu" id="site-menu" on:click=close_menu>
                    <nav class="site-nav" aria-label="Main">
                        <a href="/">"Catalog"</a>
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                departments
                                    .await
                                    .unwrap_or_default()
                                    .into_iter()
                                    .map(|d| view! { <a href=format!("/c/{}", d.shelf.slug)>{d.shelf.name}</a> })
                                    .collect_view()
                            })}
                        </Transition>
                    </nav>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            match auth.user.await {
                                Ok(Some(user)) => {
                                    view! {
                                        <div class="user-menu">
                                            <span class="user-menu__name" data-testid="signed-in-user">{user.username}</span>
                                            <a class="user-link" href="/orders">"Orders"</a>
                                            <a class="user-link" href="/account">"Account"</a>
                                            <ActionForm action=auth.logout>
                                                <button type="submit" class="button--ghost">"Sign out"</button>
                                            </ActionForm>
                                        </div>
                                    }
                                        .into_any()
                                }
                                _ => {
                                    view! {
                                        <div class="user-menu">
                                            <a class="user-link" href="/login">"Sign in"</a>
                                            <a class="user-link" href="/register">"Register"</a>
                                        </div>
                                    }
                                        .into_any()
                                }
                            }
                        })}
                    </Transition>
                </div>
            </div>
        </header>
    }
}
