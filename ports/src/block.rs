use crate::{ByteStream, PortError, PortResult};
use async_trait::async_trait;
use tarn_model::{BlockKey, PartNumber, StorageNamespace, Timestamp};

/// A byte range of an object, as in an HTTP `Range` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=first-last`, both inclusive; `last` past the end is clipped.
    Inclusive {
        /// First byte.
        first: u64,
        /// Last byte (inclusive).
        last: u64,
    },
    /// `bytes=first-`: from `first` to the end.
    From(u64),
    /// `bytes=-n`: the last `n` bytes (the whole object if it is shorter).
    Suffix(u64),
}

impl ByteRange {
    /// Resolves the range against an object of `size` bytes into an inclusive
    /// `(first, last)` pair, or `None` when it cannot be satisfied: `first` at
    /// or past the end, a zero-byte suffix, an empty object, or `last < first`.
    pub fn resolve(self, size: u64) -> Option<(u64, u64)> {
        if size == 0 {
            return None;
        }
        match self {
            Self::Inclusive { first, last } if first <= last && first < size => {
                Some((first, last.min(size - 1)))
            }
            Self::From(first) if first < size => Some((first, size - 1)),
            Self::Suffix(n) if n > 0 => Some((size - n.min(size), size - 1)),
            _ => None,
        }
    }
}

/// What describes a stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// Size in bytes.
    pub size: u64,
    /// Hex MD5 for objects written with `put` or `copy` of such; the S3
    /// multipart ETag for objects assembled with `complete_multipart`, and
    /// for those an adapter stores in parts (S3: a `put` of unknown length
    /// over a part, or over 5 GiB). Empty when a store lists none.
    pub etag: String,
    /// When it was last written.
    pub last_modified: Timestamp,
}

/// The result of storing an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutOutcome {
    /// Bytes stored.
    pub size: u64,
    /// Its ETag (see [`ObjectMeta::etag`]).
    pub etag: String,
}

/// An object read, possibly partially.
#[derive(Debug)]
pub struct GetOutcome {
    /// The whole object's metadata.
    pub meta: ObjectMeta,
    /// The inclusive byte range the body holds, when a range was asked for.
    pub range: Option<(u64, u64)>,
    /// The bytes.
    pub body: ByteStream,
}

/// One object in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedBlock {
    /// Its key relative to the namespace listed.
    pub key: BlockKey,
    /// Its metadata.
    pub meta: ObjectMeta,
}

/// A part named when completing a multipart upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    /// The part number.
    pub number: PartNumber,
    /// The ETag `upload_part` returned for it (quotes are ignored).
    pub etag: String,
}

/// Puts [`BlockStore::put_small_many`] runs at once by default.
pub const SMALL_PUTS_AT_ONCE: usize = 16;

/// The most keys one [`BlockStore::delete_many`] takes (S3's limit).
pub const DELETE_BATCH: usize = 1000;

