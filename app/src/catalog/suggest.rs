//! The search box with suggestions while typing: a `<datalist>` of product names that
//! match what is typed so far (`GET /api/suggest`). Asked once typing pauses; a newer
//! text aborts the request still out for an older one (dropping a server function's
//! future in the browser aborts its `fetch`), so an old answer never replaces a newer.

use leptos::html::Input;
use leptos::prelude::*;

use super::Suggestion;

/// How long typing must pause before suggestions are asked for.
#[cfg(feature = "hydrate")]
const SUGGEST_DEBOUNCE_MS: u64 = 150;

/// The `q` field of a search form; `on_input` runs on every change of its text.
#[component]
pub fn SuggestingSearch(
    q: Signal<String>,
    node_ref: NodeRef<Input>,
    on_input: Callback<()>,
) -> impl IntoView {
    let suggestions = RwSignal::new(Vec::<Suggestion>::new());
    #[cfg(feature = "hydrate")]
    let ask = {
        let pending = StoredValue::new(None::<TimeoutHandle>);
        let running = StoredValue::new(None::<futures::future::AbortHandle>);
        move |text: String| {
            if let Some(handle) = pending.get_value() {
                handle.clear();
            }
            if let Some(handle) = running.get_value() {
                handle.abort();
            }
            let pause = std::time::Duration::from_millis(SUGGEST_DEBOUNCE_MS);
            let later = move || {
                let (task, handle) = futures::future::abortable(super::suggest(Some(text)));
                running.set_value(Some(handle));
                leptos::task::spawn_local(async move {
                    if let Ok(Ok(found)) = task.await {
                        suggestions.try_set(found);
                    }
                });
            };
            pending.set_value(set_timeout_with_handle(later, pause).ok());
        }
    };
    let typed = move |_| {
        on_input.run(());
        #[cfg(feature = "hydrate")]
        if let Some(el) = node_ref.get_untracked() {
            ask(el.value());
        }
    };
    view! {
        <label class="search">
            <span class="visually-hidden">"Search products"</span>
            <input
                type="search"
                id="search"
                name="q"
                placeholder="Search products"
                maxlength="100"
                autocomplete="off"
                list="search-suggestions"
                value=q
                node_ref=node_ref
                on:input=typed
            />
        </label>
        <datalist id="search-suggestions" data-testid="suggestions">
            <For each=move || suggestions.get() key=|s| s.slug.clone() let:s>
                <option value=s.name></option>
            </For>
        </datalist>
    }
}
