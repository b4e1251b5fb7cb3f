//! Reads: `GetObject` (whole or ranged), `HeadObject`, `ListObjectsV2`.

use crate::errors::{etag, from_sdk};
use crate::location::{Base, ObjectAt};
use aws_sdk_s3::primitives::ByteStream as SdkStream;
use aws_sdk_s3::Client;
use aws_smithy_types::DateTime;
use bytes::{Bytes, BytesMut};
use futures::Stream;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tarn_model::{BlockKey, Timestamp};
use tarn_ports::{
    ByteRange, ByteStream, ErrorKind, GetOutcome, ListedBlock, ObjectMeta, PortError, PortResult,
};

/// Largest chunk a response body is gathered into.
const GATHER: usize = 256 << 10;

/// A response body whose small network reads are gathered into chunks of
/// up to [`GATHER`] bytes, so that what Tarn writes on costs fewer calls.
/// Nothing waits for more data: a chunk goes out as soon as the network has
/// nothing more ready.
struct Coalesced {
    inner: SdkStream,
    pending: BytesMut,
    /// The body's failure, reported after the bytes read before it.
    failed: Option<io::Error>,
    ended: bool,
}

impl Stream for Coalesced {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        while !self.ended && self.pending.len() < GATHER {
            match Pin::new(&mut self.inner).poll_next(cx) {
                Poll::Ready(Some(Ok(chunk)))
                    if self.pending.is_empty() && chunk.len() >= GATHER =>
                {
                    return Poll::Ready(Some(Ok(chunk)));
                }
                Poll::Ready(Some(Ok(chunk))) => self.pending.extend_from_slice(&chunk),
                Poll::Ready(Some(Err(e))) => {
                    self.ended = true;
                    self.failed = Some(io::Error::other(e));
                }
                Poll::Ready(None) => self.ended = true,
                Poll::Pending if self.pending.is_empty() => return Poll::Pending,
                Poll::Pending => break,
            }
        }
        if self.pending.is_empty() {
            return Poll::Ready(self.failed.take().map(Err));
        }
        let chunk = self.pending.split().freeze();
        Poll::Ready(Some(Ok(chunk)))
    }
}

/// Most keys one `ListObjectsV2` returns.
const LIST_PAGE: usize = 1000;

pub(crate) async fn get(
    client: &Client,
    at: &ObjectAt,
    range: Option<ByteRange>,
) -> PortResult<GetOutcome> {
    let header = range.map(range_header).transpose()?;
    let out = client
        .get_object()
        .bucket(&at.bucket)
        .key(&at.key)
        .set_range(header)
        .send()
        .await
        .map_err(|e| from_sdk(e, "GetObject"))?;
    let length = size(out.content_length(), "GetObject")?;
    let (range, total) = match (range, out.content_range()) {
        (None, _) => (None, length),
        (Some(_), Some(content_range)) => {
            let (first, last, total) = parse_content_range(content_range)?;
            (Some((first, last)), total)
        }
        // Some stores answer a range covering the whole object with all of
        // it and no Content-Range; anything else would be a wrong body.
        (Some(asked), None) => match asked.resolve(length) {
            None => {
                return Err(PortError::new(
                    ErrorKind::InvalidRange,
                    format!("range not satisfiable for {length} bytes"),
                ))
            }
            Some(whole) if whole == (0, length.saturating_sub(1)) => (Some(whole), length),
            Some(_) => {
                return Err(PortError::new(
                    ErrorKind::Internal,
                    "S3 GetObject ignored the range asked for",
                ))
            }
        },
    };
    let meta = ObjectMeta {
        size: total,
        etag: etag(out.e_tag(), "GetObject")?,
        last_modified: timestamp(out.last_modified()),
    };
    Ok(GetOutcome {
        meta,
        range,
        body: ByteStream::new(Coalesced {
            inner: out.body,
            pending: BytesMut::new(),
            failed: None,
            ended: false,
        }),
    })
}

pub(crate) async fn head(client: &Client, at: &ObjectAt) -> PortResult<ObjectMeta> {
    let out = client
        .head_object()
        .bucket(&at.bucket)
        .key(&at.key)
        .send()
        .await
        .map_err(|e| from_sdk(e, "HeadObject"))?;
    Ok(ObjectMeta {
        size: size(out.content_length(), "HeadObject")?,
        etag: etag(out.e_tag(), "HeadObject")?,
        last_modified: timestamp(out.last_modified()),
    })
}

