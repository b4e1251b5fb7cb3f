//! The `BlockStore` conformance suite.

use super::{assert_kind, awkward_names};
use crate::{md5_hex, BlockStore, ByteRange, ByteStream, ErrorKind};
use bytes::Bytes;
use futures::stream;
use std::any::Any;
use std::io;
use std::sync::Arc;
use tarn_model::{BlockKey, PartNumber, StorageNamespace};

mod fresh;
mod multipart;
pub use fresh::*;
pub use multipart::*;

/// Runs the whole `BlockStore` suite against `$factory`, an async fn
/// returning a fresh [`BlockFixture`].
#[macro_export]
macro_rules! block_store_conformance {
    ($factory:expr) => {
        $crate::__conformance_cases!(block_store_conformance, block, $factory;
            put_then_get_returns_bytes_and_md5,
            empty_object_round_trips,
            many_chunks_are_stored_whole,
            bodies_of_every_small_size_round_trip,
            put_small_many_stores_each_whole,
            put_fresh_stores_each_whole,
            unknown_length_bodies_of_many_parts,
            put_replaces_existing_object,
            put_with_wrong_size_stores_nothing,
            put_with_failing_body_stores_nothing,
            missing_object_is_not_found,
            head_describes_object,
            ranges_are_served_and_clipped,
            unsatisfiable_ranges_are_invalid_range,
            delete_is_idempotent,
            delete_many_removes_exactly_the_batch,
            awkward_keys_round_trip_and_list,
            key_and_its_prefix_coexist,
            dotdot_cannot_escape_namespace,
            namespaces_are_isolated,
            list_pages_in_byte_order,
            list_prefix_need_not_end_at_slash,
            copy_keeps_bytes_and_etag,
            copy_of_missing_is_not_found,
            multipart_assembles_parts_in_order,
            multipart_reupload_keeps_last_part,
            multipart_object_invisible_until_complete,
            multipart_complete_validates_parts,
            multipart_abort_discards_upload,
            multipart_unknown_upload_is_not_found,
            upload_part_copy_takes_ranges,
            foreign_scheme_is_invalid_input,
            concurrent_puts_leave_one_whole_object,
            presign_matches_capability,
        );
    };
}

/// What a block-store conformance case needs.
pub struct BlockFixture {
    /// The store under test, fresh for this case.
    pub store: Arc<dyn crate::BlockStore>,
    /// A namespace the store accepts.
    pub ns: StorageNamespace,
    /// A second namespace, a sibling of `ns` (same parent location), to check
    /// isolation: nothing written under `ns` may be visible here.
    pub sibling: StorageNamespace,
    /// A namespace with a scheme the store does not accept.
    pub foreign: StorageNamespace,
    /// The smallest part, but for the last, that the store's multipart
    /// uploads accept (S3: 5 MiB); the cases' parts are at least this big.
    pub min_part_size: usize,
    /// Keeps temporary resources (directories, servers) alive for the case.
    pub guard: Box<dyn Any + Send + Sync>,
}

pub(super) fn key(s: &str) -> BlockKey {
    BlockKey::new(s).unwrap_or_else(|e| panic!("{e}"))
}

/// A deterministic, non-repeating payload of `len` bytes.
pub(super) fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u64).wrapping_mul(31).wrapping_add(seed as u64) as u8 ^ (i >> 8) as u8)
        .collect()
}

pub(super) async fn put_bytes(
    store: &dyn BlockStore,
    ns: &StorageNamespace,
    k: &BlockKey,
    data: &[u8],
) {
    let out = store
        .put(
            ns,
            k,
            ByteStream::from_bytes(data.to_vec()),
            Some(data.len() as u64),
        )
        .await
        .unwrap_or_else(|e| panic!("put {k:?}: {e}"));
    assert_eq!(out.size, data.len() as u64, "put size of {k:?}");
    assert_eq!(out.etag, md5_hex(data), "put etag of {k:?}");
}

pub(super) async fn read_all(
    store: &dyn BlockStore,
    ns: &StorageNamespace,
    k: &BlockKey,
    range: Option<ByteRange>,
) -> crate::PortResult<(Vec<u8>, Option<(u64, u64)>)> {
    let got = store.get(ns, k, range).await?;
    let body = got
        .body
        .collect_bounded(64 << 20)
        .await
        .unwrap_or_else(|e| panic!("reading {k:?}: {e}"));
    Ok((body.to_vec(), got.range))
}

