//! A lazy route's chunk that cannot be loaded (the network dropped, or a new release
//! replaced the files since this page was loaded) must not leave a dead page: the browser
//! then loads the page it was going to in full, from the server (hydrate only). Its
//! forms work before (and without) the wasm, like every page's.
//!
//! The router switches its URL at once and updates the address bar only once the new
//! page is ready, so [`FollowNavigation`] keeps the router's current target, and
//! `on_panic` (the panic hook of `frontend`) goes there when the failure surfaces: as
//! a panic of the chunk loader, which stops the wasm.

#[cfg(feature = "hydrate")]
use std::cell::RefCell;

use leptos::prelude::*;

#[cfg(feature = "hydrate")]
thread_local! {
    static TARGET: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The panic message of a chunk that failed to load (the wrapper `wasm_split_macros`
/// writes around every lazy function).
#[cfg(feature = "hydrate")]
const CHUNK_FAILED: &str = "load callback should succeed";

/// Keeps the router's target (placed once, inside the router).
#[component]
pub fn FollowNavigation() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    let url = leptos_router::hooks::use_url();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let url = url.get();
        let search = url.search();
        let target = match search {
            "" => url.path().to_string(),
            s if s.starts_with('?') => format!("{}{s}", url.path()),
            s => format!("{}?{s}", url.path()),
        };
        TARGET.with(|t| *t.borrow_mut() = Some(target));
    });
}

/// For the panic hook. A panic stops the wasm: from then on the page must behave as it
/// does without JavaScript (links load pages, forms post), not as a page whose buttons
/// no longer react. And if a chunk failed to load on the way to another page, that page
/// is loaded in full.
#[cfg(feature = "hydrate")]
pub fn on_panic(info: &std::panic::PanicHookInfo<'_>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    fall_back_to_plain_html(&window);
    if !info.to_string().contains(CHUNK_FAILED) {
        return;
    }
    let here = window
        .location()
        .pathname()
        .and_then(|p| Ok(p + &window.location().search()?))
        .ok();
    let target = TARGET.with(|t| t.borrow().clone());
    // Only a client-side navigation is sent on. A chunk that fails while this very page
    // hydrates (or is fetched ahead of use) would fail again after a reload: the page
    // stays as the server rendered it, its links and forms working as plain HTML.
    if let Some(target) = target.filter(|t| Some(t) != here.as_ref()) {
        let _ = window.location().set_href(&target);
    }
}

/// Keeps clicks and form submissions from reaching the (stopped) app: caught first, on
/// the way down, and stopped there, so the browser does what it does without scripts.
#[cfg(feature = "hydrate")]
fn fall_back_to_plain_html(window: &web_sys::Window) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    let stop = Closure::<dyn Fn(web_sys::Event)>::new(|e: web_sys::Event| {
        e.stop_immediate_propagation();
    });
    for event in ["click", "submit"] {
        let _ = window.add_event_listener_with_callback_and_bool(
            event,
            stop.as_ref().unchecked_ref(),
            true,
        );
    }
    // Lives as long as the page.
    stop.forget();
}
