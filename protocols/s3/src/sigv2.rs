//! AWS Signature Version 2 for S3 (legacy clients), verified without any
//! HTTP framework.
//!
//! Header form: `Authorization: AWS <access key>:<base64 HMAC-SHA1>`. Query
//! form (presigned): `AWSAccessKeyId`, `Signature` and `Expires` (Unix
//! seconds). The string to sign is
//! `METHOD\nContent-MD5\nContent-Type\nDate-or-Expires\n<amz headers><resource>`,
//! with an empty Date line when `x-amz-date` is sent (it is then signed among
//! the `x-amz-*` headers).
//!
//! The canonicalized resource starts with `/bucket`: for a path-style request
//! that is the request path as sent ([`verify`]); for a virtual-hosted one the
//! caller names the bucket taken from the host ([`verify_with_host_bucket`]).

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::sigv4::{
    constant_time_eq, parse_amz_date, parse_http_date, query_pairs, AuthError, QueryPair,
    SignedRequest, MAX_CLOCK_SKEW_SECONDS,
};

type HmacSha1 = Hmac<Sha1>;

/// The query parameters S3 signs as part of the canonicalized resource
/// (sub-resources and response overrides), sorted.
pub const SIGNED_SUBRESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "delete",
    "encryption",
    "inventory",
    "legal-hold",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "partNumber",
    "policy",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "retention",
    "select",
    "select-type",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

/// The SigV2 authentication of a request, parsed but not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2Auth {
    pub access_key_id: String,
    /// The base64 signature sent.
    pub signature: String,
    /// `Expires` of a presigned URL, as sent (it is signed as text) and as
    /// Unix seconds; `None` for the header form.
    pub presigned_expires: Option<(String, i64)>,
}

impl V2Auth {
    /// Whether the authentication came in the query (a presigned URL).
    pub fn is_presigned(&self) -> bool {
        self.presigned_expires.is_some()
    }
}

/// Detects a SigV2 request (header or presigned). `Ok(None)` when the request
/// carries no SigV2 authentication (none at all, or SigV4); `Err` when it is
/// malformed.
pub fn parse(req: &SignedRequest) -> Result<Option<V2Auth>, AuthError> {
    let query = query_pairs(req.raw_query);
    let find = |name: &str| -> Vec<&QueryPair> {
        query.iter().filter(|p| p.key == name.as_bytes()).collect()
    };
    let query_key = !find("AWSAccessKeyId").is_empty();
    if let Some(authorization) = req.header("authorization").map(str::trim) {
        if let Some(credentials) = authorization.strip_prefix("AWS ") {
            if query_key {
                return Err(AuthError::InvalidArgument(
                    "Only one auth mechanism allowed; only the Signature query string \
                     parameter or the Authorization header should be specified"
                        .to_owned(),
                ));
            }
            let (access_key_id, signature) = credentials
                .trim()
                .rsplit_once(':')
                .filter(|(k, s)| !k.is_empty() && !s.is_empty())
                .ok_or_else(|| {
                    AuthError::AccessDenied(
                        "the Authorization header is not AWS <AWSAccessKeyId>:<Signature>"
                            .to_owned(),
                    )
                })?;
            return Ok(Some(V2Auth {
                access_key_id: access_key_id.to_owned(),
                signature: signature.to_owned(),
                presigned_expires: None,
            }));
        }
        if !authorization.is_empty() {
            return Ok(None);
        }
    }
    if !query_key {
        return Ok(None);
    }
    let single = |name: &str, plus_literal: bool| -> Result<String, AuthError> {
        match find(name)[..] {
            [p] => Ok(String::from_utf8_lossy(if plus_literal {
                &p.value_plus_literal
            } else {
                &p.value
            })
            .into_owned()),
            _ => Err(AuthError::AccessDenied(
                "Query-string authentication requires the Signature, Expires and \
                 AWSAccessKeyId parameters, once each"
                    .to_owned(),
            )),
        }
    };
    let access_key_id = single("AWSAccessKeyId", false)?;
    // A base64 signature sent without encoding keeps its '+'.
    let signature = single("Signature", true)?;
    let expires_text = single("Expires", false)?;
    let expires: i64 = expires_text
        .trim()
        .parse()
        .map_err(|_| AuthError::MalformedExpires)?;
    Ok(Some(V2Auth {
        access_key_id,
        signature,
        presigned_expires: Some((expires_text, expires)),
    }))
}

/// Verifies a path-style request (the path starts with `/bucket`) with
/// `secret` at time `now_unix` (Unix seconds).
pub fn verify(
    auth: &V2Auth,
    req: &SignedRequest,
    secret: &str,
    now_unix: i64,
) -> Result<(), AuthError> {
    verify_with_host_bucket(auth, req, None, secret, now_unix)
}

