//! AWS Signature Version 4 for S3, verified without any HTTP framework.
//!
//! Both forms are handled: the `Authorization: AWS4-HMAC-SHA256 ...` header
//! and the presigned URL (`X-Amz-Algorithm=AWS4-HMAC-SHA256&...` in the
//! query). [`parse`] reads the authentication out of a request and checks its
//! shape; [`verify`] checks the time and the signature with the caller's
//! secret and hands back what the body reader needs: the payload mode, and for
//! `aws-chunked` bodies the signing key and the seed signature that chain the
//! chunk signatures ([`chunk_string_to_sign`], [`trailer_string_to_sign`],
//! [`hmac_hex`]).
//!
//! S3 specifics: the canonical URI is the path as sent, percent-decoded once
//! and re-encoded with AWS's unreserved set (S3 does not double-encode), and
//! `x-amz-content-sha256` is required in the header form.
//!
//! [`AuthError`] is shared with [`crate::sigv2`] and maps to S3 error codes.

use crate::ErrorCode;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The only SigV4 algorithm accepted.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// Hex SHA-256 of the empty string.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// `x-amz-content-sha256` value for a body that is not hashed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// `x-amz-content-sha256` value for an `aws-chunked` body with chunk signatures.
pub const STREAMING_SIGNED: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
/// `x-amz-content-sha256` value for an `aws-chunked` body without chunk
/// signatures, ending in unsigned trailers.
pub const STREAMING_UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
/// `x-amz-content-sha256` value for an `aws-chunked` body with chunk
/// signatures and a signed trailer.
pub const STREAMING_SIGNED_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
/// How far the request time may be from the server's clock.
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 15 * 60;
/// The longest `X-Amz-Expires` of a presigned URL: seven days.
pub const MAX_PRESIGN_EXPIRES_SECONDS: i64 = 7 * 24 * 60 * 60;

/// Why a request is not authenticated. Each variant maps to an S3 error code
/// ([`AuthError::s3_code`]) and an HTTP status ([`AuthError::http_status`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Malformed or unsupported authentication.
    #[error("Access Denied: {0}")]
    AccessDenied(String),
    /// The access key is unknown (for the caller, which looks secrets up).
    #[error("The AWS access key Id you provided does not exist in our records.")]
    InvalidAccessKeyId,
    #[error("The request signature we calculated does not match the signature you provided. Check your key and signing method.")]
    SignatureDoesNotMatch,
    #[error("The difference between the request time and the server's time is too large.")]
    RequestTimeTooSkewed,
    /// A presigned URL whose `X-Amz-Date` is too far in the future.
    #[error("Request is not valid yet")]
    RequestNotReadyYet,
    #[error("X-Amz-Expires should be a number")]
    MalformedExpires,
    #[error("X-Amz-Expires must be non-negative")]
    NegativeExpires,
    #[error("X-Amz-Expires must be less than a week (in seconds) that is 604800")]
    MaximumExpires,
    #[error("Request has expired")]
    ExpiredPresignRequest,
    #[error("Missing required header for this request: x-amz-content-sha256")]
    MissingContentSha256,
    #[error("AWS authentication requires a valid Date or x-amz-date header")]
    InvalidDate,
    #[error("The authorization header is malformed; {0}")]
    AuthorizationHeaderMalformed(String),
    #[error("Query-string authentication is malformed: {0}")]
    AuthorizationQueryParametersError(String),
    /// A well-formed request with an invalid argument, such as an unknown
    /// `x-amz-content-sha256` value or two authentication mechanisms at once.
    #[error("{0}")]
    InvalidArgument(String),
}

