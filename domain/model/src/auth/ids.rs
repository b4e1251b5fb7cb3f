//! Identifiers of users, groups, policies and access keys.

use crate::ids::string_id;
use crate::InvalidValue;
use std::fmt;

/// lakeFS's rule for auth entity ids: non-empty, no `/`. Tarn also refuses
/// control characters and caps the length, so ids print and index safely.
fn validate_entity_id(s: &str) -> Result<(), &'static str> {
    if s.is_empty() {
        return Err("must not be empty");
    }
    if s.len() > 256 {
        return Err("must be at most 256 bytes");
    }
    if s.contains('/') {
        return Err("must not contain '/'");
    }
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters");
    }
    // Ids are substituted into policy resources (`${user}`) and named by
    // ARNs that policies match with wildcards: a wildcard in an id would
    // widen what a policy grants.
    if s.contains(['*', '?']) {
        return Err("must not contain '*' or '?'");
    }
    Ok(())
}

/// Access key ids are printable ASCII letters and digits (AWS's shape is 20
/// upper-case characters; keys given at setup may differ).
fn validate_access_key_id(s: &str) -> Result<(), &'static str> {
    if !(3..=128).contains(&s.len()) {
        return Err("must be 3 to 128 characters");
    }
    if !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err("must be ASCII letters and digits");
    }
    Ok(())
}

string_id!(
    /// A user id (lakeFS's username).
    UserId,
    "user id",
    validate_entity_id
);
string_id!(
    /// A group id.
    GroupId,
    "group id",
    validate_entity_id
);
string_id!(
    /// A policy id.
    PolicyId,
    "policy id",
    validate_entity_id
);
string_id!(
    /// An access key id.
    AccessKeyId,
    "access key id",
    validate_access_key_id
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_ids_refuse_slashes_empties_and_controls() {
        assert!(UserId::new("alice@example.com").is_ok());
        assert!(UserId::new("Dev Team ✓").is_ok());
        assert!(UserId::new("").is_err());
        assert!(GroupId::new("a/b").is_err());
        assert!(PolicyId::new("x\ny").is_err());
        assert!(PolicyId::new("p".repeat(257)).is_err());
        assert!(
            UserId::new("*").is_err(),
            "a user named * would own every user's credentials"
        );
        assert!(UserId::new("dev?").is_err());
        assert!(GroupId::new("all*").is_err());
    }

    #[test]
    fn access_key_ids_are_alphanumeric() {
        assert!(AccessKeyId::new("AKIAIOSFOLQUICKSTART").is_ok());
        assert!(AccessKeyId::new("AKIA/BAD").is_err());
        assert!(AccessKeyId::new("ab").is_err());
    }
}
