//! The S3 wire protocol with no HTTP framework in it, so that every piece is
//! unit-tested with AWS's published examples: request signatures (SigV4 in
//! the header and presigned, SigV2), `aws-chunked` bodies with per-chunk
//! signatures and checksum trailers.

pub mod checksum;
pub mod chunked;
mod dates;
mod error_code;
pub mod sigv2;
pub mod sigv4;

pub use error_code::ErrorCode;
