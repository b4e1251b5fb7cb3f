//! Running Tarn: Prometheus metrics that move with requests, request ids
//! on both drivers, the server's own paths never answering a web page, and
//! readiness that follows the database.

use crate::gateway::signed;
use crate::support::{api_json, Run, TarnProcess, KEY, SECRET};
use reqwest::{Method, StatusCode};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tarn_s3_protocol::sigv4;

fn skip() -> bool {
    Run::skip_unless(
        &[Run::DEFAULT],
        "the drivers' instrumentation, the same on every backend",
    )
}

/// The samples of a Prometheus text exposition, by name and labels as
/// written (`name{a="b",c="d"}`).
pub(crate) fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            Some((key.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// The sum of every sample of `name` whose labels include all of `labels`.
pub(crate) fn sum(samples: &HashMap<String, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|(k, _)| {
            let (n, rest) = k.split_once('{').unwrap_or((k.as_str(), ""));
            n == name
                && labels
                    .iter()
                    .all(|(l, v)| rest.contains(&format!("{l}=\"{v}\"")))
        })
        .map(|(_, v)| v)
        .sum()
}

pub(crate) async fn scrape(http: &reqwest::Client, url: &str) -> HashMap<String, f64> {
    let resp = http.get(format!("{url}/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("text/plain"), "{ct}");
    samples(&resp.text().await.unwrap())
}

#[tokio::test]
async fn metrics_move_with_requests() {
    if skip() {
        return;
    }
    let tarn = TarnProcess::quickstart().await;
    let http = reqwest::Client::new();
    let before = scrape(&http, &tarn.url).await;
    assert_eq!(
        sum(&before, "tarn_build_info", &[]),
        1.0,
        "build info is exported"
    );
    for _ in 0..5 {
        let (s, _) = api_json(&http, &tarn.url, Method::GET, "/repositories", None).await;
        assert_eq!(s, StatusCode::OK);
    }
    let (s, _) = api_json(&http, &tarn.url, Method::GET, "/repositories/nope", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let resp = signed_get(&format!("{}/nope/main/x", tarn.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let after = scrape(&http, &tarn.url).await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        sum(&after, name, labels) - sum(&before, name, labels)
    };
    let list = [
        ("driver", "api"),
        ("operation", "listRepositories"),
        ("status", "2xx"),
    ];
    assert_eq!(moved("tarn_http_requests_total", &list), 5.0);
    let missing = [
        ("driver", "api"),
        ("operation", "getRepository"),
        ("status", "4xx"),
    ];
    assert_eq!(moved("tarn_http_requests_total", &missing), 1.0);
    let s3 = [
        ("driver", "s3"),
        ("operation", "GetObject"),
        ("status", "4xx"),
    ];
    assert_eq!(moved("tarn_http_requests_total", &s3), 1.0);
    let timed = [("driver", "api"), ("operation", "listRepositories")];
    assert_eq!(
        moved("tarn_http_request_duration_seconds_count", &timed),
        5.0
    );
    let slowest = [
        ("driver", "api"),
        ("operation", "listRepositories"),
        ("le", "+Inf"),
    ];
    assert_eq!(
        moved("tarn_http_request_duration_seconds_bucket", &slowest),
        5.0
    );
    assert!(moved("tarn_http_response_bytes_total", &[("driver", "api")]) > 0.0);

    // The block store's calls, by operation, through its metering decorator.
    let before = after;
    crate::support::create_repository(&tarn, "metered").await;
    let object = vec![b'x'; 64 << 10];
    let resp = http
        .post(format!(
            "{}/api/v1/repositories/metered/branches/main/objects?path=x",
            tarn.url
        ))
        .basic_auth(KEY, Some(SECRET))
        .body(object.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = http
        .get(format!(
            "{}/api/v1/repositories/metered/refs/main/objects?path=x",
            tarn.url
        ))
        .basic_auth(KEY, Some(SECRET))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.bytes().await.unwrap(), object);
    // A HEAD sends headers only, whatever length it declares.
    let resp = signed(
        Method::HEAD,
        &format!("{}/metered/main/x", tarn.url),
        &[],
        sigv4::UNSIGNED_PAYLOAD,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let length = resp.headers()["content-length"].to_str().unwrap();
    assert_eq!(length, object.len().to_string());
    let after = scrape(&http, &tarn.url).await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        sum(&after, name, labels) - sum(&before, name, labels)
    };
    assert_eq!(
        moved("tarn_http_response_bytes_total", &[("driver", "s3")]),
        0.0
    );
    // The read streamed: counted by its length, and the upload's body in.
    let out = moved("tarn_http_response_bytes_total", &[("driver", "api")]);
    assert!(out >= object.len() as f64, "{out}");
    let into = moved("tarn_http_request_bytes_total", &[("driver", "api")]);
    assert!(into >= object.len() as f64, "{into}");
    // An upload's data goes to a fresh key (the decorator passes that on).
    assert!(moved("tarn_blockstore_calls_total", &[("operation", "put_fresh")]) >= 1.0);
    assert!(moved("tarn_blockstore_calls_total", &[("operation", "get")]) >= 1.0);
    assert!(
        moved(
            "tarn_blockstore_call_duration_seconds_count",
            &[("operation", "put_fresh")]
        ) >= 1.0
    );

    // The server's own paths are never the UI's page.
    for path in ["/_pprof/", "/_debug/vars"] {
        let resp = http
            .get(format!("{}{path}", tarn.url))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["message"], "not found", "{path}");
    }
}

#[tokio::test]
async fn metrics_can_require_credentials_or_be_off() {
    if skip() {
        return;
    }
    let tarn = TarnProcess::quickstart_with(&[("TARN_METRICS__REQUIRE_AUTH", "true")]).await;
    let http = reqwest::Client::new();
    let resp = http
        .get(format!("{}/metrics", tarn.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = http
        .get(format!("{}/metrics", tarn.url))
        .basic_auth(KEY, Some(SECRET))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("tarn_build_info"));
    let off = TarnProcess::quickstart_with(&[("TARN_METRICS__ENABLED", "false")]).await;
    let resp = http
        .get(format!("{}/metrics", off.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

fn signed_get(url: &str) -> reqwest::RequestBuilder {
    signed(Method::GET, url, &[], sigv4::UNSIGNED_PAYLOAD)
}

#[tokio::test]
async fn request_ids_round_trip_on_both_drivers() {
    if skip() {
        return;
    }
    let tarn = TarnProcess::quickstart().await;
    let http = reqwest::Client::new();
    // A valid incoming id is kept: in the header and the error body.
    let resp = http
        .get(format!("{}/api/v1/repositories/nope", tarn.url))
        .basic_auth(KEY, Some(SECRET))
        .header("x-request-id", "trace-4711")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "trace-4711");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["request_id"], "trace-4711");
    // None, or an unusable one: a new id, the same in header and body.
    for incoming in [None, Some("x".repeat(300)), Some("has space".to_owned())] {
        let mut req = http
            .get(format!("{}/api/v1/repositories/nope", tarn.url))
            .basic_auth(KEY, Some(SECRET));
        if let Some(v) = &incoming {
            req = req.header("x-request-id", v.as_str());
        }
        let resp = req.send().await.unwrap();
        let header = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(
            !header.is_empty() && Some(&header) != incoming.as_ref(),
            "{header}"
        );
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["request_id"], header.as_str());
    }
    // Successes carry one too, and each request its own.
    let a = http
        .get(format!("{}/_health", tarn.url))
        .send()
        .await
        .unwrap();
    let b = http
        .get(format!("{}/_health", tarn.url))
        .send()
        .await
        .unwrap();
    assert_ne!(a.headers()["x-request-id"], b.headers()["x-request-id"]);

    // The gateway: x-amz-request-id and the error's <RequestId>.
    let resp = signed_get(&format!("{}/nope/main/x", tarn.url))
        .header("x-request-id", "s3-trace-1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-amz-request-id"], "s3-trace-1");
    assert_eq!(resp.headers()["x-request-id"], "s3-trace-1");
    let xml = resp.text().await.unwrap();
    assert!(xml.contains("<RequestId>s3-trace-1</RequestId>"), "{xml}");
}

/// A PostgreSQL server of this test's own (it stops and starts it), with
/// the commands that do so.
struct OwnPostgres {
    _child: tokio::process::Child,
    url: String,
    stop: String,
    start: String,
}

async fn own_postgres() -> OwnPostgres {
    use tokio::io::AsyncBufReadExt;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/with-postgres.sh");
    let mut child = tokio::process::Command::new("bash")
        .args([
            script,
            "bash",
            "-c",
            r#"printf '%s\n%s\n%s\n' "$TARN_TEST_POSTGRES_URL" "$TARN_TEST_POSTGRES_STOP" "$TARN_TEST_POSTGRES_START"; cat >/dev/null"#,
        ])
        .env("TARN_PG_FRESH", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = async || {
        lines
            .next_line()
            .await
            .unwrap()
            .expect("with-postgres.sh printed its server")
    };
    let (url, stop, start) = (next().await, next().await, next().await);
    OwnPostgres {
        _child: child,
        url,
        stop,
        start,
    }
}

async fn run(command: &str) {
    let status = tokio::process::Command::new("bash")
        .args(["-c", command])
        .status()
        .await
        .unwrap();
    assert!(status.success(), "{command}");
}

async fn readiness(http: &reqwest::Client, url: &str) -> (StatusCode, String) {
    let resp = http.get(format!("{url}/_ready")).send().await.unwrap();
    (resp.status(), resp.text().await.unwrap())
}

async fn until_ready_is(http: &reqwest::Client, url: &str, want: StatusCode) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = readiness(http, url).await;
        if status == want {
            return body;
        }
        assert!(Instant::now() < deadline, "/_ready stayed {status}: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn readiness_follows_the_database() {
    if Run::skip_unless(
        &[Run::POSTGRES],
        "it stops and restarts a PostgreSQL server of its own",
    ) {
        return;
    }
    let pg = own_postgres().await;
    let env = vec![
        ("TARN_DATABASE__TYPE".to_owned(), "postgres".to_owned()),
        (
            "TARN_DATABASE__POSTGRES__CONNECTION_STRING".to_owned(),
            pg.url.clone(),
        ),
    ];
    let tarn = TarnProcess::start(tempfile::tempdir().unwrap(), &env).await;
    let http = reqwest::Client::new();
    crate::support::create_repository(&tarn, "ready").await;
    assert_eq!(readiness(&http, &tarn.url).await.0, StatusCode::OK);
    run(&pg.stop).await;
    let body = until_ready_is(&http, &tarn.url, StatusCode::SERVICE_UNAVAILABLE).await;
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("database"),
        "{body}"
    );
    // Liveness is not readiness: the process still answers.
    let health = http
        .get(format!("{}/_health", tarn.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    run(&pg.start).await;
    until_ready_is(&http, &tarn.url, StatusCode::OK).await;
}

#[tokio::test]
async fn the_audit_log_records_who_did_what() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let tarn =
        TarnProcess::quickstart_with(&[("TARN_LOGGING__AUDIT_PATH", log.to_str().unwrap())]).await;
    let http = reqwest::Client::new();
    let url = &tarn.url;
    let as_admin = Some((KEY, SECRET));
    let (s, _) = crate::support::api_json_as(
        &http,
        url,
        Some((KEY, "not-the-secret")),
        Method::GET,
        "/repositories",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let body = serde_json::json!({"name": "audited", "storage_namespace": crate::support::namespace("audited")});
    let (s, _) = crate::support::api_json_as(
        &http,
        url,
        as_admin,
        Method::POST,
        "/repositories",
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let resp = http
        .post(format!(
            "{url}/api/v1/repositories/audited/branches/main/objects?path=a.txt"
        ))
        .basic_auth(KEY, Some(SECRET))
        .body("a")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let commit = serde_json::json!({"message": "first"});
    let (s, _) = crate::support::api_json_as(
        &http,
        url,
        as_admin,
        Method::POST,
        "/repositories/audited/branches/main/commits",
        Some(commit),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) =
        crate::support::api_json_as(&http, url, as_admin, Method::GET, "/repositories", None).await;
    assert_eq!(s, StatusCode::OK, "reads are not audited");
    let (s, _) = crate::support::api_json_as(
        &http,
        url,
        as_admin,
        Method::POST,
        "/auth/users",
        Some(serde_json::json!({"id": "eve"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, key) = crate::support::api_json_as(
        &http,
        url,
        as_admin,
        Method::POST,
        "/auth/users/eve/credentials",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let eve = (
        key["access_key_id"].as_str().unwrap(),
        key["secret_access_key"].as_str().unwrap(),
    );
    let branch = serde_json::json!({"name": "evil", "source": "main"});
    let (s, _) = crate::support::api_json_as(
        &http,
        url,
        Some(eve),
        Method::POST,
        "/repositories/audited/branches",
        Some(branch),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let resp = signed(
        Method::PUT,
        &format!("{url}/audited/main/b.txt"),
        &[],
        sigv4::UNSIGNED_PAYLOAD,
    )
    .body("b")
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    let text = std::fs::read_to_string(&log).unwrap();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let seen: Vec<(String, String, String, String, u64)> = events
        .iter()
        .map(|e| {
            let f = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            (
                f("driver"),
                f("operation"),
                f("user"),
                f("outcome"),
                e["status"].as_u64().unwrap(),
            )
        })
        .collect();
    let want = [
        ("api", "listRepositories", "", "unauthenticated", 401),
        ("api", "createRepository", "quickstart", "success", 201),
        ("api", "uploadObject", "quickstart", "success", 201),
        ("api", "commit", "quickstart", "success", 201),
        ("api", "createUser", "quickstart", "success", 201),
        ("api", "createCredentials", "quickstart", "success", 201),
        ("api", "createBranch", "eve", "denied", 403),
        ("s3", "PutObject", "quickstart", "success", 200),
    ];
    let want: Vec<(String, String, String, String, u64)> = want
        .iter()
        .map(|(d, o, u, r, s)| {
            (
                d.to_string(),
                o.to_string(),
                u.to_string(),
                r.to_string(),
                *s,
            )
        })
        .collect();
    assert_eq!(seen, want, "{text}");
    for e in &events {
        assert_eq!(e["source"], "127.0.0.1", "{e}");
        assert!(
            e["request_id"].as_str().is_some_and(|id| !id.is_empty()),
            "{e}"
        );
        assert!(e["timestamp"].is_string(), "{e}");
    }
    assert!(
        !text.contains(SECRET) && !text.contains(eve.1),
        "no secret in the audit log"
    );
}

#[tokio::test]
async fn no_secret_reaches_the_log() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("tarn.log");
    let env = vec![
        (
            "RUST_LOG".to_owned(),
            "trace,h2=info,hyper=info,rustls=info".to_owned(),
        ),
        ("TARN_DATABASE__TYPE".to_owned(), "memory".to_owned()),
    ];
    let tarn = TarnProcess::start_logged(tempfile::tempdir().unwrap(), &env, &log).await;
    let http = reqwest::Client::new();
    let url = &tarn.url;
    crate::support::create_repository(&tarn, "quiet").await;
    let (s, _) = api_json(
        &http,
        url,
        Method::POST,
        "/auth/users",
        Some(serde_json::json!({"id": "zoe"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, key) = api_json(
        &http,
        url,
        Method::POST,
        "/auth/users/zoe/credentials",
        None,
    )
    .await;
    let zoe_secret = key["secret_access_key"].as_str().unwrap().to_owned();
    // Basic auth, SigV4 headers, a presigned URL, a failed login.
    let (s, _) = crate::support::api_json_as(
        &http,
        url,
        Some((KEY, "wrong-secret-Zq9")),
        Method::GET,
        "/repositories",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let resp = signed(
        Method::PUT,
        &format!("{url}/quiet/main/a.txt"),
        &[],
        sigv4::UNSIGNED_PAYLOAD,
    )
    .body("a")
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // A presigned-style URL: its signature must not reach the log.
    let signature = "5f3c1e9d7b2a4c6e8f0a1b3d5e7f9a2c4e6b8d0f1a3c5e7b9d2f4a6c8e0b1d3f";
    let resp = http
        .get(format!(
            "{url}/quiet/main/a.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={KEY}%2F20261203%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261203T000000Z&X-Amz-Expires=600&X-Amz-SignedHeaders=host&X-Amz-Signature={signature}"
        ))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_client_error());
    let login = serde_json::json!({"access_key_id": "zoe", "secret_access_key": "a-password-Xy7"});
    let resp = http
        .post(format!("{url}/api/v1/auth/login"))
        .json(&login)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_client_error());
    drop(tarn);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.lines().count() > 20,
        "the log is too short to mean anything:\n{text}"
    );
    // The presigned-style request was logged, its signature redacted.
    assert!(
        text.contains("X-Amz-Signature=REDACTED"),
        "the signed request is not in the log"
    );
    for secret in [
        SECRET,
        &zoe_secret,
        "wrong-secret-Zq9",
        signature,
        "a-password-Xy7",
    ] {
        assert!(!text.contains(secret), "a secret ({secret}) is in the log");
    }
}

#[tokio::test]
async fn database_metrics_move_with_queries() {
    if Run::skip_unless(&[Run::SQLITE, Run::POSTGRES], "SQL databases only") {
        return;
    }
    let tarn = TarnProcess::quickstart().await;
    let http = reqwest::Client::new();
    crate::support::create_repository(&tarn, "dbmetrics").await;
    let (s, _) = api_json(
        &http,
        &tarn.url,
        Method::GET,
        "/repositories/dbmetrics/branches",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let m = scrape(&http, &tarn.url).await;
    let count = |verb: &str| -> f64 {
        m.iter()
            .filter(|(k, _)| {
                k.starts_with(&format!(
                    "tarn_db_query_duration_seconds_count{{statement=\"{verb} "
                ))
            })
            .map(|(_, v)| v)
            .sum()
    };
    assert!(count("insert") >= 1.0, "no insert timed: {m:?}");
    assert!(count("select") >= 1.0, "no select timed");
    assert!(sum(&m, "tarn_db_pool_wait_seconds_count", &[]) >= 1.0);
    assert!(sum(&m, "tarn_db_pool_connections", &[("state", "open")]) >= 1.0);
}

#[tokio::test]
async fn job_metrics_follow_runs() {
    if skip() {
        return;
    }
    let tarn = TarnProcess::quickstart_with(&[("TARN_JOBS__POLL_INTERVAL_MS", "100")]).await;
    let http = reqwest::Client::new();
    crate::support::create_repository(&tarn, "jobbed").await;
    let body = serde_json::json!({"mode": "dry_run"});
    let (s, run) = api_json(
        &http,
        &tarn.url,
        Method::POST,
        "/repositories/jobbed/gc/runs",
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{run}");
    let path = format!(
        "/repositories/jobbed/gc/runs/{}",
        run["id"].as_str().unwrap()
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, r) = api_json(&http, &tarn.url, Method::GET, &path, None).await;
        if r["state"] == "succeeded" {
            break;
        }
        assert!(Instant::now() < deadline, "the run did not end: {r}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let m = scrape(&http, &tarn.url).await;
    let done = [("kind", "gc"), ("outcome", "succeeded")];
    assert_eq!(sum(&m, "tarn_jobs_finished_total", &done), 1.0, "{m:?}");
    assert_eq!(
        sum(&m, "tarn_job_duration_seconds_count", &[("kind", "gc")]),
        1.0
    );
    assert_eq!(sum(&m, "tarn_jobs_running", &[("kind", "gc")]), 0.0);
}
