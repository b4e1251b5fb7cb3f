//! S3 error codes (the `<Code>` of an XML error body), each with the HTTP
//! status S3 answers it with. lakeFS adds a few of its own (`ErrWrite...`,
//! `ERRLakeFSNotSupported`), which its clients know.

use std::fmt;

macro_rules! codes {
    ($($variant:ident => $status:literal, $name:literal;)*) => {
        /// An S3 error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $(#[doc = concat!("`", $name, "` (", stringify!($status), ")")] $variant,)*
        }

        impl ErrorCode {
            /// Every code.
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as S3 spells it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $name,)*
                }
            }

            /// The HTTP status S3 answers it with.
            pub const fn status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)*
                }
            }
        }
    };
}

codes! {
    AccessDenied => 403, "AccessDenied";
    AuthorizationHeaderMalformed => 400, "AuthorizationHeaderMalformed";
    AuthorizationQueryParametersError => 400, "AuthorizationQueryParametersError";
    BadDigest => 400, "BadDigest";
    BucketAlreadyExists => 409, "BucketAlreadyExists";
    Conflict => 409, "Conflict";
    IncompleteBody => 400, "IncompleteBody";
    InsufficientStorage => 507, "InsufficientStorage";
    InternalError => 500, "InternalError";
    InvalidAccessKeyId => 403, "InvalidAccessKeyId";
    InvalidArgument => 400, "InvalidArgument";
    InvalidDigest => 400, "InvalidDigest";
    InvalidPart => 400, "InvalidPart";
    InvalidPartOrder => 400, "InvalidPartOrder";
    InvalidRange => 416, "InvalidRange";
    InvalidRequest => 400, "InvalidRequest";
    InvalidTag => 400, "InvalidTag";
    KeyTooLongError => 400, "KeyTooLongError";
    MalformedTrailerError => 400, "MalformedTrailerError";
    MalformedXml => 400, "MalformedXML";
    MetadataTooLarge => 400, "MetadataTooLarge";
    NoSuchBucket => 404, "NoSuchBucket";
    NoSuchKey => 404, "NoSuchKey";
    NoSuchUpload => 404, "NoSuchUpload";
    NoSuchVersion => 404, "NoSuchVersion";
    NotImplemented => 501, "NotImplemented";
    PreconditionFailed => 412, "PreconditionFailed";
    RequestTimeout => 400, "RequestTimeout";
    RequestTimeTooSkewed => 403, "RequestTimeTooSkewed";
    SignatureDoesNotMatch => 403, "SignatureDoesNotMatch";
    SlowDown => 503, "SlowDown";
    XAmzContentSha256Mismatch => 400, "XAmzContentSHA256Mismatch";
    WriteToProtectedBranch => 403, "ErrWriteToProtectedBranch";
    ReadOnlyRepository => 403, "ErrReadOnlyRepository";
    LakeFsNotSupported => 405, "ERRLakeFSNotSupported";
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_statuses_are_errors() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert!((400..600).contains(&code.status()), "{code}");
        }
    }
}