pub(super) async fn get_bytes(
    store: &dyn BlockStore,
    ns: &StorageNamespace,
    k: &BlockKey,
) -> Vec<u8> {
    read_all(store, ns, k, None)
        .await
        .unwrap_or_else(|e| panic!("get {k:?}: {e}"))
        .0
}

pub(super) async fn list_all(
    store: &dyn BlockStore,
    ns: &StorageNamespace,
    prefix: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut after: Option<BlockKey> = None;
    loop {
        let page = store
            .list(ns, prefix, after.as_ref(), 100)
            .await
            .unwrap_or_else(|e| panic!("list {prefix:?}: {e}"));
        assert!(page.len() <= 100, "list returned more than the limit");
        let done = page.len() < 100;
        after = page.last().map(|b| b.key.clone());
        out.extend(page.into_iter().map(|b| b.key.as_str().to_owned()));
        if done {
            return out;
        }
    }
}

pub async fn put_then_get_returns_bytes_and_md5(f: BlockFixture) {
    let k = key("data/a");
    let data = payload(1000, 1);
    put_bytes(&*f.store, &f.ns, &k, &data).await;
    let got = f.store.get(&f.ns, &k, None).await.unwrap();
    assert_eq!(got.meta.size, 1000);
    assert_eq!(got.meta.etag, md5_hex(&data));
    assert_eq!(got.range, None);
    assert_eq!(
        got.body.collect_bounded(1 << 20).await.unwrap().to_vec(),
        data
    );
}

pub async fn empty_object_round_trips(f: BlockFixture) {
    let k = key("empty");
    put_bytes(&*f.store, &f.ns, &k, b"").await;
    assert!(get_bytes(&*f.store, &f.ns, &k).await.is_empty());
    let meta = f.store.head(&f.ns, &k).await.unwrap();
    assert_eq!(
        (meta.size, meta.etag.as_str()),
        (0, "d41d8cd98f00b204e9800998ecf8427e")
    );
    let ranged = f.store.get(&f.ns, &k, Some(ByteRange::From(0))).await;
    assert_kind(
        ranged,
        ErrorKind::InvalidRange,
        "any range of an empty object",
    );
}

pub async fn many_chunks_are_stored_whole(f: BlockFixture) {
    let data = payload(3 * 1024 * 1024 + 17, 2);
    let chunks: Vec<io::Result<Bytes>> = data
        .chunks(7919)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let k = key("big/object.bin");
    let out = f
        .store
        .put(&f.ns, &k, ByteStream::new(stream::iter(chunks)), None)
        .await
        .unwrap();
    assert_eq!(out.size, data.len() as u64);
    assert_eq!(out.etag, md5_hex(&data));
    assert!(
        get_bytes(&*f.store, &f.ns, &k).await == data,
        "bytes differ"
    );
}

/// Bodies around the sizes where a store may switch from holding a body to
/// streaming it (the local store holds up to 64 KiB), declared or not, in
/// chunks that straddle the switch; and a body of one size that sends
/// another.
pub async fn bodies_of_every_small_size_round_trip(f: BlockFixture) {
    for (i, len) in [1usize, 4095, 65_535, 65_536, 65_537, 70_000, 262_145]
        .into_iter()
        .enumerate()
    {
        let data = payload(len, i as u8);
        for declared in [Some(len as u64), None] {
            let chunks: Vec<io::Result<Bytes>> = data
                .chunks(4093)
                .map(|c| Ok(Bytes::copy_from_slice(c)))
                .collect();
            let k = key(&format!("small/{len}-{}", declared.is_some()));
            let out = f
                .store
                .put(&f.ns, &k, ByteStream::new(stream::iter(chunks)), declared)
                .await
                .unwrap();
            assert_eq!((out.size, &out.etag), (len as u64, &md5_hex(&data)), "{k}");
            assert!(
                get_bytes(&*f.store, &f.ns, &k).await == data,
                "{k}: bytes differ"
            );
        }
        for wrong in [len as u64 - 1, len as u64 + 1] {
            let k = key(&format!("small/{len}-declared-{wrong}"));
            let res = f
                .store
                .put(&f.ns, &k, ByteStream::from_bytes(data.clone()), Some(wrong))
                .await;
            assert_kind(res, ErrorKind::InvalidInput, "a body of another size");
            assert_kind(
                f.store.head(&f.ns, &k).await,
                ErrorKind::NotFound,
                "nothing stored",
            );
        }
    }
}

