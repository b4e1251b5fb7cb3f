//! Black-box tests of the REST API over HTTP: the real binary, quickstart
//! credentials, lakeFS's paths, bodies and status codes.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::api::Api;
use support::{KEY, SECRET};

#[tokio::test]
async fn requests_without_valid_credentials_get_401() {
    let api = Api::start().await;
    let url = format!("{}/api/v1/repositories", api.tarn.url);
    let resp = api.http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["message"], "error authenticating request");
    let resp = api
        .http
        .get(&url)
        .basic_auth(KEY, Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = api
        .http
        .get(&url)
        .bearer_auth("not.a.jwt")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // Public operations need no credentials.
    let resp = api
        .http
        .get(format!("{}/api/v1/healthcheck", api.tarn.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let setup: Value = api
        .http
        .get(format!("{}/api/v1/setup_lakefs", api.tarn.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(setup["state"], "initialized");
}

#[tokio::test]
async fn login_returns_a_token_and_a_session_cookie() {
    let api = Api::start().await;
    let resp = api
        .http
        .post(format!("{}/api/v1/auth/login", api.tarn.url))
        .json(&json!({"access_key_id": KEY, "secret_access_key": SECRET}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie = resp
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("internal_auth_session="), "{cookie}");
    let body: Value = resp.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    assert!(body["token_expiration"].as_u64().unwrap() > 0);
    let me: Value = api
        .http
        .get(format!("{}/api/v1/user", api.tarn.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["id"], "quickstart");
    let session = cookie.split(';').next().unwrap();
    let resp = api
        .http
        .get(format!("{}/api/v1/repositories", api.tarn.url))
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let bad = api
        .http
        .post(format!("{}/api/v1/auth/login", api.tarn.url))
        .json(&json!({"access_key_id": KEY, "secret_access_key": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn config_reports_the_block_store_and_unknown_routes_are_404_or_501() {
    let api = Api::start().await;
    let (s, cfg) = api.json(Method::GET, "/config", None).await;
    assert_eq!(s, StatusCode::OK);
    let on_s3 = support::test_s3().is_some();
    assert_eq!(cfg["storage_config"]["pre_sign_support"], on_s3);
    let kind = if on_s3 { "s3" } else { "local" };
    assert_eq!(cfg["storage_config"]["blockstore_type"], kind);
    let (s, v) = api.json(Method::GET, "/no/such/endpoint", None).await;
    assert_eq!(
        (s, v["message"].as_str()),
        (StatusCode::NOT_FOUND, Some("invalid API endpoint"))
    );
    let (s, v) = api.json(Method::POST, "/sts/login", Some(json!({}))).await;
    assert_eq!(s, StatusCode::NOT_IMPLEMENTED, "{v}");
    assert!(v["message"].as_str().unwrap().contains("stsLogin"), "{v}");
    let doc: Value = api
        .http
        .get(format!("{}/openapi.json", api.tarn.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(
        doc["paths"]["/api/v1/repositories/{repository}/refs/{ref}/objects"]["get"].is_object()
    );
}

#[tokio::test]
async fn repositories_and_branches_follow_lakefs_status_codes() {
    let api = Api::start().await;
    api.repo("alpha").await;
    let (s, v) = api
        .json(
            Method::POST,
            "/repositories",
            Some(json!({"name": "alpha", "storage_namespace": support::namespace("other")})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, v) = api
        .json(
            Method::POST,
            "/repositories",
            Some(json!({"name": "Bad_Name", "storage_namespace": support::namespace("x")})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = api.json(Method::GET, "/repositories/alpha", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["default_branch"], "main");
    let (s, list) = api.json(Method::GET, "/repositories?amount=-1", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["pagination"]["max_per_page"], 1000);
    assert_eq!(list["results"][0]["id"], "alpha");
    let resp = api
        .req(Method::POST, "/repositories/alpha/branches")
        .json(&json!({"name": "dev", "source": "main"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let commit_id = resp.text().await.unwrap();
    assert_eq!(commit_id.len(), 64);
    let (s, _) = api
        .json(
            Method::POST,
            "/repositories/alpha/branches",
            Some(json!({"name": "dev", "source": "main"})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, b) = api
        .json(Method::GET, "/repositories/alpha/branches/dev", None)
        .await;
    assert_eq!(
        (s, b["commit_id"].as_str()),
        (StatusCode::OK, Some(commit_id.as_str()))
    );
    let (s, _) = api
        .json(Method::DELETE, "/repositories/alpha/branches/main", None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = api
        .json(Method::GET, "/repositories/alpha/branches/nope", None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = api
        .json(Method::GET, "/repositories/missing-repo", None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = api.json(Method::DELETE, "/repositories/alpha", None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn objects_upload_read_by_range_and_list() {
    let api = Api::start().await;
    api.repo("objects").await;
    let stats = api
        .upload("objects", "main", "dir/a.txt", "hello world")
        .await;
    assert_eq!(stats["size_bytes"], 11);
    assert_eq!(stats["checksum"], "5eb63bbbe01eeed093cb22bb8f5acdc3");
    assert_eq!(stats["metadata"]["owner"], "tests");
    api.upload("objects", "main", "dir/b.txt", "b").await;
    api.upload("objects", "main", "top.txt", "t").await;
    let get = |range: Option<&str>| {
        let mut r = api
            .req(Method::GET, "/repositories/objects/refs/main/objects")
            .query(&[("path", "dir/a.txt")]);
        if let Some(range) = range {
            r = r.header("range", range);
        }
        r.send()
    };
    let resp = get(None).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["etag"],
        "\"5eb63bbbe01eeed093cb22bb8f5acdc3\""
    );
    assert_eq!(resp.headers()["content-type"], "text/plain");
    assert!(resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    assert_eq!(resp.text().await.unwrap(), "hello world");
    let resp = get(Some("bytes=6-")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(resp.headers()["content-range"], "bytes 6-10/11");
    assert_eq!(resp.text().await.unwrap(), "world");
    let resp = get(Some("bytes=50-60")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(resp.headers()["content-range"], "bytes */11");
    let resp = api
        .req(Method::GET, "/repositories/objects/refs/main/objects")
        .query(&[("path", "dir/a.txt")])
        .header("if-none-match", "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    let head = api
        .req(Method::HEAD, "/repositories/objects/refs/main/objects")
        .query(&[("path", "dir/a.txt")])
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["content-length"], "11");
    let missing = api
        .req(Method::HEAD, "/repositories/objects/refs/main/objects")
        .query(&[("path", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let (s, ls) = api
        .json(
            Method::GET,
            "/repositories/objects/refs/main/objects/ls?delimiter=/&amount=1",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ls["results"][0]["path"], "dir/");
    assert_eq!(ls["results"][0]["path_type"], "common_prefix");
    assert_eq!(ls["pagination"]["has_more"], true);
    let next = ls["pagination"]["next_offset"].as_str().unwrap();
    let (_, ls) = api
        .json(
            Method::GET,
            &format!("/repositories/objects/refs/main/objects/ls?delimiter=/&after={next}"),
            None,
        )
        .await;
    assert_eq!(ls["results"][0]["path"], "top.txt");
    assert_eq!(ls["pagination"]["has_more"], false);
    let (s, stat) = api
        .json(
            Method::GET,
            "/repositories/objects/refs/main/objects/stat?path=dir/b.txt",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, repo) = api.json(Method::GET, "/repositories/objects", None).await;
    let ns = repo["storage_namespace"].as_str().unwrap();
    let address = stat["physical_address"].as_str().unwrap();
    assert!(address.starts_with(&format!("{ns}/data/")), "{address}");
}

#[tokio::test]
async fn conditional_uploads_delete_and_copy() {
    let api = Api::start().await;
    api.repo("cond").await;
    api.upload("cond", "main", "x", "1").await;
    let resp = api
        .req(Method::POST, "/repositories/cond/branches/main/objects")
        .query(&[("path", "x")])
        .header("if-none-match", "*")
        .body("2")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PRECONDITION_FAILED);
    let form = reqwest::multipart::Form::new().part(
        "content",
        reqwest::multipart::Part::text("form data")
            .mime_str("text/csv")
            .unwrap(),
    );
    let resp = api
        .req(Method::POST, "/repositories/cond/branches/main/objects")
        .query(&[("path", "form.csv")])
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let stats: Value = resp.json().await.unwrap();
    assert_eq!(stats["size_bytes"], 9);
    assert_eq!(stats["content_type"], "text/csv");
    let (s, v) = api
        .json(
            Method::POST,
            "/repositories/cond/branches/main/objects/copy?dest_path=y",
            Some(json!({"src_path": "x"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = api
        .json(
            Method::POST,
            "/repositories/cond/branches/main/objects/delete",
            Some(json!({"paths": ["x", "never-existed", ""]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["errors"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["errors"][0]["status_code"], 400);
    let (s, _) = api
        .json(
            Method::DELETE,
            "/repositories/cond/branches/main/objects?path=gone",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, ls) = api
        .json(Method::GET, "/repositories/cond/refs/main/objects/ls", None)
        .await;
    let paths: Vec<&str> = ls["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["form.csv", "y"]);
}

#[tokio::test]
async fn commit_log_diff_merge_and_tags() {
    let api = Api::start().await;
    api.repo("flow").await;
    api.upload("flow", "main", "a", "1").await;
    let (s, v) = api
        .json(Method::GET, "/repositories/flow/branches/main/diff", None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v["results"][0],
        json!({"type": "added", "path": "a", "path_type": "object", "size_bytes": 1})
    );
    let c1 = api.commit("flow", "main", "first").await;
    assert_eq!(c1["committer"], "quickstart");
    assert_eq!(c1["parents"].as_array().unwrap().len(), 1);
    let (s, _) = api
        .json(
            Method::POST,
            "/repositories/flow/branches/main/commits",
            Some(json!({"message": "empty"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "no changes");
    let (_, by_ref) = api
        .json(Method::GET, "/repositories/flow/commits/main", None)
        .await;
    assert_eq!(by_ref["id"], c1["id"]);
    api.json(
        Method::POST,
        "/repositories/flow/branches",
        Some(json!({"name": "dev", "source": "main"})),
    )
    .await;
    api.upload("flow", "dev", "a", "dev").await;
    api.commit("flow", "dev", "dev change").await;
    api.upload("flow", "main", "a", "main").await;
    api.commit("flow", "main", "main change").await;
    let (s, v) = api
        .json(
            Method::POST,
            "/repositories/flow/refs/dev/merge/main",
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    // The conflicting paths come as data, besides lakeFS's message.
    assert_eq!(v["conflicts"], json!(["a"]), "{v}");
    assert!(v["message"].as_str().unwrap().starts_with("conflict found"));
    let (s, v) = api
        .json(
            Method::POST,
            "/repositories/flow/refs/dev/merge/main",
            Some(json!({"strategy": "bogus"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, merged) = api
        .json(
            Method::POST,
            "/repositories/flow/refs/dev/merge/main",
            Some(json!({"strategy": "source-wins"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{merged}");
    let reference = merged["reference"].as_str().unwrap();
    let (_, log) = api
        .json(
            Method::GET,
            "/repositories/flow/refs/main/commits?amount=2",
            None,
        )
        .await;
    assert_eq!(log["results"][0]["id"], reference);
    assert_eq!(log["pagination"]["has_more"], true);
    let (_, base) = api
        .json(Method::GET, "/repositories/flow/refs/dev/merge/main", None)
        .await;
    assert_eq!(base["base_commit_id"].as_str().unwrap().len(), 64);
    let (s, diff) = api
        .json(
            Method::GET,
            "/repositories/flow/refs/main~1/diff/main?type=two_dot",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(diff["results"][0]["type"], "changed");
    let (s, tag) = api
        .json(
            Method::POST,
            "/repositories/flow/tags",
            Some(json!({"id": "v1", "ref": "main~1"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{tag}");
    let (s, _) = api
        .json(
            Method::POST,
            "/repositories/flow/tags",
            Some(json!({"id": "v1", "ref": "main"})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let resp = api
        .req(Method::GET, "/repositories/flow/refs/v1/objects")
        .query(&[("path", "a")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.text().await.unwrap(), "main");
    let (s, _) = api
        .json(
            Method::POST,
            "/repositories/flow/branches/main/revert",
            Some(json!({"ref": "main", "parent_number": 1})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let resp = api
        .req(Method::GET, "/repositories/flow/refs/main/objects")
        .query(&[("path", "a")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.text().await.unwrap(), "main");
    let (s, _) = api
        .json(
            Method::PUT,
            "/repositories/flow/branches/dev",
            Some(json!({"type": "reset"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn unknown_api_routes_also_need_credentials() {
    let api = Api::start().await;
    let url = format!("{}/api/v1/no/such/route", api.tarn.url);
    let anonymous = api.http.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let signed_in = api.req(Method::GET, "/no/such/route").send().await.unwrap();
    assert_eq!(signed_in.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn branch_protection_and_read_only_repositories() {
    let api = Api::start().await;
    api.repo("guarded").await;
    let resp = api
        .req(
            Method::GET,
            "/repositories/guarded/settings/branch_protection",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(resp.json::<Value>().await.unwrap(), json!([]));
    let set = |if_match: &str| {
        api.req(
            Method::PUT,
            "/repositories/guarded/settings/branch_protection",
        )
        .header("if-match", if_match)
        .json(&json!([{"pattern": "ma*"}]))
        .send()
    };
    assert_eq!(set(&etag).await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(
        set(&etag).await.unwrap().status(),
        StatusCode::PRECONDITION_FAILED,
        "stale ETag"
    );
    let (_, rules) = api
        .json(
            Method::GET,
            "/repositories/guarded/settings/branch_protection",
            None,
        )
        .await;
    assert_eq!(rules, json!([{"pattern": "ma*"}]));
    let resp = api
        .req(Method::POST, "/repositories/guarded/branches/main/objects")
        .query(&[("path", "x")])
        .body("data")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let (s, _) = api
        .json(
            Method::POST,
            "/repositories/guarded/branches/main/commits",
            Some(json!({"message": "m", "allow_empty": true})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let body = json!({"name": "frozen", "storage_namespace": support::namespace("frozen"), "read_only": true});
    let (s, repo) = api.json(Method::POST, "/repositories", Some(body)).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(repo["read_only"], true);
    let resp = api
        .req(Method::POST, "/repositories/frozen/branches/main/objects")
        .query(&[("path", "x")])
        .body("d")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let (s, _) = api
        .json(
            Method::GET,
            "/repositories/frozen/refs/main/objects/ls",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn uploads_without_a_content_length_stream_in_chunks() {
    let api = Api::start().await;
    api.repo("chunked").await;
    let pieces =
        futures::stream::iter((0..64).map(|i| Ok::<_, std::io::Error>(vec![i as u8; 4096])));
    let resp = api
        .req(Method::POST, "/repositories/chunked/branches/main/objects")
        .query(&[("path", "streamed.bin")])
        .body(reqwest::Body::wrap_stream(pieces))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let stats: Value = resp.json().await.unwrap();
    assert_eq!(stats["size_bytes"], 64 * 4096);
    let body = api
        .req(Method::GET, "/repositories/chunked/refs/main/objects")
        .query(&[("path", "streamed.bin")])
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let expected: Vec<u8> = (0..64u8).flat_map(|i| vec![i; 4096]).collect();
    assert_eq!(body.as_ref(), expected.as_slice());
}

#[tokio::test]
async fn upload_metadata_has_no_size_limit_but_must_be_text() {
    let api = Api::start().await;
    api.repo("meta").await;
    let upload = |value: reqwest::header::HeaderValue| {
        api.req(Method::POST, "/repositories/meta/branches/main/objects")
            .query(&[("path", "m.txt")])
            .header("x-lakefs-meta-note", value)
            .body("data")
            .send()
    };
    // lakeFS's API takes more metadata than S3's 2 KiB.
    let long = "n".repeat(3000);
    let resp = upload(long.parse().unwrap()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let stats: Value = resp.json().await.unwrap();
    assert_eq!(stats["metadata"]["note"], long.as_str());
    // A value that is not text is refused, not dropped.
    let binary = reqwest::header::HeaderValue::from_bytes(b"\xff\xfe").unwrap();
    let resp = upload(binary).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("not text"),
        "{body}"
    );
}

/// `gc.grace_period_secs` is what `GET /config/garbage-collection` reports
/// (0 is allowed, for tests).
#[tokio::test]
async fn the_gc_grace_period_is_a_setting() {
    let api = Api {
        tarn: support::TarnProcess::quickstart_with(&[("TARN_GC__GRACE_PERIOD_SECS", "0")]).await,
        http: reqwest::Client::new(),
    };
    let (s, v) = api
        .json(Method::GET, "/config/garbage-collection", None)
        .await;
    assert_eq!((s, v["grace_period"].as_u64()), (StatusCode::OK, Some(0)));
    let default = Api::start().await;
    let (_, v) = default
        .json(Method::GET, "/config/garbage-collection", None)
        .await;
    assert_eq!(v["grace_period"].as_u64(), Some(3600));
}
