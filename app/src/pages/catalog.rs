use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use leptos_router::NavigateOptions;

use crate::catalog::{
    list_products, marked, parse_price, price_text, use_shown_products, words, Cursor, Facet,
    Filters, Found, Product, ProductPage, Shelf, ShownProducts, Sort,
};
use crate::components::NotFound;
use crate::error::AppError;
use crate::money::format_cents;

/// How long typing must pause before the catalog is searched.
const SEARCH_DEBOUNCE_MS: u64 = 250;

/// What a list shows, as its address says: the department or category (`/c/<slug>`),
/// the words, the order, the filters and where the page starts.
#[derive(Debug, Clone, PartialEq, Default)]
struct View {
    shelf: Option<String>,
    q: String,
    sort: Sort,
    filters: Filters,
    cursor: Option<Cursor>,
}

impl View {
    /// The address of this list, the defaults left out.
    fn url(&self) -> String {
        let mut params = Vec::new();
        if !self.q.trim().is_empty() {
            params.push(format!(
                "q={}",
                crate::url::encode_query_value(self.q.trim())
            ));
        }
        if self.sort != Sort::Best {
            params.push(format!("sort={}", self.sort.as_str()));
        }
        if let Some(min) = self.filters.min_cents {
            params.push(format!("min={}", price_text(min)));
        }
        if let Some(max) = self.filters.max_cents {
            params.push(format!("max={}", price_text(max)));
        }
        if self.filters.in_stock {
            params.push("stock=1".into());
        }
        match self.cursor {
            Some(Cursor::After(id)) => params.push(format!("after={id}")),
            Some(Cursor::Before(id)) => params.push(format!("before={id}")),
            None => {}
        }
        let path = match &self.shelf {
            Some(slug) => format!("/c/{}", crate::url::encode_query_value(slug)),
            None => "/".to_string(),
        };
        match params.is_empty() {
            true => path,
            false => format!("{path}?{}", params.join("&")),
        }
    }

    /// The same list from its first page.
    fn first_page(&self) -> View {
        View {
            cursor: None,
            ..self.clone()
        }
    }

    /// The same search and filters in another department or category.
    fn on(&self, shelf: Option<&str>) -> View {
        View {
            shelf: shelf.map(str::to_string),
            cursor: None,
            ..self.clone()
        }
    }

    fn at(&self, cursor: Cursor) -> View {
        View {
            cursor: Some(cursor),
            ..self.clone()
        }
    }
}

/// `/` and `/c/<slug>` — the catalog, or one department or category of it: one page of
/// products rendered on the server from the database and hydrated, with its facets. The
/// search, order, filters and page live in the URL (`?q=…&sort=…&min=…&max=…&stock=1&
/// after=…`): a plain GET form and plain links without JavaScript; with it, a debounced
/// search, suggestions while typing, and client-side page turns (Back returns to the
/// page before).
#[component]
pub fn CatalogPage() -> impl IntoView {
    let query = use_query_map();
    let params = use_params_map();
    let view_now = Memo::new(move |_| {
        let query = query.read();
        let id = |name: &str| query.get(name).and_then(|v| v.parse::<i64>().ok());
        let price = |name: &str| query.get(name).as_deref().and_then(parse_price);
        View {
            shelf: params.read().get("slug"),
            q: query.get("q").unwrap_or_default(),
            sort: Sort::parse(query.get("sort").as_deref()),
            filters: Filters {
                min_cents: price("min"),
                max_cents: price("max"),
                in_stock: query.get("stock").as_deref() == Some("1"),
            },
            cursor: match (id("after"), id("before")) {
                (Some(id), _) => Some(Cursor::After(id)),
                (None, Some(id)) => Some(Cursor::Before(id)),
                (None, None) => None,
            },
        }
    });
    let shown = use_shown_products();
    let products = Resource::new(
        move || view_now.get(),
        |v| {
            let (after, before) = match v.cursor {
                Some(Cursor::After(id)) => (Some(id), None),
                Some(Cursor::Before(id)) => (None, Some(id)),
                None => (None, None),
            };
            let f = v.filters;
            list_products(
                Some(v.q),
                Some(v.sort.as_str().to_string()),
                v.shelf,
                f.min_cents.map(price_text),
                f.max_cents.map(price_text),
                f.in_stock.then(|| "1".to_string()),
                after,
                before,
            )
        },
    );
    let home = move || view_now.with(|v| v.shelf.is_none() && v.q.is_empty());
    view! {
        <Show when=home>
            <section class="hero">
                <h1>"Good things for slow mornings"</h1>
                <p>"Small-batch goods for the kitchen, the desk and the couch."</p>
            </section>
        </Show>
        // The heading and the results wait for the page's data; the search form between
        // them stays, so typing is never interrupted by the results it asked for.
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let page = products.await;
                view! { <Heading page v=view_now.get_untracked()/> }
            })}
        </Transition>
        <SearchForm v=view_now/>
        <Transition fallback=|| view! { <p class="loading">"Loading the catalog…"</p> }>
            {move || Suspend::new(async move {
                let page = products.await;
                let v = view_now.get_untracked();
                view! { <Listing page shown v/> }
            })}
        </Transition>
    }
}