/// A batch of small objects, large enough for the local store's one sync
/// of the file system and small enough for its sync of each file, in nested
/// folders and one awkward name: each reads back whole with its MD5 and
/// the outcomes come in the batch's order; one replaces an older object.
pub async fn put_small_many_stores_each_whole(f: BlockFixture) {
    let old = key("many/a/0");
    f.store
        .put(&f.ns, &old, ByteStream::from_bytes("older"), None)
        .await
        .unwrap();
    for count in [3usize, 40] {
        let batch: Vec<(BlockKey, Bytes)> = (0..count)
            .map(|i| {
                let name = match i {
                    0 => "many/a/0".to_owned(),
                    1 => format!("many/{count}/ü %+ name"),
                    _ => format!("many/{count}/{}/{i}", i % 3),
                };
                (key(&name), Bytes::from(payload(i * 37, i as u8)))
            })
            .collect();
        let outcomes = f.store.put_small_many(&f.ns, &batch).await.unwrap();
        assert_eq!(outcomes.len(), count);
        for ((k, body), out) in batch.iter().zip(&outcomes) {
            assert_eq!(
                (out.size, &out.etag),
                (body.len() as u64, &md5_hex(body)),
                "{k}"
            );
            assert!(
                get_bytes(&*f.store, &f.ns, k).await == *body,
                "{k}: bytes differ"
            );
            assert_eq!(f.store.head(&f.ns, k).await.unwrap().etag, md5_hex(body));
        }
    }
    assert!(f.store.put_small_many(&f.ns, &[]).await.unwrap().is_empty());
}

/// Bodies of unknown length over several parts of the store's (S3 stores
/// them part by part), in chunks that divide no part size; one that fails
/// after a few parts stores nothing.
pub async fn unknown_length_bodies_of_many_parts(f: BlockFixture) {
    let data = payload(3 * f.min_part_size.max(1 << 20) + 4321, 11);
    let odd = |data: &[u8]| -> Vec<io::Result<Bytes>> {
        data.chunks(7919)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect()
    };
    let k = key("parts/unknown-length");
    let out = f
        .store
        .put(&f.ns, &k, ByteStream::new(stream::iter(odd(&data))), None)
        .await
        .unwrap();
    assert_eq!(out.size, data.len() as u64);
    assert!(
        get_bytes(&*f.store, &f.ns, &k).await == data,
        "bytes differ"
    );
    let meta = f.store.head(&f.ns, &k).await.unwrap();
    assert_eq!((meta.size, meta.etag), (out.size, out.etag));

    let mut broken = odd(&data[..2 * f.min_part_size.max(1 << 20) + 100]);
    broken.push(Err(io::Error::other("client went away")));
    let k = key("parts/broken");
    let res = f
        .store
        .put(&f.ns, &k, ByteStream::new(stream::iter(broken)), None)
        .await;
    assert_kind(res, ErrorKind::Interrupted, "a body failing after parts");
    assert_kind(
        f.store.head(&f.ns, &k).await,
        ErrorKind::NotFound,
        "nothing of a failed body",
    );
}

pub async fn put_replaces_existing_object(f: BlockFixture) {
    let k = key("replace");
    put_bytes(&*f.store, &f.ns, &k, b"first version").await;
    put_bytes(&*f.store, &f.ns, &k, b"second").await;
    assert_eq!(get_bytes(&*f.store, &f.ns, &k).await, b"second");
    assert_eq!(f.store.head(&f.ns, &k).await.unwrap().size, 6);
}

