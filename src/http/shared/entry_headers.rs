//! HTTP headers of object reads, shared by the API and the gateway.

use actix_web::http::header::{self, HttpDate};
use actix_web::HttpRequest;
use std::time::{Duration, UNIX_EPOCH};
use tarn_model::Entry;
use tarn_ports::ByteRange;

/// Parses a single `Range: bytes=...`; anything else reads the whole object.
/// A position too large for 64 bits is past the end of any object (so a
/// start there cannot be satisfied: 416), not a reason to ignore the header.
pub fn parse_range(req: &HttpRequest) -> Option<ByteRange> {
    let value = req.headers().get(header::RANGE)?.to_str().ok()?;
    range_spec(value)
}

/// A `bytes=first-last` spec (one range), as `Range` headers carry it.
pub fn range_spec(value: &str) -> Option<ByteRange> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    match (first.trim(), last.trim()) {
        ("", n) => Some(ByteRange::Suffix(position(n)?)),
        (f, "") => Some(ByteRange::From(position(f)?)),
        (f, l) => Some(ByteRange::Inclusive {
            first: position(f)?,
            last: position(l)?,
        }),
    }
}

/// A byte position: decimal digits, saturating at `u64::MAX`.
fn position(digits: &str) -> Option<u64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse().unwrap_or(u64::MAX))
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

/// The response to a HEAD: the status and `Content-Range` of `range` over an
/// object of `size` bytes, and a sized empty body (the length without the
/// data). `None` when the range cannot be satisfied.
pub fn head_response(
    mut resp: actix_web::HttpResponseBuilder,
    size: u64,
    range: Option<ByteRange>,
) -> Option<actix_web::HttpResponse> {
    inert(&mut resp);
    let length = match range {
        Some(r) => {
            let (first, last) = r.resolve(size)?;
            partial(&mut resp, first, last, size)
        }
        None => size,
    };
    let empty = futures::stream::empty::<Result<bytes::Bytes, actix_web::Error>>();
    Some(resp.body(actix_web::body::SizedStream::new(length, empty)))
}

/// The response to a GET: status, `Content-Range` when `read` holds a range,
/// and the body streamed with its exact length.
pub fn get_response(
    mut resp: actix_web::HttpResponseBuilder,
    read: tarn_ports::GetOutcome,
) -> actix_web::HttpResponse {
    inert(&mut resp);
    let length = match read.range {
        Some((first, last)) => partial(&mut resp, first, last, read.meta.size),
        None => read.meta.size,
    };
    resp.no_chunking(length);
    resp.streaming(super::body::response_stream(read.body))
}

/// Headers that keep stored content inert in a browser on this origin: the
/// API's session cookie must not be usable by an uploaded HTML page.
fn inert(resp: &mut actix_web::HttpResponseBuilder) {
    resp.insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        ))
        .insert_header((header::X_FRAME_OPTIONS, "SAMEORIGIN"));
}

fn partial(resp: &mut actix_web::HttpResponseBuilder, first: u64, last: u64, size: u64) -> u64 {
    resp.status(actix_web::http::StatusCode::PARTIAL_CONTENT);
    resp.insert_header((
        header::CONTENT_RANGE,
        format!("bytes {first}-{last}/{size}"),
    ));
    last - first + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_beyond_64_bits_saturate() {
        assert_eq!(
            range_spec("bytes=99999999999999999999-"),
            Some(ByteRange::From(u64::MAX))
        );
        assert_eq!(ByteRange::From(u64::MAX).resolve(10), None);
        assert_eq!(
            range_spec("bytes=0-99999999999999999999"),
            Some(ByteRange::Inclusive {
                first: 0,
                last: u64::MAX
            })
        );
        assert_eq!(range_spec("bytes=-5"), Some(ByteRange::Suffix(5)));
        assert_eq!(range_spec("bytes=a-"), None);
        assert_eq!(range_spec("bytes=+1-"), None);
        assert_eq!(range_spec("bytes=0-1,3-4"), None);
    }
}
