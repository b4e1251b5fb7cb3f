use bytes::Bytes;
use futures::stream::{self, BoxStream, Stream, StreamExt};
use md5::{Digest, Md5};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A stream of bytes: object bodies travel through the ports as these, so that
/// memory never grows with object size. Framework-free: drivers adapt their
/// request and response bodies to and from it.
pub struct ByteStream(BoxStream<'static, io::Result<Bytes>>);

impl ByteStream {
    /// Wraps any `Send` stream of byte chunks.
    pub fn new(inner: impl Stream<Item = io::Result<Bytes>> + Send + 'static) -> Self {
        Self(inner.boxed())
    }

    /// A stream of one chunk (none if `bytes` is empty).
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        if bytes.is_empty() {
            Self::empty()
        } else {
            Self::new(stream::once(async move { Ok(bytes) }))
        }
    }

    /// A stream with no bytes.
    pub fn empty() -> Self {
        Self::new(stream::empty())
    }

    /// Reads the whole stream into memory, failing with `InvalidData` past
    /// `limit` bytes. For small bodies only (metadata files, tests).
    pub async fn collect_bounded(mut self, limit: usize) -> io::Result<Bytes> {
        let too_large = || {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("body larger than {limit} bytes"),
            )
        };
        // A body of one chunk (a small file read whole) is returned as it
        // came, without a copy.
        let mut first: Option<Bytes> = None;
        let mut buf = Vec::new();
        while let Some(chunk) = self.0.next().await {
            let chunk = chunk?;
            let held = first.as_ref().map_or(buf.len(), Bytes::len);
            if held + chunk.len() > limit {
                return Err(too_large());
            }
            if first.is_none() && buf.is_empty() {
                first = Some(chunk);
                continue;
            }
            if let Some(head) = first.take() {
                buf.extend_from_slice(&head);
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(first.unwrap_or_else(|| Bytes::from(buf)))
    }
}

impl Stream for ByteStream {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.as_mut().poll_next(cx)
    }
}

impl std::fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ByteStream")
    }
}

/// Hex MD5 of `data`: the ETag of a single-part object.
pub fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

/// The S3 ETag of a multipart object: hex MD5 of the concatenated binary MD5s
/// of the parts, then `-` and the number of parts. Part ETags that are not
/// 32 hex digits are hashed as their text.
pub fn multipart_etag<'a>(part_etags: impl IntoIterator<Item = &'a str>) -> String {
    let mut h = Md5::new();
    let mut n = 0usize;
    for etag in part_etags {
        let etag = etag.trim_matches('"');
        match hex::decode(etag) {
            Ok(raw) if raw.len() == 16 => h.update(&raw),
            _ => h.update(etag.as_bytes()),
        }
        n += 1;
    }
    format!("{}-{n}", hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_of_empty_is_the_well_known_value() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
    }

    #[test]
    fn multipart_etag_matches_s3() {
        // Two parts "a" and "b": md5(md5("a") || md5("b")) with a "-2" suffix.
        let a = md5_hex(b"a");
        let b = md5_hex(b"b");
        let mut raw = hex::decode(&a).unwrap();
        raw.extend(hex::decode(&b).unwrap());
        let expected = format!("{}-2", md5_hex(&raw));
        assert_eq!(multipart_etag([a.as_str(), b.as_str()]), expected);
        assert_eq!(
            multipart_etag([format!("\"{a}\"").as_str(), b.as_str()]),
            expected
        );
    }

    #[tokio::test]
    async fn collect_bounded_refuses_oversized_bodies() {
        let s = ByteStream::from_bytes(vec![0u8; 10]);
        assert_eq!(s.collect_bounded(10).await.unwrap().len(), 10);
        let s = ByteStream::from_bytes(vec![0u8; 11]);
        assert!(s.collect_bounded(10).await.is_err());
        assert!(ByteStream::empty()
            .collect_bounded(0)
            .await
            .unwrap()
            .is_empty());
    }

    #[tokio::test]
    async fn collect_bounded_joins_chunks_in_order_and_counts_them_all() {
        let chunks = |parts: &[&'static [u8]]| {
            let items: Vec<io::Result<Bytes>> =
                parts.iter().map(|p| Ok(Bytes::from_static(p))).collect();
            ByteStream::new(futures::stream::iter(items))
        };
        let got = chunks(&[b"ab", b"", b"cde", b"f"])
            .collect_bounded(6)
            .await
            .unwrap();
        assert_eq!(&got[..], b"abcdef");
        assert!(chunks(&[b"abcd", b"efg"]).collect_bounded(6).await.is_err());
        static ONE: &[u8] = b"xyz";
        let one = chunks(&[ONE]).collect_bounded(3).await.unwrap();
        assert_eq!(&one[..], b"xyz");
        assert_eq!(one.as_ptr(), ONE.as_ptr(), "a single chunk is not copied");
    }
}
