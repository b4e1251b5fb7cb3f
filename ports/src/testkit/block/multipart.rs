//! The `BlockStore` conformance cases of multipart uploads.

use super::{get_bytes, key, list_all, payload, put_bytes, BlockFixture};
use crate::testkit::assert_kind;
use crate::{md5_hex, multipart_etag, ByteRange, ByteStream, CompletedPart, ErrorKind};
use tarn_model::{BlockKey, PartNumber};

fn part(n: u32) -> PartNumber {
    PartNumber::new(n).unwrap_or_else(|e| panic!("{e}"))
}

async fn upload(f: &BlockFixture, k: &BlockKey, id: &str, n: u32, data: &[u8]) -> String {
    let etag = f
        .store
        .upload_part(
            &f.ns,
            k,
            id,
            part(n),
            ByteStream::from_bytes(data.to_vec()),
            Some(data.len() as u64),
        )
        .await
        .unwrap_or_else(|e| panic!("upload part {n}: {e}"));
    assert_eq!(etag.trim_matches('"'), md5_hex(data), "part {n} etag");
    etag
}

fn completed(parts: &[(u32, &str)]) -> Vec<CompletedPart> {
    parts
        .iter()
        .map(|(n, e)| CompletedPart {
            number: part(*n),
            etag: (*e).to_owned(),
        })
        .collect()
}

pub async fn multipart_assembles_parts_in_order(f: BlockFixture) {
    let k = key("mpu/object");
    let id = f.store.create_multipart(&f.ns, &k).await.unwrap();
    let (p1, p2, p3) = (payload(5 << 20, 5), payload(5 << 20, 6), payload(1234, 7));
    let e3 = upload(&f, &k, &id, 3, &p3).await;
    let e1 = upload(&f, &k, &id, 1, &p1).await;
    let e2 = upload(&f, &k, &id, 2, &p2).await;
    let out = f
        .store
        .complete_multipart(&f.ns, &k, &id, &completed(&[(1, &e1), (2, &e2), (3, &e3)]))
        .await
        .unwrap();
    let expected_etag = multipart_etag([e1.as_str(), e2.as_str(), e3.as_str()]);
    assert_eq!(out.etag, expected_etag);
    assert_eq!(out.size, (p1.len() + p2.len() + p3.len()) as u64);
    let all = [p1, p2, p3].concat();
    assert!(
        get_bytes(&*f.store, &f.ns, &k).await == all,
        "assembled bytes differ"
    );
    assert_eq!(f.store.head(&f.ns, &k).await.unwrap().etag, expected_etag);
    // Completing again is NotFound, or (S3) idempotent: it changes nothing.
    let again = f
        .store
        .complete_multipart(&f.ns, &k, &id, &completed(&[(1, &e1)]))
        .await;
    match again {
        Ok(out) => assert_eq!(out.etag, expected_etag, "a repeated completion"),
        Err(e) => assert_eq!(e.kind(), ErrorKind::NotFound, "a completed upload: {e}"),
    }
    assert!(
        get_bytes(&*f.store, &f.ns, &k).await == all,
        "bytes after a repeated completion"
    );
}

pub async fn multipart_reupload_keeps_last_part(f: BlockFixture) {
    let k = key("mpu/reupload");
    let id = f.store.create_multipart(&f.ns, &k).await.unwrap();
    upload(&f, &k, &id, 1, b"old part").await;
    let new = padded(b"new part", f.min_part_size);
    let e1 = upload(&f, &k, &id, 1, &new).await;
    let e2 = upload(&f, &k, &id, 2, b"!").await;
    f.store
        .complete_multipart(&f.ns, &k, &id, &completed(&[(1, &e1), (2, &e2)]))
        .await
        .unwrap();
    assert!(get_bytes(&*f.store, &f.ns, &k).await == [&new[..], b"!"].concat());
}

/// `data`, then dots up to `len` bytes.
fn padded(data: &[u8], len: usize) -> Vec<u8> {
    let mut out = data.to_vec();
    out.resize(len.max(data.len()), b'.');
    out
}

pub async fn multipart_object_invisible_until_complete(f: BlockFixture) {
    let k = key("mpu/pending");
    put_bytes(&*f.store, &f.ns, &k, b"previous").await;
    let id = f.store.create_multipart(&f.ns, &k).await.unwrap();
    let e1 = upload(&f, &k, &id, 1, b"next").await;
    assert_eq!(get_bytes(&*f.store, &f.ns, &k).await, b"previous");
    assert_eq!(list_all(&*f.store, &f.ns, "").await, ["mpu/pending"]);
    f.store
        .complete_multipart(&f.ns, &k, &id, &completed(&[(1, &e1)]))
        .await
        .unwrap();
    assert_eq!(get_bytes(&*f.store, &f.ns, &k).await, b"next");
}