/// The list's title, breadcrumbs and heading (the 404 page for a shelf there is none of).
#[component]
fn Heading(page: Result<ProductPage, AppError>, v: View) -> impl IntoView {
    let page = match page {
        Ok(page) => page,
        Err(AppError::NotFound) => return view! { <NotFound/> }.into_any(),
        Err(_) => return ().into_any(),
    };
    let title = match page.trail.last() {
        Some(shelf) => format!("{} · Oxide & Oak", shelf.name),
        None if !v.q.trim().is_empty() => format!("“{}” · Oxide & Oak", v.q.trim()),
        None => "Catalog · Oxide & Oak".to_string(),
    };
    let heading = page.trail.last().map(|s| s.name.clone());
    view! {
        <Title text=title/>
        <Trail trail=page.trail.clone() v=v.clone()/>
        {heading.map(|h| view! { <h1 class="shelf-title">{h}</h1> })}
    }
    .into_any()
}

/// A list's facets, products and pager.
#[component]
fn Listing(page: Result<ProductPage, AppError>, shown: ShownProducts, v: View) -> impl IntoView {
    let page = match page {
        Ok(page) => page,
        Err(AppError::NotFound) => return ().into_any(),
        Err(e) => return view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
    };
    // Only a browser opens a product from here; a server render keeps no copy.
    if !cfg!(feature = "ssr") {
        shown.remember(&page.products);
    }
    let searched = page.corrected.clone().unwrap_or_else(|| v.q.clone());
    let marks = words(&searched);
    let prev = page.prev.map(|id| v.at(Cursor::Before(id)).url());
    let next = page.next.map(|id| v.at(Cursor::After(id)).url());
    view! {
        <div class="catalog">
            <Facets facets=page.facets.clone() trail=page.trail.clone() v=v.clone()/>
            <section class="results" aria-label="Products">
                <Summary found=page.found corrected=page.corrected.clone() v=v.clone()/>
                {match page.products.is_empty() {
                    true => view! {
                        <p class="empty">
                            "No products match. "
                            <a href=View::default().on(v.shelf.as_deref()).url()>"Show everything here"</a>
                        </p>
                    }
                    .into_any(),
                    false => view! {
                        <ul class="product-grid">
                            {page
                                .products
                                .into_iter()
                                .enumerate()
                                .map(|(i, p)| view! { <ProductCard product=p eager=i < FIRST_ROW marks=marks.clone()/> })
                                .collect_view()}
                        </ul>
                        <Pager prev next/>
                    }
                    .into_any(),
                }}
            </section>
        </div>
    }
    .into_any()
}

