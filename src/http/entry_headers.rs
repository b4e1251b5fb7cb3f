//! HTTP headers of object reads, shared by the API and the gateway.

use actix_web::http::header::{self, HttpDate};
use actix_web::HttpRequest;
use std::time::{Duration, UNIX_EPOCH};
use tarn_model::Entry;
use tarn_ports::ByteRange;

/// Parses a single `Range: bytes=...`; anything else reads the whole object.
pub fn parse_range(req: &HttpRequest) -> Option<ByteRange> {
    let value = req.headers().get(header::RANGE)?.to_str().ok()?;
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    match (first.trim(), last.trim()) {
        ("", n) => Some(ByteRange::Suffix(n.parse().ok()?)),
        (f, "") => Some(ByteRange::From(f.parse().ok()?)),
        (f, l) => Some(ByteRange::Inclusive {
            first: f.parse().ok()?,
            last: l.parse().ok()?,
        }),
    }
}

/// The quoted ETag of an entry.
pub fn etag_of(e: &Entry) -> String {
    format!("\"{}\"", e.checksum)
}

/// `Last-Modified` of an entry.
pub fn http_date(e: &Entry) -> HttpDate {
    let secs = u64::try_from(e.last_modified.unix_seconds()).unwrap_or(0);
    HttpDate::from(UNIX_EPOCH + Duration::from_secs(secs))
}