pub async fn multipart_complete_validates_parts(f: BlockFixture) {
    let k = key("mpu/validate");
    let id = f.store.create_multipart(&f.ns, &k).await.unwrap();
    let e1 = upload(&f, &k, &id, 1, b"one").await;
    let e2 = upload(&f, &k, &id, 2, b"two").await;
    let bad: [(&str, Vec<CompletedPart>); 5] = [
        ("no parts", vec![]),
        ("descending order", completed(&[(2, &e2), (1, &e1)])),
        ("repeated part", completed(&[(1, &e1), (1, &e1)])),
        ("wrong etag", completed(&[(1, &e2)])),
        ("part never uploaded", completed(&[(1, &e1), (3, &e2)])),
    ];
    for (what, parts) in bad {
        let res = f.store.complete_multipart(&f.ns, &k, &id, &parts).await;
        assert_kind(res, ErrorKind::InvalidInput, what);
        assert_kind(f.store.head(&f.ns, &k).await, ErrorKind::NotFound, what);
    }
    // The upload survives failed completions; a subset of parts is fine.
    let quoted = format!("\"{e2}\"");
    f.store
        .complete_multipart(&f.ns, &k, &id, &completed(&[(2, &quoted)]))
        .await
        .unwrap();
    assert_eq!(get_bytes(&*f.store, &f.ns, &k).await, b"two");
}

pub async fn multipart_abort_discards_upload(f: BlockFixture) {
    let k = key("mpu/abort");
    let id = f.store.create_multipart(&f.ns, &k).await.unwrap();
    let e1 = upload(&f, &k, &id, 1, b"data").await;
    f.store.abort_multipart(&f.ns, &k, &id).await.unwrap();
    let res = f
        .store
        .complete_multipart(&f.ns, &k, &id, &completed(&[(1, &e1)]))
        .await;
    assert_kind(res, ErrorKind::NotFound, "complete after abort");
    assert_kind(
        f.store.abort_multipart(&f.ns, &k, &id).await,
        ErrorKind::NotFound,
        "abort twice",
    );
    assert_kind(
        f.store.head(&f.ns, &k).await,
        ErrorKind::NotFound,
        "no object after abort",
    );
    assert!(list_all(&*f.store, &f.ns, "").await.is_empty());
}

pub async fn multipart_unknown_upload_is_not_found(f: BlockFixture) {
    let k = key("mpu/unknown");
    let body = ByteStream::from_bytes(&b"x"[..]);
    let res = f
        .store
        .upload_part(&f.ns, &k, "no-such-upload", part(1), body, Some(1))
        .await;
    assert_kind(res, ErrorKind::NotFound, "upload_part");
    let res = f
        .store
        .complete_multipart(&f.ns, &k, "no-such-upload", &completed(&[(1, "x")]))
        .await;
    assert_kind(res, ErrorKind::NotFound, "complete");
    assert_kind(
        f.store.abort_multipart(&f.ns, &k, "no-such-upload").await,
        ErrorKind::NotFound,
        "abort",
    );
    // An upload id is bound to its key.
    let id = f.store.create_multipart(&f.ns, &k).await.unwrap();
    let body = ByteStream::from_bytes(&b"x"[..]);
    let res = f
        .store
        .upload_part(&f.ns, &key("mpu/other"), &id, part(1), body, Some(1))
        .await;
    assert_kind(res, ErrorKind::NotFound, "upload_part under another key");
}

pub async fn upload_part_copy_takes_ranges(f: BlockFixture) {
    let src = key("copy-src");
    let data = payload(10_000 + f.min_part_size, 8);
    put_bytes(&*f.store, &f.ns, &src, &data).await;
    let k = key("mpu/copied");
    let id = f.store.create_multipart(&f.ns, &k).await.unwrap();
    // Bytes 100..end of a part as big as the store's smallest (100 at least).
    let end = 100 + f.min_part_size.max(100);
    let range = Some(ByteRange::Inclusive {
        first: 100,
        last: end as u64 - 1,
    });
    let e1 = f
        .store
        .upload_part_copy(&f.ns, &k, &id, part(1), &f.ns, &src, range)
        .await
        .unwrap();
    assert_eq!(e1.trim_matches('"'), md5_hex(&data[100..end]));
    let e2 = f
        .store
        .upload_part_copy(&f.ns, &k, &id, part(2), &f.ns, &src, None)
        .await
        .unwrap();
    let bad = Some(ByteRange::From(data.len() as u64));
    let res = f
        .store
        .upload_part_copy(&f.ns, &k, &id, part(3), &f.ns, &src, bad)
        .await;
    assert_kind(res, ErrorKind::InvalidRange, "range past the end");
    let res = f
        .store
        .upload_part_copy(&f.ns, &k, &id, part(3), &f.ns, &key("nope"), None)
        .await;
    assert_kind(res, ErrorKind::NotFound, "missing copy source");
    f.store
        .complete_multipart(&f.ns, &k, &id, &completed(&[(1, &e1), (2, &e2)]))
        .await
        .unwrap();
    let expected = [&data[100..end], &data[..]].concat();
    assert!(get_bytes(&*f.store, &f.ns, &k).await == expected);
}
