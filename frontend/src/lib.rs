//! The wasm entry point: hydrate the server-rendered page.

use leptos::prelude::document;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        // A lazy route's chunk that failed to load: load that page in full instead.
        app::chunks::on_panic(info);
    }));
    // What `leptos::mount::hydrate_lazy` does (the lazy routes' chunks, built with
    // `cargo leptos --split`, are fetched while hydrating), and then the page is marked
    // as live: only now do all of its buttons work, so tests (and curious people) can
    // wait for `body[data-hydrated]`.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    leptos::task::spawn_local(async {
        let Some(body) = document().body() else {
            return;
        };
        let owner = leptos::mount::hydrate_from_async(body.clone(), app::App).await;
        owner.forget();
        let _ = body.set_attribute("data-hydrated", "true");
        // Then, in the background, the chunks of the other pages.
        app::pages::preload_lazy_routes();
    });
}
