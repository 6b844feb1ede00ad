use leptos::prelude::*;

use super::api::cart_count;
use crate::auth::Auth;
use crate::error::AppError;

/// Cart state shared by every page: the badge count as the server last said it, what is
/// in flight (shown optimistically), and a version that cart views refetch on.
#[derive(Clone, Copy)]
pub struct CartState {
    /// The server's count; refetched after sign-in, registration and sign-out.
    pub count: Resource<Result<i64, AppError>>,
    /// The count from the latest cart change the server confirmed.
    pub confirmed: RwSignal<Option<i64>>,
    /// Items added but not yet confirmed (optimistic; rolled back on failure).
    pub pending: RwSignal<i64>,
    /// Bumped after every confirmed change.
    pub version: RwSignal<u64>,
}

impl CartState {
    /// Puts the cart state into context (once, in `App`).
    pub fn provide(auth: Auth) -> Self {
        let count = Resource::new(
            move || {
                (
                    auth.login.version().get(),
                    auth.register.version().get(),
                    auth.logout.version().get(),
                )
            },
            |_| cart_count(),
        );
        let state = CartState {
            count,
            confirmed: RwSignal::new(None),
            pending: RwSignal::new(0),
            version: RwSignal::new(0),
        };
        // A fresh server count (after sign-in or sign-out) replaces older answers.
        Effect::new(move |_| {
            if let Some(Ok(n)) = count.get() {
                state.confirmed.set(Some(n));
            }
        });
        provide_context(state);
        state
    }

    /// What the badge shows, given the count rendered by the server.
    pub fn shown(&self, server: i64) -> i64 {
        self.confirmed.get().unwrap_or(server) + self.pending.get()
    }

    /// Records a cart change's answer from the server.
    pub fn settle(&self, result: &Result<super::CartSummary, AppError>) {
        self.pending.set(0);
        if let Ok(summary) = result {
            self.confirmed.set(Some(summary.count));
            self.version.update(|v| *v += 1);
        }
    }
}

/// The cart state provided by `App`.
pub fn use_cart() -> CartState {
    expect_context::<CartState>()
}
