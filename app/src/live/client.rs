//! The browser's side of the event stream (hydrate only): one `EventSource` per tab.
//!
//! It is opened after hydration, and opened again (if it is not open) when the tab gets
//! focus and when this tab signs in or changes the cart, since a visitor without a
//! session gets no stream (204) until they have one. The browser reconnects a dropped
//! stream by itself; the first message after any (re)connect is the current state.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{EventSource, MessageEvent};

use super::model::{LiveState, Why, EVENTS_PATH, STATE_EVENT};
use super::LiveFeed;
use crate::auth::{use_auth, UserInfo};
use crate::cart::use_cart;

/// An open stream and the callbacks it holds (dropped with it).
struct Connection {
    source: EventSource,
    _on_state: Closure<dyn FnMut(MessageEvent)>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.source.close();
    }
}

/// Follows this session's events: updates the header's user, the cart badge and an open
/// cart page, and on an ended session shows `notice` and leaves a private page.
pub(super) fn follow(notice: RwSignal<Option<&'static str>>) {
    let auth = use_auth();
    let cart = use_cart();
    let feed = expect_context::<LiveFeed>();
    let navigate = use_navigate();
    let location = use_location();
    let connection = StoredValue::new_local(None::<Connection>);
    // A sign-out started in this tab needs no notice when its own stream reports it.
    let signing_out_here = StoredValue::new(false);
    Effect::new(move |_| {
        if auth.logout.pending().get() {
            signing_out_here.set_value(true);
        }
    });

    let on_state = move |state: LiveState| {
        let here = show_user(auth, &state);
        show_cart(cart, &state);
        if !matches!(
            state.why,
            Why::Hello | Why::CartChanged | Why::SignedIn | Why::SignedInWithPasskey
        ) {
            feed.security.update(|v| *v += 1);
        }
        if state.user.is_some() {
            signing_out_here.set_value(false);
        }
        if state.ended {
            connection.set_value(None);
            // Told only if it was signed in here (a guest's cart timing out needs no words)
            // and did not sign out in this very tab.
            if here.is_some() && !signing_out_here.get_value() {
                notice.set(state.notice());
                let path = location.pathname.get_untracked();
                if crate::path_in(&path, crate::SIGN_IN_REQUIRED) {
                    let next = format!("/login?next={}", crate::url::encode_query_value(&path));
                    navigate(&next, NavigateOptions::default());
                }
            }
        }
    };

    let open = move || {
        let open_now = connection.with_value(|c| {
            c.as_ref()
                .is_some_and(|c| c.source.ready_state() != EventSource::CLOSED)
        });
        if !open_now {
            connection.set_value(connect(on_state.clone()));
        }
    };

    // After hydration, and again when this tab's user or cart changes (it may have just
    // got a session).
    let open_again = open.clone();
    Effect::new(move |_| {
        let _ = auth.user.get();
        let _ = cart.confirmed.get();
        open_again();
    });
    // A tab without a stream (no session when it loaded, or refused as one too many)
    // tries again when it is looked at.
    let _ = window_event_listener(leptos::ev::focus, {
        let open = open.clone();
        move |_| open()
    });
}

/// The header's user as the message says. Applied from the message itself, without
/// asking the server: a request sent now could still carry a token that the change being
/// reported has just replaced. Returns who was signed in here before.
fn show_user(auth: crate::auth::Auth, state: &LiveState) -> Option<String> {
    let here = auth
        .user
        .get_untracked()
        .and_then(|r| r.ok())
        .flatten()
        .map(|u| u.username);
    if here != state.user {
        let user = state.user.clone().map(|username| UserInfo { username });
        auth.user.set(Some(Ok(user)));
    }
    here
}

/// The cart badge as the message says; an open cart page reads its lines again (after a
/// sign-in in another tab, only once that tab has surely received its new cookie).
fn show_cart(cart: crate::cart::CartState, state: &LiveState) {
    if cart.confirmed.get_untracked() == Some(state.cart) && state.why != Why::OrderPlaced {
        return;
    }
    cart.confirmed.set(Some(state.cart));
    let bump = move || cart.version.update(|v| *v += 1);
    if matches!(state.why, Why::SignedIn | Why::SignedInWithPasskey) {
        set_timeout(bump, std::time::Duration::from_secs(1));
    } else {
        bump();
    }
}

/// Opens the stream, handing every state message to `on_state`. `None` if the browser
/// refused (the tab tries again when it is looked at).
fn connect(on_state: impl Fn(LiveState) + 'static) -> Option<Connection> {
    let source = EventSource::new(EVENTS_PATH).ok()?;
    let callback = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let Some(data) = e.data().as_string() else {
            return;
        };
        match serde_json::from_str::<LiveState>(&data) {
            Ok(state) => on_state(state),
            Err(_) => leptos::logging::warn!("unreadable live state ignored"),
        }
    });
    let listening =
        source.add_event_listener_with_callback(STATE_EVENT, callback.as_ref().unchecked_ref());
    if listening.is_err() {
        source.close();
        return None;
    }
    Some(Connection {
        source,
        _on_state: callback,
    })
}
