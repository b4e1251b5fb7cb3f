//! The stored auth entities.

use super::ids::{AccessKeyId, GroupId, UserId};
use crate::Timestamp;

/// A user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The id (lakeFS's username).
    pub id: UserId,
    /// When it was created.
    pub created: Timestamp,
    /// A display name.
    pub friendly_name: Option<String>,
    /// An e-mail address.
    pub email: Option<String>,
    /// The argon2 PHC string of the user's password, when one is set.
    pub password_hash: Option<String>,
}

/// A group of users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The id (also its name).
    pub id: GroupId,
    /// When it was created.
    pub created: Timestamp,
    /// What it is for.
    pub description: Option<String>,
}

/// An access key of a user. The secret is sealed (encrypted) by the domain
/// before it reaches a store; stores keep the bytes as given.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// The access key id.
    pub access_key_id: AccessKeyId,
    /// Whose key it is.
    pub user: UserId,
    /// The encrypted secret access key.
    pub sealed_secret: Vec<u8>,
    /// When it was created.
    pub created: Timestamp,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("access_key_id", &self.access_key_id)
            .field("user", &self.user)
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}
