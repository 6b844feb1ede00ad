mod catalog;
mod product;

pub use catalog::CatalogPage;
pub use product::ProductPage;
