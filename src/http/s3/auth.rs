//! Gateway authentication: SigV4 (header or presigned) or SigV2, verified
//! with the caller's secret; then the body is wrapped in the verifier its
//! payload mode needs (SHA-256, aws-chunked signatures and trailers,
//! `x-amz-checksum-*`, `Content-MD5`).

use super::error::{S3Error, S3Result};
use crate::http::shared::body::payload_stream;
use crate::http::shared::session::{AuthState, Principal};
use actix_web::{web, HttpRequest};
use base64::Engine as _;
use bytes::Bytes;
use futures::StreamExt;
use md5::{Digest, Md5};
use std::io;
use std::sync::{Arc, Mutex};
use tarn_model::auth::UserId;
use tarn_ports::ByteStream;
use tarn_s3_protocol::checksum::ChecksumAlgorithm;
use tarn_s3_protocol::chunked::{self, ChunkError, ChunkSigning, ChunkedOptions};
use tarn_s3_protocol::sigv2;
use tarn_s3_protocol::sigv4::{self, AuthError, PayloadMode, SignedRequest, Verified};
use tarn_s3_protocol::ErrorCode;

/// The verified caller and how to read the body.
pub struct Caller {
    /// Who.
    pub principal: Principal,
    /// SigV4's verification, for the body reader (`None` for SigV2).
    pub verified: Option<Verified>,
}

fn auth_error(e: AuthError) -> S3Error {
    S3Error::new(e.s3_code(), e.to_string())
}

