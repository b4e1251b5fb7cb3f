//! Where object data lives: storage namespaces and the keys inside them.

use crate::InvalidValue;
use std::fmt;

/// A repository's storage namespace: `scheme://location`, such as
/// `local://repos/demo`, `mem://demo` or `s3://bucket/prefix`.
///
/// A trailing `/` is dropped so that `s3://b/p/` and `s3://b/p` are the same
/// namespace. Which schemes are usable is up to the configured block store.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StorageNamespace {
    value: String,
    scheme_len: usize,
}

impl StorageNamespace {
    /// Parses `scheme://location`; the scheme is `[a-z][a-z0-9+.-]*` and the
    /// location is non-empty, at most 1,024 bytes, with no control characters.
    pub fn new(value: impl AsRef<str>) -> Result<Self, InvalidValue> {
        const KIND: &str = "storage namespace";
        let raw = value.as_ref();
        let err = |reason| InvalidValue::new(KIND, raw, reason);
        let (scheme, location) = raw
            .split_once("://")
            .ok_or_else(|| err("must look like scheme://location"))?;
        let mut sb = scheme.bytes();
        if !sb.next().is_some_and(|b| b.is_ascii_lowercase())
            || !sb.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+.-".contains(&b))
        {
            return Err(err(
                "scheme must be lowercase letters, digits, '+', '.' or '-'",
            ));
        }
        let location = location.trim_end_matches('/');
        if location.is_empty() {
            return Err(err("location must not be empty"));
        }
        if location.len() > 1024 {
            return Err(err("location must be at most 1024 bytes"));
        }
        if location.chars().any(char::is_control) {
            return Err(err("must not contain control characters"));
        }
        Ok(Self {
            value: format!("{scheme}://{location}"),
            scheme_len: scheme.len(),
        })
    }

    /// The scheme, e.g. `s3`.
    pub fn scheme(&self) -> &str {
        &self.value[..self.scheme_len]
    }

    /// Everything after `scheme://`, without a trailing `/`.
    pub fn location(&self) -> &str {
        &self.value[self.scheme_len + 3..]
    }

    /// The whole namespace as text.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The full URI of `key` inside this namespace, as shown to users
    /// (lakeFS's `physical_address`).
    pub fn uri_of(&self, key: &BlockKey) -> String {
        format!("{}/{}", self.value, key.as_str())
    }
}

impl fmt::Display for StorageNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

impl fmt::Debug for StorageNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StorageNamespace({:?})", self.value)
    }
}

/// The key of an object inside a storage namespace, relative to it.
///
/// Keys are opaque to the block store: any UTF-8 text of 1 to 1,024 bytes
/// without NUL, not starting with `/`. Segments such as `..` are ordinary
/// characters, never path traversal; each adapter must keep them inside the
/// namespace.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlockKey(String);

impl BlockKey {
    /// Validates a relative key.
    pub fn new(value: impl Into<String>) -> Result<Self, InvalidValue> {
        let value = value.into();
        Self::check(&value)?;
        Ok(Self(value))
    }

    /// Whether `value` is a valid key, without taking it.
    pub fn check(value: &str) -> Result<(), InvalidValue> {
        let reason = if value.is_empty() {
            Some("must not be empty")
        } else if value.len() > 1024 {
            Some("must be at most 1024 bytes")
        } else if value.contains('\0') {
            Some("must not contain NUL")
        } else if value.starts_with('/') {
            Some("must not start with '/'")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(InvalidValue::new("block key", value, reason)),
            None => Ok(()),
        }
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlockKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for BlockKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlockKey({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_split_scheme_and_location() {
        let ns = StorageNamespace::new("s3://bucket/prefix/").unwrap();
        assert_eq!(ns.scheme(), "s3");
        assert_eq!(ns.location(), "bucket/prefix");
        assert_eq!(ns.as_str(), "s3://bucket/prefix");
        let key = BlockKey::new("data/x").unwrap();
        assert_eq!(ns.uri_of(&key), "s3://bucket/prefix/data/x");
    }

    #[test]
    fn bad_namespaces_are_rejected() {
        for bad in [
            "",
            "bucket",
            "s3://",
            "s3:///",
            "S3://b",
            "3s://b",
            "s3://a\u{1}b",
        ] {
            assert!(StorageNamespace::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn block_keys_are_opaque_but_bounded() {
        assert!(BlockKey::new("a/../b").is_ok());
        assert!(BlockKey::new("with space/and%+unicode✓").is_ok());
        assert!(BlockKey::new("").is_err());
        assert!(BlockKey::new("/abs").is_err());
        assert!(BlockKey::new("a\0b").is_err());
        assert!(BlockKey::new("k".repeat(1024)).is_ok());
        assert!(BlockKey::new("k".repeat(1025)).is_err());
    }
}
