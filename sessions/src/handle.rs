//! `SessionHandle`: what handlers (and Leptos server functions) use to read and change
//! the current session. It never writes cookies; the middleware turns the recorded
//! change into exactly one `Set-Cookie` on the way out.

use std::sync::{Arc, Mutex};

use crate::error::StoreError;
use crate::events::SignInBy;
use crate::session::{ClientMeta, Session, SessionId};
use crate::store::SessionStore;
use crate::token::{SessionToken, TokenHash};

/// What the response must do with the session cookie.
#[derive(Debug, Clone)]
pub(crate) enum CookieChange {
    /// Nothing to send.
    None,
    /// Send this (new) token.
    Set {
        token: SessionToken,
        persistent: bool,
    },
    /// Remove the cookie; `clear_site_data` also sends `Clear-Site-Data: "storage"`.
    Clear { clear_site_data: bool },
}

/// What the request's session cookie turned out to be, as far as the handle cares.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Presented {
    /// No usable token: none, or one refused (malformed, unknown, expired, duplicated).
    Nothing,
    /// The token of the live session the request began with.
    Live(TokenHash),
    /// A token that a rotation replaced moments ago ([`crate::Lookup::Replaced`]).
    Replaced,
}

#[derive(Debug)]
struct State {
    session: Option<Session>,
    cookie: CookieChange,
    presented: Presented,
}

/// The current request's session. Cloning shares the same state.
#[derive(Debug, Clone)]
pub struct SessionHandle {
    store: SessionStore,
    meta: Arc<ClientMeta>,
    state: Arc<Mutex<State>>,
}

