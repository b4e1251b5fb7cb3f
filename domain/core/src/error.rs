//! The engine's errors: what an API needs to answer a request well.

use tarn_model::{InvalidValue, ObjectPath};
use tarn_ports::{ErrorKind, PortError};

/// Every failure of an engine operation.
///
/// One enum serves all operation families: nearly every operation can meet
/// most of these (a missing repository or ref, a read-only repository, a lost
/// race), and one enum keeps each driver's mapping to the wire a single
/// exhaustive `match`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The thing named does not exist; `kind` says what it is.
    #[error("{kind} not found: {name}")]
    NotFound {
        /// "repository", "branch", "tag", "commit", "ref", "object", ...
        kind: &'static str,
        /// What was asked for.
        name: String,
    },
    /// A create found the name taken.
    #[error("{kind} already exists: {name}")]
    AlreadyExists {
        /// What kind of thing.
        kind: &'static str,
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
    /// A protection rule of the branch forbids the operation.
    #[error("branch {0} is protected")]
    ProtectedBranch(String),
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
    /// A store is temporarily unavailable.
    #[error("temporarily unavailable: {0}")]
    Unavailable(PortError),
    /// Anything else: a store failed or holds something unreadable.
    #[error("internal error: {0}")]
    Internal(PortError),
}

/// Shorthand for engine results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn not_found(kind: &'static str, name: impl ToString) -> Self {
        Self::NotFound {
            kind,
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
    pub(crate) fn from_port(e: PortError, kind: &'static str, name: impl ToString) -> Self {
        match e.kind() {
            ErrorKind::NotFound => Self::not_found(kind, name),
            ErrorKind::AlreadyExists => Self::AlreadyExists {
                kind,
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
            ErrorKind::InvalidInput | ErrorKind::InvalidRange => Self::InvalidInput {
                field: "request",
                reason: e.message().to_owned(),
            },
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
    fn named(self, kind: &'static str, name: impl ToString) -> Result<T>;
}

impl<T> PortResultExt<T> for tarn_ports::PortResult<T> {
    fn named(self, kind: &'static str, name: impl ToString) -> Result<T> {
        self.map_err(|e| Error::from_port(e, kind, name))
    }
}
