//! Headers of writes that the API and the gateway read alike: the write
//! condition (`If-None-Match: *`, `If-Match: <etag>`) and user metadata
//! (`x-lakefs-meta-*` on the API, `x-amz-meta-*` on the gateway). One set of
//! rules; each driver maps [`HeaderError`] to its wire.

use actix_web::http::header::{HeaderMap, IF_MATCH, IF_NONE_MATCH};
use std::collections::BTreeMap;
use tarn_domain::WriteCondition;

/// The most user metadata a write may carry, in bytes of keys and values
/// (S3's limit).
pub const MAX_METADATA: usize = 2048;

/// A write header Tarn refuses.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HeaderError {
    /// `If-None-Match` with anything but `*` (S3 offers no other on writes).
    #[error("If-None-Match supports only '*' on writes, not {0:?}")]
    UnsupportedIfNoneMatch(String),
    /// `If-None-Match` and `If-Match` on one write.
    #[error("If-None-Match and If-Match cannot be combined on a write")]
    ConflictingConditions,
    /// A metadata value that is not text.
    #[error("metadata {0:?} is not text")]
    MetadataNotText(String),
    /// More than [`MAX_METADATA`] bytes of metadata.
    #[error("metadata headers exceed {MAX_METADATA} bytes")]
    MetadataTooLarge,
}

/// The write condition the headers ask for.
pub fn write_condition(headers: &HeaderMap) -> Result<WriteCondition, HeaderError> {
    let value = |name| {
        headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned())
    };
    match (value(IF_NONE_MATCH), value(IF_MATCH)) {
        (Some(_), Some(_)) => Err(HeaderError::ConflictingConditions),
        (Some(v), None) if v == "*" => Ok(WriteCondition::IfAbsent),
        (Some(v), None) => Err(HeaderError::UnsupportedIfNoneMatch(v)),
        (None, Some(etag)) => Ok(WriteCondition::IfMatch(etag)),
        (None, None) => Ok(WriteCondition::Always),
    }
}

/// The user metadata of headers named `<prefix><key>` (lower case).
pub fn user_metadata(
    headers: &HeaderMap,
    prefix: &str,
) -> Result<BTreeMap<String, String>, HeaderError> {
    let mut total = 0;
    let mut out = BTreeMap::new();
    for (name, value) in headers {
        if let Some(key) = name.as_str().strip_prefix(prefix) {
            let value = value
                .to_str()
                .map_err(|_| HeaderError::MetadataNotText(key.to_owned()))?;
            total += key.len() + value.len();
            out.insert(key.to_owned(), value.to_owned());
        }
    }
    if total > MAX_METADATA {
        return Err(HeaderError::MetadataTooLarge);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (n, v) in pairs {
            map.append(
                HeaderName::from_bytes(n.as_bytes()).unwrap(),
                HeaderValue::from_bytes(v).unwrap(),
            );
        }
        map
    }

    #[test]
    fn conditions() {
        let c = |pairs: &[(&str, &[u8])]| write_condition(&headers(pairs));
        assert_eq!(c(&[]), Ok(WriteCondition::Always));
        assert_eq!(
            c(&[("if-none-match", b" * ")]),
            Ok(WriteCondition::IfAbsent)
        );
        assert_eq!(
            c(&[("if-match", b"\"abc\"")]),
            Ok(WriteCondition::IfMatch("\"abc\"".into()))
        );
        assert_eq!(
            c(&[("if-none-match", b"\"abc\"")]),
            Err(HeaderError::UnsupportedIfNoneMatch("\"abc\"".into()))
        );
        assert_eq!(
            c(&[("if-none-match", b"*"), ("if-match", b"x")]),
            Err(HeaderError::ConflictingConditions)
        );
    }

    #[test]
    fn metadata() {
        let h = headers(&[
            ("x-amz-meta-a", b"1"),
            ("x-amz-meta-b", b"two"),
            ("x-lakefs-meta-c", b"other driver"),
            ("content-type", b"text/plain"),
        ]);
        let m = user_metadata(&h, "x-amz-meta-").unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m["b"], "two");
        let h = headers(&[("x-amz-meta-bin", b"\xff\xfe")]);
        assert_eq!(
            user_metadata(&h, "x-amz-meta-"),
            Err(HeaderError::MetadataNotText("bin".into()))
        );
        let big = vec![b'v'; MAX_METADATA];
        let h = headers(&[("x-lakefs-meta-k", &big)]);
        assert_eq!(
            user_metadata(&h, "x-lakefs-meta-"),
            Err(HeaderError::MetadataTooLarge)
        );
    }
}
