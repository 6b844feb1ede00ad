use leptos::prelude::*;
use leptos_meta::Title;

use crate::auth::use_auth;

/// `/cart` — knows who is shopping; an anonymous visitor shops as a guest.
#[component]
pub fn CartPage() -> impl IntoView {
    let auth = use_auth();
    view! {
        <Title text="Cart · Oxide & Oak"/>
        <h1>"Your cart"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match auth.user.await {
                    Ok(Some(user)) => {
                        view! {
                            <p class="greeting">
                                "Hello, " <strong class="greeting__name">{user.username}</strong>
                                "! Your cart is kept with your account."
                            </p>
                        }
                            .into_any()
                    }
                    Ok(None) => {
                        view! {
                            <p class="greeting">
                                "You are shopping as a guest. "
                                <a href="/login?next=/cart">"Sign in"</a>
                                " to keep your cart on every device."
                            </p>
                        }
                            .into_any()
                    }
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
        <div class="card empty-cart">
            <p>"Your cart is empty."</p>
            <div class="actions">
                <a class="button button--ghost" href="/">"Browse the catalog"</a>
                <a class="button" href="/billing">"Go to billing"</a>
            </div>
        </div>
    }
}
