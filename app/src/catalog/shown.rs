//! The products the catalog page last showed, so that opening one of them in the browser
//! draws its page at once instead of waiting for `get_product`.
//!
//! The catalog's answer already holds every field the product page shows. A product page
//! drawn from it asks the server anyway, in the background, and is redrawn only if the
//! product changed in between (stock sold, a new price): the server's word wins, and a
//! person on a slow link sees the page without a round trip first.

use leptos::prelude::*;

use super::Product;

/// Shared by the catalog page (writes) and the product page (reads); one per app.
#[derive(Clone, Copy)]
pub struct ShownProducts(StoredValue<Vec<Product>>);

impl ShownProducts {
    /// Puts an empty list into context (once, in `App`).
    pub fn provide() -> Self {
        let shown = ShownProducts(StoredValue::new(Vec::new()));
        provide_context(shown);
        shown
    }

    /// The list the catalog shows now, replacing the previous one.
    pub fn remember(self, products: &[Product]) {
        self.0.set_value(products.to_vec());
    }

    /// The product with this slug as the catalog last showed it.
    pub fn find(self, slug: &str) -> Option<Product> {
        self.0
            .with_value(|list| list.iter().find(|p| p.slug == slug).cloned())
    }
}

/// The app's [`ShownProducts`].
pub fn use_shown_products() -> ShownProducts {
    expect_context::<ShownProducts>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(slug: &str, stock: i64) -> Product {
        Product {
            id: 1,
            slug: slug.into(),
            name: slug.into(),
            description: String::new(),
            price_cents: 100,
            image: String::new(),
            stock,
            trail: Vec::new(),
        }
    }

    #[test]
    fn finds_only_what_the_latest_list_showed() {
        let owner = Owner::new();
        owner.with(|| {
            let shown = ShownProducts::provide();
            assert_eq!(shown.find("mug"), None);
            shown.remember(&[product("mug", 3), product("bowl", 0)]);
            assert_eq!(shown.find("bowl"), Some(product("bowl", 0)));
            shown.remember(&[product("mug", 2)]);
            assert_eq!(shown.find("mug"), Some(product("mug", 2)));
            assert_eq!(shown.find("bowl"), None);
        });
    }
}
