//! The catalog's client-visible types: a product, a page of a list with its facets, the
//! sort orders, the filters, how a search is cut into words. Shared by the browser and
//! the server: no SQL, no server functions here.

use serde::{Deserialize, Serialize};

/// A product as shown to shoppers. Prices are integer cents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Product {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub price_cents: i64,
    pub image: String,
    pub stock: i64,
    /// Where the product is shelved (department, then category): filled on its own
    /// page (`get_product`), left empty (and out of the JSON) in lists.
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trail: Vec<Shelf>,
}

/// How a list is ordered. `Best` (the default) ranks a search's results by relevance
/// (an exact name first); without search words it is the order by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Best,
    Name,
    PriceUp,
    PriceDown,
}

impl Sort {
    pub const ALL: [Sort; 4] = [Sort::Best, Sort::Name, Sort::PriceUp, Sort::PriceDown];

    /// The `sort` query value. Unknown values fall back to the default.
    pub fn parse(value: Option<&str>) -> Sort {
        match value {
            Some("name") => Sort::Name,
            Some("price_asc") => Sort::PriceUp,
            Some("price_desc") => Sort::PriceDown,
            _ => Sort::Best,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Best => "best",
            Sort::Name => "name",
            Sort::PriceUp => "price_asc",
            Sort::PriceDown => "price_desc",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Sort::Best => "Best match",
            Sort::Name => "Name",
            Sort::PriceUp => "Price: low to high",
            Sort::PriceDown => "Price: high to low",
        }
    }
}

/// What narrows a list besides its words and its department or category: a price range
/// (cents, both ends included) and "in stock only".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Filters {
    pub min_cents: Option<i64>,
    pub max_cents: Option<i64>,
    pub in_stock: bool,
}

impl Filters {
    /// Whether a price bound is set (counting those needs the products themselves; the
    /// counts kept per category cover "in stock only").
    pub fn prices(&self) -> bool {
        self.min_cents.is_some() || self.max_cents.is_some()
    }
}

/// A price as typed in a filter box ("12", "12.5", "12.50", "$12"), in cents. `None`
/// for anything else (the filter is then left out, as an empty box is).
pub fn parse_price(text: &str) -> Option<i64> {
    let text = text.trim().trim_start_matches('$').trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 7
        || !digits(whole)
        || fraction.len() > 2
        || !digits(fraction)
    {
        return None;
    }
    let cents = format!("{fraction:0<2}").parse::<i64>().ok()?;
    Some(whole.parse::<i64>().ok()? * 100 + cents)
}

/// A price in cents as a filter box shows it ("12", "12.50").
pub fn price_text(cents: i64) -> String {
    match cents % 100 {
        0 => format!("{}", cents / 100),
        c => format!("{}.{c:02}", cents / 100),
    }
}

/// A department or category as a link: where it is and what it is called.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shelf {
    pub slug: String,
    pub name: String,
}

/// One entry of a list's facets: a department (on the whole catalog) or a category (in a
/// department), with how many of the list's products it holds, if counted: a search
/// with more than [`FACET_LIMIT`] results is not counted per category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facet {
    pub shelf: Shelf,
    pub count: Option<i64>,
    /// The category this page shows.
    pub current: bool,
}

/// How many products a list holds: exactly `count`, or more than it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    pub count: i64,
    pub more: bool,
}

/// A list counts at most this many of its products (its total and its facets).
pub const FACET_LIMIT: i64 = 5000;

/// One page of a product list, and where the pages beside it begin: `next` is the id
/// of this page's last product (the next page starts after it), `prev` the id of its
/// first (the previous page ends before it); `None` where there is no such page.
///
/// With it: the list's department and category (the breadcrumbs, outermost first), its
/// facets, how many products it holds (`None` for the whole unfiltered catalog), and,
/// when its words found nothing, the words searched for instead (`corrected`): the
/// closest words the catalog holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ProductPage {
    pub products: Vec<Product>,
    pub next: Option<i64>,
    pub prev: Option<i64>,
    pub trail: Vec<Shelf>,
    pub facets: Vec<Facet>,
    pub found: Option<Found>,
    pub corrected: Option<String>,
}

