//! Every gateway operation, through the AWS SDK, for every kind of user
//! (see `support::rbac`), and the life of a deleted access key: refused at
//! once by the instance that deleted it, by the others within the cache TTL.

use crate::support;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::operation::RequestId;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier};
use aws_sdk_s3::Client;
use std::time::Duration;
use support::rbac::{Who, World};

/// `"ok"`, or the S3 error code (the HTTP status for bodiless HEAD answers).
fn outcome<T, E>(r: Result<T, aws_sdk_s3::error::SdkError<E>>) -> String
where
    E: ProvideErrorMetadata + RequestId + std::fmt::Debug,
{
    match r {
        Ok(_) => "ok".to_owned(),
        Err(e) => match e.code() {
            Some(code) => code.to_owned(),
            None => e
                .raw_response()
                .map_or_else(|| format!("{e:?}"), |r| r.status().as_u16().to_string()),
        },
    }
}

fn denied(outcome: &str) -> bool {
    outcome == "AccessDenied" || outcome == "403"
}

fn client(world: &World, who: &Who) -> Client {
    support::s3_client_as(&world.api.tarn.url, &who.key, &who.secret)
}

/// An upload that the admin starts, for the users to try the other
/// multipart operations on.
async fn admin_upload(admin: &Client, bucket: &str, key: &str) -> String {
    let up = admin
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    up.upload_id().unwrap().to_owned()
}