pub async fn put_with_wrong_size_stores_nothing(f: BlockFixture) {
    let k = key("sized");
    let short = f
        .store
        .put(&f.ns, &k, ByteStream::from_bytes(&b"abc"[..]), Some(4))
        .await;
    assert_kind(short, ErrorKind::InvalidInput, "body shorter than size");
    assert_kind(
        f.store.head(&f.ns, &k).await,
        ErrorKind::NotFound,
        "after a short body",
    );
    let declared_empty = f
        .store
        .put(&f.ns, &k, ByteStream::from_bytes(&b"abc"[..]), Some(0))
        .await;
    assert_kind(
        declared_empty,
        ErrorKind::InvalidInput,
        "bytes after size 0",
    );
    assert_kind(
        f.store.head(&f.ns, &k).await,
        ErrorKind::NotFound,
        "after a body longer than 0",
    );
    put_bytes(&*f.store, &f.ns, &k, b"kept").await;
    let long = f
        .store
        .put(&f.ns, &k, ByteStream::from_bytes(&b"abcdef"[..]), Some(2))
        .await;
    assert_kind(long, ErrorKind::InvalidInput, "body longer than size");
    assert_eq!(get_bytes(&*f.store, &f.ns, &k).await, b"kept");
}

pub async fn put_with_failing_body_stores_nothing(f: BlockFixture) {
    let k = key("broken");
    put_bytes(&*f.store, &f.ns, &k, b"original").await;
    let chunks: Vec<io::Result<Bytes>> = vec![
        Ok(Bytes::from_static(b"partial data")),
        Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "client went away",
        )),
    ];
    let res = f
        .store
        .put(&f.ns, &k, ByteStream::new(stream::iter(chunks)), None)
        .await;
    assert_kind(res, ErrorKind::Interrupted, "failing body");
    assert_eq!(get_bytes(&*f.store, &f.ns, &k).await, b"original");
    let fresh = key("broken-new");
    let chunks: Vec<io::Result<Bytes>> = vec![Err(io::Error::other("boom"))];
    let res = f
        .store
        .put(&f.ns, &fresh, ByteStream::new(stream::iter(chunks)), None)
        .await;
    assert_kind(res, ErrorKind::Interrupted, "failing body on a new key");
    assert_kind(
        f.store.head(&f.ns, &fresh).await,
        ErrorKind::NotFound,
        "new key after failure",
    );
    assert_eq!(
        list_all(&*f.store, &f.ns, "").await,
        vec!["broken".to_owned()]
    );
}

pub async fn missing_object_is_not_found(f: BlockFixture) {
    let k = key("nothing/here");
    assert_kind(
        f.store.get(&f.ns, &k, None).await.map(|_| ()),
        ErrorKind::NotFound,
        "get",
    );
    assert_kind(f.store.head(&f.ns, &k).await, ErrorKind::NotFound, "head");
    let ranged = f
        .store
        .get(&f.ns, &k, Some(ByteRange::From(0)))
        .await
        .map(|_| ());
    assert_kind(
        ranged,
        ErrorKind::NotFound,
        "ranged get of a missing object",
    );
}

pub async fn head_describes_object(f: BlockFixture) {
    let k = key("head/me");
    put_bytes(&*f.store, &f.ns, &k, b"12345").await;
    let meta = f.store.head(&f.ns, &k).await.unwrap();
    assert_eq!(meta.size, 5);
    assert_eq!(meta.etag, md5_hex(b"12345"));
    assert!(
        meta.last_modified.unix_seconds() > 1_500_000_000,
        "last_modified is set"
    );
}

pub async fn ranges_are_served_and_clipped(f: BlockFixture) {
    let k = key("ranged");
    let data = payload(1000, 3);
    put_bytes(&*f.store, &f.ns, &k, &data).await;
    let cases = [
        (ByteRange::Inclusive { first: 0, last: 0 }, 0, 0),
        (
            ByteRange::Inclusive {
                first: 10,
                last: 19,
            },
            10,
            19,
        ),
        (
            ByteRange::Inclusive {
                first: 990,
                last: 5000,
            },
            990,
            999,
        ),
        (
            ByteRange::Inclusive {
                first: 999,
                last: 999,
            },
            999,
            999,
        ),
        (ByteRange::From(500), 500, 999),
        (ByteRange::Suffix(1), 999, 999),
        (ByteRange::Suffix(100), 900, 999),
        (ByteRange::Suffix(5000), 0, 999),
    ];
    for (range, first, last) in cases {
        let (body, got) = read_all(&*f.store, &f.ns, &k, Some(range)).await.unwrap();
        assert_eq!(got, Some((first, last)), "{range:?}");
        assert_eq!(body, &data[first as usize..=last as usize], "{range:?}");
    }
}

