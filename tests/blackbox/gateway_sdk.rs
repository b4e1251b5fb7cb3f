//! The S3 gateway driven by the AWS Rust SDK (aws-sdk-s3), against the real
//! binary: every operation the gateway offers and the errors S3 clients act on.

use crate::support;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier};
use aws_sdk_s3::Client;
use support::TarnProcess;

use support::SECRET;

fn client(url: &str, secret: &str) -> Client {
    support::s3_client(url, secret)
}

async fn body(out: aws_sdk_s3::operation::get_object::GetObjectOutput) -> Vec<u8> {
    out.body.collect().await.unwrap().into_bytes().to_vec()
}

fn code<E: ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn objects_round_trip_with_metadata_ranges_and_conditions() {
    let tarn = TarnProcess::quickstart().await;
    support::create_repository(&tarn, "sdk-objects").await;
    let s3 = client(&tarn.url, SECRET);
    let buckets = s3.list_buckets().send().await.unwrap();
    assert!(buckets
        .buckets()
        .iter()
        .any(|b| b.name() == Some("sdk-objects")));
    s3.head_bucket().bucket("sdk-objects").send().await.unwrap();
    let data = b"0123456789abcdef".repeat(1000);
    let put = s3
        .put_object()
        .bucket("sdk-objects")
        .key("main/dir/file.bin")
        .body(ByteStream::from(data.clone()))
        .content_type("application/x-test")
        .metadata("owner", "sdk")
        .send()
        .await
        .unwrap();
    assert_eq!(
        put.e_tag(),
        Some(format!("\"{}\"", tarn_ports::md5_hex(&data)).as_str())
    );
    let got = s3
        .get_object()
        .bucket("sdk-objects")
        .key("main/dir/file.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("application/x-test"));
    assert_eq!(
        got.metadata().unwrap().get("owner").map(String::as_str),
        Some("sdk")
    );
    assert_eq!(body(got).await, data);
    let part = s3
        .get_object()
        .bucket("sdk-objects")
        .key("main/dir/file.bin")
        .range("bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(part.content_range(), Some("bytes 10-19/16000"));
    assert_eq!(body(part).await, data[10..20].to_vec());
    let head = s3
        .head_object()
        .bucket("sdk-objects")
        .key("main/dir/file.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(16000));

    let err = s3
        .get_object()
        .bucket("sdk-objects")
        .key("main/dir/file.bin")
        .range("bytes=20000-")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err.into_service_error()), "InvalidRange");
    let err = s3
        .get_object()
        .bucket("sdk-objects")
        .key("main/missing")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_no_such_key());
    let err = s3
        .get_object()
        .bucket("no-such-bucket")
        .key("main/x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err.into_service_error()), "NoSuchBucket");
    let err = s3
        .put_object()
        .bucket("sdk-objects")
        .key("main/dir/file.bin")
        .if_none_match("*")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err.into_service_error()), "PreconditionFailed");
    let err = s3
        .put_object()
        .bucket("sdk-objects")
        .key("nobranch/x")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err.into_service_error()), "NoSuchBucket");

    s3.delete_object()
        .bucket("sdk-objects")
        .key("main/dir/file.bin")
        .send()
        .await
        .unwrap();
    let err = s3
        .head_object()
        .bucket("sdk-objects")
        .key("main/dir/file.bin")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_not_found());
}

