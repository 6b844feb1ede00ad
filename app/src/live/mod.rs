//! Live session state in every open tab: the server streams this session's state
//! (`GET /api/events`, server-sent events) whenever an event concerns it (see
//! `sessions::events`), and the tab follows: the header's user and cart badge, an open
//! cart page, and, when the session ended elsewhere, the anonymous state with a notice
//! saying why (a private page goes to the sign-in page).
//!
//! - `model`: what the stream sends (both sides);
//! - `server` (ssr): the endpoint, its limits and its end at shutdown;
//! - `client` (hydrate): one `EventSource` per tab, opened after hydration.
//!
//! Without JavaScript nothing of this runs: the next request is refused as before.

#[cfg(feature = "hydrate")]
mod client;
#[cfg(feature = "ssr")]
pub mod hub;
pub mod model;
#[cfg(feature = "ssr")]
pub mod server;

pub use model::*;

use leptos::prelude::*;

/// The notice a tab shows when its session was ended from elsewhere, and (in the
/// browser) the stream that tells it. Placed once, inside the router.
#[component]
pub fn LiveEvents() -> impl IntoView {
    let notice = RwSignal::new(None::<&'static str>);
    #[cfg(feature = "hydrate")]
    client::follow(notice);
    view! {
        <div class="live-notice-area" aria-live="polite">
            <Show when=move || notice.get().is_some()>
                <p class="notice live-notice">
                    <span data-testid="live-notice">{move || notice.get()}</span>
                    <button
                        type="button"
                        class="button--ghost live-notice__close"
                        aria-label="Dismiss"
                        on:click=move |_| notice.set(None)
                    >
                        "×"
                    </button>
                </p>
            </Show>
        </div>
    }
}

/// What the open page may want to follow: bumped whenever the stream reports an event
/// of the account (the account page reloads its security log).
#[derive(Clone, Copy)]
pub struct LiveFeed {
    pub security: RwSignal<u64>,
}

impl LiveFeed {
    /// Puts the feed into context (once, in `App`).
    pub fn provide() -> Self {
        let feed = LiveFeed {
            security: RwSignal::new(0),
        };
        provide_context(feed);
        feed
    }
}