impl AuthError {
    /// The S3 error code (`<Code>` of the XML error body).
    pub fn s3_code(&self) -> ErrorCode {
        match self {
            AuthError::AccessDenied(_)
            | AuthError::RequestNotReadyYet
            | AuthError::ExpiredPresignRequest
            | AuthError::InvalidDate => ErrorCode::AccessDenied,
            AuthError::InvalidAccessKeyId => ErrorCode::InvalidAccessKeyId,
            AuthError::SignatureDoesNotMatch => ErrorCode::SignatureDoesNotMatch,
            AuthError::RequestTimeTooSkewed => ErrorCode::RequestTimeTooSkewed,
            AuthError::MalformedExpires
            | AuthError::NegativeExpires
            | AuthError::MaximumExpires
            | AuthError::AuthorizationQueryParametersError(_) => {
                ErrorCode::AuthorizationQueryParametersError
            }
            AuthError::MissingContentSha256 => ErrorCode::InvalidRequest,
            AuthError::AuthorizationHeaderMalformed(_) => ErrorCode::AuthorizationHeaderMalformed,
            AuthError::InvalidArgument(_) => ErrorCode::InvalidArgument,
        }
    }
}

/// A request as received, with no framework types.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// The HTTP method, e.g. `GET`.
    pub method: &'a str,
    /// The path as sent on the request line (still percent-encoded), without
    /// the query.
    pub raw_path: &'a str,
    /// The query as sent (still percent-encoded), without the `?`.
    pub raw_query: &'a str,
    /// Header names in lowercase, values as received; a header sent more than
    /// once appears once per value.
    pub headers: &'a [(String, String)],
}

impl<'a> SignedRequest<'a> {
    /// The first value of a header (the name is matched case-insensitively).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.header_values(name).next()
    }

    /// Every value of a header, in the order received.
    pub fn header_values<'n>(&self, name: &'n str) -> impl Iterator<Item = &'a str> + 'n
    where
        'a: 'n,
    {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How the body is to be read and checked, from `x-amz-content-sha256` (or
/// `X-Amz-Content-Sha256` in a presigned query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadMode {
    /// `UNSIGNED-PAYLOAD`: the body is not checked.
    Unsigned,
    /// The lowercase hex SHA-256 the body must have.
    Sha256(String),
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: `aws-chunked` with chunk signatures.
    StreamingSigned,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: `aws-chunked` without chunk
    /// signatures, with trailers.
    StreamingUnsignedTrailer,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: `aws-chunked` with chunk
    /// signatures and a signed trailer.
    StreamingSignedTrailer,
}

impl PayloadMode {
    /// Reads an `x-amz-content-sha256` value.
    pub fn from_content_sha256(value: &str) -> Result<PayloadMode, AuthError> {
        match value {
            UNSIGNED_PAYLOAD => Ok(PayloadMode::Unsigned),
            STREAMING_SIGNED => Ok(PayloadMode::StreamingSigned),
            STREAMING_UNSIGNED_TRAILER => Ok(PayloadMode::StreamingUnsignedTrailer),
            STREAMING_SIGNED_TRAILER => Ok(PayloadMode::StreamingSignedTrailer),
            v if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Ok(PayloadMode::Sha256(v.to_ascii_lowercase()))
            }
            _ => Err(AuthError::InvalidArgument(
                "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, \
                 STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER \
                 or a valid sha256 value."
                    .to_owned(),
            )),
        }
    }

    /// Whether the body is `aws-chunked`.
    pub fn is_streaming(&self) -> bool {
        matches!(
            self,
            PayloadMode::StreamingSigned
                | PayloadMode::StreamingUnsignedTrailer
                | PayloadMode::StreamingSignedTrailer
        )
    }
}

/// The SigV4 authentication of a request, parsed and checked for shape but
/// not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V4Auth {
    pub access_key_id: String,
    /// The credential scope's date, `yyyymmdd`.
    pub scope_date: String,
    pub region: String,
    pub service: String,
    /// The signed header names, in the order given.
    pub signed_headers: Vec<String>,
    /// The signature sent, lowercase hex.
    pub signature: String,
    /// The request time, `yyyymmddThhmmssZ`.
    pub amz_date: String,
    /// The request time in Unix seconds.
    pub request_time: i64,
    /// The payload hash that goes into the canonical request, as sent.
    pub payload_hash: String,
    pub payload: PayloadMode,
    /// `X-Amz-Expires` of a presigned URL; `None` for the header form.
    pub presigned_expires: Option<i64>,
}

