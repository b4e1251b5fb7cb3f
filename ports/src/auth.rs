use crate::PortResult;
use async_trait::async_trait;
use tarn_model::auth::{AccessKeyId, Credential, Group, GroupId, Policy, PolicyId, User, UserId};
use tarn_model::Timestamp;

/// One page of a listing by id: ids that start with `prefix`, strictly
/// after `after` (empty: from the start), at most `limit`, in byte order.
#[derive(Debug, Clone, Copy)]
pub struct AuthPage<'a> {
    /// Only ids starting with this.
    pub prefix: &'a str,
    /// Only ids strictly greater than this.
    pub after: &'a str,
    /// At most this many.
    pub limit: usize,
}

impl AuthPage<'_> {
    /// Everything, up to `limit`.
    pub fn all(limit: usize) -> AuthPage<'static> {
        AuthPage {
            prefix: "",
            after: "",
            limit,
        }
    }
}

/// Users, groups, policies, credentials, memberships and attachments.
///
/// Contract, for every adapter:
/// - `create_*` of an existing id answers `AlreadyExists`; reads, updates and
///   deletes of a missing id answer `NotFound`.
/// - Deleting a user removes its credentials, memberships and attachments;
///   deleting a group its memberships and attachments; deleting a policy its
///   attachments. Nothing dangling is ever listed.
/// - Membership and attachment changes answer `NotFound` when either side is
///   missing; adding an existing membership or attachment is a no-op;
///   removing one that does not exist answers `NotFound`.
/// - Listings follow [`AuthPage`] and order by the listed entity's id.
/// - `effective_policies` is the user's own policies and those of its
///   groups, each once, ordered by id.
/// - Credentials keep `sealed_secret` byte for byte; an access key id is
///   unique across all users.
/// - `mark_initialized` records the setup time once: it answers `false`
///   (and changes nothing) when setup was already recorded.
#[async_trait]
pub trait AuthStore: Send + Sync + 'static {
    /// Adds a user.
    async fn create_user(&self, user: &User) -> PortResult<()>;
    /// Reads a user.
    async fn get_user(&self, id: &UserId) -> PortResult<User>;
    /// Sets or clears a user's password hash.
    async fn set_password_hash(&self, id: &UserId, hash: Option<&str>) -> PortResult<()>;
    /// Removes a user with its credentials, memberships and attachments.
    async fn delete_user(&self, id: &UserId) -> PortResult<()>;
    /// Lists users.
    async fn list_users(&self, page: AuthPage<'_>) -> PortResult<Vec<User>>;

    /// Adds a group.
    async fn create_group(&self, group: &Group) -> PortResult<()>;
    /// Reads a group.
    async fn get_group(&self, id: &GroupId) -> PortResult<Group>;
    /// Removes a group with its memberships and attachments.
    async fn delete_group(&self, id: &GroupId) -> PortResult<()>;
    /// Lists groups.
    async fn list_groups(&self, page: AuthPage<'_>) -> PortResult<Vec<Group>>;

    /// Adds a policy.
    async fn create_policy(&self, policy: &Policy) -> PortResult<()>;
    /// Replaces an existing policy's statements (its creation time stays).
    async fn update_policy(&self, policy: &Policy) -> PortResult<()>;
    /// Reads a policy.
    async fn get_policy(&self, id: &PolicyId) -> PortResult<Policy>;
    /// Removes a policy and its attachments.
    async fn delete_policy(&self, id: &PolicyId) -> PortResult<()>;
    /// Lists policies.
    async fn list_policies(&self, page: AuthPage<'_>) -> PortResult<Vec<Policy>>;

    /// Puts a user in a group.
    async fn add_member(&self, group: &GroupId, user: &UserId) -> PortResult<()>;
    /// Takes a user out of a group.
    async fn remove_member(&self, group: &GroupId, user: &UserId) -> PortResult<()>;
    /// A group's members (`NotFound` for a missing group).
    async fn list_members(&self, group: &GroupId, page: AuthPage<'_>) -> PortResult<Vec<User>>;
    /// A user's groups (`NotFound` for a missing user).
    async fn list_user_groups(&self, user: &UserId, page: AuthPage<'_>) -> PortResult<Vec<Group>>;

    /// Attaches a policy to a user.
    async fn attach_user_policy(&self, user: &UserId, policy: &PolicyId) -> PortResult<()>;
    /// Detaches a policy from a user.
    async fn detach_user_policy(&self, user: &UserId, policy: &PolicyId) -> PortResult<()>;
    /// The policies attached to a user directly (`NotFound` for a missing user).
    async fn list_user_policies(
        &self,
        user: &UserId,
        page: AuthPage<'_>,
    ) -> PortResult<Vec<Policy>>;
    /// Attaches a policy to a group.
    async fn attach_group_policy(&self, group: &GroupId, policy: &PolicyId) -> PortResult<()>;
    /// Detaches a policy from a group.
    async fn detach_group_policy(&self, group: &GroupId, policy: &PolicyId) -> PortResult<()>;
    /// The policies attached to a group (`NotFound` for a missing group).
    async fn list_group_policies(
        &self,
        group: &GroupId,
        page: AuthPage<'_>,
    ) -> PortResult<Vec<Policy>>;
    /// The user's policies and its groups' policies, each once, by id
    /// (`NotFound` for a missing user).
    async fn effective_policies(&self, user: &UserId) -> PortResult<Vec<Policy>>;

    /// Adds an access key (`NotFound` for a missing user, `AlreadyExists`
    /// for a used access key id).
    async fn create_credential(&self, credential: &Credential) -> PortResult<()>;
    /// Reads an access key.
    async fn get_credential(&self, id: &AccessKeyId) -> PortResult<Credential>;
    /// A user's access keys, by access key id (`NotFound` for a missing user).
    async fn list_credentials(
        &self,
        user: &UserId,
        page: AuthPage<'_>,
    ) -> PortResult<Vec<Credential>>;
    /// Removes an access key of `user` (`NotFound` when `user` has no such key).
    async fn delete_credential(&self, user: &UserId, id: &AccessKeyId) -> PortResult<()>;

    /// Records that setup ran; `false` if it already had.
    async fn mark_initialized(&self, at: Timestamp) -> PortResult<bool>;
    /// When setup ran, if it has.
    async fn initialized(&self) -> PortResult<Option<Timestamp>>;
}
