use crate::error::AppError;
use leptos::prelude::*;

use super::model::*;

/// `POST /api/login` — fields `username`, `password`, optional `remember` ("on" keeps the
/// session for 30 days with a persistent cookie), optional `next` (a local path to go to
/// afterwards). Success: the session token is rotated and the client is sent to `next`.
/// Failure: 401 "Wrong username or password." whether or not the user exists (a plain
/// HTML form is instead redirected back to `/login` with the error).
#[server(prefix = "/api", endpoint = "login", output = crate::codec::Json)]
pub async fn login(
    username: String,
    password: String,
    remember: Option<String>,
    next: Option<String>,
) -> Result<(), AppError> {
    let next = super::validate::safe_next(next.as_deref());
    let remember = crate::forms::is_checked(remember.as_deref());
    let outcome = super::server::sign_in(&username, password, remember).await;
    crate::forms::finish(
        outcome,
        &next,
        "/login",
        &[("username", &username), ("next", &next)],
    )
}

/// `POST /api/register` — fields `username`, `email`, `password`, `password_confirm`,
/// optional `next`. Creates the account, mails its address a verification link, signs it
/// in and goes to `next`. An address already in use answers exactly the same (its owner
/// is mailed instead). Invalid input: 422 with a message saying what to change.
#[server(prefix = "/api", endpoint = "register", output = crate::codec::Json)]
pub async fn register(
    username: String,
    email: String,
    password: String,
    password_confirm: String,
    next: Option<String>,
) -> Result<(), AppError> {
    let next = super::validate::safe_next(next.as_deref());
    let outcome = super::server::register(&username, &email, password, password_confirm).await;
    crate::forms::finish(
        outcome,
        &next,
        "/register",
        &[("username", &username), ("email", &email), ("next", &next)],
    )
}

/// `POST /api/confirm_identity` — fields `password`, optional `next` (a local path).
/// Sudo mode: proves the signed-in person is who the session says, so sensitive actions
/// (ending other sessions, and later passkeys and the address) work for the next
/// `SUDO_SECS`. The session token is rotated. A wrong password: 422 (throttled like a
/// sign-in, 429); anonymous: 401.
#[server(prefix = "/api", endpoint = "confirm_identity", output = crate::codec::Json)]
pub async fn confirm_identity(password: String, next: Option<String>) -> Result<(), AppError> {
    crate::session::signed_in()?;
    let next = super::validate::safe_next(next.as_deref());
    let outcome = super::server::confirm(password).await;
    crate::forms::finish(outcome, &next, "/confirm", &[("next", &next)])
}

/// `POST /api/logout` — ends the session everywhere (the row is deleted), clears the
/// cookie, sends `Clear-Site-Data: "storage"`, and goes to the catalog.
#[server(prefix = "/api", endpoint = "logout", output = crate::codec::Json)]
pub async fn logout() -> Result<(), AppError> {
    let session = crate::session::session()?;
    session.logout().await.map_err(AppError::from)?;
    leptos_axum::redirect("/");
    Ok(())
}

/// `POST /api/current_user` — the signed-in user, or `null` for an anonymous visitor.
#[server(prefix = "/api", endpoint = "current_user", output = crate::codec::Json)]
pub async fn current_user() -> Result<Option<UserInfo>, AppError> {
    let session = crate::session::session()?;
    let Some(user_id) = session.user_id() else {
        return Ok(None);
    };
    let name = super::server::display_name(user_id).await?;
    Ok(name.map(|username| UserInfo { username }))
}

/// Sign-in state shared by every page: the actions and the current user, provided once.
#[derive(Clone, Copy)]
pub struct Auth {
    pub login: ServerAction<Login>,
    pub register: ServerAction<Register>,
    pub logout: ServerAction<Logout>,
    /// Refetched whenever one of the actions completes.
    pub user: Resource<Result<Option<UserInfo>, AppError>>,
}

impl Auth {
    /// Puts the sign-in state into context (call once, in `App`).
    pub fn provide() -> Self {
        let login = ServerAction::<Login>::new();
        let register = ServerAction::<Register>::new();
        let logout = ServerAction::<Logout>::new();
        let user = Resource::new(
            move || {
                (
                    login.version().get(),
                    register.version().get(),
                    logout.version().get(),
                )
            },
            |_| current_user(),
        );
        let auth = Auth {
            login,
            register,
            logout,
            user,
        };
        provide_context(auth);
        auth
    }
}

/// The sign-in state provided by `App`.
pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}