impl V4Auth {
    /// `yyyymmdd/region/service/aws4_request`.
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.scope_date, self.region, self.service
        )
    }

    /// Whether the authentication came in the query (a presigned URL).
    pub fn is_presigned(&self) -> bool {
        self.presigned_expires.is_some()
    }
}

/// What a verified request gives the body reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub payload: PayloadMode,
    /// The derived signing key, for chunk and trailer signatures.
    pub signing_key: [u8; 32],
    /// The request's signature (lowercase hex): the "previous signature" of
    /// the first chunk.
    pub seed_signature: String,
    /// `yyyymmddThhmmssZ`, as in the string to sign.
    pub amz_date: String,
    /// `yyyymmdd/region/service/aws4_request`.
    pub scope: String,
}

/// Detects a SigV4 request (header or presigned). `Ok(None)` when the request
/// carries no SigV4 authentication (none at all, or SigV2); `Err` when it is
/// malformed.
pub fn parse(req: &SignedRequest) -> Result<Option<V4Auth>, AuthError> {
    let authorization = req.header("authorization").map(str::trim);
    let query = query_pairs(req.raw_query);
    let query_algorithm = query.iter().any(|p| p.key == b"X-Amz-Algorithm");
    match authorization {
        Some(a) if !a.is_empty() && query_algorithm => Err(only_one_mechanism()),
        Some(a) if is_v4_authorization(a) => parse_header(req, a).map(Some),
        Some(a) if a.starts_with("AWS4-") => Err(AuthError::AccessDenied(format!(
            "unsupported authorization algorithm {}",
            a.split_whitespace().next().unwrap_or_default()
        ))),
        _ if query_algorithm => parse_presigned(&query).map(Some),
        _ => Ok(None),
    }
}

/// Verifies the signature with `secret` at time `now_unix` (Unix seconds).
pub fn verify(
    auth: &V4Auth,
    req: &SignedRequest,
    secret: &str,
    now_unix: i64,
) -> Result<Verified, AuthError> {
    match auth.presigned_expires {
        Some(expires) => {
            if auth.request_time - now_unix > MAX_CLOCK_SKEW_SECONDS {
                return Err(AuthError::RequestNotReadyYet);
            }
            if now_unix > auth.request_time.saturating_add(expires) {
                return Err(AuthError::ExpiredPresignRequest);
            }
        }
        None => {
            if (now_unix - auth.request_time).abs() > MAX_CLOCK_SKEW_SECONDS {
                return Err(AuthError::RequestTimeTooSkewed);
            }
        }
    }
    let scope = auth.scope();
    let canonical = canonical_request(
        req,
        &auth.signed_headers,
        &auth.payload_hash,
        auth.is_presigned(),
    );
    let to_sign = string_to_sign(&auth.amz_date, &scope, &canonical);
    let key = signing_key(secret, &auth.scope_date, &auth.region, &auth.service);
    let expected = hmac_hex(&key, &to_sign);
    if !constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        return Err(AuthError::SignatureDoesNotMatch);
    }
    Ok(Verified {
        payload: auth.payload.clone(),
        signing_key: key,
        seed_signature: expected,
        amz_date: auth.amz_date.clone(),
        scope,
    })
}

/// The canonical request: method, canonical URI, canonical query (without
/// `X-Amz-Signature` when `presigned`), canonical headers, signed headers and
/// payload hash, joined by newlines.
pub fn canonical_request(
    req: &SignedRequest,
    signed_headers: &[String],
    payload_hash: &str,
    presigned: bool,
) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(req.method);
    out.push('\n');
    out.push_str(&canonical_uri(req.raw_path));
    out.push('\n');
    out.push_str(&canonical_query(req.raw_query, presigned));
    out.push('\n');
    for name in signed_headers {
        out.push_str(name);
        out.push(':');
        let values: Vec<String> = req.header_values(name).map(trim_all).collect();
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&signed_headers.join(";"));
    out.push('\n');
    out.push_str(payload_hash);
    out
}

/// The canonical URI of a path as sent: percent-decoded once, then each byte
/// outside `A-Z a-z 0-9 - _ . ~ /` percent-encoded (uppercase hex).
pub fn canonical_uri(raw_path: &str) -> String {
    if raw_path.is_empty() {
        return "/".to_owned();
    }
    uri_encode(&percent_decode(raw_path, false), false)
}

