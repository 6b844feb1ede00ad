//! The pages of a forgotten password and of mailed links: `/forgot`, `/reset` and
//! `/verified`. Every form works before the wasm loads.

use leptos::html::Input;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::login::{clear_on_error, form_message};
use crate::email::{reset_status, ForgotPassword, ResetPassword};

/// `/forgot` — asks for an address or a username and mails a reset link. Says the same
/// whether or not an account matched.
#[component]
pub fn ForgotPage() -> impl IntoView {
    let forgot = ServerAction::<ForgotPassword>::new();
    let query = use_query_map();
    let error = form_message(forgot.value());
    let sent = move || {
        matches!(forgot.value().get(), Some(Ok(())))
            || (forgot.value().get().is_none() && query.read().get("sent").is_some())
    };
    view! {
        <Title text="Forgot your password? · Oxide & Oak"/>
        <section class="auth card">
            <h1>"Forgot your password?"</h1>
            <Show
                when=sent
                fallback=move || view! {
                    <p>"Enter your account's address or username. If the account has a confirmed address, we mail it a link to choose a new password."</p>
                    <Show when=move || error().is_some()>
                        <p class="form-error" role="alert">{error}</p>
                    </Show>
                    <ActionForm action=forgot>
                        <label>
                            "Email or username"
                            <input type="text" name="account" autocomplete="email" required maxlength="254"/>
                        </label>
                        <button type="submit" disabled=move || forgot.pending().get()>"Send the link"</button>
                    </ActionForm>
                }
            >
                <p class="notice" role="status" data-testid="forgot-sent">
                    "If an account has that address or name and a confirmed address, a link is on its way there. It works once, for 30 minutes."
                </p>
                <p>"Nothing arrived? Check the spam folder, or " <a href="/forgot">"ask again"</a> "."</p>
            </Show>
            <p><a href="/login">"Back to sign in"</a></p>
        </section>
    }
}

/// `/reset` — the new password, for the reset link this browser opened (its token waits
/// in the server-side session, never in this page's address).
#[component]
pub fn ResetPage() -> impl IntoView {
    let reset = ServerAction::<ResetPassword>::new();
    let held = Resource::new(|| (), |_| reset_status());
    let error = form_message(reset.value());
    let (password, confirm) = (NodeRef::<Input>::new(), NodeRef::<Input>::new());
    clear_on_error(reset.value(), vec![password, confirm]);
    view! {
        <Title text="Choose a new password · Oxide & Oak"/>
        <section class="auth card">
            <h1>"Choose a new password"</h1>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match held.await {
                        Ok(Some(info)) => view! {
                            <p>"For the account " <strong data-testid="reset-account">{info.username.clone()}</strong> ". Every session of the account is signed out when it is set."</p>
                            <Show when=move || error().is_some()>
                                <p class="form-error" role="alert">{error}</p>
                            </Show>
                            <ActionForm action=reset>
                                <input type="text" name="username" autocomplete="username" hidden value=info.username/>
                                <label>
                                    "New password"
                                    <input type="password" name="password" autocomplete="new-password" required minlength="15" maxlength="128" node_ref=password/>
                                </label>
                                <label>
                                    "Repeat the new password"
                                    <input type="password" name="password_confirm" autocomplete="new-password" required node_ref=confirm/>
                                </label>
                                <p class="hint">"At least 15 characters. A few random words work well."</p>
                                <button type="submit" disabled=move || reset.pending().get()>"Set the password"</button>
                            </ActionForm>
                        }
                        .into_any(),
                        Ok(None) => view! {
                            <p class="form-error" role="alert" data-testid="reset-invalid">
                                {crate::auth::validate::FormError::ResetLink.message()}
                            </p>
                            <p><a href="/forgot">"Ask for a new link"</a></p>
                        }
                        .into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// `/verified?result=…` — what opening a verification link did.
#[component]
pub fn VerifiedPage() -> impl IntoView {
    let query = use_query_map();
    let result = move || query.read().get("result").unwrap_or_default();
    let text = move || match result().as_str() {
        "done" => "Your address is confirmed. Mail from the shop goes there from now on.",
        "taken" => "This address belongs to another account now, so it was not added to yours.",
        "error" => "Something went wrong on our side. Please open the link again.",
        _ => "This link has expired or was already used. Send a new one from your account page.",
    };
    view! {
        <Title text="Your address · Oxide & Oak"/>
        <section class="auth card">
            <h1>"Your address"</h1>
            <p class=move || if result() == "done" { "notice" } else { "form-error" } role="status" data-testid="verified">
                {text}
            </p>
            <p><a href="/account#email">"Go to your account"</a></p>
        </section>
    }
}
