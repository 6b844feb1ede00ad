use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

use crate::catalog::get_product;
use crate::components::NotFound;
use crate::error::AppError;
use crate::money::format_cents;

/// `/products/:slug` — one product; an unknown slug renders the 404 page with status 404.
#[component]
pub fn ProductPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let product = Resource::new(slug, get_product);
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
