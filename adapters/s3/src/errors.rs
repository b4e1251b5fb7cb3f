//! S3 failures in the port's terms: the one mapping from S3 error codes and
//! statuses to [`ErrorKind`].

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use tarn_ports::{ErrorKind, PortError};

type HttpResponse = aws_sdk_s3::config::http::HttpResponse;

/// The port error for a failed SDK call; `what` names the operation.
pub(crate) fn from_sdk<E>(err: SdkError<E, HttpResponse>, what: &str) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let kind = match &err {
        SdkError::ServiceError(service) => {
            kind_of(service.err().code(), Some(service.raw().status().as_u16()))
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => ErrorKind::Unavailable,
        SdkError::ResponseError(response) => kind_of(None, Some(response.raw().status().as_u16())),
        _ => ErrorKind::Internal,
    };
    let message = match (err.code(), err.message()) {
        (Some(code), Some(message)) => format!("S3 {what}: {code}: {message}"),
        (Some(code), None) => format!("S3 {what}: {code}"),
        _ => format!("S3 {what}: {}", DisplayErrorContext(&err)),
    };
    PortError::new(kind, message).with_source(err)
}

/// What an S3 error code (or, without one, an HTTP status) means.
pub(crate) fn kind_of(code: Option<&str>, status: Option<u16>) -> ErrorKind {
    match code {
        Some("NoSuchKey" | "NotFound" | "NoSuchUpload" | "NoSuchBucket") => ErrorKind::NotFound,
        Some("InvalidRange") => ErrorKind::InvalidRange,
        // MinIO's full drives; any S3-compatible store's 507.
        Some("XMinioStorageFull") => ErrorKind::StorageFull,
        Some("PreconditionFailed" | "ConditionalRequestConflict") => ErrorKind::PreconditionFailed,
        Some(
            "InvalidPart" | "InvalidPartOrder" | "EntityTooSmall" | "EntityTooLarge"
            | "InvalidArgument" | "InvalidRequest" | "MalformedXML" | "KeyTooLongError"
            | "InvalidBucketName" | "IncompleteBody" | "BadDigest" | "InvalidDigest",
        ) => ErrorKind::InvalidInput,
        Some(
            "SlowDown"
            | "Throttling"
            | "ThrottlingException"
            | "RequestTimeout"
            | "ServiceUnavailable"
            | "InternalError"
            | "RequestTimeTooSkewed",
        ) => ErrorKind::Unavailable,
        // Tarn's own credentials or setup (an expired session token, a
        // region or signature the store refuses): not the client's request.
        Some(
            "AccessDenied"
            | "InvalidAccessKeyId"
            | "SignatureDoesNotMatch"
            | "ExpiredToken"
            | "InvalidToken"
            | "TokenRefreshRequired"
            | "AuthorizationHeaderMalformed"
            | "InvalidSecurity"
            | "AllAccessDisabled",
        ) => ErrorKind::Internal,
        _ => match status {
            Some(404) => ErrorKind::NotFound,
            Some(416) => ErrorKind::InvalidRange,
            Some(412) => ErrorKind::PreconditionFailed,
            Some(507) => ErrorKind::StorageFull,
            Some(429 | 500..=599) => ErrorKind::Unavailable,
            // A 400 with no code named above says nothing about the client.
            _ => ErrorKind::Internal,
        },
    }
}

/// The ETag S3 reported, without its quotes.
pub(crate) fn etag(value: Option<&str>, what: &str) -> Result<String, PortError> {
    value
        .map(|e| e.trim_matches('"').to_owned())
        .ok_or_else(|| PortError::new(ErrorKind::Internal, format!("S3 {what}: no ETag")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_kinds() {
        let cases = [
            (Some("NoSuchKey"), Some(404), ErrorKind::NotFound),
            (Some("NoSuchUpload"), Some(404), ErrorKind::NotFound),
            (None, Some(404), ErrorKind::NotFound),
            (Some("InvalidRange"), Some(416), ErrorKind::InvalidRange),
            (Some("InvalidPart"), Some(400), ErrorKind::InvalidInput),
            (Some("EntityTooSmall"), Some(400), ErrorKind::InvalidInput),
            (Some("SlowDown"), Some(503), ErrorKind::Unavailable),
            (None, Some(500), ErrorKind::Unavailable),
            (Some("AccessDenied"), Some(403), ErrorKind::Internal),
            (
                Some("SignatureDoesNotMatch"),
                Some(403),
                ErrorKind::Internal,
            ),
            (
                Some("PreconditionFailed"),
                Some(412),
                ErrorKind::PreconditionFailed,
            ),
            (Some("ExpiredToken"), Some(400), ErrorKind::Internal),
            (
                Some("AuthorizationHeaderMalformed"),
                Some(400),
                ErrorKind::Internal,
            ),
            (None, Some(400), ErrorKind::Internal),
        ];
        for (code, status, kind) in cases {
            assert_eq!(kind_of(code, status), kind, "{code:?} {status:?}");
        }
    }
}
