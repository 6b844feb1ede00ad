use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::catalog::{
    list_products, use_shown_products, Cursor, Product, ProductPage, ShownProducts, Sort,
};
use crate::money::format_cents;

/// How long typing must pause before the catalog is searched.
const SEARCH_DEBOUNCE_MS: u64 = 250;

/// `/` — the catalog grid, rendered on the server from the database and hydrated, one page
/// at a time. Search, sort and page live in the URL (`?q=…&sort=…&after=…`): a plain GET
/// form and plain links without JavaScript, a debounced client-side search and
/// client-side page turns with it (Back returns to the page before).
#[component]
pub fn CatalogPage() -> impl IntoView {
    let query = use_query_map();
    let q = Signal::derive(move || query.read().get("q").unwrap_or_default());
    let sort = Signal::derive(move || Sort::parse(query.read().get("sort").as_deref()));
    let id = move |name: &str| query.read().get(name).and_then(|v| v.parse::<i64>().ok());
    let cursor = Signal::derive(move || match (id("after"), id("before")) {
        (Some(id), _) => Some(Cursor::After(id)),
        (None, Some(id)) => Some(Cursor::Before(id)),
        (None, None) => None,
    });
    let shown = use_shown_products();
    let products = Resource::new(
        move || (q.get(), sort.get(), cursor.get()),
        |(q, sort, cursor)| {
            let (after, before) = match cursor {
                Some(Cursor::After(id)) => (Some(id), None),
                Some(Cursor::Before(id)) => (None, Some(id)),
                None => (None, None),
            };
            list_products(Some(q), Some(sort.as_str().to_string()), after, before)
        },
    );
    view! {
        <Title text="Catalog · Oxide & Oak"/>
        <section class="hero">
            <h1>"Good things for slow mornings"</h1>
            <p>"Small-batch goods for the kitchen, the desk and the couch."</p>
        </section>
        <SearchForm q sort/>
        <Transition fallback=|| view! { <p class="loading">"Loading the catalog…"</p> }>
            {move || Suspend::new(async move {
                view! { <ProductList page=products.await shown q=q.get_untracked() sort=sort.get_untracked()/> }
            })}
        </Transition>
    }
}

/// The catalog's address for this search text and sort (the defaults left out).
fn catalog_url(text: &str, sort: Sort) -> String {
    page_url(text, sort, None)
}

/// The address of one page of the catalog: this search and sort, from `cursor`.
fn page_url(text: &str, sort: Sort, cursor: Option<Cursor>) -> String {
    let mut params = Vec::new();
    if !text.trim().is_empty() {
        params.push(format!("q={}", crate::url::encode_query_value(text.trim())));
    }
    if sort != Sort::Name {
        params.push(format!("sort={}", sort.as_str()));
    }
    match cursor {
        Some(Cursor::After(id)) => params.push(format!("after={id}")),
        Some(Cursor::Before(id)) => params.push(format!("before={id}")),
        None => {}
    }
    match params.is_empty() {
        true => "/".to_string(),
        false => format!("/?{}", params.join("&")),
    }
}

/// The search box and the sort. A plain GET form; after hydration it drives the URL
/// directly: typing searches after a short pause, changing the sort applies at once.
/// Both read the form's current values, so a pending search never overwrites a newer
/// sort (or the other way round).
#[component]
fn SearchForm(q: Signal<String>, sort: Signal<Sort>) -> impl IntoView {
    let navigate = use_navigate();
    let search_box = NodeRef::<leptos::html::Input>::new();
    let sort_box = NodeRef::<leptos::html::Select>::new();
    let pending_search = StoredValue::new(None::<TimeoutHandle>);
    let cancel_pending = move || {
        if let Some(handle) = pending_search.get_value() {
            handle.clear();
        }
        pending_search.set_value(None);
    };
    let apply = move || {
        cancel_pending();
        let text = search_box
            .get_untracked()
            .map(|el| el.value())
            .unwrap_or_default();
        let sort = Sort::parse(sort_box.get_untracked().map(|el| el.value()).as_deref());
        let options = NavigateOptions {
            replace: true,
            scroll: false,
            ..Default::default()
        };
        navigate(&catalog_url(&text, sort), options);
    };
    let search_as_you_type = {
        let apply = apply.clone();
        move |_| {
            cancel_pending();
            let pause = std::time::Duration::from_millis(SEARCH_DEBOUNCE_MS);
            pending_search.set_value(set_timeout_with_handle(apply.clone(), pause).ok());
        }
    };
    let sort_changed = move |_| apply();
    view! {
        <Form method="GET" action="/">
            <div class="catalog-tools" role="search">
                <label class="search">
                    <span class="visually-hidden">"Search products"</span>
                    <input
                        type="search"
                        name="q"
                        placeholder="Search products"
                        maxlength="100"
                        value=q
                        node_ref=search_box
                        on:input=search_as_you_type
                    />
                </label>
                <label class="sort">
                    "Sort by "
                    <select name="sort" node_ref=sort_box on:change=sort_changed>
                        {Sort::ALL
                            .into_iter()
                            .map(|s| view! { <option value=s.as_str() selected=move || sort.get() == s>{s.label()}</option> })
                            .collect_view()}
                    </select>
                </label>
                <button type="submit">"Search"</button>
            </div>
        </Form>
    }
}