impl SessionHandle {
    pub(crate) fn new(
        store: SessionStore,
        meta: ClientMeta,
        session: Option<Session>,
        presented: Presented,
    ) -> Self {
        SessionHandle {
            store,
            meta: Arc::new(meta),
            state: Arc::new(Mutex::new(State {
                session,
                cookie: CookieChange::None,
                presented,
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere cannot leave `State` half-written (every write is a single
        // assignment), so a poisoned lock is safe to use.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The session as loaded (or as changed by this request), if any.
    pub fn session(&self) -> Option<Session> {
        self.lock().session.clone()
    }

    /// The internal session id, if a session exists.
    pub fn id(&self) -> Option<SessionId> {
        self.lock().session.as_ref().map(|s| s.id)
    }

    /// The signed-in user, if any.
    pub fn user_id(&self) -> Option<i64> {
        self.lock().session.as_ref().and_then(|s| s.user_id)
    }

    /// The store behind this handle.
    pub fn store(&self) -> &SessionStore {
        &self.store
    }

    pub(crate) fn cookie_change(&self) -> CookieChange {
        self.lock().cookie.clone()
    }

    fn set(&self, session: Option<Session>, cookie: CookieChange) {
        let mut st = self.lock();
        st.session = session;
        st.cookie = cookie;
    }

    /// The session id, creating a guest session first if there is none. This is the only
    /// way an anonymous visitor gets a session (for example, at the first add-to-cart).
    /// [`StoreError::Replaced`] if the request came with a token that a rotation has just
    /// replaced: the browser holds the newer one, which a guest session's cookie would
    /// overwrite.
    pub async fn ensure(&self) -> Result<SessionId, StoreError> {
        if let Some(id) = self.id() {
            return Ok(id);
        }
        if matches!(self.lock().presented, Presented::Replaced) {
            return Err(StoreError::Replaced);
        }
        let (token, session) = self.store.create(None, false, &self.meta).await?;
        let id = session.id;
        tracing::info!(session = id.0, "guest session created");
        self.set(
            Some(session),
            CookieChange::Set {
                token,
                persistent: false,
            },
        );
        Ok(id)
    }

    /// Signs `user_id` in. A guest session is upgraded in place with a new token (so its
    /// data, such as a guest cart, stays with it, and a token planted before login is
    /// worthless after it); a session of another user is ended and a fresh one begun.
    pub async fn login(&self, user_id: i64, persistent: bool) -> Result<SessionId, StoreError> {
        self.login_by(user_id, persistent, SignInBy::Password).await
    }

    /// [`login`](Self::login), `by` a password or a passkey (what the security log says).
    pub async fn login_by(
        &self,
        user_id: i64,
        persistent: bool,
        by: SignInBy,
    ) -> Result<SessionId, StoreError> {
        let current = self.session();
        let upgraded = match &current {
            Some(s) if s.user_id.is_none() || s.user_id == Some(user_id) => {
                self.store
                    .authenticate_by(s.id, user_id, persistent, by)
                    .await?
            }
            Some(s) => {
                self.store.delete(s.id).await?;
                None
            }
            None => None,
        };
        let (token, session) = match upgraded {
            Some(pair) => pair,
            None => {
                // The browser's token, if its session just ended here, is replaced by
                // the new session's (§4 rule 12), as a rotation on the same row would be.
                let replaces = match self.lock().presented {
                    Presented::Live(hash) => Some(hash),
                    Presented::Nothing | Presented::Replaced => None,
                };
                self.store
                    .create_by(Some(user_id), persistent, &self.meta, by, replaces)
                    .await?
            }
        };
        let id = session.id;
        tracing::info!(session = id.0, user = user_id, persistent, "signed in");
        self.set(Some(session), CookieChange::Set { token, persistent });
        Ok(id)
    }

    /// Ends the session: the row is deleted (so the token is dead everywhere at once) and
    /// the response clears the cookie and sends `Clear-Site-Data: "storage"`.
    pub async fn logout(&self) -> Result<(), StoreError> {
        if let Some(s) = self.session() {
            self.store.delete(s.id).await?;
            tracing::info!(session = s.id.0, user = ?s.user_id, "signed out");
        }
        self.set(
            None,
            CookieChange::Clear {
                clear_site_data: true,
            },
        );
        Ok(())
    }

    /// Changes the signed-in user's password from `old_hash` to `new_hash` in one
    /// transaction with ending every other session of the user and giving this one a new
    /// token (see [`SessionStore::change_password`]). `false` if nothing changed (not
    /// signed in, or the stored hash is no longer `old_hash`).
    pub async fn change_password(
        &self,
        old_hash: String,
        new_hash: String,
    ) -> Result<bool, StoreError> {
        let Some(s) = self.session() else {
            return Ok(false);
        };
        let Some(user_id) = s.user_id else {
            return Ok(false);
        };
        match self
            .store
            .change_password(user_id, s.id, old_hash, new_hash)
            .await?
        {
            Some(token) => {
                let persistent = s.persistent;
                self.set(Some(s), CookieChange::Set { token, persistent });
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Resets `user_id`'s password from `old_hash` to `new_hash` (a mailed link proved
    /// the right to): every session of the user ends, then this browser signs in as
    /// usual, with a new token (a guest session keeps its cart). `false` if the stored
    /// hash was no longer `old_hash` (the link was used meanwhile): nothing changed.
    pub async fn reset_password(
        &self,
        user_id: i64,
        old_hash: String,
        new_hash: String,
    ) -> Result<bool, StoreError> {
        if !self
            .store
            .reset_password(user_id, old_hash, new_hash, &self.meta)
            .await?
        {
            return Ok(false);
        }
        tracing::info!(
            user = user_id,
            "password reset; every session of the user ended"
        );
        self.login(user_id, false).await?;
        Ok(true)
    }

    /// The device and network of the request (as a new session row would record them).
    pub fn meta(&self) -> &ClientMeta {
        &self.meta
    }

    /// Records a proof of identity on the signed-in session (sudo mode), with a new token
    /// (see [`SessionStore::prove`]). `false` if not signed in or the session is gone.
    pub async fn prove(&self) -> Result<bool, StoreError> {
        let Some(s) = self.session() else {
            return Ok(false);
        };
        let Some(user_id) = s.user_id else {
            return Ok(false);
        };
        match self.store.prove(s.id, user_id).await? {
            Some(token) => {
                let persistent = s.persistent;
                tracing::info!(session = s.id.0, user = user_id, "identity confirmed");
                self.set(Some(s), CookieChange::Set { token, persistent });
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Whether the signed-in session is in sudo mode (a proof within the window), which
    /// it extends (see [`SessionStore::sudo`]).
    pub async fn sudo(&self) -> Result<bool, StoreError> {
        match self.id() {
            Some(id) if self.user_id().is_some() => self.store.sudo(id).await,
            _ => Ok(false),
        }
    }

    /// Ends one session of the signed-in user, named by its public handle. Ending the
    /// current one is a logout. Returns whether a session ended (a handle of another
    /// user's session ends nothing).
    pub async fn end_session(&self, handle: &str) -> Result<bool, StoreError> {
        let Some(s) = self.session() else {
            return Ok(false);
        };
        let Some(user_id) = s.user_id else {
            return Ok(false);
        };
        if s.handle == handle {
            self.logout().await?;
            return Ok(true);
        }
        let ended = self.store.delete_by_handle(user_id, handle).await?;
        if let Some(id) = ended {
            tracing::info!(
                session = id.0,
                user = user_id,
                "session ended from another one"
            );
        }
        Ok(ended.is_some())
    }

    /// Ends every other session of the signed-in user. Returns how many ended.
    pub async fn end_other_sessions(&self) -> Result<u64, StoreError> {
        let Some(s) = self.session() else {
            return Ok(0);
        };
        let Some(user_id) = s.user_id else {
            return Ok(0);
        };
        self.store.delete_user_sessions(user_id, Some(s.id)).await
    }
}
