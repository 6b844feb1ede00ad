use leptos::prelude::*;

use crate::auth::use_auth;
use crate::cart::use_cart;

/// The header on every page: shop name, navigation, cart link and the user menu.
#[component]
pub fn Header() -> impl IntoView {
    let auth = use_auth();
    let cart = use_cart();
    view! {
        <header class="site-header">
            <div class="site-header__inner">
                <a class="brand" href="/">
                    <img src="/images/logo.svg" alt="" width="32" height="32"/>
                    <span>"Oxide & Oak"</span>
                </a>
                <nav class="site-nav" aria-label="Main">
                    <a href="/">"Catalog"</a>
                </nav>
                <div class="site-header__actions">
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