/// Runs every operation as `who` on `bucket`; the outcome of each, by name.
async fn every_operation(
    admin: &Client,
    s3: &Client,
    who: &str,
    bucket: &str,
) -> Vec<(&'static str, bool, String)> {
    let mut out = Vec::new();
    let b = bucket;
    let key = format!("main/gw-{who}.txt");
    // (name, whether it writes, outcome)
    macro_rules! op {
        ($name:literal, $writes:expr, $call:expr) => {
            out.push(($name, $writes, outcome($call.await)));
        };
    }
    op!("HeadBucket", false, s3.head_bucket().bucket(b).send());
    op!(
        "GetBucketLocation",
        false,
        s3.get_bucket_location().bucket(b).send()
    );
    op!(
        "GetBucketVersioning",
        false,
        s3.get_bucket_versioning().bucket(b).send()
    );
    op!(
        "ListObjectsV2",
        false,
        s3.list_objects_v2().bucket(b).prefix("main/").send()
    );
    op!(
        "ListObjects (branches)",
        false,
        s3.list_objects().bucket(b).delimiter("/").send()
    );
    op!(
        "ListMultipartUploads",
        false,
        s3.list_multipart_uploads().bucket(b).send()
    );
    op!(
        "GetObject",
        false,
        s3.get_object().bucket(b).key("main/data/a.txt").send()
    );
    op!(
        "HeadObject",
        false,
        s3.head_object().bucket(b).key("main/data/a.txt").send()
    );
    op!(
        "GetObjectTagging",
        false,
        s3.get_object_tagging()
            .bucket(b)
            .key("main/data/a.txt")
            .send()
    );
    let upload = admin_upload(admin, b, &format!("main/mp-{who}.bin")).await;
    op!(
        "ListParts",
        false,
        s3.list_parts()
            .bucket(b)
            .key(format!("main/mp-{who}.bin"))
            .upload_id(&upload)
            .send()
    );
    op!(
        "PutObject",
        true,
        s3.put_object()
            .bucket(b)
            .key(&key)
            .body(ByteStream::from_static(b"gw"))
            .send()
    );
    op!(
        "CopyObject",
        true,
        s3.copy_object()
            .bucket(b)
            .key(format!("main/copy-{who}.txt"))
            .copy_source(format!("{b}/main/data/a.txt"))
            .send()
    );
    op!(
        "CreateMultipartUpload",
        true,
        s3.create_multipart_upload()
            .bucket(b)
            .key(format!("main/own-{who}.bin"))
            .send()
    );
    let part = s3
        .upload_part()
        .bucket(b)
        .key(format!("main/mp-{who}.bin"))
        .upload_id(&upload)
        .part_number(1)
        .body(ByteStream::from_static(b"part"))
        .send()
        .await;
    let etag = part
        .as_ref()
        .ok()
        .and_then(|p| p.e_tag().map(str::to_owned));
    out.push(("UploadPart", true, outcome(part)));
    op!(
        "UploadPartCopy",
        true,
        s3.upload_part_copy()
            .bucket(b)
            .key(format!("main/mp-{who}.bin"))
            .upload_id(&upload)
            .part_number(2)
            .copy_source(format!("{b}/main/data/a.txt"))
            .send()
    );
    let parts = CompletedMultipartUpload::builder()
        .parts(
            CompletedPart::builder()
                .part_number(1)
                .e_tag(etag.unwrap_or_else(|| "\"x\"".into()))
                .build(),
        )
        .build();
    op!(
        "CompleteMultipartUpload",
        true,
        s3.complete_multipart_upload()
            .bucket(b)
            .key(format!("main/mp-{who}.bin"))
            .upload_id(&upload)
            .multipart_upload(parts)
            .send()
    );
    let other = admin_upload(admin, b, &format!("main/abort-{who}.bin")).await;
    op!(
        "AbortMultipartUpload",
        true,
        s3.abort_multipart_upload()
            .bucket(b)
            .key(format!("main/abort-{who}.bin"))
            .upload_id(&other)
            .send()
    );
    op!(
        "DeleteObject",
        true,
        s3.delete_object().bucket(b).key(&key).send()
    );
    let delete = Delete::builder()
        .objects(
            ObjectIdentifier::builder()
                .key(format!("main/copy-{who}.txt"))
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    op!(
        "DeleteObjects",
        true,
        s3.delete_objects().bucket(b).delete(delete).send()
    );
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_gateway_operation_checks_its_permission() {
    let world = World::start(&[]).await;
    let admin = client(&world, world.who("quickstart"));
    let mut checked = 0;
    for (who, bucket) in [
        ("viewer", "open"),
        ("developer", "open"),
        ("quickstart", "open"),
        ("outsider", "secret"),
    ] {
        let s3 = client(&world, world.who(who));
        for (name, writes, result) in every_operation(&admin, &s3, who, bucket).await {
            let allowed = match who {
                "viewer" => !writes,
                "outsider" => false,
                _ => true,
            };
            if allowed {
                assert!(
                    !denied(&result),
                    "{who} {name} on {bucket} should be allowed: {result}"
                );
                assert!(result == "ok", "{who} {name} on {bucket}: {result}");
            } else {
                assert!(
                    denied(&result),
                    "{who} {name} on {bucket} should be denied: {result}"
                );
            }
            checked += 1;
        }
        // Buckets cannot be created through the gateway; only who may create
        // repositories learns that the bucket exists.
        let create = outcome(s3.create_bucket().bucket(bucket).send().await);
        let expected = if who == "quickstart" {
            "BucketAlreadyExists"
        } else {
            "AccessDenied"
        };
        assert_eq!(create, expected, "{who} CreateBucket");
    }
    assert!(checked >= 4 * 18, "{checked}");

    // ListBuckets shows only readable repositories.
    let names = |c: Client| async move {
        let out = c.list_buckets().send().await.unwrap();
        out.buckets()
            .iter()
            .map(|b| b.name().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(client(&world, world.who("viewer"))).await,
        ["open", "secret"]
    );
    assert_eq!(names(client(&world, world.who("outsider"))).await, ["open"]);
    // Copies out of the denied repository into an allowed one are refused.
    let outsider = client(&world, world.who("outsider"));
    let steal = outcome(
        outsider
            .copy_object()
            .bucket("open")
            .key("main/stolen.txt")
            .copy_source("secret/main/data/a.txt")
            .send()
            .await,
    );
    assert_eq!(steal, "AccessDenied");
    let upload = admin_upload(&admin, "open", "main/stolen.bin").await;
    let steal_part = outcome(
        outsider
            .upload_part_copy()
            .bucket("open")
            .key("main/stolen.bin")
            .upload_id(&upload)
            .part_number(1)
            .copy_source("secret/main/data/a.txt")
            .send()
            .await,
    );
    assert_eq!(steal_part, "AccessDenied");
    // A denied bucket and a missing one look the same to the outsider.
    let missing = outcome(
        outsider
            .get_object()
            .bucket("secret-nope")
            .key("main/x")
            .send()
            .await,
    );
    assert_eq!(missing, "AccessDenied");
    let other = outcome(
        outsider
            .get_object()
            .bucket("nope")
            .key("main/x")
            .send()
            .await,
    );
    assert_eq!(
        other, "NoSuchBucket",
        "outside the denial, a missing bucket is reported"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_credentials_stop_at_once_here_and_within_the_ttl_elsewhere() {
    // Two instances on one database; auth lookups cached for 2 s.
    let db = tempfile::tempdir().unwrap();
    let db_path = db.path().join("shared.db").display().to_string();
    let mut env: Vec<(&str, &str)> = vec![("TARN_AUTH__CACHE__TTL_SECS", "2")];
    let pg;
    if std::env::var("TARN_TEST_POSTGRES_URL").is_ok() {
        pg = support::fresh_postgres().await;
        env.extend([
            ("TARN_DATABASE__TYPE", "postgres"),
            ("TARN_DATABASE__POSTGRES__CONNECTION_STRING", pg.as_str()),
        ]);
    } else {
        env.extend([
            ("TARN_DATABASE__TYPE", "sqlite"),
            ("TARN_DATABASE__SQLITE__PATH", db_path.as_str()),
        ]);
    }
    let mut owned: Vec<(String, String)> = support::blockstore_env();
    owned.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let world = World::start(&env).await;
    let there = support::TarnProcess::start(tempfile::tempdir().unwrap(), &owned).await;
    let dev = world.who("developer").clone();
    let here_s3 = client(&world, &dev);
    let there_s3 = support::s3_client_as(&there.url, &dev.key, &dev.secret);
    let http = reqwest::Client::new();
    let api_status = |url: String| {
        let (http, key, secret) = (http.clone(), dev.key.clone(), dev.secret.clone());
        async move {
            http.get(format!("{url}/api/v1/user"))
                .basic_auth(key, Some(secret))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // Both instances know the key (and cache it).
    assert_eq!(outcome(here_s3.list_buckets().send().await), "ok");
    assert_eq!(outcome(there_s3.list_buckets().send().await), "ok");
    assert_eq!(api_status(there.url.clone()).await, 200);
    let cached_at = std::time::Instant::now();

    let (s, v) = world
        .call(
            Some(world.who("quickstart")),
            reqwest::Method::DELETE,
            &format!("/auth/users/developer/credentials/{}", dev.key),
            None,
        )
        .await;
    assert_eq!(s, 204, "{v}");
    // Here: at once, on the API and the gateway.
    assert_eq!(api_status(world.api.tarn.url.clone()).await, 401);
    assert_eq!(outcome(here_s3.list_buckets().send().await), "AccessDenied");
    // There: still cached (when the check is surely within the TTL), then
    // gone once the TTL has passed.
    let first = api_status(there.url.clone()).await;
    if cached_at.elapsed() < Duration::from_millis(1500) {
        assert_eq!(first, 200, "the other instance answers from its cache");
    }
    let start = std::time::Instant::now();
    loop {
        let status = api_status(there.url.clone()).await;
        let gateway = outcome(there_s3.list_buckets().send().await);
        if status == 401 && gateway == "AccessDenied" {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "still accepted after {:?}: {status} {gateway}",
            start.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        start.elapsed() <= Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    drop(db);
}