/// "Catalog / Kitchen / Mugs": where this list is, each step a link but the last.
#[component]
fn Trail(trail: Vec<Shelf>, v: View) -> impl IntoView {
    let last = trail.len();
    (!trail.is_empty()).then(|| {
        view! {
            <nav class="breadcrumbs" aria-label="Breadcrumb">
                <a href=v.on(None).url()>"Catalog"</a>
                {trail
                    .into_iter()
                    .enumerate()
                    .map(|(i, shelf)| {
                        let link = (i + 1 < last).then(|| v.on(Some(&shelf.slug)).url());
                        view! {
                            " / "
                            {match link {
                                Some(href) => view! { <a href=href>{shelf.name}</a> }.into_any(),
                                None => view! { <span aria-current="page">{shelf.name}</span> }.into_any(),
                            }}
                        }
                    })
                    .collect_view()}
            </nav>
        }
    })
}

/// How many products the list holds, and the words searched if the typed ones found
/// nothing.
#[component]
fn Summary(found: Option<Found>, corrected: Option<String>, v: View) -> impl IntoView {
    let count = found.map(|f| match (f.count, f.more) {
        (n, true) => format!("More than {} products", group_digits(n)),
        (1, false) => "1 product".to_string(),
        (n, false) => format!("{} products", group_digits(n)),
    });
    view! {
        {corrected.map(|c| view! {
            <p class="corrected" role="status">
                "No products match “" {v.q.trim().to_string()} "”. Showing results for “"
                <a href=View { q: c.clone(), ..v.first_page() }.url()>{c.clone()}</a> "”."
            </p>
        })}
        {count.map(|c| view! { <p class="found" data-testid="found">{c}</p> })}
    }
}

