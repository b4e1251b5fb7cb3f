//! The engine's errors: what an API needs to answer a request well.

use std::fmt;
use tarn_model::{InvalidValue, ObjectPath};
use tarn_ports::{ErrorKind, PortError};

/// What a [`Error::NotFound`] or [`Error::AlreadyExists`] is about. Drivers
/// match it exhaustively to choose their answer (a missing repository is an
/// S3 `NoSuchBucket`, a missing object `NoSuchKey`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entity {
    /// A repository.
    Repository,
    /// A branch.
    Branch,
    /// A tag.
    Tag,
    /// A commit, by id.
    Commit,
    /// A ref expression that resolves to nothing.
    Ref,
    /// The merge base of two commits.
    MergeBase,
    /// An object (a path on a ref).
    Object,
    /// A multipart upload.
    Upload,
    /// A user.
    User,
    /// A group.
    Group,
    /// A policy.
    Policy,
    /// A user's credentials (access key and secret).
    Credentials,
    /// An access key id.
    AccessKey,
    /// A user's membership of a group.
    Membership,
    /// A policy's attachment to a user or group.
    Attachment,
    /// Either the group or the user named (the store cannot tell which).
    GroupOrUser,
    /// Either the user or the policy named.
    UserOrPolicy,
    /// Either the group or the policy named.
    GroupOrPolicy,
    /// The server's first-run setup.
    Setup,
    /// A branch protection rule, by pattern.
    ProtectionRule,
    /// A pull request.
    PullRequest,
    /// A repository's garbage collection rules.
    GcRules,
    /// A garbage collection run.
    GcRun,
}

impl Entity {
    /// Its name in messages, e.g. `merge base`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Repository => "repository",
            Self::Branch => "branch",
            Self::Tag => "tag",
            Self::Commit => "commit",
            Self::Ref => "ref",
            Self::MergeBase => "merge base",
            Self::Object => "object",
            Self::Upload => "upload",
            Self::User => "user",
            Self::Group => "group",
            Self::Policy => "policy",
            Self::Credentials => "credentials",
            Self::AccessKey => "access key",
            Self::Membership => "membership",
            Self::Attachment => "attachment",
            Self::GroupOrUser => "group or user",
            Self::UserOrPolicy => "user or policy",
            Self::GroupOrPolicy => "group or policy",
            Self::Setup => "setup",
            Self::ProtectionRule => "branch protection rule",
            Self::PullRequest => "pull request",
            Self::GcRules => "gc rules",
            Self::GcRun => "gc run",
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a branch protection rule refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protected {
    /// A change to the branch's staging area (upload, delete, reset).
    Write,
    /// A commit, or anything else that moves the branch's head.
    Commit,
}

/// Every failure of an engine operation.
///
/// One enum serves all operation families: nearly every operation can meet
/// most of these (a missing repository or ref, a read-only repository, a lost
/// race), and one enum keeps each driver's mapping to the wire a single
/// exhaustive `match`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The thing named does not exist; `entity` says what it is.
    #[error("{name}: {entity} not found")]
    NotFound {
        /// What kind of thing.
        entity: Entity,
        /// What was asked for.
        name: String,
    },
    /// A create found the name taken.
    #[error("{entity} already exists: {name}")]
    AlreadyExists {
        /// What kind of thing.
        entity: Entity,
        /// Its name.
        name: String,
    },
    /// An argument was refused; `field` names it.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The offending field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The branch has uncommitted changes and the operation needs a clean one.
    #[error("uncommitted changes (dirty branch)")]
    DirtyBranch,
    /// Nothing to commit (and `allow_empty` was not given).
    #[error("no changes")]
    NoChanges,
    /// A merge, revert or cherry-pick met paths changed differently on both sides.
    #[error("conflict found on {} path(s)", paths.len())]
    Conflict {
        /// The conflicting paths, in order.
        paths: Vec<ObjectPath>,
    },
    /// A protection rule of the branch forbids the operation. The message is
    /// lakeFS's, word for word (clients match on it); `branch` is for logs.
    #[error("{}", match action {
        Protected::Write => "cannot write to protected branch",
        Protected::Commit => "cannot commit to protected branch",
    })]
    ProtectedBranch {
        /// The protected branch.
        branch: String,
        /// What was refused.
        action: Protected,
    },
    /// The repository refuses writes.
    #[error("repository {0} is read-only")]
    ReadOnlyRepository(String),
    /// A write condition (`If-Match`, `If-None-Match`) does not hold.
    #[error("precondition failed")]
    PreconditionFailed,
    /// A byte range cannot be satisfied; `size` is the object's size.
    #[error("requested range not satisfiable (object size {size})")]
    InvalidRange {
        /// The object's size.
        size: u64,
    },
    /// The entry exists but its data is gone from the store (e.g. collected).
    #[error("no data for {0}: it was removed from the object store")]
    Gone(String),
    /// The default branch cannot be deleted.
    #[error("cannot delete the default branch {0}")]
    DefaultBranch(String),
    /// Concurrent updates kept winning the compare-and-set.
    #[error("too many attempts to update branch {0}; try again")]
    TooManyAttempts(String),
    /// A `pre-*` hook failed (or its action file is invalid): the
    /// operation changed nothing.
    #[error("{0}")]
    HookAborted(String),
    /// The operation stopped because someone asked it to.
    #[error("{0} was canceled")]
    Canceled(String),
    /// A store is temporarily unavailable.
    #[error("temporarily unavailable: {0}")]
    Unavailable(PortError),
    /// The object store is out of space: nothing was written.
    #[error("insufficient storage: the object store is full ({0})")]
    StorageFull(PortError),
    /// Anything else: a store failed or holds something unreadable.
    #[error("internal error: {0}")]
    Internal(PortError),
}

