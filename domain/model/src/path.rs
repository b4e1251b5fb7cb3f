use crate::InvalidValue;
use std::fmt;

/// The path of an object inside a repository at some ref (lakeFS's "path").
///
/// Any UTF-8 text of 1 to 1,024 bytes without NUL. Paths are compared and
/// sorted by their bytes, which is the order of every listing.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectPath(String);

impl ObjectPath {
    /// The longest path accepted, in bytes (S3's key limit).
    pub const MAX_LEN: usize = 1024;

    /// Validates a path.
    pub fn new(value: impl Into<String>) -> Result<Self, InvalidValue> {
        let value = value.into();
        Self::check(&value)?;
        Ok(Self(value))
    }

    /// Whether `value` is a valid path, without taking it.
    pub fn check(value: &str) -> Result<(), InvalidValue> {
        let reason = if value.is_empty() {
            Some("must not be empty")
        } else if value.len() > Self::MAX_LEN {
            Some("must be at most 1024 bytes")
        } else if value.contains('\0') {
            Some("must not contain NUL")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(InvalidValue::new("path", value, reason)),
            None => Ok(()),
        }
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectPath({:?})", self.0)
    }
}

impl AsRef<str> for ObjectPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_accept_anything_but_empty_nul_and_overlong() {
        assert!(ObjectPath::new("a/b/../c d%+é").is_ok());
        assert!(ObjectPath::new("dir/").is_ok());
        assert!(ObjectPath::new("").is_err());
        assert!(ObjectPath::new("a\0").is_err());
        assert!(ObjectPath::new("x".repeat(1025)).is_err());
    }

    #[test]
    fn paths_sort_by_bytes() {
        let mut v = [
            ObjectPath::new("a/b").unwrap(),
            ObjectPath::new("a-b").unwrap(),
            ObjectPath::new("a").unwrap(),
        ];
        v.sort();
        let got: Vec<_> = v.iter().map(ObjectPath::as_str).collect();
        assert_eq!(got, ["a", "a-b", "a/b"]);
    }
}
