use leptos::html::Input;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use super::login::{clear_on_error, form_message};
use crate::account::{
    list_sessions, security_log, ChangePassword, RevokeOtherSessions, RevokeSession, SecurityEntry,
    SessionInfo,
};
use crate::email::{email_status, AccountEmail, ChangeEmail, ResendVerification};
use crate::error::AppError;

/// `/account` — sign-in required. The user's sessions (end any one, or all the others)
/// the password change, and the security log. Every control is a form: it works before
/// the wasm loads. Both lists follow the account's events while the page is open.
#[component]
pub fn AccountPage() -> impl IntoView {
    let revoke = ServerAction::<RevokeSession>::new();
    let revoke_others = ServerAction::<RevokeOtherSessions>::new();
    let change = ServerAction::<ChangePassword>::new();
    let change_email = ServerAction::<ChangeEmail>::new();
    let resend = ServerAction::<ResendVerification>::new();
    let feed = expect_context::<crate::live::LiveFeed>();
    let versions = move || {
        (
            revoke.version().get(),
            revoke_others.version().get(),
            change.version().get(),
            feed.security.get(),
        )
    };
    let sessions = Resource::new(versions, |_| list_sessions());
    let log = Resource::new(versions, |_| security_log());
    // A sensitive action without a recent proof: confirm first, then come back here.
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        let refused =
            |e: Option<Result<(), AppError>>| matches!(e, Some(Err(AppError::SudoRequired)));
        let revoked = revoke.value().get().map(|r| r.map(|_| ()));
        let others = revoke_others.value().get().map(|r| r.map(|_| ()));
        if refused(revoked) || refused(others) || refused(change_email.value().get()) {
            navigate("/confirm?next=/account", Default::default());
        }
    });
    // Ending the session in use signs out: start afresh with a full page load.
    Effect::new(move |_| {
        if let Some(Ok(true)) = revoke.value().get() {
            let _ = window().location().set_href("/");
        }
    });
    let query = use_query_map();
    let changed = move || query.read().get("changed").is_some();
    let was_reset = move || query.read().get("reset").is_some();
    view! {
        <Title text="Your account · Oxide & Oak"/>
        <h1>"Your account"</h1>
        <Show when=was_reset>
            <p class="notice" role="status" data-testid="reset-done">
                "Your new password is set, and every other session of the account was signed out."
            </p>
        </Show>
        <section class="card account-section" id="email">
            <h2>"Your email address"</h2>
            <EmailSection change=change_email resend/>
        </section>
        <section class="card account-section">
            <h2>"Where you are signed in"</h2>
            <SessionList sessions revoke revoke_others/>
        </section>
        <section class="card account-section">
            <h2>"Passkeys"</h2>
            <p class="hint">
                "A passkey signs you in without a password, with your device's screen lock or a security key. It cannot be phished."
            </p>
            <super::passkeys::PasskeySection refresh=Signal::derive(move || feed.security.get())/>
        </section>
        <section class="card account-section">
            <h2>"Change your password"</h2>
            <Show when=changed>
                <p class="notice" role="status">
                    "Your password is changed. Every other session was signed out."
                </p>
            </Show>
            <PasswordForm change/>
        </section>
        <section class="card account-section">
            <h2>"Security activity"</h2>
            <p class="hint">"Sign-ins, sign-outs, password and passkey changes of the last 90 days, newest first."</p>
            <SecurityLog log/>
        </section>
    }
}

/// The account's address: confirmed or waiting for its link (with "send it again"), and
/// the form to change it (a sensitive action: sudo mode).
#[component]
fn EmailSection(
    change: ServerAction<ChangeEmail>,
    resend: ServerAction<ResendVerification>,
) -> impl IntoView {
    let address = Resource::new(
        move || (change.version().get(), resend.version().get()),
        |_| email_status(),
    );
    let query = use_query_map();
    let change_error = form_message(change.value());
    let resend_error = form_message(resend.value());
    let pending_notice = move || {
        matches!(change.value().get(), Some(Ok(())))
            || query.read().get("email").as_deref() == Some("pending")
    };
    let resent = move || {
        matches!(resend.value().get(), Some(Ok(()))) || query.read().get("resent").is_some()
    };
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match address.await {
                    Ok(AccountEmail { verified, pending }) => view! {
                        {match verified {
                            Some(a) => view! {
                                <p class="account-email" data-testid="email-verified">
                                    <strong>{a}</strong> " " <span class="tag">"Confirmed"</span>
                                </p>
                            }
                            .into_any(),
                            None => view! {
                                <p class="muted" data-testid="email-none">"No confirmed address yet: a forgotten password cannot be recovered."</p>
                            }
                            .into_any(),
                        }}
                        {pending.map(|p| view! {
                            <p class="account-email" data-testid="email-pending">
                                <strong>{p}</strong> " " <span class="tag tag--muted">"Waiting for its link"</span>
                            </p>
                            <ActionForm action=resend>
                                <button type="submit" class="button--ghost">"Send the link again"</button>
                            </ActionForm>
                        })}
                    }
                    .into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <Show when=pending_notice>
            <p class="notice" role="status">"Check that mailbox: the address changes once its link is opened (within 24 hours)."</p>
        </Show>
        <Show when=resent>
            <p class="notice" role="status">"The link is on its way again."</p>
        </Show>
        <Show when=move || resend_error().is_some()>
            <p class="form-error" role="alert">{resend_error}</p>
        </Show>
        <Show when=move || change_error().is_some()>
            <p class="form-error" role="alert">{change_error}</p>
        </Show>
        <ActionForm action=change attr:class="form">
            <label>
                "New address"
                <input type="email" name="email" autocomplete="email" required maxlength="254"/>
            </label>
            <p class="hint">"We mail a link to the new address and tell the old one."</p>
            <button type="submit" disabled=move || change.pending().get()>"Change the address"</button>
        </ActionForm>
    }
}