/// The products found (one page, with links to the pages beside it), or why there are
/// none.
#[component]
fn ProductList(
    page: Result<ProductPage, crate::error::AppError>,
    shown: ShownProducts,
    q: String,
    sort: Sort,
) -> impl IntoView {
    // Only a browser opens a product from here; a server render keeps no copy.
    if let (Ok(page), false) = (&page, cfg!(feature = "ssr")) {
        shown.remember(&page.products);
    }
    match page {
        Ok(page) if page.products.is_empty() => view! {
            <p class="empty">"No products match your search. " <a href="/">"Show everything"</a></p>
        }
        .into_any(),
        Ok(page) => {
            let prev = page
                .prev
                .map(|id| page_url(&q, sort, Some(Cursor::Before(id))));
            let next = page
                .next
                .map(|id| page_url(&q, sort, Some(Cursor::After(id))));
            view! {
                <ul class="product-grid">
                    {page
                        .products
                        .into_iter()
                        .enumerate()
                        .map(|(i, p)| view! { <ProductCard product=p eager=i < FIRST_ROW/> })
                        .collect_view()}
                </ul>
                <Pager prev next/>
            }
            .into_any()
        }
        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_url_leaves_the_defaults_out() {
        assert_eq!(catalog_url("  ", Sort::Name), "/");
        assert_eq!(catalog_url(" mug ", Sort::Name), "/?q=mug");
        let sorted = catalog_url("a&b", Sort::PriceUp);
        assert!(sorted.starts_with("/?q=a%26b&sort="), "{sorted}");
        assert_eq!(
            page_url("", Sort::Name, Some(Cursor::After(7))),
            "/?after=7"
        );
        assert_eq!(
            page_url("mug", Sort::PriceDown, Some(Cursor::Before(3))),
            "/?q=mug&sort=price_desc&before=3"
        );
    }
}

/// Cards in the grid's first row on a wide screen: their images load at once, the
/// others when they come near the screen.
const FIRST_ROW: usize = 4;

/// "Previous page" and "Next page": plain links (the router turns them into client-side
/// navigation once hydrated).
#[component]
fn Pager(prev: Option<String>, next: Option<String>) -> impl IntoView {
    (prev.is_some() || next.is_some()).then(|| {
        view! {
            <nav class="pager" aria-label="Pages">
                {prev.map(|href| view! { <a href=href rel="prev">"← Previous page"</a> })}
                {next.map(|href| view! { <a href=href rel="next">"Next page →"</a> })}
            </nav>
        }
    })
}

#[component]
fn ProductCard(product: Product, eager: bool) -> impl IntoView {
    let href = format!("/products/{}", product.slug);
    let in_stock = product.stock > 0;
    view! {
        <li class="product-card">
            <a href=href.clone() class="product-card__link">
                <img
                    src=product.image.clone()
                    alt=""
                    width="240"
                    height="240"
                    loading=if eager { "eager" } else { "lazy" }
                />
                <h2 class="product-card__name">{product.name.clone()}</h2>
            </a>
            <p class="product-card__price">{format_cents(product.price_cents)}</p>
            <p class=if in_stock { "stock" } else { "stock stock--out" }>
                {if in_stock { format!("{} in stock", product.stock) } else { "Sold out".to_string() }}
            </p>
        </li>
    }
}
