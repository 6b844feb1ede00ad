use leptos::prelude::*;

/// The header on every page: shop name, navigation, cart badge and user menu.
#[component]
pub fn Header() -> impl IntoView {
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
                    </a>
                    <a class="user-link" href="/login">"Sign in"</a>
                </div>
            </div>
        </header>
    }
}