pub(crate) async fn list(
    client: &Client,
    base: &Base,
    prefix: &str,
    after: Option<&BlockKey>,
    limit: usize,
) -> PortResult<Vec<ListedBlock>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    let start_after = after.map(|k| format!("{}{}", base.prefix, k.as_str()));
    while out.len() < limit {
        let page = client
            .list_objects_v2()
            .bucket(&base.bucket)
            .prefix(format!("{}{prefix}", base.prefix))
            .set_start_after(start_after.clone())
            .set_continuation_token(token.take())
            .max_keys((limit - out.len()).min(LIST_PAGE) as i32)
            .send()
            .await
            .map_err(|e| from_sdk(e, "ListObjectsV2"))?;
        for object in page.contents() {
            let Some(full) = object.key() else { continue };
            let Some(relative) = full.strip_prefix(base.prefix.as_str()) else {
                continue;
            };
            let Ok(key) = BlockKey::new(relative) else {
                tracing::warn!(key = full, "skipping an S3 key that is not a block key");
                continue;
            };
            out.push(ListedBlock {
                key,
                meta: ObjectMeta {
                    size: size(object.size(), "ListObjectsV2")?,
                    // Some S3-compatible stores list no ETags.
                    etag: object
                        .e_tag()
                        .map(|e| e.trim_matches('"').to_owned())
                        .unwrap_or_default(),
                    last_modified: timestamp(object.last_modified()),
                },
            });
        }
        match page.next_continuation_token() {
            Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_owned()),
            _ => break,
        }
    }
    out.truncate(limit);
    Ok(out)
}

/// The `Range` header for `range`; ranges no object can satisfy are refused
/// here, as stores differ on them (S3 ignores `bytes=5-4`).
pub(crate) fn range_header(range: ByteRange) -> PortResult<String> {
    let unsatisfiable = || {
        PortError::new(
            ErrorKind::InvalidRange,
            format!("{range:?} cannot be satisfied"),
        )
    };
    match range {
        ByteRange::Inclusive { first, last } if first <= last => {
            Ok(format!("bytes={first}-{last}"))
        }
        ByteRange::From(first) => Ok(format!("bytes={first}-")),
        ByteRange::Suffix(n) if n > 0 => Ok(format!("bytes=-{n}")),
        _ => Err(unsatisfiable()),
    }
}

/// `bytes first-last/total` into its numbers.
fn parse_content_range(value: &str) -> PortResult<(u64, u64, u64)> {
    let bad = || PortError::new(ErrorKind::Internal, format!("S3 Content-Range {value:?}"));
    let rest = value.strip_prefix("bytes ").ok_or_else(bad)?;
    let (span, total) = rest.split_once('/').ok_or_else(bad)?;
    let (first, last) = span.split_once('-').ok_or_else(bad)?;
    let number = |s: &str| s.trim().parse::<u64>().map_err(|_| bad());
    Ok((number(first)?, number(last)?, number(total)?))
}

fn size(value: Option<i64>, what: &str) -> PortResult<u64> {
    value
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| PortError::new(ErrorKind::Internal, format!("S3 {what}: no size")))
}

fn timestamp(value: Option<&DateTime>) -> Timestamp {
    value.map_or(Timestamp::EPOCH, |t| {
        Timestamp::from_unix_micros(
            t.secs()
                .saturating_mul(1_000_000)
                .saturating_add(i64::from(t.subsec_nanos() / 1000)),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_headers_and_refusals() {
        let inclusive = ByteRange::Inclusive { first: 2, last: 5 };
        assert_eq!(range_header(inclusive).unwrap(), "bytes=2-5");
        assert_eq!(range_header(ByteRange::From(7)).unwrap(), "bytes=7-");
        assert_eq!(range_header(ByteRange::Suffix(3)).unwrap(), "bytes=-3");
        for bad in [
            ByteRange::Inclusive { first: 5, last: 4 },
            ByteRange::Suffix(0),
        ] {
            let err = range_header(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidRange);
        }
    }

    #[test]
    fn content_ranges_parse() {
        assert_eq!(parse_content_range("bytes 0-9/100").unwrap(), (0, 9, 100));
        assert!(parse_content_range("bytes */100").is_err());
        assert!(parse_content_range("items 0-1/2").is_err());
    }
}
