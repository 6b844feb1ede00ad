//! How server-function answers travel: JSON, read in the browser from text.
//!
//! Every server function of the shop answers with [`Json`]. On the wire it is the same as
//! server_fn's own `Json` (`application/json`, `serde_json::to_vec`), so scripts and tests
//! see no difference. What differs is the browser side: server_fn decodes its `Json` with
//! `serde_json::from_slice`, while a `Resource` decodes the value the server rendered into
//! the page with `serde_json::from_str`. serde_json compiles its deserializer once per
//! type *and* per reader, so each result type read both ways was in the wasm twice. Here
//! the answer is checked to be UTF-8 (JSON is) and read with `from_str` as well, so a type
//! has one deserializer (docs/PERFORMANCE.md, "Why the wasm is 414 KB": the encoding of
//! server-function answers).

use leptos::server_fn::codec::{JsonEncoding, Post};
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::{de::DeserializeOwned, Serialize};

/// JSON written as server_fn's [`JsonEncoding`] writes it, and read with `from_str`.
pub struct JsonText;

impl ContentType for JsonText {
    const CONTENT_TYPE: &'static str = JsonEncoding::CONTENT_TYPE;
}

impl FormatType for JsonText {
    const FORMAT_TYPE: Format = JsonEncoding::FORMAT_TYPE;
}

impl<T: Serialize> Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        <JsonEncoding as Encodes<T>>::encode(output)
    }
}

/// Why an answer could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("the answer is not UTF-8 text")]
    NotText,
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

impl<T: DeserializeOwned> Decodes<T> for JsonText {
    type Error = DecodeError;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(|_| DecodeError::NotText)?;
        Ok(serde_json::from_str(text)?)
    }
}

/// The output encoding of the shop's server functions: `#[server(output = crate::codec::Json)]`.
pub type Json = Post<JsonText>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_round_trip_and_bad_bytes_are_refused() {
        let bytes =
            <JsonText as Encodes<Vec<(String, i64)>>>::encode(&vec![("ä".into(), 3)]).unwrap();
        assert_eq!(&bytes[..], "[[\"ä\",3]]".as_bytes());
        let back: Vec<(String, i64)> = JsonText::decode(bytes).unwrap();
        assert_eq!(back, vec![("ä".to_string(), 3)]);

        let not_text = <JsonText as Decodes<String>>::decode(Bytes::from_static(b"\"\xff\""));
        assert!(matches!(not_text, Err(DecodeError::NotText)));
        let not_json = <JsonText as Decodes<String>>::decode(Bytes::from_static(b"{"));
        assert!(matches!(not_json, Err(DecodeError::Json(_))));
    }
}
