use leptos::html::Input;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::auth::use_auth;
use crate::auth::validate::FormError;

/// The message to show: the hydrated action's error, else the `?error=` code of a plain
/// form round trip.
pub(crate) fn form_message<T, S>(
    value: S,
) -> impl Fn() -> Option<String> + Copy + Send + Sync + 'static
where
    S: Get<Value = Option<Result<T, crate::error::AppError>>> + Copy + Send + Sync + 'static,
{
    let query = use_query_map();
    move || match value.get() {
        Some(Err(e)) => Some(e.to_string()),
        Some(Ok(_)) => None,
        None => query
            .read()
            .get("error")
            .and_then(|c| FormError::from_code(&c))
            .map(|e| e.message().to_string()),
    }
}

/// After a failed attempt the password field is emptied (the username stays).
pub(crate) fn clear_on_error<T, S>(value: S, fields: Vec<NodeRef<Input>>)
where
    S: Get<Value = Option<Result<T, crate::error::AppError>>> + Copy + Send + Sync + 'static,
{
    Effect::new(move |_| {
        if let Some(Err(_)) = value.get() {
            for field in &fields {
                if let Some(el) = field.get_untracked() {
                    el.set_value("");
                }
            }
        }
    });
}

/// `/login` — works as a plain HTML form before the wasm loads and as an action after.
#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = use_auth();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let username = query.read_untracked().get("username").unwrap_or_default();
    let error = form_message(auth.login.value());
    let password = NodeRef::<Input>::new();
    clear_on_error(auth.login.value(), vec![password]);
    let passkey_starting = RwSignal::new(false);
    let register_href = move || match next().as_str() {
        "" | "/" => "/register".to_string(),
        n => format!("/register?next={}", crate::url::encode_query_value(n)),
    };
    view! {
        <Title text="Sign in · Oxide & Oak"/>
        <section class="auth card">
            <h1>"Sign in"</h1>
            <Show when=move || error().is_some()>
                <p class="form-error" role="alert">{error}</p>
            </Show>
            <ActionForm action=auth.login>
                <input type="hidden" name="next" value=next/>
                <label>
                    "Username"
                    <input type="text" name="username" autocomplete="username webauthn" required value=username/>
                </label>
                <label>
                    "Password"
                    <input type="password" name="password" autocomplete="current-password" required node_ref=password/>
                </label>
                <label class="checkbox">
                    <input type="checkbox" name="remember" value="on"/>
                    "Keep me signed in for 30 days"
                </label>
                <button type="submit" disabled=move || auth.login.pending().get() || passkey_starting.get()>
                    "Sign in"
                </button>
            </ActionForm>
            <super::passkeys::PasskeySignIn next=Signal::derive(next) starting=passkey_starting/>
            <p><a href="/forgot">"Forgot your password?"</a></p>
            <p>"New here? " <a href=register_href>"Create an account"</a></p>
            <p class="hint">"Demo accounts: alice / wonderland-2026 and bob / builder-bob-2026"</p>
        </section>
    }
}
