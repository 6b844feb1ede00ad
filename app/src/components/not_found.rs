use leptos::prelude::*;
use leptos_meta::Title;

/// The 404 page. On the server it also sets the response status, so crawlers and
/// scripts see a real 404 rather than a 200 that says "not found".
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(page) = crate::page_response::PageResponse::current() {
        page.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found · Oxide & Oak"/>
        <section class="not-found">
            <h1>"We couldn't find that page"</h1>
            <p>"The page or product you asked for does not exist (any more)."</p>
            <a class="button" href="/">"Back to the catalog"</a>
        </section>
    }
}
