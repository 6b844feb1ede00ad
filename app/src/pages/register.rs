use leptos::html::Input;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::login::{clear_on_error, form_message};
use crate::auth::use_auth;

/// `/register` — create an account (works with and without JavaScript).
#[component]
pub fn RegisterPage() -> impl IntoView {
    let auth = use_auth();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let username = query.read_untracked().get("username").unwrap_or_default();
    let email = query.read_untracked().get("email").unwrap_or_default();
    let error = form_message(auth.register.value());
    let password = NodeRef::<Input>::new();
    let confirm = NodeRef::<Input>::new();
    clear_on_error(auth.register.value(), vec![password, confirm]);
    view! {
        <Title text="Create an account · Oxide & Oak"/>
        <section class="auth card">
            <h1>"Create an account"</h1>
            <Show when=move || error().is_some()>
                <p class="form-error" role="alert">{error}</p>
            </Show>
            <ActionForm action=auth.register>
                <input type="hidden" name="next" value=next/>
                <label>
                    "Username"
                    <input
                        type="text"
                        name="username"
                        autocomplete="username"
                        required
                        minlength="3"
                        maxlength="32"
                        aria-describedby="username-hint"
                        value=username
                    />
                </label>
                <p class="hint" id="username-hint">"3–32 letters, digits, '_', '.' or '-'."</p>
                <label>
                    "Email"
                    <input
                        type="email"
                        name="email"
                        autocomplete="email"
                        required
                        maxlength="254"
                        aria-describedby="email-hint"
                        value=email
                    />
                </label>
                <p class="hint" id="email-hint">"We send a link to confirm it. It is how you get back in if you forget your password."</p>
                <label>
                    "Password"
                    <input
                        type="password"
                        name="password"
                        autocomplete="new-password"
                        required
                        minlength="15"
                        maxlength="128"
                        aria-describedby="password-hint"
                        node_ref=password
                    />
                </label>
                <p class="hint" id="password-hint">"At least 15 characters. A few random words work well."</p>
                <label>
                    "Repeat the password"
                    <input type="password" name="password_confirm" autocomplete="new-password" required node_ref=confirm/>
                </label>
                <button type="submit" disabled=move || auth.register.pending().get()>"Create account"</button>
            </ActionForm>
            <p>"Already have an account? " <a href="/login">"Sign in"</a></p>
        </section>
    }
}
