use std::error::Error as StdError;
use std::fmt;

/// What went wrong, in terms the domain can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The thing addressed does not exist.
    NotFound,
    /// A create found the thing already there.
    AlreadyExists,
    /// A compare-and-set found a different current state.
    PreconditionFailed,
    /// An argument was refused (bad part order, unsupported scheme, ...).
    InvalidInput,
    /// A byte range cannot be satisfied for the object's size.
    InvalidRange,
    /// The request body stream failed or ended early; nothing was stored.
    Interrupted,
    /// The backend cannot do this (e.g. presigning on a local disk).
    Unsupported,
    /// A transient backend failure; the caller may retry.
    Unavailable,
    /// The backend is out of space (a full disk, an exceeded quota).
    StorageFull,
    /// Anything else; the source says what.
    Internal,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::NotFound => "not found",
            Self::AlreadyExists => "already exists",
            Self::PreconditionFailed => "precondition failed",
            Self::InvalidInput => "invalid input",
            Self::InvalidRange => "invalid range",
            Self::Interrupted => "interrupted",
            Self::Unsupported => "unsupported",
            Self::Unavailable => "unavailable",
            Self::StorageFull => "storage full",
            Self::Internal => "internal error",
        };
        f.write_str(s)
    }
}

/// The error of every port: a semantic kind, a message for humans and an
/// optional boxed source (the adapter's own error).
#[derive(Debug)]
pub struct PortError {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

/// Shorthand for port results.
pub type PortResult<T> = Result<T, PortError>;

impl PortError {
    /// An error of `kind` described by `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Shorthand for [`ErrorKind::NotFound`].
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// Shorthand for [`ErrorKind::AlreadyExists`].
    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::AlreadyExists, message)
    }

    /// Shorthand for [`ErrorKind::PreconditionFailed`].
    pub fn precondition_failed(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::PreconditionFailed, message)
    }

    /// Shorthand for [`ErrorKind::InvalidInput`].
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// Shorthand for [`ErrorKind::Internal`].
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// The semantic kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The human-readable message (without the source).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for PortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl StdError for PortError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

impl From<tarn_model::InvalidValue> for PortError {
    fn from(e: tarn_model::InvalidValue) -> Self {
        Self::new(ErrorKind::InvalidInput, e.to_string()).with_source(e)
    }
}
