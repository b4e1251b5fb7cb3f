//! The command line's errors and the exit codes scripts rely on: 0 ok,
//! 1 error, 2 usage.

use reqwest::StatusCode;

/// Everything a command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad arguments beyond what the parser checks (a malformed URI, flags
    /// that do not go together): exit 2.
    #[error("{0}")]
    Usage(String),
    /// The server answered an error: its message, then its status line
    /// (as lakectl prints it).
    #[error("{message}\n{status}")]
    Api { status: StatusCode, message: String },
    /// No answer from the server.
    #[error("cannot reach {endpoint}: {cause}\n(check server.endpoint_url: run `tarn config` or set LAKECTL_SERVER_ENDPOINT_URL)")]
    Unreachable { endpoint: String, cause: String },
    /// The configuration is missing something or is malformed.
    #[error("{0}")]
    Config(String),
    /// A local file or directory.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// Anything else, with a message that says what to do.
    #[error("{0}")]
    Failed(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            _ => 1,
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        CliError::Io {
            context: context.into(),
            source,
        }
    }

    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            CliError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

pub type CliResult<T> = Result<T, CliError>;

/// Shorthand for a usage error.
pub fn usage<T>(message: impl Into<String>) -> CliResult<T> {
    Err(CliError::Usage(message.into()))
}

/// Shorthand for a failure.
pub fn failed<T>(message: impl Into<String>) -> CliResult<T> {
    Err(CliError::Failed(message.into()))
}