/// The canonical query string: pairs decoded, then key and value URI-encoded,
/// sorted by key then value, `=` always present. `X-Amz-Signature` is left
/// out when `presigned`.
pub fn canonical_query(raw_query: &str, presigned: bool) -> String {
    let mut pairs: Vec<(String, String)> = query_pairs(raw_query)
        .into_iter()
        .filter(|p| !(presigned && p.key == b"X-Amz-Signature"))
        .map(|p| (uri_encode(&p.key, true), uri_encode(&p.value, true)))
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// `AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256 of canonical request>`.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// The SigV4 signing key: HMAC chain over `"AWS4" + secret`, date, region,
/// service and `aws4_request`.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_secret = format!("AWS4{secret}");
    let k_date = hmac(k_secret.as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

/// Lowercase hex HMAC-SHA256 of `data` under a signing key.
pub fn hmac_hex(key: &[u8; 32], data: &str) -> String {
    hex::encode(hmac(key, data.as_bytes()))
}

/// The string to sign of one `aws-chunked` chunk:
/// `AWS4-HMAC-SHA256-PAYLOAD\n<amz_date>\n<scope>\n<previous signature>\n<hex sha256 of "">\n<hex sha256 of the chunk>`.
/// The chunk's signature is [`hmac_hex`] of it under the signing key.
pub fn chunk_string_to_sign(
    amz_date: &str,
    scope: &str,
    previous_signature: &str,
    chunk_sha256_hex: &str,
) -> String {
    format!(
        "AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous_signature}\n{EMPTY_SHA256}\n{chunk_sha256_hex}"
    )
}

/// The string to sign of the trailer of a signed `aws-chunked` body:
/// `AWS4-HMAC-SHA256-TRAILER\n<amz_date>\n<scope>\n<previous signature>\n<hex sha256 of the trailer>`,
/// where the trailer is hashed in its canonical form (`name:value\n` per
/// trailing header) and the previous signature is the final (empty) chunk's.
pub fn trailer_string_to_sign(
    amz_date: &str,
    scope: &str,
    previous_signature: &str,
    trailer_sha256_hex: &str,
) -> String {
    format!(
        "AWS4-HMAC-SHA256-TRAILER\n{amz_date}\n{scope}\n{previous_signature}\n{trailer_sha256_hex}"
    )
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn only_one_mechanism() -> AuthError {
    AuthError::InvalidArgument(
        "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, \
         Signature query string parameter or the Authorization header should be specified"
            .to_owned(),
    )
}

fn is_v4_authorization(value: &str) -> bool {
    value
        .strip_prefix(ALGORITHM)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
}

fn parse_header(req: &SignedRequest, authorization: &str) -> Result<V4Auth, AuthError> {
    let malformed = |m: &str| AuthError::AuthorizationHeaderMalformed(m.to_owned());
    let rest = authorization[ALGORITHM.len()..].trim();
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| malformed(&format!("the component {part:?} is not key=value")))?;
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            other => return Err(malformed(&format!("unknown component {other:?}"))),
        };
        if slot.replace(value.trim()).is_some() {
            return Err(malformed(&format!("{key} given twice")));
        }
    }
    let credential = credential.ok_or_else(|| malformed("missing Credential"))?;
    let signed = signed.ok_or_else(|| malformed("missing SignedHeaders"))?;
    let signature = signature.ok_or_else(|| malformed("missing Signature"))?;
    let (access_key_id, scope_date, region, service) =
        parse_credential(credential).map_err(malformed)?;
    let signed_headers = parse_signed_headers(signed).map_err(malformed)?;
    let signature = parse_signature(signature).map_err(malformed)?;

    let date = req
        .header("x-amz-date")
        .or_else(|| req.header("date"))
        .ok_or(AuthError::InvalidDate)?;
    let request_time = parse_amz_date(date.trim())
        .or_else(|| parse_http_date(date))
        .ok_or(AuthError::InvalidDate)?;
    let amz_date = format_amz_date(request_time);
    if amz_date[..8] != *scope_date {
        return Err(malformed(
            "Invalid credential date. Date is not the same as X-Amz-Date.",
        ));
    }
    let payload_hash = req
        .header("x-amz-content-sha256")
        .map(str::trim)
        .ok_or(AuthError::MissingContentSha256)?;
    let payload = PayloadMode::from_content_sha256(payload_hash)?;
    Ok(V4Auth {
        access_key_id,
        scope_date,
        region,
        service,
        signed_headers,
        signature,
        amz_date,
        request_time,
        payload_hash: payload_hash.to_owned(),
        payload,
        presigned_expires: None,
    })
}