/// 12345 as "12,345".
fn group_digits(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// The departments (or a department's categories) with how many of the list's products
/// each holds; each a link to the same search there.
#[component]
fn Facets(facets: Vec<Facet>, trail: Vec<Shelf>, v: View) -> impl IntoView {
    let title = match trail.first() {
        Some(department) => department.name.clone(),
        None => "Departments".to_string(),
    };
    (!facets.is_empty()).then(|| {
        view! {
            <nav class="facets" aria-label="Categories">
                <h2>{title}</h2>
                <ul>
                    {facets
                        .into_iter()
                        .map(|f| {
                            let href = v.on(Some(&f.shelf.slug)).url();
                            view! {
                                <li>
                                    <a href=href aria-current=f.current.then_some("page")>
                                        {f.shelf.name}
                                    </a>
                                    {f.count.map(|n| view! { " " <span class="facet-count">{group_digits(n)}</span> })}
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </nav>
        }
    })
}

/// The search box with its suggestions, the order and the filters. A plain GET form to
/// this list's own address; after hydration it drives the URL directly (a submit too): typing searches
/// after a short pause, changing the order or a filter applies at once. Every change
/// reads all the form's current values, so a pending search never overwrites a newer
/// filter (or the other way round).
#[component]
fn SearchForm(v: Memo<View>) -> impl IntoView {
    let navigate = use_navigate();
    let q_box = NodeRef::<leptos::html::Input>::new();
    let sort_box = NodeRef::<leptos::html::Select>::new();
    let min_box = NodeRef::<leptos::html::Input>::new();
    let max_box = NodeRef::<leptos::html::Input>::new();
    let stock_box = NodeRef::<leptos::html::Input>::new();
    let pending_search = StoredValue::new(None::<TimeoutHandle>);
    let cancel_pending = move || {
        if let Some(handle) = pending_search.get_value() {
            handle.clear();
        }
        pending_search.set_value(None);
    };
    let apply = move || {
        cancel_pending();
        let text = |b: NodeRef<leptos::html::Input>| {
            b.get_untracked().map(|el| el.value()).unwrap_or_default()
        };
        let next = View {
            shelf: v.with_untracked(|v| v.shelf.clone()),
            q: text(q_box),
            sort: Sort::parse(sort_box.get_untracked().map(|el| el.value()).as_deref()),
            filters: Filters {
                min_cents: parse_price(&text(min_box)),
                max_cents: parse_price(&text(max_box)),
                in_stock: stock_box.get_untracked().is_some_and(|el| el.checked()),
            },
            cursor: None,
        };
        let options = NavigateOptions {
            replace: true,
            scroll: false,
            ..Default::default()
        };
        navigate(&next.url(), options);
    };
    let search_as_you_type = {
        let apply = apply.clone();
        Callback::new(move |()| {
            cancel_pending();
            let pause = std::time::Duration::from_millis(SEARCH_DEBOUNCE_MS);
            pending_search.set_value(set_timeout_with_handle(apply.clone(), pause).ok());
        })
    };
    // Submitted (Enter in a box, the button): the same address as a change gives, the
    // defaults left out; without JavaScript the browser submits the form itself.
    let submitted = {
        let apply = apply.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            apply();
        }
    };
    let changed = move |_| apply();
    let action = move || {
        let url = v.with(|v| View::default().on(v.shelf.as_deref()).url());
        url.split('?').next().unwrap_or("/").to_string()
    };
    let f = move || v.get().filters;
    let q = Signal::derive(move || v.get().q);
    view! {
        <form method="GET" action=action on:submit=submitted>
            <div class="catalog-tools" role="search">
                <crate::catalog::SuggestingSearch q node_ref=q_box on_input=search_as_you_type/>
                <label class="sort">
                    "Sort by "
                    <select name="sort" node_ref=sort_box on:change=changed.clone()>
                        {Sort::ALL
                            .into_iter()
                            .map(|s| view! { <option value=s.as_str() selected=move || v.get().sort == s>{s.label()}</option> })
                            .collect_view()}
                    </select>
                </label>
                <fieldset class="filters">
                    <legend class="visually-hidden">"Filters"</legend>
                    <label>
                        "Price from "
                        <input type="text" name="min" inputmode="decimal" size="5" maxlength="10"
                            node_ref=min_box value=move || f().min_cents.map(price_text) on:change=changed.clone()/>
                    </label>
                    <label>
                        " to "
                        <input type="text" name="max" inputmode="decimal" size="5" maxlength="10"
                            node_ref=max_box value=move || f().max_cents.map(price_text) on:change=changed.clone()/>
                    </label>
                    <label class="in-stock">
                        <input type="checkbox" name="stock" value="1" node_ref=stock_box
                            checked=move || f().in_stock on:change=changed/>
                        " In stock only"
                    </label>
                </fieldset>
                <button type="submit">"Search"</button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_url_leaves_the_defaults_out() {
        let v = |q: &str, sort| View {
            q: q.into(),
            sort,
            ..Default::default()
        };
        assert_eq!(v("  ", Sort::Best).url(), "/");
        assert_eq!(v(" mug ", Sort::Best).url(), "/?q=mug");
        let sorted = v("a&b", Sort::PriceUp).url();
        assert!(sorted.starts_with("/?q=a%26b&sort="), "{sorted}");
        assert_eq!(v("", Sort::Best).at(Cursor::After(7)).url(), "/?after=7");
        assert_eq!(
            v("mug", Sort::PriceDown).at(Cursor::Before(3)).url(),
            "/?q=mug&sort=price_desc&before=3"
        );
        let filtered = View {
            shelf: Some("mugs".into()),
            filters: Filters {
                min_cents: Some(1250),
                max_cents: Some(3000),
                in_stock: true,
            },
            ..Default::default()
        };
        assert_eq!(filtered.url(), "/c/mugs?min=12.50&max=30&stock=1");
        assert_eq!(filtered.on(None).url(), "/?min=12.50&max=30&stock=1");
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(group_digits(7), "7");
        assert_eq!(group_digits(1000), "1,000");
        assert_eq!(group_digits(1234567), "1,234,567");
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
fn ProductCard(product: Product, eager: bool, marks: Vec<String>) -> impl IntoView {
    let href = format!("/products/{}", product.slug);
    let in_stock = product.stock > 0;
    let name = marked(&product.name, &marks)
        .into_iter()
        .map(|(text, hit)| match hit {
            true => view! { <mark>{text}</mark> }.into_any(),
            false => text.into_any(),
        })
        .collect_view();
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
                <h2 class="product-card__name">{name}</h2>
            </a>
            <p class="product-card__price">{format_cents(product.price_cents)}</p>
            <p class=if in_stock { "stock" } else { "stock stock--out" }>
                {if in_stock { format!("{} in stock", product.stock) } else { "Sold out".to_string() }}
            </p>
        </li>
    }
}