/// Verifies a request whose bucket may come from the host (virtual-hosted
/// style): the canonicalized resource is `/<host_bucket>` followed by the path.
pub fn verify_with_host_bucket(
    auth: &V2Auth,
    req: &SignedRequest,
    host_bucket: Option<&str>,
    secret: &str,
    now_unix: i64,
) -> Result<(), AuthError> {
    let date_line = match &auth.presigned_expires {
        Some((text, expires)) => {
            if now_unix > *expires {
                return Err(AuthError::ExpiredPresignRequest);
            }
            text.clone()
        }
        None => {
            let (date, date_line) = match req.header("x-amz-date") {
                Some(amz_date) => (amz_date, String::new()),
                None => {
                    let date = req.header("date").ok_or(AuthError::InvalidDate)?;
                    (date, date.trim().to_owned())
                }
            };
            let request_time = parse_http_date(date)
                .or_else(|| parse_amz_date(date.trim()))
                .ok_or(AuthError::InvalidDate)?;
            if (now_unix - request_time).abs() > MAX_CLOCK_SKEW_SECONDS {
                return Err(AuthError::RequestTimeTooSkewed);
            }
            date_line
        }
    };
    let matches = |r: &SignedRequest| {
        let expected = sign(secret, &string_to_sign(r, host_bucket, &date_line));
        constant_time_eq(expected.as_bytes(), auth.signature.trim().as_bytes())
    };
    if matches(req) {
        return Ok(());
    }
    // botocore signs a path-style bucket request (`/<bucket>`) with the
    // resource `/<bucket>/`; S3 accepts both, and so does Tarn.
    if host_bucket.is_none() && is_bucket_only(req.raw_path) {
        let slashed = format!("{}/", req.raw_path);
        let alt = SignedRequest {
            raw_path: &slashed,
            ..*req
        };
        if matches(&alt) {
            return Ok(());
        }
    }
    Err(AuthError::SignatureDoesNotMatch)
}

/// A path-style path naming a bucket alone: `/<bucket>`, no trailing slash.
fn is_bucket_only(raw_path: &str) -> bool {
    raw_path
        .strip_prefix('/')
        .is_some_and(|b| !b.is_empty() && !b.contains('/'))
}

/// `METHOD\nContent-MD5\nContent-Type\n<date_line>\n<amz headers><resource>`,
/// where `date_line` is the `Date` header, empty when `x-amz-date` is sent, or
/// `Expires` for a presigned URL.
pub fn string_to_sign(req: &SignedRequest, host_bucket: Option<&str>, date_line: &str) -> String {
    let mut out = String::with_capacity(128);
    out.push_str(req.method);
    out.push('\n');
    out.push_str(req.header("content-md5").map(str::trim).unwrap_or_default());
    out.push('\n');
    out.push_str(
        req.header("content-type")
            .map(str::trim)
            .unwrap_or_default(),
    );
    out.push('\n');
    out.push_str(date_line);
    out.push('\n');
    out.push_str(&canonicalized_amz_headers(req));
    out.push_str(&canonicalized_resource(req, host_bucket));
    out
}

/// The `x-amz-*` headers, lowercase and sorted, as `name:value\n`; the values
/// of a header sent more than once are joined with `,`.
pub fn canonicalized_amz_headers(req: &SignedRequest) -> String {
    let mut headers: Vec<(String, Vec<String>)> = Vec::new();
    for (name, value) in req.headers {
        let name = name.to_ascii_lowercase();
        if !name.starts_with("x-amz-") {
            continue;
        }
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        match headers.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => headers.push((name, vec![value])),
        }
    }
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::new();
    for (name, values) in headers {
        out.push_str(&name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out
}

/// `/<host_bucket>` (if any) + the path as sent + the signed sub-resources of
/// the query, sorted, as `?name` or `?name=value` joined by `&` (values
/// decoded).
pub fn canonicalized_resource(req: &SignedRequest, host_bucket: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(bucket) = host_bucket {
        out.push('/');
        out.push_str(bucket);
    }
    if req.raw_path.is_empty() {
        out.push('/');
    } else {
        out.push_str(req.raw_path);
    }
    let mut subresources: Vec<(String, String)> = query_pairs(req.raw_query)
        .into_iter()
        .filter_map(|p| {
            let key = String::from_utf8(p.key).ok()?;
            SIGNED_SUBRESOURCES
                .contains(&key.as_str())
                .then(|| (key, String::from_utf8_lossy(&p.value).into_owned()))
        })
        .collect();
    subresources.sort();
    for (i, (key, value)) in subresources.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(key);
        if !value.is_empty() {
            out.push('=');
            out.push_str(value);
        }
    }
    out
}

/// Base64 HMAC-SHA1 of the string to sign.
pub fn sign(secret: &str, string_to_sign: &str) -> String {
    let mut mac = match HmacSha1::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
#[path = "sigv2_tests.rs"]
mod tests;
