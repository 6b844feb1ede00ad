//! The passkey controls of the login, confirm and account pages. Passkeys need
//! JavaScript, so none of them is offered before the page is hydrated (nor where the
//! browser has no passkeys): the password forms beside them work either way. The WebAuthn
//! calls themselves are lazy functions (`passkeys::client`), a chunk of their own.

use leptos::prelude::*;

use crate::error::AppError;
use crate::passkeys::{PasskeyInfo, RemovePasskey, RenamePasskey};

/// True once the page is hydrated in a browser that can use passkeys.
fn available() -> ReadSignal<bool> {
    let (ready, set_ready) = signal(false);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        set_ready.set(crate::passkeys::client::supported());
        #[cfg(not(feature = "hydrate"))]
        let _ = set_ready;
    });
    ready
}

// The ceremonies' futures outlive their page when the person navigates away while one
// is under way: after an `.await` they only `try_` the page's signals (a disposed one
// would panic, and the panic hook would reload the page).

/// A ceremony's outcome in words; `None` when the person closed the prompt of an offer
/// that was withdrawn (nothing to say).
#[cfg(feature = "hydrate")]
fn said(error: String) -> Option<String> {
    (error != "aborted").then_some(error)
}

/// Where a successful sign-in or confirmation goes: a full page load, so every part of
/// the page (header, cart, lists) is read with the new session.
#[cfg(feature = "hydrate")]
fn go(to: &str) {
    let _ = window().location().set_href(to);
}

/// The end of a sign-in or confirmation started by a button: to where the server says
/// (a full page load), or the reason beside the button, which can be pressed again.
#[cfg(feature = "hydrate")]
fn settle(
    outcome: Result<String, String>,
    message: WriteSignal<Option<String>>,
    busy: WriteSignal<bool>,
) {
    match outcome {
        Ok(to) => go(&to),
        Err(e) => {
            message.try_set(said(e));
            busy.try_set(false);
        }
    }
}

/// "Sign in with a passkey" on `/login`, and the passkeys offered in the username
/// field's autofill where the browser has conditional mediation.
///
/// The autofill's options may start the visitor's (guest) session. `starting` is true
/// while they are on their way: the password form waits for them, or its answer and
/// theirs would each set a session cookie, and the one that arrived last would win.
#[component]
pub fn PasskeySignIn(
    #[prop(into)] next: Signal<String>,
    starting: RwSignal<bool>,
) -> impl IntoView {
    #[cfg(not(feature = "hydrate"))]
    let _ = (next, starting);
    let available = available();
    let (message, set_message) = signal(None::<String>);
    let (busy, set_busy) = signal(false);
    #[cfg(feature = "hydrate")]
    {
        use crate::passkeys::{client, passkey_sign_in, passkey_sign_in_options};
        Effect::new(move |started: Option<bool>| {
            if started == Some(true) || !available.get() {
                return started.unwrap_or(false);
            }
            starting.set(true);
            // An answer that never comes must not keep the password form waiting.
            set_timeout(
                move || {
                    starting.try_set(false);
                },
                std::time::Duration::from_secs(3),
            );
            leptos::task::spawn_local(async move {
                let options = passkey_sign_in_options(true).await;
                starting.try_set(false);
                let Ok(options) = options else {
                    return;
                };
                if busy.try_get_untracked().unwrap_or(true) {
                    return;
                }
                match client::autofill(options).await {
                    Ok(Some(credential)) => {
                        match passkey_sign_in(
                            credential,
                            Some(next.try_get_untracked().unwrap_or_default()),
                            true,
                        )
                        .await
                        {
                            Ok(to) => go(&to),
                            Err(e) => {
                                set_message.try_set(Some(e.to_string()));
                            }
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        set_message.try_set(said(e));
                    }
                }
            });
            true
        });
        on_cleanup(|| leptos::task::spawn_local(client::withdraw_autofill()));
    }
    let click = move |_| {
        set_busy.set(true);
        set_message.set(None);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            use crate::passkeys::{client, passkey_sign_in, passkey_sign_in_options};
            let outcome = async {
                let options = passkey_sign_in_options(false)
                    .await
                    .map_err(|e| e.to_string())?;
                let credential = client::get(options).await?;
                passkey_sign_in(
                    credential,
                    Some(next.try_get_untracked().unwrap_or_default()),
                    false,
                )
                .await
                .map_err(|e| e.to_string())
            }
            .await;
            settle(outcome, set_message, set_busy);
        });
    };
    view! {
        <Show when=move || available.get()>
            <div class="passkey-sign-in">
                <Show when=move || message.get().is_some()>
                    <p class="form-error" role="alert">{message}</p>
                </Show>
                <button type="button" class="button--ghost" on:click=click disabled=busy>
                    "Sign in with a passkey"
                </button>
            </div>
        </Show>
    }
}

