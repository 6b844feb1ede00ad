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
                        <span class="cart-link__icon" aria-hidden="true">"🛒"</span>
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