pub async fn unsatisfiable_ranges_are_invalid_range(f: BlockFixture) {
    let k = key("short");
    put_bytes(&*f.store, &f.ns, &k, b"0123456789").await;
    for range in [
        ByteRange::From(10),
        ByteRange::From(u64::MAX),
        ByteRange::Inclusive {
            first: 10,
            last: 20,
        },
        ByteRange::Inclusive { first: 5, last: 4 },
        ByteRange::Suffix(0),
    ] {
        let res = f.store.get(&f.ns, &k, Some(range)).await.map(|_| ());
        assert_kind(res, ErrorKind::InvalidRange, &format!("{range:?}"));
    }
}

pub async fn delete_is_idempotent(f: BlockFixture) {
    let k = key("gone");
    put_bytes(&*f.store, &f.ns, &k, b"x").await;
    f.store.delete(&f.ns, &k).await.unwrap();
    assert_kind(
        f.store.head(&f.ns, &k).await,
        ErrorKind::NotFound,
        "after delete",
    );
    f.store.delete(&f.ns, &k).await.unwrap();
    f.store.delete(&f.ns, &key("never/existed")).await.unwrap();
    assert!(list_all(&*f.store, &f.ns, "").await.is_empty());
}

pub async fn delete_many_removes_exactly_the_batch(f: BlockFixture) {
    let names: Vec<String> = awkward_names()
        .into_iter()
        .filter(|n| n.len() < 200)
        .collect();
    for n in &names {
        put_bytes(&*f.store, &f.ns, &key(&format!("doomed/{n}")), b"x").await;
    }
    put_bytes(&*f.store, &f.ns, &key("kept"), b"k").await;
    put_bytes(&*f.store, &f.ns, &key("doomed-but-not-named"), b"k").await;
    let mut batch: Vec<BlockKey> = names.iter().map(|n| key(&format!("doomed/{n}"))).collect();
    // Missing keys are fine, as for `delete`.
    batch.push(key("never/existed"));
    f.store.delete_many(&f.ns, &batch).await.unwrap();
    assert_eq!(
        list_all(&*f.store, &f.ns, "").await,
        vec!["doomed-but-not-named".to_owned(), "kept".to_owned()]
    );
    f.store.delete_many(&f.ns, &batch).await.unwrap();
    f.store.delete_many(&f.ns, &[]).await.unwrap();
    // A full batch is one call; one more key is refused before any is deleted.
    let full: Vec<BlockKey> = (0..crate::DELETE_BATCH)
        .map(|i| key(&format!("n/{i}")))
        .collect();
    f.store.delete_many(&f.ns, &full).await.unwrap();
    let over: Vec<BlockKey> = (0..=crate::DELETE_BATCH)
        .map(|i| {
            if i == 0 {
                key("kept")
            } else {
                key(&format!("n/{i}"))
            }
        })
        .collect();
    assert_kind(
        f.store.delete_many(&f.ns, &over).await,
        ErrorKind::InvalidInput,
        "a batch over the limit",
    );
    assert_eq!(get_bytes(&*f.store, &f.ns, &key("kept")).await, b"k");
}

pub async fn awkward_keys_round_trip_and_list(f: BlockFixture) {
    let names = awkward_names();
    for (i, name) in names.iter().enumerate() {
        put_bytes(
            &*f.store,
            &f.ns,
            &key(name),
            format!("value {i}").as_bytes(),
        )
        .await;
    }
    for (i, name) in names.iter().enumerate() {
        let got = get_bytes(&*f.store, &f.ns, &key(name)).await;
        assert_eq!(got, format!("value {i}").as_bytes(), "{name:?}");
    }
    let mut expected = names.clone();
    expected.sort();
    assert_eq!(list_all(&*f.store, &f.ns, "").await, expected);
}

