use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::auth::use_auth;

/// `/billing` — sign-in required. The server redirects anonymous requests before
/// rendering; after hydration the router does the same on client-side navigation.
#[component]
pub fn BillingPage() -> impl IntoView {
    let auth = use_auth();
    view! {
        <Title text="Billing · Oxide & Oak"/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match auth.user.await {
                    Ok(Some(user)) => {
                        view! {
                            <h1>"Billing"</h1>
                            <p class="greeting">
                                "Signed in as " <strong class="greeting__name">{user.username}</strong> "."
                            </p>
                            <div class="card">
                                <p>"Your cart is empty, so there is nothing to pay for yet."</p>
                                <a class="button" href="/">"Browse the catalog"</a>
                            </div>
                        }
                            .into_any()
                    }
                    Ok(None) => view! { <Redirect path="/login?next=/billing"/> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