/// Object storage for data and committed trees.
///
/// Objects are addressed by a [`StorageNamespace`] and a [`BlockKey`] relative
/// to it. Each adapter accepts only its own schemes (`mem`, `local`, `s3`) and
/// MUST answer `InvalidInput` for any other. Keys are opaque: `..`, `%`, `+`,
/// spaces and unicode are ordinary characters, and a key may be a prefix of
/// another (`a` and `a/b` may both exist). No key can reach outside its
/// namespace.
///
/// Contract, for every adapter:
/// - **Atomic writes**: a reader sees an object whole, in its old or new
///   state, never in part. A `put` whose body fails stores nothing and returns
///   `Interrupted`; one whose body length differs from `size` stores nothing
///   and returns `InvalidInput`.
/// - **Durable**: once `put`, `copy` or `complete_multipart` returns `Ok`, the
///   object survives a crash of the process (local: fsync of file and dir).
/// - **Missing objects**: `get`, `head`, `copy` (source) answer `NotFound`;
///   `delete` of a missing object is `Ok` (idempotent, as S3).
/// - **Ranges**: a range that cannot be satisfied answers `InvalidRange`
///   (see [`ByteRange::resolve`]); this is checked before any body is sent.
/// - **Listing**: keys in byte order, strictly after `after`, at most `limit`.
/// - **Multipart**: parts stay until `complete_multipart` or
///   `abort_multipart`; an unknown upload id (or one of another key) answers
///   `NotFound`; completing with no parts, parts out of ascending order, an
///   unknown part, a wrong ETag or (where the store has a minimum, S3: 5 MiB)
///   a part but the last that is too small answers `InvalidInput` and keeps
///   the upload; a part uploaded twice keeps the last. Completion makes the
///   object appear atomically and ends the upload; completing it again is
///   `NotFound` or (S3) answers the same result without change.
#[async_trait]
pub trait BlockStore: Send + Sync + 'static {
    /// Stores `body` at `key`, replacing any object there. `size`, when known,
    /// is checked against the bytes received.
    async fn put(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        body: ByteStream,
        size: Option<u64>,
    ) -> PortResult<PutOutcome>;

    /// Stores `body` at `key`, a fresh key: one nobody else names and
    /// nothing refers to until this call returns (an upload's new data key).
    /// The same as `put`, and as durable once it returns, but the store may
    /// make the write durable together with concurrent ones and show the
    /// object under `key` before then: nobody looks for it meanwhile. A call
    /// that fails leaves nothing under `key`, or an object nobody will read.
    /// The default is `put`.
    async fn put_fresh(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        body: ByteStream,
        size: Option<u64>,
    ) -> PortResult<PutOutcome> {
        self.put(ns, key, body, size).await
    }

    /// Reads `key`, or the given range of it.
    async fn get(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        range: Option<ByteRange>,
    ) -> PortResult<GetOutcome>;

    /// Describes `key` without reading it.
    async fn head(&self, ns: &StorageNamespace, key: &BlockKey) -> PortResult<ObjectMeta>;

    /// Removes `key`; `Ok` if it did not exist.
    async fn delete(&self, ns: &StorageNamespace, key: &BlockKey) -> PortResult<()>;

    /// Stores small objects, each whole in memory, at their keys: the effect
    /// of a `put` of each (with its length as `size`), the same contract,
    /// durable all together when this returns `Ok` (an adapter may sync them
    /// once for all). On an error some objects may be stored and others
    /// not; the outcomes are in the order of `objects`.
    async fn put_small_many(
        &self,
        ns: &StorageNamespace,
        objects: &[(BlockKey, bytes::Bytes)],
    ) -> PortResult<Vec<PutOutcome>> {
        use futures::{StreamExt, TryStreamExt};
        let mut puts = Vec::with_capacity(objects.len());
        for (key, body) in objects {
            let size = body.len() as u64;
            puts.push(self.put(ns, key, ByteStream::from_bytes(body.clone()), Some(size)));
        }
        futures::stream::iter(puts)
            .buffered(SMALL_PUTS_AT_ONCE)
            .try_collect()
            .await
    }

    /// Removes every key of `keys` (at most [`DELETE_BATCH`] of them), as one
    /// request where the store has one (S3 `DeleteObjects`). Missing keys are
    /// `Ok`, as for [`BlockStore::delete`]. On an error some keys may be
    /// gone and others not; deleting them again is safe.
    async fn delete_many(&self, ns: &StorageNamespace, keys: &[BlockKey]) -> PortResult<()> {
        if keys.len() > DELETE_BATCH {
            return Err(PortError::invalid_input(format!(
                "at most {DELETE_BATCH} keys per batch delete, not {}",
                keys.len()
            )));
        }
        for key in keys {
            self.delete(ns, key).await?;
        }
        Ok(())
    }

    /// Copies an object, server-side where the backend can. The copy has the
    /// source's bytes and, for sources written in one piece, its ETag (S3
    /// gives copies of multipart objects a fresh one).
    async fn copy(
        &self,
        src_ns: &StorageNamespace,
        src: &BlockKey,
        dst_ns: &StorageNamespace,
        dst: &BlockKey,
    ) -> PortResult<PutOutcome>;

    /// Lists objects whose key starts with `prefix` (relative to `ns`).
    async fn list(
        &self,
        ns: &StorageNamespace,
        prefix: &str,
        after: Option<&BlockKey>,
        limit: usize,
    ) -> PortResult<Vec<ListedBlock>>;

    /// Starts a multipart upload to `key`; returns the upload id.
    async fn create_multipart(&self, ns: &StorageNamespace, key: &BlockKey) -> PortResult<String>;

    /// Stores one part; returns its ETag (hex MD5 of the part).
    async fn upload_part(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        upload_id: &str,
        number: PartNumber,
        body: ByteStream,
        size: Option<u64>,
    ) -> PortResult<String>;

    /// Stores one part copied from (a range of) another object; returns its ETag.
    #[allow(clippy::too_many_arguments)]
    async fn upload_part_copy(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        upload_id: &str,
        number: PartNumber,
        src_ns: &StorageNamespace,
        src: &BlockKey,
        range: Option<ByteRange>,
    ) -> PortResult<String>;

    /// Assembles the named parts, in order, into the object at `key`.
    async fn complete_multipart(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> PortResult<PutOutcome>;

    /// Discards an upload and its parts.
    async fn abort_multipart(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        upload_id: &str,
    ) -> PortResult<()>;

    /// Whether [`BlockStore::presign`] can succeed.
    fn supports_presign(&self) -> bool {
        false
    }

    /// A URL granting `method` (`GET` or `PUT`) on `key` for `expiry_secs`.
    /// Backends without presigning answer `Unsupported`.
    async fn presign(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        method: &str,
        expiry_secs: u64,
    ) -> PortResult<String> {
        let _ = (ns, key, method, expiry_secs);
        Err(crate::PortError::new(
            crate::ErrorKind::Unsupported,
            "this block store cannot presign URLs",
        ))
    }

    /// A URL that uploads part `number` of multipart upload `upload_id` of
    /// `key` directly, for `expiry_secs`; the ETag the store answers it with
    /// completes the upload. Backends without presigning answer `Unsupported`.
    async fn presign_part(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        upload_id: &str,
        number: PartNumber,
        expiry_secs: u64,
    ) -> PortResult<String> {
        let _ = (ns, key, upload_id, number, expiry_secs);
        Err(crate::PortError::new(
            crate::ErrorKind::Unsupported,
            "this block store cannot presign URLs",
        ))
    }
}

