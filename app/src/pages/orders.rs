use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::NotFound;
use crate::error::AppError;
use crate::money::format_cents;
use crate::orders::{get_order, list_orders, validate::country_name};

/// `/orders` — the signed-in user's orders, newest first.
#[component]
pub fn OrdersPage() -> impl IntoView {
    let orders = Resource::new(|| (), |_| list_orders());
    view! {
        <Title text="Your orders · Oxide & Oak"/>
        <h1>"Your orders"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match orders.await {
                    Ok(list) if list.is_empty() => {
                        view! {
                            <div class="card empty-cart">
                                <p>"You have not ordered anything yet."</p>
                                <a class="button" href="/">"Browse the catalog"</a>
                            </div>
                        }
                            .into_any()
                    }
                    Ok(list) => {
                        view! {
                            <ul class="order-list">
                                {list
                                    .into_iter()
                                    .map(|o| {
                                        let items = if o.item_count == 1 { "1 item".to_string() } else { format!("{} items", o.item_count) };
                                        view! {
                                            <li class="card order-row" data-testid="order-row">
                                                <a href=format!("/orders/{}", o.id)>{format!("Order #{}", o.id)}</a>
                                                <span class="muted">{o.placed_at}</span>
                                                <span>{items}</span>
                                                <span class="status">{o.status}</span>
                                                <strong>{format_cents(o.total_cents)}</strong>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                            .into_any()
                    }
                    Err(AppError::Unauthorized) => view! { <Redirect path="/login?next=/orders"/> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/orders/:id` — one of the signed-in user's orders; `?placed=1` adds the thank-you
/// note shown right after checkout. Someone else's order id is a 404.
#[component]
pub fn OrderPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok());
    let order = Resource::new(id, |id| async move {
        match id {
            Some(id) if id > 0 => get_order(id).await,
            _ => Err(AppError::NotFound),
        }
    });
    let placed = move || query.read().get("placed").is_some();
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match order.await {
                    Ok(o) => {
                        let a = o.address;
                        let country = country_name(&a.country).unwrap_or(&a.country).to_string();
                        view! {
                            <Title text=format!("Order #{} · Oxide & Oak", o.id)/>
                            <nav class="breadcrumbs" aria-label="Breadcrumb">
                                <a href="/orders">"Your orders"</a>
                                " / "
                                <span aria-current="page">{format!("Order #{}", o.id)}</span>
                            </nav>
                            <h1 data-testid="order-title">{format!("Order #{}", o.id)}</h1>
                            <Show when=placed>
                                <p class="notice" role="status" data-testid="order-placed">
                                    "Thank you! Your order is placed. You pay when it is delivered."
                                </p>
                            </Show>
                            <div class="billing">
                                <section class="card">
                                    <h2>"Items"</h2>
                                    <ul class="summary-lines">
                                        {o.lines
                                            .into_iter()
                                            .map(|l| {
                                                let total = format_cents(l.line_total_cents());
                                                view! {
                                                    <li>
                                                        <span>
                                                            <a href=format!("/products/{}", l.slug)>{l.name}</a>
                                                            " × " {l.quantity} " at " {format_cents(l.unit_price_cents)}
                                                        </span>
                                                        <span>{total}</span>
                                                    </li>
                                                }
                                            })
                                            .collect_view()}
                                    </ul>
                                    <p class="summary-total">
                                        <span>"Total, delivery free"</span>
                                        <strong data-testid="order-total">{format_cents(o.total_cents)}</strong>
                                    </p>
                                </section>
                                <aside class="card">
                                    <h2>"Delivery"</h2>
                                    <p>"Placed " {o.placed_at} " · status: " <span class="status">{o.status}</span></p>
                                    <address>
                                        {a.name} <br/> {a.address_line1} <br/>
                                        {(!a.address_line2.is_empty()).then(|| view! { {a.address_line2.clone()} <br/> })}
                                        {a.postal_code} " " {a.city} <br/> {country}
                                    </address>
                                    <p class="hint">"Pay on delivery."</p>
                                </aside>
                            </div>
                        }
                            .into_any()
                    }
                    Err(AppError::NotFound) => view! { <NotFound/> }.into_any(),
                    Err(AppError::Unauthorized) => view! { <Redirect path="/login?next=/orders"/> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
