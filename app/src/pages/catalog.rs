use leptos::prelude::*;
use leptos_meta::Title;

use crate::catalog::{list_products, Product};
use crate::money::format_cents;

/// `/` — the catalog grid, rendered on the server from SQLite and hydrated.
#[component]
pub fn CatalogPage() -> impl IntoView {
    let products = Resource::new(|| (), |_| list_products());
    view! {
        <Title text="Catalog · Oxide & Oak"/>
        <section class="hero">
            <h1>"Good things for slow mornings"</h1>
            <p>"Small-batch goods for the kitchen, the desk and the couch."</p>
        </section>
        <Suspense fallback=|| view! { <p class="loading">"Loading the catalog…"</p> }>
            {move || Suspend::new(async move {
                match products.await {
                    Ok(list) if list.is_empty() => {
                        view! { <p class="empty">"The shelves are empty right now."</p> }.into_any()
                    }
                    Ok(list) => {
                        view! {
                            <ul class="product-grid">
                                {list.into_iter().map(|p| view! { <ProductCard product=p/> }).collect_view()}
                            </ul>
                        }
                            .into_any()
                    }
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ProductCard(product: Product) -> impl IntoView {
    let href = format!("/products/{}", product.slug);
    let in_stock = product.stock > 0;
    view! {
        <li class="product-card">
            <a href=href.clone() class="product-card__link">
                <img src=product.image.clone() alt="" width="240" height="240" loading="lazy"/>
                <h2 class="product-card__name">{product.name.clone()}</h2>
            </a>
            <p class="product-card__price">{format_cents(product.price_cents)}</p>
            <p class=if in_stock { "stock" } else { "stock stock--out" }>
                {if in_stock { format!("{} in stock", product.stock) } else { "Sold out".to_string() }}
            </p>
        </li>
    }
}
