//! The API's errors: JSON `{"message": ...}` with lakeFS's status codes. Every
//! domain error maps to the wire here, in one exhaustive `match`.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::fmt;
use tarn_domain::{Entity, Error};

/// The error body of every API failure.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub message: String,
    /// On a merge, revert or cherry-pick conflict (409): the conflicting
    /// paths, in order (at most 1,000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflicts: Option<Vec<String>>,
    /// The request's id (as in the `X-Request-Id` header and the logs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// An API failure: a status and a message.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    /// The object size, for 416 responses' `Content-Range: bytes */size`.
    range_size: Option<u64>,
    /// The conflicting paths of a 409 conflict.
    conflicts: Option<Vec<String>>,
    /// Why a server error happened (logged, never sent).
    cause: Option<String>,
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            range_size: None,
            conflicts: None,
            cause: None,
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 401: the request carries no valid credentials.
    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "error authenticating request")
    }

    /// 403: the caller's policies do not allow the request.
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "insufficient permissions")
    }

    /// 404 for an unknown route under `/api/v1`.
    pub fn invalid_endpoint() -> Self {
        Self::new(StatusCode::NOT_FOUND, "invalid API endpoint")
    }

    /// 501 for a lakeFS operation Tarn does not offer.
    pub fn not_implemented(operation: &str) -> Self {
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            format!("{operation}: Not Implemented"),
        )
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.message)?;
        match &self.cause {
            Some(cause) => write!(f, " (cause: {cause})"),
            None => Ok(()),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status);
        resp.insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
        if let Some(size) = self.range_size {
            resp.insert_header((header::CONTENT_RANGE, format!("bytes */{size}")));
        }
        resp.json(ErrorBody {
            message: self.message.clone(),
            conflicts: self.conflicts.clone(),
            request_id: crate::http::observe::current_id(),
        })
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        use StatusCode as S;
        let status = match &e {
            Error::NotFound { entity, .. } | Error::AlreadyExists { entity, .. } => {
                let missing = matches!(e, Error::NotFound { .. });
                match entity {
                    // Every entity has its own path or body field in the
                    // API, so "not found" and "exists" answer alike for all.
                    Entity::Repository
                    | Entity::Branch
                    | Entity::Tag
                    | Entity::Commit
                    | Entity::Ref
                    | Entity::MergeBase
                    | Entity::Object
                    | Entity::Upload
                    | Entity::User
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
                    | Entity::GcRun => {
                        if missing {
                            S::NOT_FOUND
                        } else {
                            S::CONFLICT
                        }
                    }
                }
            }
            Error::InvalidInput { .. } | Error::DirtyBranch | Error::NoChanges => S::BAD_REQUEST,
            Error::Conflict { .. } | Error::Canceled(_) => S::CONFLICT,
            Error::ProtectedBranch { .. }
            | Error::ReadOnlyRepository(_)
            | Error::DefaultBranch(_) => S::FORBIDDEN,
            // lakeFS answers a failed pre-* hook with 412.
            Error::PreconditionFailed | Error::HookAborted(_) => S::PRECONDITION_FAILED,
            Error::InvalidRange { .. } => S::RANGE_NOT_SATISFIABLE,
            Error::Gone(_) => S::GONE,
            Error::TooManyAttempts(_) => S::TOO_MANY_REQUESTS,
            Error::Unavailable(_) => S::SERVICE_UNAVAILABLE,
            Error::StorageFull(_) => S::INSUFFICIENT_STORAGE,
            Error::Internal(_) => S::INTERNAL_SERVER_ERROR,
        };
        let message = match &e {
            Error::AlreadyExists {
                entity: Entity::Setup,
                ..
            } => "lakeFS already initialized".to_owned(),
            Error::Internal(_) => "internal server error".to_owned(),
            Error::StorageFull(_) => {
                "insufficient storage: the object store is full; nothing was written".to_owned()
            }
            Error::Unavailable(_) => "Throughput exceeded. Slow down and retry".to_owned(),
            Error::Conflict { paths } => {
                let shown: Vec<&str> = paths.iter().take(10).map(|p| p.as_str()).collect();
                let more = paths.len().saturating_sub(shown.len());
                let tail = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                format!("conflict found: {}{tail}", shown.join(", "))
            }
            other => other.to_string(),
        };
        // Server errors are logged once, when the request ends (observe),
        // with their causes.
        let cause = match &e {
            Error::Internal(source) | Error::StorageFull(source) | Error::Unavailable(source) => {
                Some(crate::http::shared::cause::chain(source))
            }
            _ => None,
        };
        let (range_size, conflicts) = match e {
            Error::InvalidRange { size } => (Some(size), None),
            Error::Conflict { paths } => (
                None,
                Some(paths.into_iter().map(|p| p.into_string()).collect()),
            ),
            _ => (None, None),
        };
        Self {
            status,
            message,
            range_size,
            conflicts,
            cause,
        }
    }
}

impl From<tarn_model::InvalidValue> for ApiError {
    fn from(e: tarn_model::InvalidValue) -> Self {
        Self::bad_request(e.to_string())
    }
}

impl From<crate::http::shared::write_headers::HeaderError> for ApiError {
    fn from(e: crate::http::shared::write_headers::HeaderError) -> Self {
        Self::bad_request(e.to_string())
    }
}
