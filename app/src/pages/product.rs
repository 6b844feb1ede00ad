use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

use crate::cart::{use_cart, AddToCart};
use crate::catalog::{get_product, use_shown_products};
use crate::components::NotFound;
use crate::error::AppError;
use crate::money::format_cents;

/// `/products/:slug` — one product; an unknown slug renders the 404 page with status 404.
#[component]
pub fn ProductPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    // Opened from the catalog, the page is drawn from the catalog's copy at once and then
    // checked with the server in the background (redrawn only if the product changed).
    let shown = use_shown_products();
    let product = Resource::new(slug, move |slug| async move {
        match shown.find(&slug) {
            Some(p) => Ok(p),
            None => get_product(slug).await,
        }
    });
    Effect::new(move |_| {
        let wanted = slug();
        if shown.find(&wanted).is_none() {
            return;
        }
        leptos::task::spawn_local(async move {
            let fresh = get_product(wanted.clone()).await;
            // A failed check (offline, say) keeps the page; a gone product shows as gone.
            let answered = matches!(fresh, Ok(_) | Err(AppError::NotFound));
            // The page may have been left while the check was out: then its signals are
            // gone and nothing is drawn. Still here, and the server says something else
            // than the page shows: the server's word wins.
            let still_here = params
                .try_with_untracked(|p| p.get_str("slug") == Some(wanted.as_str()))
                .unwrap_or(false);
            let changed = product
                .try_with_untracked(|now| now.as_ref() != Some(&fresh))
                .unwrap_or(false);
            if answered && still_here && changed {
                product.try_set(Some(fresh));
            }
        });
    });
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match product.await {
                    Ok(p) => {
                        let in_stock = p.stock > 0;
                        view! {
                            <Title text=format!("{} · Oxide & Oak", p.name)/>
                            <Meta name="description" content=p.description.clone()/>
                            <nav class="breadcrumbs" aria-label="Breadcrumb">
                                <a href="/">"Catalog"</a>
                                {p
                                    .trail
                                    .iter()
                                    .map(|shelf| view! { " / " <a href=format!("/c/{}", shelf.slug)>{shelf.name.clone()}</a> })
                                    .collect_view()}
                                " / "
                                <span aria-current="page">{p.name.clone()}</span>
                            </nav>
                            <article class="product">
                                <img class="product__image" src=p.image.clone() alt=p.name.clone() width="480" height="480"/>
                                <div class="product__info">
                                    <h1>{p.name.clone()}</h1>
                                    <p class="product__price">{format_cents(p.price_cents)}</p>
                                    <p class="product__description">{p.description.clone()}</p>
                                    <p class=if in_stock { "stock" } else { "stock stock--out" }>
                                        {if in_stock { format!("{} in stock", p.stock) } else { "Sold out".to_string() }}
                                    </p>
                                    <AddToCartForm product_id=p.id stock=p.stock/>
                                </div>
                            </article>
                        }
                            .into_any()
                    }
                    Err(AppError::NotFound) => view! { <NotFound/> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Quantity picker and "Add to cart": a plain form before hydration, an optimistic
/// action after (the badge counts up at once and rolls back if the server refuses).
#[component]
fn AddToCartForm(product_id: i64, stock: i64) -> impl IntoView {
    let cart = use_cart();
    let add = ServerAction::<AddToCart>::new();
    Effect::new(move |_| {
        let in_flight = add
            .input()
            .with(|i| i.as_ref().map(|a| a.quantity.clamp(0, 99)).unwrap_or(0));
        cart.pending.set(in_flight);
    });
    Effect::new(move |_| {
        if let Some(result) = add.value().get() {
            cart.settle(&result);
        }
    });
    let message = move || match add.value().get() {
        Some(Ok(_)) => Some(("notice", "Added to your cart.".to_string())),
        // Version 0: the error came in the URL of a plain form round trip, not from us.
        Some(Err(e)) if add.version().get() == 0 => Some(("form-error", e.link_safe_message())),
        Some(Err(e)) => Some(("form-error", format!("Could not add to cart: {e}"))),
        None => None,
    };
    let max = stock.clamp(1, 99).to_string();
    view! {
        <ActionForm action=add>
            <input type="hidden" name="product_id" value=product_id.to_string()/>
            <div class="add-to-cart">
                <label class="qty">
                    "Quantity"
                    <input type="number" name="quantity" value="1" min="1" max=max required disabled={stock == 0}/>
                </label>
                <button type="submit" disabled={move || stock == 0 || add.pending().get()}>
                    "Add to cart"
                </button>
            </div>
        </ActionForm>
        {move || message().map(|(class, text)| view! { <p class=class role="status">{text}</p> })}
    }
}