/// "Use a passkey" on `/confirm`, for an account that has one.
#[component]
pub fn PasskeyConfirm(#[prop(into)] next: Signal<String>) -> impl IntoView {
    #[cfg(not(feature = "hydrate"))]
    let _ = next;
    let available = available();
    let keys = Resource::new(|| (), |_| crate::passkeys::passkeys());
    let has_keys = move || matches!(keys.get(), Some(Ok(list)) if !list.is_empty());
    let (message, set_message) = signal(None::<String>);
    let (busy, set_busy) = signal(false);
    let click = move |_| {
        set_busy.set(true);
        set_message.set(None);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            use crate::passkeys::{client, confirm_with_passkey, passkey_confirm_options};
            let outcome = async {
                let options = passkey_confirm_options().await.map_err(|e| e.to_string())?;
                let credential = client::get(options).await?;
                confirm_with_passkey(
                    credential,
                    Some(next.try_get_untracked().unwrap_or_default()),
                )
                .await
                .map_err(|e| e.to_string())
            }
            .await;
            settle(outcome, set_message, set_busy);
        });
    };
    view! {
        <Transition fallback=|| ()>
            <Show when=move || available.get() && has_keys()>
                <div class="passkey-confirm">
                    <p>"Or use one of your passkeys:"</p>
                    <Show when=move || message.get().is_some()>
                        <p class="form-error" role="alert">{message}</p>
                    </Show>
                    <button type="button" class="button--ghost" on:click=click disabled=busy>
                        "Use a passkey"
                    </button>
                </div>
            </Show>
        </Transition>
    }
}

/// The account page's passkeys: listed, renamed and removed with plain forms; added
/// (hydrated only) with the browser's passkey prompt. Adding and removing are sensitive:
/// without a recent proof the page goes to `/confirm` and back.
#[component]
pub fn PasskeySection(#[prop(into)] refresh: Signal<u64>) -> impl IntoView {
    let rename = ServerAction::<RenamePasskey>::new();
    let remove = ServerAction::<RemovePasskey>::new();
    let (added, set_added) = signal(0u64);
    let keys = Resource::new(
        move || {
            (
                refresh.get(),
                added.get(),
                rename.version().get(),
                remove.version().get(),
            )
        },
        |_| crate::passkeys::passkeys(),
    );
    let navigate = leptos_router::hooks::use_navigate();
    let confirm_first = move || navigate("/confirm?next=/account", Default::default());
    let to_confirm = confirm_first.clone();
    Effect::new(move |_| {
        if let Some(Err(AppError::SudoRequired)) = remove.value().get() {
            to_confirm();
        }
    });
    let available = available();
    let (message, set_message) = signal(None::<String>);
    let (busy, set_busy) = signal(false);
    let name = NodeRef::<leptos::html::Input>::new();
    let add = move |_| {
        set_busy.set(true);
        set_message.set(None);
        #[cfg(feature = "hydrate")]
        {
            let confirm_first = confirm_first.clone();
            let name = name
                .get_untracked()
                .map(|el| el.value())
                .unwrap_or_default();
            leptos::task::spawn_local(async move {
                use crate::passkeys::{add_passkey, client, passkey_registration_options};
                let options = match passkey_registration_options().await {
                    Err(AppError::SudoRequired) => return confirm_first(),
                    other => other,
                };
                let outcome = async {
                    let options = options.map_err(|e| e.to_string())?;
                    let credential = client::create(options).await?;
                    add_passkey(name, credential)
                        .await
                        .map_err(|e| e.to_string())
                }
                .await;
                set_busy.try_set(false);
                match outcome {
                    Ok(key) => {
                        set_message
                            .try_set(Some(format!("Passkey \u{201c}{}\u{201d} added.", key.name)));
                        set_added.try_update(|v| *v += 1);
                    }
                    Err(e) => {
                        set_message.try_set(said(e));
                    }
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&confirm_first, name, set_added);
    };
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match keys.await {
                    Ok(list) if list.is_empty() => {
                        view! { <p class="muted" data-testid="no-passkeys">"No passkeys yet."</p> }.into_any()
                    }
                    Ok(list) => view! {
                        <ul class="passkey-list">
                            {list
                                .into_iter()
                                .map(|key| view! { <PasskeyRow key rename remove/> })
                                .collect_view()}
                        </ul>
                    }
                    .into_any(),
                    Err(AppError::Unauthorized) => ().into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <Show when=move || available.get()>
            <div class="passkey-add form">
                <Show when=move || message.get().is_some()>
                    <p class="notice" role="status">{message}</p>
                </Show>
                <label>
                    "Name of the new passkey (optional)"
                    <input type="text" maxlength="64" placeholder="This device" node_ref=name/>
                </label>
                <button type="button" on:click=add.clone() disabled=busy>"Add a passkey"</button>
            </div>
        </Show>
    }
}

#[component]
fn PasskeyRow(
    key: PasskeyInfo,
    rename: ServerAction<RenamePasskey>,
    remove: ServerAction<RemovePasskey>,
) -> impl IntoView {
    let kind = if key.synced {
        "Synced"
    } else {
        "This device only"
    };
    let (name, rename_label, remove_label) = (
        key.name.clone(),
        format!("New name for {}", key.name),
        format!("Remove {}", key.name),
    );
    let used = match &key.last_used {
        Some(when) => format!("last used {when}"),
        None => "never used".to_string(),
    };
    view! {
        <li class="passkey-row" data-testid="passkey-row">
            <div>
                <strong>{key.name.clone()}</strong>
                <span class="tag tag--muted">{kind}</span>
                <p class="muted">{format!("Added {} · {used}", key.added)}</p>
            </div>
            <ActionForm action=rename attr:class="inline-form">
                <input type="hidden" name="id" value=key.id/>
                <input type="text" name="name" required maxlength="64" value=name aria-label=rename_label/>
                <button type="submit" class="button--ghost">"Rename"</button>
            </ActionForm>
            <ActionForm action=remove>
                <input type="hidden" name="id" value=key.id/>
                <button type="submit" class="button--ghost" aria-label=remove_label>
                    "Remove"
                </button>
            </ActionForm>
        </li>
    }
}
