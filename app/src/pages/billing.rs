use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use crate::cart::{use_cart, Cart};
use crate::error::{AppError, FieldError};
use crate::money::format_cents;
use crate::orders::{billing_page, field_errors, BillingForm, PlaceOrder, COUNTRIES};

/// `/billing` — sign-in required (the server redirects anonymous requests; after
/// hydration the page does the same). The address form and the order summary; "Place
/// order" is a plain form before the wasm loads and an action after.
#[component]
pub fn BillingPage() -> impl IntoView {
    let query = use_query_map();
    let after_error = move || query.read().get("error").is_some();
    let page = Resource::new(after_error, billing_page);
    let place = ServerAction::<PlaceOrder>::new();
    let cart = use_cart();
    // The order emptied the cart; the server sends the browser to the confirmation.
    Effect::new(move |_| {
        if let Some(Ok(_)) = place.value().get() {
            cart.pending.set(0);
            cart.confirmed.set(Some(0));
        }
    });
    view! {
        <Title text="Billing · Oxide & Oak"/>
        <h1>"Billing"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) if page.cart.lines.is_empty() => {
                        view! {
                            <Greeting username=page.username/>
                            <div class="card empty-cart">
                                <p>"Your cart is empty, so there is nothing to pay for yet."</p>
                                <a class="button" href="/">"Browse the catalog"</a>
                            </div>
                        }
                            .into_any()
                    }
                    Ok(page) => {
                        view! {
                            <Greeting username=page.username/>
                            <div class="billing">
                                <BillingFormView
                                    place
                                    form=page.form
                                    initial_error=page.error
                                    idempotency_key=page.idempotency_key
                                />
                                <OrderSummary cart=page.cart/>
                            </div>
                        }
                            .into_any()
                    }
                    Err(AppError::Unauthorized) => {
                        view! { <Redirect path="/login?next=/billing"/> }.into_any()
                    }
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Greeting(username: String) -> impl IntoView {
    view! {
        <p class="greeting">
            "Signed in as " <strong class="greeting__name">{username}</strong> "."
        </p>
    }
}

#[component]
fn BillingFormView(
    place: ServerAction<PlaceOrder>,
    form: BillingForm,
    initial_error: Option<AppError>,
    idempotency_key: String,
) -> impl IntoView {
    let initial_fields = field_errors(initial_error.as_ref());
    let initial_message = initial_error.map(|e| e.to_string());
    // The action's error once it has run; before that, the refused plain-form
    // submission's (kept by the server with the session). An error an action holds at
    // version 0 came from a link, so only our own wording for its kind is shown.
    let message = Signal::derive(move || match place.value().get() {
        Some(Err(e)) if place.version().get() > 0 => Some(e.to_string()),
        Some(Err(e)) => Some(e.link_safe_message()),
        Some(Ok(_)) => None,
        None => initial_message.clone(),
    });
    let fields = Signal::derive(move || match place.value().get() {
        Some(Err(e)) if place.version().get() > 0 => field_errors(Some(&e)),
        Some(_) => Vec::new(),
        None => initial_fields.clone(),
    });
    let country = form.country.clone();
    view! {
        <section class="card billing__form">
            <h2>"Delivery address"</h2>
            <Show when=move || message.with(Option::is_some)>
                <p class="form-error" role="alert" data-testid="billing-error">{message}</p>
            </Show>
            <ActionForm action=place attr:class="form" attr:novalidate=true>
                <input type="hidden" name="idempotency_key" value=idempotency_key/>
                <Field label="Full name" name="name" value=form.name autocomplete="name" fields/>
                <Field
                    label="Address"
                    name="address_line1"
                    value=form.address_line1
                    autocomplete="address-line1"
                    fields
                />
                <Field
                    label="Address line 2 (optional)"
                    name="address_line2"
                    value=form.address_line2
                    autocomplete="address-line2"
                    optional=true
                    fields
                />
                <Field label="City" name="city" value=form.city autocomplete="address-level2" fields/>
                <Field
                    label="Postal code"
                    name="postal_code"
                    value=form.postal_code
                    autocomplete="postal-code"
                    fields
                />
                <label>
                    "Country"
                    <select
                        name="country"
                        autocomplete="country"
                        aria-invalid=move || error_for(fields, "country").map(|_| "true")
                        aria-describedby="country-error"
                    >
                        <option value="" selected=country.is_empty()>"Choose a country…"</option>
                        {COUNTRIES
                            .iter()
                            .map(|(code, name)| {
                                view! {
                                    <option value=*code selected=*code == country.as_str()>{*name}</option>
                                }
                            })
                            .collect_view()}
                    </select>
                    <FieldMessage id="country-error" message=Signal::derive(move || error_for(fields, "country"))/>
                </label>
                <p class="hint">"No card needed: you pay when the order is delivered."</p>
                <button type="submit" disabled=move || place.pending().get()>"Place order"</button>
            </ActionForm>
        </section>
    }
}

fn error_for(fields: Signal<Vec<FieldError>>, name: &str) -> Option<String> {
    fields.with(|f| {
        f.iter()
            .find(|e| e.field == name)
            .map(|e| e.message.clone())
    })
}

/// A text field with its inline error.
#[component]
fn Field(
    label: &'static str,
    name: &'static str,
    value: String,
    autocomplete: &'static str,
    #[prop(optional)] optional: bool,
    fields: Signal<Vec<FieldError>>,
) -> impl IntoView {
    let error = Signal::derive(move || error_for(fields, name));
    let error_id = format!("{name}-error");
    view! {
        <label>
            {label}
            <input
                type="text"
                name=name
                value=value
                autocomplete=autocomplete
                required=!optional
                aria-invalid=move || error.get().map(|_| "true")
                aria-describedby=error_id.clone()
            />
            <FieldMessage id=error_id message=error/>
        </label>
    }
}

#[component]
fn FieldMessage(#[prop(into)] id: String, message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <span class="field-error" id=id data-testid="field-error">
            {move || message.get()}
        </span>
    }
}

/// The cart as it will be ordered.
#[component]
fn OrderSummary(cart: Cart) -> impl IntoView {
    let total = cart.subtotal_cents();
    let count = cart.item_count();
    view! {
        <aside class="card billing__summary" aria-label="Order summary">
            <h2>"Your order"</h2>
            <ul class="summary-lines">
                {cart
                    .lines
                    .into_iter()
                    .map(|line| {
                        let total = format_cents(line.line_total_cents());
                        view! {
                            <li data-testid=format!("summary-{}", line.slug)>
                                <span>{line.name} " × " {line.quantity}</span>
                                <span>{total}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <p class="summary-total">
                <span>{count} {if count == 1 { " item" } else { " items" }} ", delivery free"</span>
                <strong data-testid="order-total">{format_cents(total)}</strong>
            </p>
            <a href="/cart">"Change the cart"</a>
        </aside>
    }
}