#[tokio::test]
async fn listings_copies_and_batch_deletes() {
    let tarn = TarnProcess::quickstart().await;
    support::create_repository(&tarn, "sdk-list").await;
    support::create_repository(&tarn, "sdk-other").await;
    let s3 = client(&tarn.url, SECRET);
    for i in 0..7 {
        s3.put_object()
            .bucket("sdk-list")
            .key(format!("main/p/{i}.txt"))
            .body(ByteStream::from(format!("v{i}").into_bytes()))
            .send()
            .await
            .unwrap();
    }
    let root = s3
        .list_objects_v2()
        .bucket("sdk-list")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let prefixes: Vec<_> = root
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["main/"]);
    let mut keys = Vec::new();
    let mut pages = s3
        .list_objects_v2()
        .bucket("sdk-list")
        .prefix("main/p/")
        .max_keys(3)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        keys.extend(
            page.unwrap()
                .contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
    }
    assert_eq!(
        keys,
        (0..7)
            .map(|i| format!("main/p/{i}.txt"))
            .collect::<Vec<_>>()
    );
    let v1 = s3
        .list_objects()
        .bucket("sdk-list")
        .prefix("main/p/")
        .max_keys(5)
        .send()
        .await
        .unwrap();
    assert_eq!(v1.contents().len(), 5);
    assert_eq!(v1.is_truncated(), Some(true));

    s3.copy_object()
        .bucket("sdk-other")
        .key("main/copied.txt")
        .copy_source("sdk-list/main/p/1.txt")
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object()
        .bucket("sdk-other")
        .key("main/copied.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(body(got).await, b"v1");

    let delete = Delete::builder()
        .objects(
            ObjectIdentifier::builder()
                .key("main/p/0.txt")
                .build()
                .unwrap(),
        )
        .objects(
            ObjectIdentifier::builder()
                .key("main/p/never")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let out = s3
        .delete_objects()
        .bucket("sdk-list")
        .delete(delete)
        .send()
        .await
        .unwrap();
    assert_eq!(out.deleted().len(), 2);
    assert!(out.errors().is_empty());
    let left = s3
        .list_objects_v2()
        .bucket("sdk-list")
        .prefix("main/p/")
        .send()
        .await
        .unwrap();
    assert_eq!(left.key_count(), Some(6));
}

#[tokio::test]
async fn multipart_uploads_with_part_copies_listing_and_abort() {
    let tarn = TarnProcess::quickstart().await;
    support::create_repository(&tarn, "sdk-mpu").await;
    let s3 = client(&tarn.url, SECRET);
    s3.put_object()
        .bucket("sdk-mpu")
        .key("main/src.bin")
        .body(ByteStream::from_static(b"abcdefghij"))
        .send()
        .await
        .unwrap();
    let created = s3
        .create_multipart_upload()
        .bucket("sdk-mpu")
        .key("main/big.bin")
        .send()
        .await
        .unwrap();
    let id = created.upload_id().unwrap().to_owned();
    let part1 = vec![7u8; 5 * 1024 * 1024];
    let p1 = s3
        .upload_part()
        .bucket("sdk-mpu")
        .key("main/big.bin")
        .upload_id(&id)
        .part_number(1)
        .body(ByteStream::from(part1.clone()))
        .send()
        .await
        .unwrap();
    let p2 = s3
        .upload_part_copy()
        .bucket("sdk-mpu")
        .key("main/big.bin")
        .upload_id(&id)
        .part_number(2)
        .copy_source("sdk-mpu/main/src.bin")
        .copy_source_range("bytes=2-5")
        .send()
        .await
        .unwrap();
    let uploads = s3
        .list_multipart_uploads()
        .bucket("sdk-mpu")
        .send()
        .await
        .unwrap();
    assert_eq!(uploads.uploads().len(), 1);
    let parts = s3
        .list_parts()
        .bucket("sdk-mpu")
        .key("main/big.bin")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        parts
            .parts()
            .iter()
            .filter_map(|p| p.part_number())
            .collect::<Vec<_>>(),
        [1, 2]
    );
    let completed = CompletedMultipartUpload::builder()
        .parts(
            CompletedPart::builder()
                .part_number(1)
                .e_tag(p1.e_tag().unwrap())
                .build(),
        )
        .parts(
            CompletedPart::builder()
                .part_number(2)
                .e_tag(p2.copy_part_result().unwrap().e_tag().unwrap())
                .build(),
        )
        .build();
    let done = s3
        .complete_multipart_upload()
        .bucket("sdk-mpu")
        .key("main/big.bin")
        .upload_id(&id)
        .multipart_upload(completed)
        .send()
        .await
        .unwrap();
    assert!(done.e_tag().unwrap().trim_matches('"').ends_with("-2"));
    let mut expected = part1;
    expected.extend_from_slice(b"cdef");
    let got = s3
        .get_object()
        .bucket("sdk-mpu")
        .key("main/big.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(got.e_tag(), done.e_tag(), "reads show the multipart ETag");
    assert_eq!(body(got).await, expected);

    let gone = s3
        .create_multipart_upload()
        .bucket("sdk-mpu")
        .key("main/gone.bin")
        .send()
        .await
        .unwrap();
    let gone_id = gone.upload_id().unwrap();
    s3.abort_multipart_upload()
        .bucket("sdk-mpu")
        .key("main/gone.bin")
        .upload_id(gone_id)
        .send()
        .await
        .unwrap();
    let err = s3
        .list_parts()
        .bucket("sdk-mpu")
        .key("main/gone.bin")
        .upload_id(gone_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err.into_service_error()), "NoSuchUpload");
}

#[tokio::test]
async fn presigned_requests_and_wrong_secrets() {
    let tarn = TarnProcess::quickstart().await;
    support::create_repository(&tarn, "sdk-auth").await;
    let s3 = client(&tarn.url, SECRET);
    s3.put_object()
        .bucket("sdk-auth")
        .key("main/p.txt")
        .body(ByteStream::from_static(b"presigned"))
        .send()
        .await
        .unwrap();
    let config =
        aws_sdk_s3::presigning::PresigningConfig::expires_in(std::time::Duration::from_secs(300))
            .unwrap();
    let presigned = s3
        .get_object()
        .bucket("sdk-auth")
        .key("main/p.txt")
        .presigned(config)
        .await
        .unwrap();
    let resp = reqwest::get(presigned.uri()).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"presigned");
    let bad = client(&tarn.url, "wrong-secret-wrong-secret-wrong-secret00");
    let err = bad
        .list_objects_v2()
        .bucket("sdk-auth")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err.into_service_error()), "SignatureDoesNotMatch");
    let err = s3
        .get_bucket_policy()
        .bucket("sdk-auth")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(405));
}
