use leptos::html::Input;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::login::{clear_on_error, form_message};
use crate::auth::ConfirmIdentity;

/// `/confirm?next=…` — sign-in required. Sudo mode: the password again before a
/// sensitive action, then back to `next`. A plain form before the wasm loads, an action
/// after.
#[component]
pub fn ConfirmPage() -> impl IntoView {
    let confirm = ServerAction::<ConfirmIdentity>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let error = form_message(confirm.value());
    let password = NodeRef::<Input>::new();
    clear_on_error(confirm.value(), vec![password]);
    view! {
        <Title text="Confirm it is you · Oxide & Oak"/>
        <section class="auth card">
            <h1>"Confirm it is you"</h1>
            <p>"For your security, enter your password again before this change."</p>
            <Show when=move || error().is_some()>
                <p class="form-error" role="alert">{error}</p>
            </Show>
            <ActionForm action=confirm>
                <input type="hidden" name="next" value=next/>
                <label>
                    "Password"
                    <input
                        type="password"
                        name="password"
                        autocomplete="current-password"
                        required
                        node_ref=password
                    />
                </label>
                <button type="submit" disabled=move || confirm.pending().get()>"Confirm"</button>
            </ActionForm>
            <super::passkeys::PasskeyConfirm next=Signal::derive(next)/>
        </section>
    }
}