fn parse_presigned(query: &[QueryPair]) -> Result<V4Auth, AuthError> {
    let bad = |m: &str| AuthError::AuthorizationQueryParametersError(m.to_owned());
    let get = |name: &str| -> Result<Option<String>, AuthError> {
        let mut found = query.iter().filter(|p| p.key == name.as_bytes());
        let first = found.next();
        if found.next().is_some() {
            return Err(bad(&format!("{name} given more than once")));
        }
        Ok(first.map(|p| String::from_utf8_lossy(&p.value).into_owned()))
    };
    let require = |name: &str| -> Result<String, AuthError> {
        get(name)?.ok_or_else(|| {
            bad(&format!(
                "Query-string authentication version 4 requires the X-Amz-Algorithm, \
                 X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and \
                 X-Amz-Expires parameters; {name} is missing"
            ))
        })
    };
    if require("X-Amz-Algorithm")? != ALGORITHM {
        return Err(bad("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\""));
    }
    let credential = require("X-Amz-Credential")?;
    let signed = require("X-Amz-SignedHeaders")?;
    let signature = require("X-Amz-Signature")?;
    let date = require("X-Amz-Date")?;
    let expires = require("X-Amz-Expires")?;

    let expires: i64 = expires
        .trim()
        .parse()
        .map_err(|_| AuthError::MalformedExpires)?;
    if expires < 0 {
        return Err(AuthError::NegativeExpires);
    }
    if expires > MAX_PRESIGN_EXPIRES_SECONDS {
        return Err(AuthError::MaximumExpires);
    }
    let (access_key_id, scope_date, region, service) =
        parse_credential(&credential).map_err(bad)?;
    let signed_headers = parse_signed_headers(&signed).map_err(bad)?;
    let signature = parse_signature(&signature).map_err(bad)?;
    let request_time = parse_amz_date(&date).ok_or(AuthError::InvalidDate)?;
    let amz_date = format_amz_date(request_time);
    if amz_date[..8] != *scope_date {
        return Err(bad(
            "Invalid credential date. Date is not the same as X-Amz-Date.",
        ));
    }
    let (payload_hash, payload) = match get("X-Amz-Content-Sha256")? {
        None => (UNSIGNED_PAYLOAD.to_owned(), PayloadMode::Unsigned),
        Some(hash) => {
            let mode = PayloadMode::from_content_sha256(&hash)?;
            if mode.is_streaming() {
                return Err(AuthError::InvalidArgument(
                    "a presigned request cannot have a streaming payload".to_owned(),
                ));
            }
            (hash, mode)
        }
    };
    Ok(V4Auth {
        access_key_id,
        scope_date,
        region,
        service,
        signed_headers,
        signature,
        amz_date,
        request_time,
        payload_hash,
        payload,
        presigned_expires: Some(expires),
    })
}

/// `<access key>/<yyyymmdd>/<region>/<service>/aws4_request`.
fn parse_credential(credential: &str) -> Result<(String, String, String, String), &'static str> {
    let mut parts = credential.trim().rsplitn(5, '/');
    let (terminator, service, region, date, access_key) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    if access_key.is_empty() {
        return Err("the Credential is not <access key>/<date>/<region>/<service>/aws4_request");
    }
    if terminator != "aws4_request" {
        return Err("the Credential does not end in aws4_request");
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the Credential's date is not yyyymmdd");
    }
    if region.is_empty() || service.is_empty() {
        return Err("the Credential has an empty region or service");
    }
    Ok((
        access_key.to_owned(),
        date.to_owned(),
        region.to_owned(),
        service.to_owned(),
    ))
}