pub async fn key_and_its_prefix_coexist(f: BlockFixture) {
    for (k, v) in [
        ("a", "file a"),
        ("a/b", "file a/b"),
        ("a/b/c", "file a/b/c"),
        ("a/", "dir marker"),
    ] {
        put_bytes(&*f.store, &f.ns, &key(k), v.as_bytes()).await;
    }
    assert_eq!(get_bytes(&*f.store, &f.ns, &key("a")).await, b"file a");
    assert_eq!(get_bytes(&*f.store, &f.ns, &key("a/b")).await, b"file a/b");
    assert_eq!(get_bytes(&*f.store, &f.ns, &key("a/")).await, b"dir marker");
    assert_eq!(
        list_all(&*f.store, &f.ns, "a").await,
        ["a", "a/", "a/b", "a/b/c"]
    );
    f.store.delete(&f.ns, &key("a/b")).await.unwrap();
    assert_eq!(
        get_bytes(&*f.store, &f.ns, &key("a/b/c")).await,
        b"file a/b/c"
    );
}

pub async fn dotdot_cannot_escape_namespace(f: BlockFixture) {
    let sibling_name = f
        .sibling
        .location()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let escaping = key(&format!("../{sibling_name}/secret"));
    put_bytes(&*f.store, &f.ns, &escaping, b"stays home").await;
    assert_kind(
        f.store.head(&f.sibling, &key("secret")).await,
        ErrorKind::NotFound,
        "a ../ key must not land in the sibling namespace",
    );
    assert!(list_all(&*f.store, &f.sibling, "").await.is_empty());
    assert_eq!(get_bytes(&*f.store, &f.ns, &escaping).await, b"stays home");
    assert_eq!(list_all(&*f.store, &f.ns, "").await, [escaping.as_str()]);
}

pub async fn namespaces_are_isolated(f: BlockFixture) {
    let k = key("same/key");
    put_bytes(&*f.store, &f.ns, &k, b"in ns").await;
    put_bytes(&*f.store, &f.sibling, &k, b"in sibling").await;
    assert_eq!(get_bytes(&*f.store, &f.ns, &k).await, b"in ns");
    assert_eq!(get_bytes(&*f.store, &f.sibling, &k).await, b"in sibling");
    f.store.delete(&f.ns, &k).await.unwrap();
    assert_eq!(get_bytes(&*f.store, &f.sibling, &k).await, b"in sibling");
}

pub async fn list_pages_in_byte_order(f: BlockFixture) {
    let mut expected = Vec::new();
    for i in 0..1200u32 {
        // Mixed depths so that directory order and byte order differ.
        let name = match i % 3 {
            0 => format!("list/{i:05}"),
            1 => format!("list/{i:05}/nested"),
            _ => format!("list/{i:05}-dash"),
        };
        expected.push(name);
    }
    for name in &expected {
        put_bytes(&*f.store, &f.ns, &key(name), b".").await;
    }
    put_bytes(&*f.store, &f.ns, &key("other/x"), b".").await;
    expected.sort();
    assert_eq!(list_all(&*f.store, &f.ns, "list/").await, expected);
    let after = key(&expected[599]);
    let page = f
        .store
        .list(&f.ns, "list/", Some(&after), 10)
        .await
        .unwrap();
    let got: Vec<_> = page.iter().map(|b| b.key.as_str().to_owned()).collect();
    assert_eq!(got, &expected[600..610]);
    assert!(page
        .iter()
        .all(|b| b.meta.size == 1 && b.meta.etag == md5_hex(b".")));
    let none = f
        .store
        .list(&f.ns, "list/", Some(&key("list/~")), 10)
        .await
        .unwrap();
    assert!(none.is_empty());
}

pub async fn list_prefix_need_not_end_at_slash(f: BlockFixture) {
    for name in [
        "dir/file1",
        "dir/file2",
        "dir/fig",
        "dir/sub/file3",
        "dirt",
        "d",
    ] {
        put_bytes(&*f.store, &f.ns, &key(name), b".").await;
    }
    assert_eq!(
        list_all(&*f.store, &f.ns, "dir/fi").await,
        ["dir/fig", "dir/file1", "dir/file2"]
    );
    assert_eq!(list_all(&*f.store, &f.ns, "dir").await.len(), 5);
    assert!(list_all(&*f.store, &f.ns, "nope").await.is_empty());
}