/// Shorthand for engine results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn already_exists(entity: Entity, name: impl ToString) -> Self {
        Self::AlreadyExists {
            entity,
            name: name.to_string(),
        }
    }

    pub(crate) fn not_found(entity: Entity, name: impl ToString) -> Self {
        Self::NotFound {
            entity,
            name: name.to_string(),
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl ToString) -> Self {
        Self::InvalidInput {
            field,
            reason: reason.to_string(),
        }
    }

    /// Maps a port error, naming what a `NotFound`/`AlreadyExists` was about.
    pub(crate) fn from_port(e: PortError, entity: Entity, name: impl ToString) -> Self {
        match e.kind() {
            ErrorKind::NotFound => Self::not_found(entity, name),
            ErrorKind::AlreadyExists => Self::AlreadyExists {
                entity,
                name: name.to_string(),
            },
            _ => Self::from(e),
        }
    }
}

impl From<PortError> for Error {
    fn from(e: PortError) -> Self {
        match e.kind() {
            ErrorKind::Unavailable => Self::Unavailable(e),
            ErrorKind::StorageFull => Self::StorageFull(e),
            // As lakeFS: an operation the block store cannot do is the
            // request's problem ("operation not supported"), not a failure.
            ErrorKind::InvalidInput | ErrorKind::InvalidRange | ErrorKind::Unsupported => {
                Self::InvalidInput {
                    field: "request",
                    reason: e.message().to_owned(),
                }
            }
            _ => Self::Internal(e),
        }
    }
}

impl From<InvalidValue> for Error {
    fn from(e: InvalidValue) -> Self {
        Self::InvalidInput {
            field: e.kind,
            reason: format!("{:?}: {}", e.value, e.reason),
        }
    }
}

/// Maps a failed write of a request body: a body that broke off is the
/// client's fault, anything else the store's.
pub(crate) fn body_write_error(e: PortError) -> Error {
    match e.kind() {
        ErrorKind::Interrupted => Error::invalid(
            "body",
            format!("the upload was interrupted: {}", e.message()),
        ),
        _ => Error::from(e),
    }
}

/// Attaches the kind and name of a missing thing to a port result.
pub(crate) trait PortResultExt<T> {
    fn named(self, entity: Entity, name: impl ToString) -> Result<T>;
}

impl<T> PortResultExt<T> for tarn_ports::PortResult<T> {
    fn named(self, entity: Entity, name: impl ToString) -> Result<T> {
        self.map_err(|e| Error::from_port(e, entity, name))
    }
}
