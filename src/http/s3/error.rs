//! S3 errors as XML bodies with S3's codes and statuses; every domain error
//! maps here in one exhaustive `match`.

use crate::http::shared::write_headers::HeaderError;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use std::fmt;
use tarn_domain::{Entity, Error};
use tarn_s3_protocol::ErrorCode;

/// An S3 error response.
#[derive(Debug, Clone)]
pub struct S3Error {
    /// S3 error code, e.g. `NoSuchKey`.
    pub code: ErrorCode,
    /// Human-readable text.
    pub message: String,
    /// The resource the request named.
    pub resource: String,
    /// Why a server error happened (logged, never sent).
    pub cause: Option<String>,
}

/// Shorthand for gateway results.
pub type S3Result<T> = Result<T, S3Error>;

impl S3Error {
    /// An error with a code (which gives its status) and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            resource: String::new(),
            cause: None,
        }
    }

    /// Records why a server error happened, for the log.
    fn caused_by(mut self, source: &tarn_ports::PortError) -> Self {
        self.cause = Some(crate::http::shared::cause::chain(source));
        self
    }

    /// Names the resource in the body.
    pub fn at(mut self, resource: impl Into<String>) -> Self {
        self.resource = resource.into();
        self
    }

    /// 405 for S3 features lakeFS does not offer.
    pub fn not_supported(what: &str) -> Self {
        Self::new(
            ErrorCode::LakeFsNotSupported,
            format!("This operation is not supported in LakeFS: {what}"),
        )
    }

    /// `NoSuchBucket`.
    pub fn no_such_bucket(bucket: &str) -> Self {
        Self::new(
            ErrorCode::NoSuchBucket,
            "The specified bucket does not exist",
        )
        .at(format!("/{bucket}"))
    }

    /// `InvalidArgument`.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidArgument, message)
    }

    /// `MalformedXML`.
    pub fn malformed_xml(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::MalformedXml, message)
    }

    /// Maps a domain error met while working on `key`.
    pub fn from_domain(e: Error, bucket: &str, key: &str) -> Self {
        let at = if key.is_empty() {
            format!("/{bucket}")
        } else {
            format!("/{bucket}/{key}")
        };
        let err = match &e {
            Error::NotFound { entity, .. } => match entity {
                Entity::Repository => Self::no_such_bucket(bucket),
                Entity::Upload => Self::new(
                    ErrorCode::NoSuchUpload,
                    "The specified multipart upload does not exist.",
                ),
                Entity::Object => {
                    Self::new(ErrorCode::NoSuchKey, "The specified key does not exist.")
                }
                Entity::Branch | Entity::Ref | Entity::Commit | Entity::Tag | Entity::MergeBase => {
                    Self::new(ErrorCode::NoSuchKey, e.to_string())
                }
                // Not reachable through the gateway's operations; a missing
                // principal or policy reads as a denial, never as a key.
                Entity::User
                | Entity::Group
                | Entity::Policy
                | Entity::Credentials
                | Entity::AccessKey
                | Entity::Membership
                | Entity::Attachment
                | Entity::GroupOrUser
                | Entity::UserOrPolicy
                | Entity::GroupOrPolicy
                | Entity::Setup
                | Entity::ProtectionRule
                | Entity::PullRequest
                | Entity::GcRules
                | Entity::GcRun => Self::new(ErrorCode::AccessDenied, "Access Denied"),
            },
            Error::AlreadyExists { .. } => Self::new(ErrorCode::BucketAlreadyExists, e.to_string()),
            Error::InvalidInput { .. } => Self::invalid_argument(e.to_string()),
            Error::DirtyBranch | Error::NoChanges | Error::Conflict { .. } | Error::Canceled(_) => {
                Self::new(ErrorCode::Conflict, e.to_string())
            }
            // lakeFS's gateway wording (ErrWriteToProtectedBranch).
            Error::ProtectedBranch { .. } => Self::new(
                ErrorCode::WriteToProtectedBranch,
                "Attempted to write to a protected branch",
            ),
            Error::ReadOnlyRepository(_) => Self::new(ErrorCode::ReadOnlyRepository, e.to_string()),
            Error::DefaultBranch(_) => Self::new(ErrorCode::AccessDenied, e.to_string()),
            Error::PreconditionFailed => Self::new(
                ErrorCode::PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold",
            ),
            Error::HookAborted(_) => Self::new(ErrorCode::PreconditionFailed, e.to_string()),
            Error::InvalidRange { .. } => Self::new(
                ErrorCode::InvalidRange,
                "The requested range is not satisfiable",
            ),
            Error::Gone(_) => Self::new(ErrorCode::NoSuchVersion, e.to_string()),
            // Server errors are logged once, when the request ends
            // (observe), with their causes.
            Error::StorageFull(source) => Self::new(
                ErrorCode::InsufficientStorage,
                "The object store is full; nothing was written.",
            )
            .caused_by(source),
            Error::TooManyAttempts(_) => {
                Self::new(ErrorCode::SlowDown, "Please reduce your request rate.")
            }
            Error::Unavailable(source) => {
                Self::new(ErrorCode::SlowDown, "Please reduce your request rate.").caused_by(source)
            }
            Error::Internal(source) => Self::new(
                ErrorCode::InternalError,
                "We encountered an internal error. Please try again.",
            )
            .caused_by(source),
        };
        if err.resource.is_empty() {
            err.at(at)
        } else {
            err
        }
    }
}

/// Maps domain errors met on `bucket`/`key`.
pub fn s3_err<'a>(bucket: &'a str, key: &'a str) -> impl Fn(Error) -> S3Error + 'a {
    move |e| S3Error::from_domain(e, bucket, key)
}

impl fmt::Display for S3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.code.status(), self.code, self.message)?;
        match &self.cause {
            Some(cause) => write!(f, " (cause: {cause})"),
            None => Ok(()),
        }
    }
}

/// Escapes text for XML content.
pub fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

impl ResponseError for S3Error {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message><Resource>{}</Resource><RequestId>{}</RequestId><HostId></HostId></Error>",
            self.code,
            escape(&self.message),
            escape(&self.resource),
            escape(&crate::http::observe::current().unwrap_or_default()),
        );
        HttpResponse::build(self.status_code())
            .insert_header((header::CONTENT_TYPE, "application/xml"))
            .body(body)
    }
}

impl From<HeaderError> for S3Error {
    fn from(e: HeaderError) -> Self {
        match e {
            HeaderError::UnsupportedIfNoneMatch(_) => {
                Self::new(ErrorCode::NotImplemented, e.to_string())
            }
            HeaderError::MetadataNotText(_) => Self::invalid_argument(e.to_string()),
            HeaderError::MetadataTooLarge(_) => Self::new(
                ErrorCode::MetadataTooLarge,
                "Your metadata headers exceed the maximum allowed metadata size",
            ),
        }
    }
}