/// The user's sessions, each with its "sign out", and "sign out all other sessions".
#[component]
fn SessionList(
    sessions: Resource<Result<Vec<SessionInfo>, AppError>>,
    revoke: ServerAction<RevokeSession>,
    revoke_others: ServerAction<RevokeOtherSessions>,
) -> impl IntoView {
    let ended = move || match revoke_others.value().get() {
        Some(Ok(0)) => Some("There were no other sessions.".to_string()),
        Some(Ok(1)) => Some("1 other session was signed out.".to_string()),
        Some(Ok(n)) => Some(format!("{n} other sessions were signed out.")),
        _ => None,
    };
    view! {
        <Show when=move || ended().is_some()>
            <p class="notice" role="status">{ended}</p>
        </Show>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match sessions.await {
                    Ok(list) => view! {
                        <ul class="session-list">
                            {list
                                .into_iter()
                                .map(|s| view! { <SessionRow session=s revoke/> })
                                .collect_view()}
                        </ul>
                    }
                    .into_any(),
                    Err(AppError::Unauthorized) => {
                        view! { <Redirect path="/login?next=/account"/> }.into_any()
                    }
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <ActionForm action=revoke_others>
            <button type="submit" class="button--ghost">"Sign out all other sessions"</button>
        </ActionForm>
    }
}

/// The account's security log, newest first.
#[component]
fn SecurityLog(log: Resource<Result<Vec<SecurityEntry>, AppError>>) -> impl IntoView {
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match log.await {
                    Ok(entries) if entries.is_empty() => {
                        view! { <p class="muted">"Nothing yet."</p> }.into_any()
                    }
                    Ok(entries) => view! {
                        <ol class="security-log" data-testid="security-log">
                            {entries.into_iter().map(|e| view! { <LogRow entry=e/> }).collect_view()}
                        </ol>
                    }
                    .into_any(),
                    Err(AppError::Unauthorized) => ().into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn LogRow(entry: SecurityEntry) -> impl IntoView {
    let detail = if entry.device.is_empty() || entry.network.is_empty() {
        entry.when.clone()
    } else {
        format!("{} · network {}", entry.when, entry.network)
    };
    view! {
        <li class="security-log__row" data-kind=entry.kind.name()>
            <span>{entry.text}</span>
            <span class="muted">{detail}</span>
        </li>
    }
}

#[component]
fn SessionRow(session: SessionInfo, revoke: ServerAction<RevokeSession>) -> impl IntoView {
    let label = if session.current {
        "Sign out here".to_string()
    } else {
        format!("Sign out {}", session.device)
    };
    view! {
        <li class="session-row" data-testid="session-row" data-current=session.current.to_string()>
            <div>
                <strong>{session.device.clone()}</strong>
                {session.current.then(|| view! { <span class="tag">"This device"</span> })}
                {session.remembered.then(|| view! { <span class="tag tag--muted">"Kept signed in"</span> })}
                <p class="muted">
                    {format!("Network {} · signed in {} · last seen {}", session.ip, session.created, session.last_seen)}
                </p>
            </div>
            <ActionForm action=revoke>
                <input type="hidden" name="handle" value=session.handle/>
                <button type="submit" class="button--ghost" aria-label=label>"Sign out"</button>
            </ActionForm>
        </li>
    }
}

#[component]
fn PasswordForm(change: ServerAction<ChangePassword>) -> impl IntoView {
    let error = form_message(change.value());
    let (current, new, confirm) = (
        NodeRef::<Input>::new(),
        NodeRef::<Input>::new(),
        NodeRef::<Input>::new(),
    );
    clear_on_error(change.value(), vec![current, new, confirm]);
    view! {
        <Show when=move || error().is_some()>
            <p class="form-error" role="alert">{error}</p>
        </Show>
        <ActionForm action=change attr:class="form">
            <label>
                "Current password"
                <input type="password" name="current_password" autocomplete="current-password" required node_ref=current/>
            </label>
            <label>
                "New password"
                <input type="password" name="new_password" autocomplete="new-password" required minlength="15" node_ref=new/>
            </label>
            <label>
                "Repeat the new password"
                <input type="password" name="new_password_confirm" autocomplete="new-password" required node_ref=confirm/>
            </label>
            <p class="hint">"At least 15 characters. Changing it signs out every other session."</p>
            <button type="submit" disabled=move || change.pending().get()>"Change password"</button>
        </ActionForm>
    }
}