/// Lowercase header names with their values, as the signature code wants them.
pub fn header_pairs(req: &HttpRequest) -> Vec<(String, String)> {
    req.headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Authenticates a gateway request; every request must be signed.
pub async fn authenticate(
    req: &HttpRequest,
    auth: &AuthState,
    vhost_bucket: Option<&str>,
) -> S3Result<Caller> {
    let headers = header_pairs(req);
    let raw_path = req.uri().path();
    let signed = SignedRequest {
        method: req.method().as_str(),
        raw_path,
        raw_query: req.query_string(),
        headers: &headers,
    };
    // Signature dates are checked against the injected clock.
    let now = auth.auth.now().unix_seconds();
    if let Some(v4) = sigv4::parse(&signed).map_err(auth_error)? {
        let (user, secret) = secret_of(auth, &v4.access_key_id).await?;
        let verified = sigv4::verify(&v4, &signed, &secret, now).map_err(auth_error)?;
        return Ok(Caller {
            principal: Principal { id: user },
            verified: Some(verified),
        });
    }
    if let Some(v2) = sigv2::parse(&signed).map_err(auth_error)? {
        let (user, secret) = secret_of(auth, &v2.access_key_id).await?;
        sigv2::verify_with_host_bucket(&v2, &signed, vhost_bucket, &secret, now)
            .map_err(auth_error)?;
        return Ok(Caller {
            principal: Principal { id: user },
            verified: None,
        });
    }
    Err(access_denied())
}

/// The owner and secret of an access key; an unknown key is `AccessDenied`.
async fn secret_of(auth: &AuthState, access_key_id: &str) -> S3Result<(UserId, String)> {
    auth.auth
        .secret_of(access_key_id)
        .await
        .map_err(|e| S3Error::from_domain(e, "", ""))?
        .ok_or_else(access_denied)
}

fn access_denied() -> S3Error {
    S3Error::new(ErrorCode::AccessDenied, "Access Denied")
}

/// The first body-verification failure, kept for the response: the store
/// only sees an interrupted stream.
#[derive(Clone, Default)]
pub struct BodyFailure(Arc<Mutex<Option<S3Error>>>);

impl BodyFailure {
    fn record(&self, e: S3Error) {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        slot.get_or_insert(e);
    }

    /// The failure, if the body failed verification.
    pub fn take(&self) -> Option<S3Error> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// A request body, verified as its headers ask, and its length when known.
pub struct Body {
    /// The payload.
    pub stream: ByteStream,
    /// The payload's length, when declared.
    pub size: Option<u64>,
    /// Where a verification failure is recorded.
    pub failure: BodyFailure,
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Wraps the payload in the verifiers the request's headers call for.
pub fn body(req: &HttpRequest, payload: web::Payload, caller: &Caller) -> S3Result<Body> {
    let raw = payload_stream(payload);
    let failure = BodyFailure::default();
    let mode = caller
        .verified
        .as_ref()
        .map(|v| v.payload.clone())
        .unwrap_or(PayloadMode::Unsigned);
    let content_length = header(req, "content-length").and_then(|v| v.parse::<u64>().ok());
    let (stream, size): (ByteStream, Option<u64>) = if mode.is_streaming() {
        let decoded_length =
            header(req, "x-amz-decoded-content-length").and_then(|v| v.parse().ok());
        let trailer =
            match header(req, "x-amz-trailer") {
                Some(name) => Some(ChecksumAlgorithm::from_header_name(name.trim()).ok_or_else(
                    || S3Error::invalid_argument(format!("unsupported trailer {name}")),
                )?),
                None => None,
            };
        let signing = match (&mode, &caller.verified) {
            (PayloadMode::StreamingSigned | PayloadMode::StreamingSignedTrailer, Some(v)) => {
                Some(ChunkSigning {
                    signing_key: v.signing_key,
                    amz_date: v.amz_date.clone(),
                    scope: v.scope.clone(),
                    seed_signature: v.seed_signature.clone(),
                })
            }
            _ => None,
        };
        let opts = ChunkedOptions {
            signing,
            trailer,
            trailer_signed: mode == PayloadMode::StreamingSignedTrailer,
            decoded_length,
        };
        (ByteStream::new(chunked::decode(raw, opts)), decoded_length)
    } else {
        let stream = match &mode {
            PayloadMode::Sha256(hex) => ByteStream::new(chunked::verify_sha256(raw, hex.clone())),
            _ => raw,
        };
        (stream, content_length)
    };
    let mut stream = stream;
    // A whole-body checksum header (a trailer, if declared, is checked by the decoder).
    let trailer = header(req, "x-amz-trailer")
        .map(str::trim)
        .and_then(ChecksumAlgorithm::from_header_name);
    for alg in ChecksumAlgorithm::ALL
        .into_iter()
        .filter(|a| trailer != Some(*a))
    {
        if let Some(expected) = header(req, alg.header_name()) {
            let expected = expected.trim().to_owned();
            stream = ByteStream::new(chunked::verify_checksum(stream, alg, expected));
        }
    }
    if let Some(md5) = header(req, "content-md5") {
        let expected = base64::engine::general_purpose::STANDARD
            .decode(md5.trim())
            .ok()
            .filter(|d| d.len() == 16)
            .ok_or_else(|| {
                S3Error::new(
                    ErrorCode::InvalidDigest,
                    "The Content-MD5 you specified was invalid.",
                )
            })?;
        stream = verify_md5(stream, expected);
    }
    let recorder = failure.clone();
    let stream = ByteStream::new(stream.inspect(move |item| {
        if let Err(e) = item {
            recorder.record(body_error(e));
        }
    }));
    Ok(Body {
        stream,
        size,
        failure,
    })
}

/// The S3 error of a failed body stream.
fn body_error(e: &io::Error) -> S3Error {
    match ChunkError::from_io(e) {
        Some(c) => S3Error::new(c.s3_code(), c.to_string()),
        None if e.kind() == io::ErrorKind::InvalidData && e.to_string().contains("Content-MD5") => {
            S3Error::new(
                ErrorCode::BadDigest,
                "The Content-MD5 you specified did not match what we received.",
            )
        }
        None => S3Error::new(
            ErrorCode::IncompleteBody,
            format!("the request body failed: {e}"),
        ),
    }
}

/// Passes bytes through and fails at the end if their MD5 is not `expected`.
fn verify_md5(input: ByteStream, expected: Vec<u8>) -> ByteStream {
    let state = (input, Md5::new(), Some(expected));
    ByteStream::new(futures::stream::unfold(
        state,
        |(mut input, mut md5, expected)| async move {
            let expected_now = expected.clone()?;
            match input.next().await {
                Some(Ok(chunk)) => {
                    md5.update(&chunk);
                    Some((Ok::<Bytes, io::Error>(chunk), (input, md5, expected)))
                }
                Some(Err(e)) => Some((Err(e), (input, md5, None))),
                None => {
                    let digest = md5.finalize_reset();
                    if digest.as_slice() == expected_now.as_slice() {
                        None
                    } else {
                        let e = io::Error::new(io::ErrorKind::InvalidData, "Content-MD5 mismatch");
                        Some((Err(e), (input, md5, None)))
                    }
                }
            }
        },
    ))
}