fn parse_signed_headers(signed: &str) -> Result<Vec<String>, &'static str> {
    let names: Vec<String> = signed.trim().split(';').map(str::to_owned).collect();
    if names.iter().any(String::is_empty) {
        return Err("SignedHeaders has an empty name");
    }
    if !names.iter().any(|n| n.eq_ignore_ascii_case("host")) {
        return Err("SignedHeaders must include host");
    }
    Ok(names)
}

fn parse_signature(signature: &str) -> Result<String, &'static str> {
    let signature = signature.trim();
    if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("the Signature is not 64 hexadecimal characters");
    }
    Ok(signature.to_ascii_lowercase())
}

/// A header value with leading and trailing whitespace removed and inner runs
/// of whitespace collapsed to one space.
fn trim_all(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One pair of a query string, percent-decoded (`+` as a space).
pub(crate) struct QueryPair {
    pub(crate) key: Vec<u8>,
    pub(crate) value: Vec<u8>,
    /// The value with `+` kept as `+` (for base64 values sent unencoded).
    pub(crate) value_plus_literal: Vec<u8>,
}

pub(crate) fn query_pairs(raw_query: &str) -> Vec<QueryPair> {
    raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            QueryPair {
                key: percent_decode(k, true),
                value: percent_decode(v, true),
                value_plus_literal: percent_decode(v, false),
            }
        })
        .collect()
}

/// Decodes `%XX` escapes (a `%` not followed by two hex digits stays as is);
/// `+` becomes a space when `plus_as_space`.
pub(crate) fn percent_decode(s: &str, plus_as_space: bool) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let digit = |at: usize| bytes.get(at).copied().and_then(hex_val);
                if let (Some(high), Some(low)) = (digit(i + 1), digit(i + 2)) {
                    out.push(high << 4 | low);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' if plus_as_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// AWS URI encoding: every byte but `A-Z a-z 0-9 - _ . ~` as `%XX` (uppercase
/// hex); `/` too when `encode_slash`.
pub fn uri_encode(bytes: &[u8], encode_slash: bool) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (b == b'/' && !encode_slash)
        {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0xf)] as char);
        }
    }
    out
}

pub use crate::dates::{format_amz_date, parse_amz_date, parse_http_date};

#[cfg(test)]
#[path = "sigv4_tests.rs"]
mod tests;

/// Client side: the `x-amz-date` and `Authorization` headers that sign a
/// request whose other signed headers are `headers` (lowercase names, `host`
/// among them) and whose payload hash is `payload_hash` (e.g.
/// `UNSIGNED-PAYLOAD`). For tests, benchmarks and tools.
#[allow(clippy::too_many_arguments)]
pub fn sign_header(
    method: &str,
    raw_path: &str,
    raw_query: &str,
    headers: &[(String, String)],
    payload_hash: &str,
    access_key_id: &str,
    secret: &str,
    region: &str,
    now_unix: i64,
) -> (String, String) {
    let amz_date = format_amz_date(now_unix);
    let date = &amz_date[..8];
    let mut all: Vec<(String, String)> = headers.to_vec();
    all.push(("x-amz-content-sha256".to_owned(), payload_hash.to_owned()));
    all.push(("x-amz-date".to_owned(), amz_date.clone()));
    all.sort();
    let request = SignedRequest {
        method,
        raw_path,
        raw_query,
        headers: &all,
    };
    let signed: Vec<String> = all.iter().map(|(k, _)| k.clone()).collect();
    let canonical = canonical_request(&request, &signed, payload_hash, false);
    let scope = format!("{date}/{region}/s3/aws4_request");
    let to_sign = string_to_sign(&amz_date, &scope, &canonical);
    let signature = hmac_hex(&signing_key(secret, date, region, "s3"), &to_sign);
    let authorization = format!(
        "{ALGORITHM} Credential={access_key_id}/{scope}, SignedHeaders={}, Signature={signature}",
        signed.join(";")
    );
    (amz_date, authorization)
}
