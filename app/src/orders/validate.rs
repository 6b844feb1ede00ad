//! The billing form and its rules. The server applies them (authoritatively) to every
//! order; the page uses the same code to show what each field needs.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// Where the shop delivers: ISO 3166-1 alpha-2 code and English name, sorted by name.
pub const COUNTRIES: &[(&str, &str)] = &[
    ("AU", "Australia"),
    ("AT", "Austria"),
    ("BE", "Belgium"),
    ("BG", "Bulgaria"),
    ("CA", "Canada"),
    ("HR", "Croatia"),
    ("CY", "Cyprus"),
    ("CZ", "Czechia"),
    ("DK", "Denmark"),
    ("EE", "Estonia"),
    ("FI", "Finland"),
    ("FR", "France"),
    ("DE", "Germany"),
    ("GR", "Greece"),
    ("HU", "Hungary"),
    ("IS", "Iceland"),
    ("IE", "Ireland"),
    ("IT", "Italy"),
    ("JP", "Japan"),
    ("LV", "Latvia"),
    ("LI", "Liechtenstein"),
    ("LT", "Lithuania"),
    ("LU", "Luxembourg"),
    ("MT", "Malta"),
    ("NL", "Netherlands"),
    ("NZ", "New Zealand"),
    ("NO", "Norway"),
    ("PL", "Poland"),
    ("PT", "Portugal"),
    ("RO", "Romania"),
    ("SK", "Slovakia"),
    ("SI", "Slovenia"),
    ("ES", "Spain"),
    ("SE", "Sweden"),
    ("CH", "Switzerland"),
    ("GB", "United Kingdom"),
    ("US", "United States"),
];

/// The name of a country code the shop delivers to.
pub fn country_name(code: &str) -> Option<&'static str> {
    COUNTRIES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| *name)
}

/// The billing form as submitted (untrusted, possibly incomplete).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingForm {
    pub name: String,
    pub address_line1: String,
    pub address_line2: String,
    pub city: String,
    pub postal_code: String,
    pub country: String,
}

impl BillingForm {
    /// The form with every field cut to a little over its limit: enough to show the
    /// value and its error again, never more than the draft store takes.
    pub fn bounded(&self) -> BillingForm {
        let cut = |v: &str, max: usize| v.chars().take(max + 1).collect::<String>();
        BillingForm {
            name: cut(&self.name, 100),
            address_line1: cut(&self.address_line1, 200),
            address_line2: cut(&self.address_line2, 200),
            city: cut(&self.city, 100),
            postal_code: cut(&self.postal_code, 16),
            country: cut(&self.country, 2),
        }
    }
}

/// A billing address that passed every rule: trimmed, bounded, no control characters,
/// a country the shop delivers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingAddress(BillingForm);

impl BillingAddress {
    pub fn get(&self) -> &BillingForm {
        &self.0
    }
}

/// Control characters, and the invisible format characters that can make text read
/// differently from what it is (zero-width spaces and joiners, direction overrides, the
/// byte-order mark, line and paragraph separators, soft hyphens).
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// Checks one text field: trimmed length in `1..=max` (or `0..=max` when optional) and
/// no control characters.
fn text(
    field: &str,
    value: &str,
    what: &str,
    max: usize,
    optional: bool,
    errors: &mut Vec<FieldError>,
) -> String {
    let value = value.trim();
    let message = if value.is_empty() && !optional {
        Some(format!("Please enter {what}."))
    } else if value.chars().count() > max {
        Some(format!("At most {max} characters, please."))
    } else if value.chars().any(is_invisible) {
        Some("Please use ordinary text (no control or invisible characters).".to_string())
    } else if !value.is_empty() && !value.chars().any(char::is_alphanumeric) {
        Some("Please enter letters or digits.".to_string())
    } else {
        None
    };
    if let Some(message) = message {
        errors.push(FieldError {
            field: field.to_string(),
            message,
        });
    }
    value.to_string()
}

