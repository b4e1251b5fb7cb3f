//! Validated identifiers of repositories, refs, commits and uploads.

use crate::InvalidValue;
use std::fmt;

/// Declares a string newtype whose only constructor is `new`, which validates.
macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $validate:path) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Validates `value`; the error names what was wrong.
            pub fn new(value: impl Into<String>) -> Result<Self, InvalidValue> {
                let value = value.into();
                match $validate(&value) {
                    Ok(()) => Ok(Self(value)),
                    Err(reason) => Err(InvalidValue::new($kind, &value, reason)),
                }
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The identifier as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }
    };
}

pub(crate) use string_id;

string_id!(
    /// A repository id: `^[a-z0-9][a-z0-9-]{2,62}$` (as lakeFS).
    RepositoryId,
    "repository id",
    validate_repository_id
);
string_id!(
    /// A branch name: `^\w[-\w]*$` with ASCII word characters (as lakeFS), at most 256 bytes.
    BranchName,
    "branch name",
    validate_branch_name
);
string_id!(
    /// A tag name: git `check-ref-format` rules, except that `~` is allowed (as lakeFS).
    TagName,
    "tag name",
    validate_tag_name
);
string_id!(
    /// A commit id: 64 lowercase hex digits (SHA-256 of the commit's canonical encoding).
    CommitId,
    "commit id",
    validate_sha256_hex
);
string_id!(
    /// The id of a metarange (a committed tree): 64 lowercase hex digits.
    MetaRangeId,
    "metarange id",
    validate_sha256_hex
);
string_id!(
    /// The id of a range (a slice of a committed tree): 64 lowercase hex digits,
    /// the SHA-256 of its encoded content.
    RangeId,
    "range id",
    validate_sha256_hex
);
string_id!(
    /// A staging token: 1 to 255 characters of `[A-Za-z0-9_.:-]`.
    StagingToken,
    "staging token",
    validate_token
);
string_id!(
    /// A multipart upload id: 1 to 1,024 visible ASCII characters.
    UploadId,
    "upload id",
    validate_upload_id
);

fn validate_repository_id(s: &str) -> Result<(), &'static str> {
    let bytes = s.as_bytes();
    if !(3..=63).contains(&bytes.len()) {
        return Err("must be 3 to 63 characters long");
    }
    let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-';
    if !(bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit()) {
        return Err("must start with a lowercase letter or a digit");
    }
    if !bytes.iter().all(|&b| allowed(b)) {
        return Err("may contain only lowercase letters, digits and '-'");
    }
    Ok(())
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn validate_branch_name(s: &str) -> Result<(), &'static str> {
    let bytes = s.as_bytes();
    match bytes.first() {
        None => return Err("must not be empty"),
        Some(&b) if !is_word(b) => return Err("must start with a letter, digit or '_'"),
        _ => {}
    }
    if bytes.len() > 256 {
        return Err("must be at most 256 characters long");
    }
    if !bytes.iter().all(|&b| is_word(b) || b == b'-') {
        return Err("may contain only letters, digits, '_' and '-'");
    }
    Ok(())
}

fn validate_tag_name(s: &str) -> Result<(), &'static str> {
    if s.is_empty() {
        return Err("must not be empty");
    }
    if s.len() > 256 {
        return Err("must be at most 256 characters long");
    }
    if s == "@" {
        return Err("must not be '@'");
    }
    if s.starts_with('/') || s.starts_with('-') {
        return Err("must not start with '/' or '-'");
    }
    if s.ends_with('/') || s.ends_with('.') || s.ends_with(".lock") {
        return Err("must not end with '/', '.' or '.lock'");
    }
    if s.contains("..") || s.contains("@{") || s.contains("//") {
        return Err("must not contain '..', '@{' or '//'");
    }
    if s.split('/').any(|c| c.starts_with('.')) {
        return Err("no component may start with '.'");
    }
    if s.chars().any(|c| {
        c.is_control() || c.is_whitespace() || matches!(c, '^' | ':' | '?' | '*' | '[' | '\\')
    }) {
        return Err("must not contain whitespace, control characters or any of ^ : ? * [ \\");
    }
    Ok(())
}

fn validate_sha256_hex(s: &str) -> Result<(), &'static str> {
    if s.len() != 64 {
        return Err("must be 64 hex digits");
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err("must be lowercase hex digits");
    }
    Ok(())
}

fn validate_token(s: &str) -> Result<(), &'static str> {
    if s.is_empty() || s.len() > 255 {
        return Err("must be 1 to 255 characters long");
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'))
    {
        return Err("may contain only letters, digits, '_', '.', ':' and '-'");
    }
    Ok(())
}

fn validate_upload_id(s: &str) -> Result<(), &'static str> {
    if s.is_empty() || s.len() > 1024 {
        return Err("must be 1 to 1024 characters long");
    }
    if !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("may contain only visible ASCII characters");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_ids_follow_lakefs_rule() {
        for ok in ["abc", "my-repo-1", "0ab", &"a".repeat(63)] {
            assert!(RepositoryId::new(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "-abc", "Abc", "a_b", "a.b", &"a".repeat(64), "répo"] {
            let err = RepositoryId::new(bad).unwrap_err();
            assert_eq!(err.kind, "repository id");
        }
    }

    #[test]
    fn branch_names_are_word_characters_and_dashes() {
        for ok in ["main", "feature-1", "_x", "0", "a-b_c"] {
            assert!(BranchName::new(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-main", "a/b", "a b", "a.b", "é", "main~1", "main@"] {
            assert!(BranchName::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tag_names_follow_check_ref_format_with_tilde() {
        for ok in ["v1.0", "release/2024", "a~b", "x-y"] {
            assert!(TagName::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "@", "a..b", "a.lock", "a/", "/a", "a b", "a^b", "a:b", "a?b", "a*b", "a[b",
            "a\\b", "a@{b", ".a", "a/.b", "a.",
        ] {
            assert!(TagName::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn commit_ids_are_lowercase_sha256_hex() {
        assert!(CommitId::new("a".repeat(64)).is_ok());
        assert!(CommitId::new("A".repeat(64)).is_err());
        assert!(CommitId::new("a".repeat(63)).is_err());
        assert!(CommitId::new("g".repeat(64)).is_err());
    }

    #[test]
    fn error_names_the_kind_and_truncates_long_values() {
        let err = RepositoryId::new("x".repeat(1000)).unwrap_err();
        assert!(err.value.chars().count() <= 129);
        assert!(err.to_string().starts_with("invalid repository id"));
    }
}