/// Checks a completion request against the uploaded parts (`etag_of`): at
/// least one part, strictly ascending numbers, each uploaded with that ETag
/// (quotes ignored). Returns the part numbers to assemble.
pub fn check_completed_parts<'a>(
    parts: &[CompletedPart],
    etag_of: impl Fn(PartNumber) -> Option<&'a str>,
) -> PortResult<Vec<PartNumber>> {
    if parts.is_empty() {
        return Err(PortError::invalid_input(
            "a multipart upload needs at least one part",
        ));
    }
    let mut previous: Option<PartNumber> = None;
    for p in parts {
        if previous.is_some_and(|prev| p.number <= prev) {
            return Err(PortError::invalid_input(
                "parts must be listed in ascending order",
            ));
        }
        previous = Some(p.number);
        match etag_of(p.number) {
            Some(etag) if etag.trim_matches('"') == p.etag.trim_matches('"') => {}
            Some(_) => {
                return Err(PortError::invalid_input(format!(
                    "part {} has a different ETag",
                    p.number.get()
                )))
            }
            None => {
                return Err(PortError::invalid_input(format!(
                    "part {} was not uploaded",
                    p.number.get()
                )))
            }
        }
    }
    Ok(parts.iter().map(|p| p.number).collect())
}

#[cfg(test)]
mod tests {
    use super::ByteRange::*;

    #[test]
    fn ranges_resolve_like_http() {
        assert_eq!(Inclusive { first: 0, last: 0 }.resolve(10), Some((0, 0)));
        assert_eq!(
            Inclusive {
                first: 2,
                last: 100
            }
            .resolve(10),
            Some((2, 9))
        );
        assert_eq!(
            Inclusive {
                first: 10,
                last: 12
            }
            .resolve(10),
            None
        );
        assert_eq!(Inclusive { first: 5, last: 4 }.resolve(10), None);
        assert_eq!(From(9).resolve(10), Some((9, 9)));
        assert_eq!(From(10).resolve(10), None);
        assert_eq!(Suffix(3).resolve(10), Some((7, 9)));
        assert_eq!(Suffix(30).resolve(10), Some((0, 9)));
        assert_eq!(Suffix(0).resolve(10), None);
        assert_eq!(From(0).resolve(0), None);
        assert_eq!(Suffix(5).resolve(0), None);
    }
}
