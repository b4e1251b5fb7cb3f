//! Every kind of request the adapter signs, checked by a server that
//! verifies SigV4: s3s-fs (`cargo install s3s-fs@0.14.1 --features binary
//! --locked`; `make test` installs it). Without it the cases skip, except
//! under `make test`. moto, which runs the conformance suite, accepts any
//! signature.

#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use futures::stream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tarn_adapter_s3::{S3BlockStore, S3Settings};
use tarn_model::{BlockKey, PartNumber, StorageNamespace};
use tarn_ports::{md5_hex, BlockStore, ByteRange, ByteStream, CompletedPart, ErrorKind};

const KEY: &str = "AKIAS3SFSSIGNATURES0";
const SECRET: &str = "s3s-fs-verifies-every-signature-00000000";

struct S3sFs {
    child: Child,
    endpoint: String,
    _root: tempfile::TempDir,
}

impl Drop for S3sFs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// s3s-fs on a free port, or `None` (the case skips) when it is not installed.
fn s3s_fs() -> Option<S3sFs> {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("bucket")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("s3s-fs")
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--access-key", KEY, "--secret-key", SECRET])
        .arg(root.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tarn_ports::testkit::skip_without_server(
                "s3s-fs is not installed; run `make test`, or `make s3s-fs` \
                 (cargo install s3s-fs@0.14.1 --features binary --locked)",
            );
            return None;
        }
        Err(e) => panic!("s3s-fs: {e}"),
    };
    let up = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(up, "s3s-fs did not start");
    Some(S3sFs {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
        _root: root,
    })
}

async fn store(server: &S3sFs, secret: &str) -> S3BlockStore {
    S3BlockStore::connect(&S3Settings {
        endpoint: Some(server.endpoint.clone()),
        force_path_style: true,
        access_key_id: Some(KEY.into()),
        secret_access_key: Some(secret.into()),
        part_size: 5 << 20,
        ..S3Settings::default()
    })
    .await
    .unwrap()
}

fn key(s: &str) -> BlockKey {
    BlockKey::new(s).unwrap()
}

fn chunks(data: &[u8]) -> ByteStream {
    let parts: Vec<std::io::Result<Bytes>> = data
        .chunks(65_536)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    ByteStream::new(stream::iter(parts))
}

/// `url` with the first digit of its signature changed.
fn tamper(url: &str) -> String {
    let at = url.find("X-Amz-Signature=").unwrap() + "X-Amz-Signature=".len();
    let digit = if url.as_bytes()[at] == b'0' { "1" } else { "0" };
    format!("{}{digit}{}", &url[..at], &url[at + 1..])
}

async fn read(store: &S3BlockStore, ns: &StorageNamespace, k: &str) -> Vec<u8> {
    let got = store.get(ns, &key(k), None).await.unwrap();
    got.body.collect_bounded(64 << 20).await.unwrap().to_vec()
}

