//! The smallest app that uses what the shop uses: router, meta, a server function read
//! through a Resource, and a form posting to a server function.
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

#[server(prefix = "/api", endpoint = "hello")]
pub async fn hello(name: String) -> Result<String, ServerFnError> {
    Ok(format!("hello {name}"))
}

#[component]
fn Home() -> impl IntoView {
    let greeting = Resource::new(|| (), |_| hello("world".into()));
    let act = ServerAction::<Hello>::new();
    view! {
        <Title text="min"/>
        <Suspense fallback=|| "…">
            <p>{move || greeting.get().map(|g| g.unwrap_or_default())}</p>
        </Suspense>
        <ActionForm action=act>
            <input name="name"/>
            <button>"Send"</button>
        </ActionForm>
        <p>{move || act.value().get().map(|v| v.unwrap_or_default())}</p>
        <A href="/other">"other"</A>
    }
}

#[component]
fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Router>
            <Routes fallback=|| "not found">
                <Route path=path!("/") view=Home/>
                <Route path=path!("/other") view=|| view! { <p>"other"</p> }/>
            </Routes>
        </Router>
    }
}

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_body(App);
}
