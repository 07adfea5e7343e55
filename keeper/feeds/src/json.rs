//! JSON read as text: an RFC 6901 pointer walked over [`RawValue`]s, so the number found is the
//! source's own text and can be parsed exactly (a `serde_json::Value` would have made it an
//! `f64`).

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::value::RawValue;

use crate::{decimal, Error, Result};

/// Checks that `pointer` is an RFC 6901 JSON pointer: empty (the whole document) or `/`-separated
/// tokens in which `~` is only ever followed by `0` or `1`.
pub fn validate_pointer(pointer: &str) -> Result<(), &'static str> {
    if !pointer.is_empty() && !pointer.starts_with('/') {
        return Err("a JSON pointer is empty or starts with '/'");
    }
    let mut bytes = pointer.bytes();
    while let Some(b) = bytes.next() {
        if b == b'~' && !matches!(bytes.next(), Some(b'0' | b'1')) {
            return Err("'~' must be followed by '0' or '1'");
        }
    }
    Ok(())
}

/// The value at `path` in `root` (validated with [`validate_pointer`]), or `None` when there
/// is none: a missing key, an index past the end or not in RFC 6901's form (`0`, or digits
/// without a leading zero), or a token applied to a scalar. A repeated object key resolves to its
/// last occurrence, as in `serde_json::Value`.
pub fn pointer<'a>(root: &'a RawValue, path: &str) -> Option<&'a RawValue> {
    if path.is_empty() {
        return Some(root);
    }
    let mut current = root;
    for token in path.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        let text: &'a str = current.get().trim_start();
        current = match text.as_bytes().first()? {
            b'{' => {
                let mut object: HashMap<String, &'a RawValue> = serde_json::from_str(text).ok()?;
                object.remove(&token)?
            }
            b'[' => {
                let canonical = token == "0"
                    || (!token.starts_with('0') && token.bytes().all(|b| b.is_ascii_digit()));
                if !canonical {
                    return None;
                }
                let index: usize = token.parse().ok()?;
                let array: Vec<&'a RawValue> = serde_json::from_str(text).ok()?;
                array.get(index).copied()?
            }
            _ => return None,
        };
    }
    Some(current)
}

/// The decimal text of a JSON number, or of a JSON string holding one (many price APIs quote
/// their numbers).
fn number_text(raw: &RawValue) -> Result<Cow<'_, str>, &'static str> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<String>(text)
            .map(Cow::Owned)
            .map_err(|_| "malformed string"),
        Some(b'0'..=b'9' | b'-') => Ok(Cow::Borrowed(text)),
        _ => Err("not a number or a string holding one"),
    }
}

/// `floor(value x 10^shift)` of the number (or numeric string) `raw` found at `pointer`.
pub fn scaled_number(raw: &RawValue, pointer: &str, shift: i32) -> Result<u128> {
    let bad = |reason: &str| Error::BadValue {
        pointer: pointer.to_owned(),
        text: raw.get().chars().take(64).collect(),
        reason: reason.to_owned(),
    };
    let text = number_text(raw).map_err(bad)?;
    decimal::scaled_floor(&text, shift).map_err(bad)
}

/// Parses `body` as one JSON document kept as text.
pub fn parse_document(body: &[u8]) -> Result<&RawValue> {
    serde_json::from_slice(body).map_err(Error::malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{"a":{"b/c":[10,{"~k":"2.5"}],"n":null},"a":{"last":true},"x":[1,2]}"#;

    fn at(p: &str) -> Option<String> {
        let root: &RawValue = serde_json::from_str(DOC).unwrap();
        pointer(root, p).map(|v| v.get().to_owned())
    }

    #[test]
    fn walks_objects_arrays_and_escapes() {
        assert_eq!(at("/x/1").as_deref(), Some("2"));
        assert_eq!(at("").as_deref(), Some(DOC));
        // The repeated key "a" resolves to its last occurrence.
        assert_eq!(at("/a/last").as_deref(), Some("true"));
        assert_eq!(at("/a/b~1c"), None);
        let root: &RawValue = serde_json::from_str(r#"{"a":{"b/c":[10,{"~k":"2.5"}]}}"#).unwrap();
        assert_eq!(
            pointer(root, "/a/b~1c/1/~0k").map(RawValue::get),
            Some(r#""2.5""#)
        );
        assert_eq!(pointer(root, "/a/b~1c/0").map(RawValue::get), Some("10"));
    }

    #[test]
    fn missing_paths_are_none() {
        assert_eq!(at("/y"), None);
        assert_eq!(at("/x/2"), None);
        assert_eq!(at("/x/01"), None);
        assert_eq!(at("/x/-"), None);
        assert_eq!(at("/x/0/deeper"), None);
    }

    #[test]
    fn pointer_syntax() {
        assert!(validate_pointer("").is_ok());
        assert!(validate_pointer("/a/~0~1").is_ok());
        assert!(validate_pointer("a").is_err());
        assert!(validate_pointer("/a~2").is_err());
        assert!(validate_pointer("/a~").is_err());
    }

    #[test]
    fn numbers_and_numeric_strings_parse_exactly() {
        let v = |s: &str| {
            let raw: Box<RawValue> = serde_json::from_str(s).unwrap();
            scaled_number(&raw, "/p", 18)
        };
        assert_eq!(v("399.5"), Ok(399_500_000_000_000_000_000));
        assert_eq!(
            v(r#""401.000000000000000001""#),
            Ok(401_000_000_000_000_000_001)
        );
        assert_eq!(
            v("null"),
            Err(Error::BadValue {
                pointer: "/p".into(),
                text: "null".into(),
                reason: "not a number or a string holding one".into()
            })
        );
        assert!(matches!(v("-3"), Err(Error::BadValue { reason, .. }) if reason == "negative"));
        assert!(matches!(v(r#""abc""#), Err(Error::BadValue { .. })));
    }
}
