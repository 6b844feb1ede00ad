//! The browser's side of passkeys (hydrate only). The WebAuthn calls are lazy functions:
//! with `cargo leptos --split` their code is a chunk of its own, fetched the first time a
//! passkey control is used, never part of the first page's module.
//!
//! The server's options arrive as JSON text with base64url fields; the browser's own
//! `PublicKeyCredential.parseCreationOptionsFromJSON` / `parseRequestOptionsFromJSON`
//! turn them into what `navigator.credentials` takes, and the credential's `toJSON()`
//! into what the server reads back. No WebAuthn encoding is written here.

use std::cell::RefCell;

use js_sys::{Function, Object, Reflect, JSON};
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

thread_local! {
    /// The abort switch of the username field's pending autofill request, if any.
    static PENDING: RefCell<Option<web_sys::AbortController>> = const { RefCell::new(None) };
}

/// Whether this browser offers passkeys with the JSON helpers the shop relies on.
pub fn supported() -> bool {
    let Ok(class) = Reflect::get(&js_sys::global(), &"PublicKeyCredential".into()) else {
        return false;
    };
    class.is_function()
        && Reflect::get(&class, &"parseCreationOptionsFromJSON".into())
            .is_ok_and(|f| f.is_function())
}

/// Makes a passkey for the server's creation `options`; the credential as JSON text.
#[lazy]
pub async fn create(options: String) -> Result<String, String> {
    cancel_autofill();
    ceremony("create", "parseCreationOptionsFromJSON", &options, None).await
}

/// Uses a passkey for the server's request `options` (a sign-in or a confirmation); the
/// assertion as JSON text.
#[lazy]
pub async fn get(options: String) -> Result<String, String> {
    cancel_autofill();
    ceremony("get", "parseRequestOptionsFromJSON", &options, None).await
}

/// Offers the passkeys in the username field's autofill (conditional mediation), where
/// the browser can; resolves when the person picks one. `Ok(None)` if the browser
/// cannot, or the offer was withdrawn (another ceremony began, the page was left).
#[lazy]
pub async fn autofill(options: String) -> Result<Option<String>, String> {
    if !conditional_available().await {
        return Ok(None);
    }
    cancel_autofill();
    let controller = web_sys::AbortController::new().map_err(describe)?;
    let signal = controller.signal();
    PENDING.with(|p| *p.borrow_mut() = Some(controller));
    match ceremony("get", "parseRequestOptionsFromJSON", &options, Some(signal)).await {
        Ok(json) => Ok(Some(json)),
        Err(e) if e == ABORTED => Ok(None),
        Err(e) => Err(e),
    }
}

/// Withdraws the autofill offer (leaving the login page, or starting another ceremony:
/// a browser runs one at a time).
#[lazy]
pub fn withdraw_autofill() {
    cancel_autofill();
}

fn cancel_autofill() {
    if let Some(c) = PENDING.with(|p| p.borrow_mut().take()) {
        c.abort();
    }
}

const ABORTED: &str = "aborted";

async fn conditional_available() -> bool {
    let Ok(class) = Reflect::get(&js_sys::global(), &"PublicKeyCredential".into()) else {
        return false;
    };
    let Ok(check) = Reflect::get(&class, &"isConditionalMediationAvailable".into()) else {
        return false;
    };
    let Some(check) = check.dyn_ref::<Function>() else {
        return false;
    };
    match check.call0(&class).map(|p| p.dyn_into::<js_sys::Promise>()) {
        Ok(Ok(promise)) => JsFuture::from(promise).await.is_ok_and(|v| v.is_truthy()),
        _ => false,
    }
}

async fn ceremony(
    method: &str,
    parse: &str,
    options: &str,
    signal: Option<web_sys::AbortSignal>,
) -> Result<String, String> {
    let parsed = JSON::parse(options).map_err(describe)?;
    let class = Reflect::get(&js_sys::global(), &"PublicKeyCredential".into()).map_err(describe)?;
    let parse_fn: Function = Reflect::get(&class, &parse.into())
        .map_err(describe)?
        .dyn_into()
        .map_err(|_| "This browser cannot use passkeys.".to_string())?;
    let public_key = Reflect::get(&parsed, &"publicKey".into()).map_err(describe)?;
    let public_key = parse_fn.call1(&class, &public_key).map_err(describe)?;
    let request = Object::new();
    Reflect::set(&request, &"publicKey".into(), &public_key).map_err(describe)?;
    let mediation = Reflect::get(&parsed, &"mediation".into()).unwrap_or(JsValue::UNDEFINED);
    if mediation.is_string() {
        Reflect::set(&request, &"mediation".into(), &mediation).map_err(describe)?;
    }
    if let Some(signal) = signal {
        Reflect::set(&request, &"signal".into(), &signal).map_err(describe)?;
    }
    let credentials = window().navigator().credentials();
    let call: Function = Reflect::get(&credentials, &method.into())
        .map_err(describe)?
        .dyn_into()
        .map_err(|_| "This browser cannot use passkeys.".to_string())?;
    let promise: js_sys::Promise = call
        .call1(&credentials, &request)
        .map_err(describe)?
        .dyn_into()
        .map_err(describe)?;
    let credential = JsFuture::from(promise).await.map_err(describe)?;
    if credential.is_null() || credential.is_undefined() {
        return Err("No passkey was chosen.".to_string());
    }
    let to_json: Function = Reflect::get(&credential, &"toJSON".into())
        .map_err(describe)?
        .dyn_into()
        .map_err(|_| "This browser cannot use passkeys.".to_string())?;
    let json = to_json.call0(&credential).map_err(describe)?;
    JSON::stringify(&json).map(String::from).map_err(describe)
}

/// A failed WebAuthn call in words for people (the DOMException's name decides).
fn describe(error: JsValue) -> String {
    let name = Reflect::get(&error, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default();
    match name.as_str() {
        "AbortError" => ABORTED.to_string(),
        "NotAllowedError" => "The passkey prompt was closed or timed out.".to_string(),
        "InvalidStateError" => "This device already has a passkey for this account.".to_string(),
        "SecurityError" => {
            "Passkeys do not work at this address (use the shop's own name, e.g. localhost)."
                .to_string()
        }
        "NotSupportedError" => "This device cannot make a passkey the shop accepts.".to_string(),
        _ => "The passkey did not work. Please try again.".to_string(),
    }
}