pub async fn copy_keeps_bytes_and_etag(f: BlockFixture) {
    let src = key("copy/src");
    let data = payload(4096, 4);
    put_bytes(&*f.store, &f.ns, &src, &data).await;
    let out = f
        .store
        .copy(&f.ns, &src, &f.ns, &key("copy/dst"))
        .await
        .unwrap();
    assert_eq!((out.size, out.etag.clone()), (4096, md5_hex(&data)));
    assert_eq!(get_bytes(&*f.store, &f.ns, &key("copy/dst")).await, data);
    f.store
        .copy(&f.ns, &src, &f.sibling, &key("elsewhere"))
        .await
        .unwrap();
    assert_eq!(
        get_bytes(&*f.store, &f.sibling, &key("elsewhere")).await,
        data
    );
    f.store.delete(&f.ns, &src).await.unwrap();
    assert_eq!(
        get_bytes(&*f.store, &f.ns, &key("copy/dst")).await,
        data,
        "copy is independent"
    );
}

pub async fn copy_of_missing_is_not_found(f: BlockFixture) {
    let res = f
        .store
        .copy(&f.ns, &key("missing"), &f.ns, &key("dst"))
        .await;
    assert_kind(res, ErrorKind::NotFound, "copy of a missing source");
    assert_kind(
        f.store.head(&f.ns, &key("dst")).await,
        ErrorKind::NotFound,
        "no destination",
    );
}

pub async fn foreign_scheme_is_invalid_input(f: BlockFixture) {
    let k = key("x");
    let res = f
        .store
        .put(&f.foreign, &k, ByteStream::from_bytes(&b"x"[..]), Some(1))
        .await;
    assert_kind(res, ErrorKind::InvalidInput, "put");
    assert_kind(
        f.store.head(&f.foreign, &k).await,
        ErrorKind::InvalidInput,
        "head",
    );
    assert_kind(
        f.store.list(&f.foreign, "", None, 10).await,
        ErrorKind::InvalidInput,
        "list",
    );
    assert_kind(
        f.store.create_multipart(&f.foreign, &k).await,
        ErrorKind::InvalidInput,
        "multipart",
    );
}

pub async fn concurrent_puts_leave_one_whole_object(f: BlockFixture) {
    let k = key("contended");
    let a = payload(2 << 20, 9);
    let b = payload(2 << 20, 10);
    let mut tasks = Vec::new();
    for round in 0..4 {
        for data in [a.clone(), b.clone()] {
            let store = f.store.clone();
            let (ns, k) = (f.ns.clone(), k.clone());
            tasks.push(tokio::spawn(async move {
                let chunks: Vec<io::Result<Bytes>> = data
                    .chunks(65_536)
                    .map(|c| Ok(Bytes::copy_from_slice(c)))
                    .collect();
                store
                    .put(&ns, &k, ByteStream::new(stream::iter(chunks)), None)
                    .await
            }));
        }
        let _ = round;
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let got = get_bytes(&*f.store, &f.ns, &k).await;
    assert!(got == a || got == b, "the object must be one whole version");
    let meta = f.store.head(&f.ns, &k).await.unwrap();
    assert_eq!(meta.etag, md5_hex(&got), "head agrees with the body");
}

pub async fn presign_matches_capability(f: BlockFixture) {
    let k = key("presign/me");
    put_bytes(&*f.store, &f.ns, &k, b"x").await;
    let res = f.store.presign(&f.ns, &k, "GET", 60).await;
    let upload = f.store.create_multipart(&f.ns, &k).await.unwrap();
    let part = PartNumber::new(1).unwrap();
    let part_url = f.store.presign_part(&f.ns, &k, &upload, part, 60).await;
    if f.store.supports_presign() {
        let url = res.unwrap();
        assert!(url.starts_with("http"), "presigned URL: {url}");
        let url = part_url.unwrap();
        assert!(
            url.starts_with("http") && url.contains("partNumber=1"),
            "presigned part URL: {url}"
        );
    } else {
        assert_kind(res, ErrorKind::Unsupported, "presign without support");
        assert_kind(
            part_url,
            ErrorKind::Unsupported,
            "presign a part without support",
        );
    }
    f.store.abort_multipart(&f.ns, &k, &upload).await.unwrap();
}
