use leptos::prelude::*;
use leptos_meta::Title;

use crate::auth::use_auth;
use crate::cart::{get_cart, use_cart, CartLine, RemoveCartItem, UpdateCartItem};
use crate::money::format_cents;

/// `/cart` — the current visitor's cart; every control is a form, so it works before
/// the wasm loads and after.
#[component]
pub fn CartPage() -> impl IntoView {
    let auth = use_auth();
    let cart_state = use_cart();
    let update = ServerAction::<UpdateCartItem>::new();
    let remove = ServerAction::<RemoveCartItem>::new();
    Effect::new(move |_| {
        if let Some(result) = update.value().get() {
            cart_state.settle(&result);
        }
    });
    Effect::new(move |_| {
        if let Some(result) = remove.value().get() {
            cart_state.settle(&result);
        }
    });
    let cart = Resource::new(
        move || {
            (
                cart_state.version.get(),
                auth.login.version().get(),
                auth.logout.version().get(),
            )
        },
        |_| get_cart(),
    );
    let error = move || action_error(update, remove);
    view! {
        <Title text="Cart · Oxide & Oak"/>
        <h1>"Your cart"</h1>
        <Greeting/>
        <Show when=move || error().is_some()>
            <p class="form-error" role="alert">{error}</p>
        </Show>
        <Transition fallback=|| view! { <p class="loading">"Loading your cart…"</p> }>
            {move || Suspend::new(async move {
                view! { <CartView cart=cart.await update remove/> }
            })}
        </Transition>
    }
}

/// The last refusal of either action. An error an action holds before it has ever run
/// came in the URL of a plain form round trip: shown in our own wording for its kind,
/// never the link's text.
fn action_error(
    update: ServerAction<UpdateCartItem>,
    remove: ServerAction<RemoveCartItem>,
) -> Option<String> {
    let shown = |e: crate::error::AppError, version: usize| match version {
        0 => e.link_safe_message(),
        _ => e.to_string(),
    };
    let update_error = update.value().get().and_then(Result::err);
    update_error
        .map(|e| shown(e, update.version().get()))
        .or_else(|| {
            let remove_error = remove.value().get().and_then(Result::err);
            remove_error.map(|e| shown(e, remove.version().get()))
        })
}

/// Whose cart this is: the signed-in user's, or a guest's (with the way to keep it).
#[component]
fn Greeting() -> impl IntoView {
    let auth = use_auth();
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match auth.user.await {
                    Ok(Some(user)) => view! {
                        <p class="greeting">
                            "Hello, " <strong class="greeting__name">{user.username}</strong>
                            "! Your cart is kept with your account."
                        </p>
                    }
                    .into_any(),
                    _ => view! {
                        <p class="greeting">
                            "You are shopping as a guest. "
                            <a href="/login?next=/cart">"Sign in"</a>
                            " to keep your cart on every device."
                        </p>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// The cart's lines and subtotal, or the way on when it is empty.
#[component]
fn CartView(
    cart: Result<crate::cart::Cart, crate::error::AppError>,
    update: ServerAction<UpdateCartItem>,
    remove: ServerAction<RemoveCartItem>,
) -> impl IntoView {
    let cart = match cart {
        Ok(cart) => cart,
        Err(e) => return view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
    };
    if cart.lines.is_empty() {
        return view! {
            <div class="card empty-cart">
                <p>"Your cart is empty."</p>
                <div class="actions">
                    <a class="button button--ghost" href="/">"Browse the catalog"</a>
                    <a class="button" href="/billing">"Go to billing"</a>
                </div>
            </div>
        }
        .into_any();
    }
    let subtotal = cart.subtotal_cents();
    let count = cart.item_count();
    view! {
        <ul class="cart-lines">
            {cart
                .lines
                .into_iter()
                .map(|line| view! { <CartLineRow line update remove/> })
                .collect_view()}
        </ul>
        <div class="card cart-summary">
            <p>
                "Subtotal (" {count} {if count == 1 { " item" } else { " items" }} "): "
                <strong data-testid="subtotal">{format_cents(subtotal)}</strong>
            </p>
            <div class="actions">
                <a class="button button--ghost" href="/">"Keep shopping"</a>
                <a class="button" href="/billing">"Go to billing"</a>
            </div>
        </div>
    }
    .into_any()
}

#[component]
fn CartLineRow(
    line: CartLine,
    update: ServerAction<UpdateCartItem>,
    remove: ServerAction<RemoveCartItem>,
) -> impl IntoView {
    let id = line.product_id.to_string();
    let max = line.stock.min(99);
    let less = (line.quantity - 1).to_string();
    let more = (line.quantity + 1).to_string();
    let at_max = line.quantity >= max;
    let (id_less, id_more) = (id.clone(), id.clone());
    let label_less = format!("One less {}", line.name);
    let label_more = format!("One more {}", line.name);
    let label_remove = format!("Remove {}", line.name);
    view! {
        <li class="cart-line" data-testid=format!("line-{}", line.slug)>
            <img src=line.image.clone() alt="" width="72" height="72"/>
            <div class="cart-line__name">
                <a href=format!("/products/{}", line.slug)>{line.name.clone()}</a>
                <span class="muted">{format_cents(line.unit_price_cents)} " each"</span>
            </div>
            <div class="qty-controls">
                <ActionForm action=update>
                    <input type="hidden" name="product_id" value=id_less/>
                    <input type="hidden" name="quantity" value=less/>
                    <button type="submit" class="button--ghost" aria-label=label_less>"−"</button>
                </ActionForm>
                <span class="qty" data-testid="qty">{line.quantity}</span>
                <ActionForm action=update>
                    <input type="hidden" name="product_id" value=id_more/>
                    <input type="hidden" name="quantity" value=more/>
                    <button type="submit" class="button--ghost" disabled=at_max aria-label=label_more>"+"</button>
                </ActionForm>
            </div>
            <strong class="cart-line__total">{format_cents(line.line_total_cents())}</strong>
            <ActionForm action=remove>
                <input type="hidden" name="product_id" value=id/>
                <button type="submit" class="button--ghost" aria-label=label_remove>"Remove"</button>
            </ActionForm>
        </li>
    }
}
