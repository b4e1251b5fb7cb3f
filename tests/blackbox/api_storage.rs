//! Black-box tests of the REST API's storage behaviour, on whichever block
//! store the tests run (`TARN_TEST_BLOCKSTORE`): presigned access and
//! namespaces the store refuses.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::api::Api;
use support::{KEY, SECRET};

/// Presigned access: on S3, getObject redirects to the store, statObject and
/// listObjects hand out URLs, and getPhysicalAddress a URL to write, which
/// linkPhysicalAddress then stages; on a local store, reads fall back to
/// direct transfer and presigned writes are refused.
#[tokio::test]
async fn presigned_reads_and_writes_follow_the_block_store() {
    let api = Api::start().await;
    api.repo("presign").await;
    api.upload("presign", "main", "dir/a.txt", "presigned bytes")
        .await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = no_redirects
        .get(format!(
            "{}/api/v1/repositories/presign/refs/main/objects",
            api.tarn.url
        ))
        .query(&[("path", "dir/a.txt"), ("presign", "true")])
        .basic_auth(KEY, Some(SECRET))
        .send()
        .await
        .unwrap();
    let stat_path = "/repositories/presign/refs/main/objects/stat?path=dir/a.txt&presign=true";
    let (_, stat) = api.json(Method::GET, stat_path, None).await;
    let ls_path = "/repositories/presign/refs/main/objects/ls?presign=true";
    let (_, ls) = api.json(Method::GET, ls_path, None).await;
    let backing = "/repositories/presign/branches/main/staging/backing?path=b.txt&presign=true";
    let (s, location) = api.json(Method::GET, backing, None).await;
    if support::test_s3().is_none() {
        assert_eq!(get.status(), StatusCode::OK);
        assert_eq!(get.text().await.unwrap(), "presigned bytes");
        assert!(stat["physical_address"]
            .as_str()
            .unwrap()
            .starts_with("local://"));
        assert!(stat.get("physical_address_expiry").is_none());
        assert_eq!(s, StatusCode::NOT_IMPLEMENTED, "{location}");
        return;
    }
    assert_eq!(get.status(), StatusCode::FOUND);
    let url = get.headers()["location"].to_str().unwrap().to_owned();
    let direct = reqwest::get(&url).await.unwrap();
    assert_eq!(direct.status(), StatusCode::OK, "{url}");
    assert_eq!(direct.text().await.unwrap(), "presigned bytes");
    for stats in [&stat, &ls["results"][0]] {
        let url = stats["physical_address"].as_str().unwrap();
        assert!(url.starts_with("http://127.0.0.1:"), "{stats}");
        assert!(stats["physical_address_expiry"].as_i64().unwrap() > 0);
        let body = reqwest::get(url).await.unwrap().text().await.unwrap();
        assert_eq!(body, "presigned bytes");
    }
    assert_eq!(s, StatusCode::OK, "{location}");
    let put = reqwest::Client::new()
        .put(location["presigned_url"].as_str().unwrap())
        .body("written straight to S3")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    let etag = put.headers()["etag"]
        .to_str()
        .unwrap()
        .trim_matches('"')
        .to_owned();
    let link = json!({
        "staging": {"physical_address": location["physical_address"]},
        "checksum": etag,
        "size_bytes": 22,
    });
    let (s, linked) = api
        .json(
            Method::PUT,
            "/repositories/presign/branches/main/staging/backing?path=b.txt",
            Some(link),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{linked}");
    let read = api
        .req(Method::GET, "/repositories/presign/refs/main/objects")
        .query(&[("path", "b.txt")])
        .send()
        .await
        .unwrap();
    assert_eq!(read.text().await.unwrap(), "written straight to S3");
}

/// A namespace the block store cannot write (a missing bucket, another
/// scheme) is the client's mistake: 400, saying why, and no repository.
#[tokio::test]
async fn namespaces_the_store_cannot_write_are_refused() {
    let api = Api::start().await;
    let (bad, why) = match support::test_s3() {
        Some(_) => ("s3://no-such-bucket-tarn/x", "NoSuchBucket"),
        None => ("mem://elsewhere", "local://"),
    };
    let body = json!({"name": "unwritable", "storage_namespace": bad});
    let (s, v) = api.json(Method::POST, "/repositories", Some(body)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let message = v["message"].as_str().unwrap();
    assert!(
        message.contains("storage_namespace") && message.contains(why),
        "{message}"
    );
    let (s, _) = api
        .json(Method::GET, "/repositories/unwritable", None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