#[tokio::test]
async fn s3s_fs_accepts_every_signed_request() {
    let Some(server) = s3s_fs() else {
        return;
    };
    let s3 = store(&server, SECRET).await;
    let ns = StorageNamespace::new("s3://bucket/ns").unwrap();
    let data: Vec<u8> = (0..(1 << 20)).map(|i| (i % 251) as u8).collect();

    // Streamed PutObject of known length, ranged and whole GetObject, HEAD.
    let out = s3
        .put(&ns, &key("sig/a"), chunks(&data), Some(data.len() as u64))
        .await
        .unwrap();
    assert_eq!(out.etag, md5_hex(&data));
    assert_eq!(read(&s3, &ns, "sig/a").await, data);
    let ranged = s3
        .get(
            &ns,
            &key("sig/a"),
            Some(ByteRange::Inclusive {
                first: 10,
                last: 19,
            }),
        )
        .await
        .unwrap();
    assert_eq!(ranged.range, Some((10, 19)));
    assert_eq!(
        ranged.body.collect_bounded(100).await.unwrap(),
        &data[10..20]
    );
    assert_eq!(
        s3.head(&ns, &key("sig/a")).await.unwrap().size,
        data.len() as u64
    );

    // Unknown length over a part: a multipart upload of 5 MiB parts.
    let big: Vec<u8> = (0..(11 << 20)).map(|i| (i % 241) as u8).collect();
    let out = s3
        .put(&ns, &key("sig/big"), chunks(&big), None)
        .await
        .unwrap();
    assert_eq!(out.size, big.len() as u64);
    assert!(out.etag.ends_with("-3"), "{}", out.etag);
    assert!(read(&s3, &ns, "sig/big").await == big);

    // CopyObject, UploadPartCopy, UploadPart, Complete, List, Delete.
    s3.copy(&ns, &key("sig/a"), &ns, &key("sig/copy"))
        .await
        .unwrap();
    assert_eq!(read(&s3, &ns, "sig/copy").await, data);
    let id = s3.create_multipart(&ns, &key("sig/mpu")).await.unwrap();
    let part = |n| PartNumber::new(n).unwrap();
    let e1 = s3
        .upload_part_copy(
            &ns,
            &key("sig/mpu"),
            &id,
            part(1),
            &ns,
            &key("sig/big"),
            Some(ByteRange::From(6 << 20)),
        )
        .await
        .unwrap();
    let e2 = s3
        .upload_part(&ns, &key("sig/mpu"), &id, part(2), chunks(b"tail"), Some(4))
        .await
        .unwrap();
    let parts = [
        CompletedPart {
            number: part(1),
            etag: e1,
        },
        CompletedPart {
            number: part(2),
            etag: e2,
        },
    ];
    s3.complete_multipart(&ns, &key("sig/mpu"), &id, &parts)
        .await
        .unwrap();
    assert!(read(&s3, &ns, "sig/mpu").await == [&big[6 << 20..], b"tail"].concat());
    let listed = s3.list(&ns, "sig/", None, 100).await.unwrap();
    let names: Vec<_> = listed.iter().map(|b| b.key.as_str()).collect();
    assert_eq!(names, ["sig/a", "sig/big", "sig/copy", "sig/mpu"]);
    s3.delete(&ns, &key("sig/copy")).await.unwrap();
    let gone = s3.head(&ns, &key("sig/copy")).await.unwrap_err();
    assert_eq!(gone.kind(), ErrorKind::NotFound);

    // Presigned GET and PUT, and the same URLs tampered with.
    let http = reqwest::Client::new();
    let url = s3.presign(&ns, &key("sig/a"), "GET", 60).await.unwrap();
    let got = http.get(&url).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap(), data);
    let tampered = tamper(&url);
    assert_eq!(http.get(&tampered).send().await.unwrap().status(), 403);
    let url = s3.presign(&ns, &key("sig/put"), "PUT", 60).await.unwrap();
    let put = http.put(&url).body("presigned").send().await.unwrap();
    assert_eq!(put.status(), 200);
    assert_eq!(read(&s3, &ns, "sig/put").await, b"presigned");
    let forged = url.replace("sig/put", "sig/other");
    assert_eq!(
        http.put(&forged).body("x").send().await.unwrap().status(),
        403
    );

    // Presigned parts: uploaded straight to the store, completed by ETag.
    let id = s3.create_multipart(&ns, &key("sig/pmpu")).await.unwrap();
    let mut parts = Vec::new();
    for (n, body) in [(1, big[..5 << 20].to_vec()), (2, b"end".to_vec())] {
        let url = s3
            .presign_part(&ns, &key("sig/pmpu"), &id, part(n), 60)
            .await
            .unwrap();
        let resp = http.put(&url).body(body).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
        parts.push(CompletedPart {
            number: part(n),
            etag,
        });
    }
    s3.complete_multipart(&ns, &key("sig/pmpu"), &id, &parts)
        .await
        .unwrap();
    assert!(read(&s3, &ns, "sig/pmpu").await == [&big[..5 << 20], b"end"].concat());
}

#[tokio::test]
async fn a_wrong_secret_is_refused() {
    let Some(server) = s3s_fs() else {
        return;
    };
    let s3 = store(&server, "not-the-secret").await;
    let ns = StorageNamespace::new("s3://bucket/ns").unwrap();
    let err = s3
        .put(&ns, &key("x"), ByteStream::from_bytes(&b"x"[..]), Some(1))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Internal, "{err}");
    assert!(err.to_string().contains("SignatureDoesNotMatch"), "{err}");
}