/// A suggestion while typing: a product whose name matches what is typed so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    pub slug: String,
    pub name: String,
}

/// Suggestions offered at most.
pub const SUGGESTIONS: usize = 6;

/// Where a page of a list starts: after a product (forwards) or before one (backwards),
/// in the list's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    After(i64),
    Before(i64),
}

/// Products on one page of a list.
pub const PAGE_SIZE: usize = 24;

/// Longest search text considered (longer input is cut, not refused: it is a search box).
pub const MAX_QUERY_CHARS: usize = 100;

/// Words of a search taken at most (more are ignored: each one narrows the results).
pub const MAX_WORDS: usize = 8;

/// A search's words: runs of letters and digits, lower-cased, at most [`MAX_WORDS`] of at
/// most 40 characters each. Everything else (quotes, operators, punctuation, control
/// characters) only separates words, so no input is an error and none reaches the
/// full-text engines as syntax. Used by the server to search and by the page to mark
/// the words in the names found.
pub fn words(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_WORDS)
        .map(|w| w.chars().take(40).collect::<String>().to_lowercase())
        .collect()
}

/// `name` cut into pieces, each marked if it is a word of the name that one of `words`
/// begins (what the search matched: every word matches as a prefix).
pub fn marked(name: &str, words: &[String]) -> Vec<(String, bool)> {
    let mut pieces: Vec<(String, bool)> = Vec::new();
    let mut push = |text: &str, hit: bool| match pieces.last_mut() {
        _ if text.is_empty() => {}
        Some((last, was)) if *was == hit => last.push_str(text),
        _ => pieces.push((text.to_string(), hit)),
    };
    let mut rest = name;
    while !rest.is_empty() {
        let start = rest.find(char::is_alphanumeric).unwrap_or(rest.len());
        push(&rest[..start], false);
        rest = &rest[start..];
        let end = rest
            .find(|c: char| !c.is_alphanumeric())
            .unwrap_or(rest.len());
        let word = &rest[..end];
        if !word.is_empty() {
            let lower = word.to_lowercase();
            push(word, words.iter().any(|w| lower.starts_with(w.as_str())));
        }
        rest = &rest[end..];
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_letters_and_digits_only() {
        assert_eq!(words("  Oak MUG "), ["oak", "mug"]);
        assert_eq!(
            words("\"mug\" OR name:* -x NEAR(a b)"),
            ["mug", "or", "name", "x", "near", "a", "b"]
        );
        assert_eq!(words("caf\u{e9}\0au lait"), ["caf\u{e9}", "au", "lait"]);
        assert!(words("\"*()^:+-").is_empty());
        assert_eq!(words(&"word ".repeat(100)).len(), MAX_WORDS);
        assert_eq!(words(&"x".repeat(10_000))[0].len(), 40);
    }

    #[test]
    fn names_are_marked_where_a_word_matched() {
        let w = words("oak mu");
        assert_eq!(
            marked("Oak-wood Mug, oakish", &w),
            [
                ("Oak".to_string(), true),
                ("-wood ".to_string(), false),
                ("Mug".to_string(), true),
                (", ".to_string(), false),
                ("oakish".to_string(), true),
            ]
        );
        assert_eq!(marked("Tea", &w), [("Tea".to_string(), false)]);
    }

    #[test]
    fn prices_read_as_people_type_them() {
        assert_eq!(parse_price("12"), Some(1200));
        assert_eq!(parse_price(" $12.5 "), Some(1250));
        assert_eq!(parse_price("0.05"), Some(5));
        for bad in ["", "-1", "1.234", "1e3", "abc", "99999999", "1,5"] {
            assert_eq!(parse_price(bad), None, "{bad}");
        }
        assert_eq!(price_text(1250), "12.50");
        assert_eq!(price_text(1200), "12");
        assert_eq!(parse_price(&price_text(1205)), Some(1205));
    }
}

/// A department and its categories, for the menu.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub shelf: Shelf,
    pub categories: Vec<Shelf>,
}