impl BillingForm {
    /// Applies every rule; on failure, one message per refused field, in form order.
    pub fn validate(&self) -> Result<BillingAddress, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = text(
            "name",
            &self.name,
            "the name to deliver to",
            100,
            false,
            &mut errors,
        );
        let address_line1 = text(
            "address_line1",
            &self.address_line1,
            "the street and number",
            200,
            false,
            &mut errors,
        );
        let address_line2 = text(
            "address_line2",
            &self.address_line2,
            "",
            200,
            true,
            &mut errors,
        );
        let city = text("city", &self.city, "a city", 100, false, &mut errors);
        let postal_code = text(
            "postal_code",
            &self.postal_code,
            "a postal code",
            16,
            false,
            &mut errors,
        );
        if !postal_code.is_empty()
            && !postal_code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
            && !errors.iter().any(|e| e.field == "postal_code")
        {
            errors.push(FieldError {
                field: "postal_code".into(),
                message: "Postal codes use letters, digits, spaces and '-' only.".into(),
            });
        }
        let country = self.country.trim().to_string();
        if country_name(&country).is_none() {
            errors.push(FieldError {
                field: "country".into(),
                message: "Please choose a country from the list.".into(),
            });
        }
        if errors.is_empty() {
            Ok(BillingAddress(BillingForm {
                name,
                address_line1,
                address_line2,
                city,
                postal_code: postal_code.to_ascii_uppercase(),
                country,
            }))
        } else {
            Err(errors)
        }
    }
}

/// An idempotency key: 1–64 characters from `A-Z a-z 0-9 - _`. An empty value means
/// "no key".
pub fn idempotency_key(value: Option<&str>) -> Result<Option<&str>, String> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(k)
            if k.len() <= 64
                && k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Ok(Some(k))
        }
        Some(_) => Err("idempotency_key must be 1 to 64 letters, digits, '-' or '_'.".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> BillingForm {
        BillingForm {
            name: "  Alice Liddell ".into(),
            address_line1: "1 Rabbit Hole".into(),
            address_line2: String::new(),
            city: "Oxford".into(),
            postal_code: "ox1 1dp".into(),
            country: "GB".into(),
        }
    }

    fn fields(form: &BillingForm) -> Vec<String> {
        form.validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn a_complete_address_is_trimmed_and_normalised() {
        let address = good().validate().unwrap();
        assert_eq!(address.get().name, "Alice Liddell");
        assert_eq!(address.get().postal_code, "OX1 1DP");
    }

    #[test]
    fn every_refused_field_is_named_in_form_order() {
        let empty = BillingForm::default();
        assert_eq!(
            fields(&empty),
            ["name", "address_line1", "city", "postal_code", "country"]
        );
        let mut bad = good();
        bad.name = "x".repeat(101);
        bad.address_line2 = "flat\u{0}2".into();
        bad.postal_code = "12345; DROP".into();
        bad.country = "XX".into();
        assert_eq!(
            fields(&bad),
            ["name", "address_line2", "postal_code", "country"]
        );
    }

    #[test]
    fn invisible_and_empty_looking_text_is_refused() {
        for sneaky in [
            "\u{200B}",
            "Alice\u{202E}ecilA",
            "\u{FEFF}Bob",
            "line\u{2028}break",
            "---",
        ] {
            let mut form = good();
            form.name = sneaky.into();
            assert_eq!(fields(&form), ["name"], "{sneaky:?}");
        }
        let mut form = good();
        form.name = "Zoë O'Brien-Łukasiewicz 李".into();
        assert!(form.validate().is_ok());
    }

    #[test]
    fn drafts_keep_only_a_little_over_each_limit() {
        let mut form = good();
        form.city = "x".repeat(9000);
        let kept = form.bounded();
        assert_eq!(kept.city.chars().count(), 101);
        assert_eq!(kept.validate().unwrap_err()[0].field, "city");
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let mut form = good();
        form.city = "é".repeat(100);
        assert!(form.validate().is_ok());
        form.city.push('é');
        assert_eq!(fields(&form), ["city"]);
    }

    #[test]
    fn country_codes_are_exact_and_known() {
        let mut form = good();
        form.country = "gb".into();
        assert_eq!(fields(&form), ["country"]);
        assert!(COUNTRIES.iter().all(|(c, _)| c.len() == 2));
        let mut names: Vec<_> = COUNTRIES.iter().map(|(_, n)| *n).collect();
        let sorted = names.clone();
        names.sort();
        assert_eq!(names, sorted);
    }

    #[test]
    fn idempotency_keys_are_bounded_tokens() {
        assert_eq!(idempotency_key(None), Ok(None));
        assert_eq!(idempotency_key(Some(" ")), Ok(None));
        assert_eq!(
            idempotency_key(Some("abc-DEF_123")),
            Ok(Some("abc-DEF_123"))
        );
        assert!(idempotency_key(Some(&"a".repeat(65))).is_err());
        assert!(idempotency_key(Some("a b")).is_err());
        assert!(idempotency_key(Some("'; DROP TABLE orders; --")).is_err());
    }
}
