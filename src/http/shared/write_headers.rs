//! Headers of writes that the API and the gateway read alike: the write
//! condition (`If-None-Match: *`, `If-Match: <etag>`) and user metadata
//! (`x-lakefs-meta-*` on the API, `x-amz-meta-*` on the gateway). One set of
//! rules; each driver maps [`HeaderError`] to its wire. The one difference is
//! the gateway's size limit on metadata, which is S3's (lakeFS's API has none).

use actix_web::http::header::{HeaderMap, IF_MATCH, IF_NONE_MATCH};
use std::collections::BTreeMap;
use tarn_domain::WriteCondition;

/// The most user metadata an S3 write may carry, in bytes of keys and values.
pub const S3_MAX_METADATA: usize = 2048;

/// A write header Tarn refuses.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HeaderError {
    /// `If-None-Match` with anything but `*` (S3 offers no other on writes).
    #[error("If-None-Match supports only '*' on writes, not {0:?}")]
    UnsupportedIfNoneMatch(String),
    /// A metadata value that is not text (refused rather than dropped: a
    /// write never loses what it was given).
    #[error("metadata {0:?} is not text")]
    MetadataNotText(String),
    /// More metadata than the driver's limit, in bytes.
    #[error("metadata headers exceed {0} bytes")]
    MetadataTooLarge(usize),
}

/// The write condition the headers ask for: `If-None-Match: *` wins over
/// `If-Match` (a write that only creates checks nothing else).
pub fn write_condition(headers: &HeaderMap) -> Result<WriteCondition, HeaderError> {
    // Bytes that are not text are kept (lossily), so such a condition fails
    // rather than turning into an unconditional write.
    let value = |name| {
        headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned())
    };
    match (value(IF_NONE_MATCH), value(IF_MATCH)) {
        (Some(v), _) if v == "*" => Ok(WriteCondition::IfAbsent),
        (Some(v), _) => Err(HeaderError::UnsupportedIfNoneMatch(v)),
        (None, Some(etag)) => Ok(WriteCondition::IfMatch(etag)),
        (None, None) => Ok(WriteCondition::Always),
    }
}

/// The user metadata of headers named `<prefix><key>` (lower case), at most
/// `limit` bytes of keys and values when there is a limit.
pub fn user_metadata(
    headers: &HeaderMap,
    prefix: &str,
    limit: Option<usize>,
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
    if let Some(limit) = limit.filter(|l| total > *l) {
        return Err(HeaderError::MetadataTooLarge(limit));
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
            Ok(WriteCondition::IfAbsent)
        );
        // Not text: kept, so the condition fails instead of vanishing.
        assert_eq!(
            c(&[("if-match", b"\xff")]),
            Ok(WriteCondition::IfMatch("\u{FFFD}".into()))
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
        let m = user_metadata(&h, "x-amz-meta-", Some(S3_MAX_METADATA)).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m["b"], "two");
        let h = headers(&[("x-amz-meta-bin", b"\xff\xfe")]);
        assert_eq!(
            user_metadata(&h, "x-amz-meta-", None),
            Err(HeaderError::MetadataNotText("bin".into()))
        );
        let big = vec![b'v'; S3_MAX_METADATA];
        let h = headers(&[("x-amz-meta-k", &big)]);
        assert_eq!(
            user_metadata(&h, "x-amz-meta-", Some(S3_MAX_METADATA)),
            Err(HeaderError::MetadataTooLarge(S3_MAX_METADATA))
        );
        // No limit: all of it is kept.
        let m = user_metadata(&h, "x-amz-meta-", None).unwrap();
        assert_eq!(m["k"].len(), S3_MAX_METADATA);
    }
}
