//! Careless and hostile use: malformed input on every API operation, keys
//! that are not text, bodies that trickle, login floods, absurd ranges.
//! Each answers a clear error in the protocol's own shape and costs the
//! sender, not other users. (Small-read latency is `make bench`'s
//! `small_reads`, not a timed test.)

use crate::gateway::signed;
use crate::support::api::Api;
use crate::support::{s3_client, TarnProcess, KEY, SECRET};
use proptest::strategy::Just;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tarn_s3_protocol::sigv4;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Runs on memory only: the behaviour is the drivers', the same on every
/// backend.
fn skip() -> bool {
    crate::support::Run::skip_unless(
        &[crate::support::Run::DEFAULT],
        "bad input is refused by the drivers, before any store",
    )
}

/// `{"message": <text>}` and nothing else that matters.
fn assert_json_message(what: &str, status: StatusCode, content_type: &str, body: &str) {
    assert!(
        content_type.starts_with("application/json"),
        "{what}: {status} answered {content_type:?}: {body}"
    );
    let v: Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("{what}: body is not JSON ({e}): {body}"));
    let message = v["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "{what}: no message in {body}");
}

/// An operation of the served OpenAPI document.
struct Op {
    method: Method,
    /// With every `{param}` filled in.
    path: String,
    id: String,
    /// The JSON body's schema, if the operation takes one.
    json_body: Option<Value>,
    /// Query parameters: (name, required, integer).
    query: Vec<(String, bool, bool)>,
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

fn operations(doc: &Value) -> Vec<Op> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let mut filled = String::new();
            for seg in path.split('/').filter(|s| !s.is_empty()) {
                filled.push('/');
                filled.push_str(if seg.starts_with('{') { "abuse" } else { seg });
            }
            let json_body = op["requestBody"]["content"]["application/json"]["schema"]
                .as_object()
                .map(|_| {
                    resolve(
                        doc,
                        &op["requestBody"]["content"]["application/json"]["schema"],
                    )
                    .clone()
                });
            let query = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "query")
                        .map(|p| {
                            let schema = resolve(doc, &p["schema"]);
                            (
                                p["name"].as_str().unwrap().to_owned(),
                                p["required"].as_bool().unwrap_or(false),
                                schema["type"] == "integer",
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            ops.push(Op {
                method,
                path: filled.trim_start_matches("/api/v1").to_owned(),
                id: op["operationId"].as_str().unwrap_or(path).to_owned(),
                json_body,
                query,
            });
        }
    }
    ops
}

/// The value of a valid call's other query parameters (so that only the
/// one under test is wrong).
fn valid_query(op: &Op, except: &str) -> Vec<(String, String)> {
    op.query
        .iter()
        .filter(|(name, required, _)| *required && name != except)
        .map(|(name, _, integer)| {
            let v = if *integer { "1" } else { "x" };
            (name.clone(), v.to_owned())
        })
        .collect()
}

#[tokio::test]
async fn malformed_input_answers_json_4xx_on_every_operation() {
    if skip() {
        return;
    }
    let api = Api::start().await;
    api.repo("abuse").await;
    let doc: Value = reqwest::get(format!("{}/openapi.json", api.tarn.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ops = operations(&doc);
    assert!(
        ops.len() > 50,
        "the document lists {} operations",
        ops.len()
    );
    let mut checked = 0;
    for op in &ops {
        // The classes of bad input that apply to this operation, each with
        // the status it must get.
        let mut cases: Vec<(&str, reqwest::RequestBuilder, StatusCode)> = Vec::new();
        let req = || {
            api.req(op.method.clone(), &op.path)
                .query(&valid_query(op, ""))
        };
        if let Some(schema) = &op.json_body {
            cases.push((
                "malformed JSON",
                req()
                    .header("content-type", "application/json")
                    .body("{\"name\": "),
                StatusCode::BAD_REQUEST,
            ));
            let expects_object = schema["type"] == "object" || schema["properties"].is_object();
            if expects_object {
                cases.push((
                    "mistyped JSON (an array for an object)",
                    req().json(&json!(["not", "an", "object"])),
                    StatusCode::BAD_REQUEST,
                ));
            }
            let required = schema["required"].as_array().map_or(0, Vec::len);
            if required > 0 {
                cases.push((
                    "missing required fields",
                    req().json(&json!({})),
                    StatusCode::BAD_REQUEST,
                ));
            }
            cases.push((
                "JSON over the size limit",
                req()
                    .header("content-type", "application/json")
                    .body(format!("{{\"pad\": \"{}\"}}", "x".repeat(5 << 20))),
                StatusCode::PAYLOAD_TOO_LARGE,
            ));
            cases.push((
                "wrong Content-Type",
                req().header("content-type", "text/plain").body("{}"),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ));
        }
        for (name, required, integer) in &op.query {
            if *integer {
                let mut q = valid_query(op, name);
                q.push((name.clone(), "abc".to_owned()));
                cases.push((
                    "an integer parameter that is not a number",
                    api.req(op.method.clone(), &op.path).query(&q),
                    StatusCode::BAD_REQUEST,
                ));
            }
            if *required {
                cases.push((
                    "a required parameter missing",
                    api.req(op.method.clone(), &op.path)
                        .query(&valid_query(op, name)),
                    StatusCode::BAD_REQUEST,
                ));
            }
        }
        for (class, request, expected) in cases {
            let what = format!("{} {} ({}): {class}", op.method, op.path, op.id);
            let resp = request.send().await.unwrap();
            let status = resp.status();
            let content_type = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let body = resp.text().await.unwrap();
            // 501: an operation Tarn does not serve yet refuses everything
            // alike (and still in JSON).
            if status != StatusCode::NOT_IMPLEMENTED {
                assert_eq!(status, expected, "{what}: {body}");
            }
            // A HEAD answer has no body, by HTTP's rules.
            if op.method != Method::HEAD {
                assert_json_message(&what, status, &content_type, &body);
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} bad requests were tried");
}

#[tokio::test]
async fn a_bad_query_value_names_the_parameter() {
    if skip() {
        return;
    }
    let api = Api::start().await;
    api.repo("abuse").await;
    let (status, body) = api
        .json(
            Method::GET,
            "/repositories/abuse/refs/main/objects/ls?amount=abc",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("amount=abc"), "{message}");
}

/// The `<Code>` of an S3 error body.
fn s3_code(body: &str) -> &str {
    body.split("<Code>")
        .nth(1)
        .and_then(|r| r.split("</Code>").next())
        .unwrap_or("")
}

#[tokio::test]
async fn keys_that_are_not_utf8_are_refused_on_both_drivers() {
    if skip() {
        return;
    }
    let api = Api::start().await;
    api.repo("abuse").await;
    // API: %FF and %FE would both decode to U+FFFD and alias.
    for raw in ["alias-%FF", "alias-%FE", "ok/%C3%28"] {
        let resp = api
            .req(
                Method::POST,
                &format!("/repositories/abuse/branches/main/objects?path={raw}"),
            )
            .body("data")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{raw}");
        let body: Value = resp.json().await.unwrap();
        assert!(
            body["message"].as_str().unwrap().contains("UTF-8"),
            "{body}"
        );
    }
    // Gateway: the byte 0xFF escaped is refused; the text "%FF" is a key
    // of its own.
    let url = &api.tarn.url;
    let put = |key: &str| {
        signed(
            Method::PUT,
            &format!("{url}/abuse/main/{key}"),
            &[],
            sigv4::UNSIGNED_PAYLOAD,
        )
    };
    let resp = put("alias-%FF").body("raw byte").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(s3_code(&resp.text().await.unwrap()), "InvalidArgument");
    let resp = put("alias-%25FF").body("literal").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let s3 = s3_client(url, SECRET);
    let got = s3
        .get_object()
        .bucket("abuse")
        .key("main/alias-%FF")
        .send()
        .await
        .unwrap();
    assert_eq!(
        &got.body.collect().await.unwrap().into_bytes()[..],
        b"literal"
    );
    // A prefix that is not UTF-8 is refused too.
    let resp = signed(
        Method::GET,
        &format!("{url}/abuse?list-type=2&prefix=main%2F%FF"),
        &[],
        sigv4::UNSIGNED_PAYLOAD,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(s3_code(&resp.text().await.unwrap()), "InvalidArgument");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(12))]
    /// Distinct byte strings sent as keys are distinct objects, or refused:
    /// never one object under two names.
    #[test]
    fn distinct_keys_are_distinct_objects(
        keys in proptest::collection::btree_set(
            proptest::collection::vec(
                proptest::prop_oneof![
                    Just(b'a'), Just(b'%'), Just(b'F'), Just(0xFFu8), Just(0xC3u8), Just(0xA9u8),
                    Just(b'/'), Just(b'+'), Just(b' ')
                ],
                1..6,
            ),
            2..6,
        )
    ) {
        if skip() {
            return Ok(());
        }
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let api = Api::start().await;
            api.repo("keys").await;
            let escape = |k: &[u8]| k.iter().map(|b| format!("%{b:02X}")).collect::<String>();
            let mut stored = Vec::new();
            for (i, key) in keys.iter().enumerate() {
                let resp = api
                    .req(
                        Method::POST,
                        &format!("/repositories/keys/branches/main/objects?path=k{}", escape(key)),
                    )
                    .body(format!("value {i}"))
                    .send()
                    .await
                    .unwrap();
                match resp.status() {
                    StatusCode::CREATED => stored.push((key.clone(), i)),
                    StatusCode::BAD_REQUEST => assert!(std::str::from_utf8(key).is_err(), "{key:?} refused"),
                    other => panic!("{key:?}: {other}"),
                }
            }
            for (key, i) in stored {
                let resp = api
                    .req(
                        Method::GET,
                        &format!("/repositories/keys/refs/main/objects?path=k{}", escape(&key)),
                    )
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.text().await.unwrap(), format!("value {i}"), "{key:?}");
            }
        });
    }
}

#[tokio::test]
async fn absurd_ranges_and_keys_get_s3_and_json_errors() {
    if skip() {
        return;
    }
    let api = Api::start().await;
    api.repo("abuse").await;
    api.upload("abuse", "main", "small.txt", "eleven byte")
        .await;
    let far = "bytes=99999999999999999999-";
    let resp = api
        .req(
            Method::GET,
            "/repositories/abuse/refs/main/objects?path=small.txt",
        )
        .header("range", far)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    let s3 = s3_client(&api.tarn.url, SECRET);
    let err = s3
        .get_object()
        .bucket("abuse")
        .key("main/small.txt")
        .range(far)
        .send()
        .await
        .unwrap_err();
    let err = err.into_service_error();
    assert_eq!(err.meta().code(), Some("InvalidRange"), "{err:?}");
    // A NUL in a key is an invalid argument, not a long key.
    let err = s3
        .put_object()
        .bucket("abuse")
        .key("main/nul\0key")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.into_service_error().meta().code(),
        Some("InvalidArgument")
    );
    // A bare ref names no object: XML, not an empty 404.
    let resp = signed(
        Method::PUT,
        &format!("{}/abuse/main/", api.tarn.url),
        &[],
        sigv4::UNSIGNED_PAYLOAD,
    )
    .body("x")
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(s3_code(&resp.text().await.unwrap()), "InvalidArgument");
    let resp = signed(
        Method::GET,
        &format!("{}/abuse/main", api.tarn.url),
        &[],
        sigv4::UNSIGNED_PAYLOAD,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(s3_code(&resp.text().await.unwrap()), "NoSuchKey");
}

/// Sends `head` and the first bytes of a body on a raw connection, then
/// `more` bytes every `every`, until the server answers; the status line and
/// how long the answer took.
async fn trickle(addr: &str, head: String, every: Duration, more: usize) -> (String, Duration) {
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(b"0123456789").await.unwrap();
    let start = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        tokio::select! {
            n = conn.read(&mut buf) => {
                let n = n.unwrap_or(0);
                if n == 0 { break; }
                answer.extend_from_slice(&buf[..n]);
                if answer.windows(4).any(|w| w == b"\r\n\r\n") { break; }
            }
            _ = tokio::time::sleep(every) => {
                if more > 0 && conn.write_all(&vec![b'.'; more]).await.is_err() { break; }
            }
        }
        assert!(start.elapsed() < Duration::from_secs(30), "never cut off");
    }
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.lines().next().unwrap_or("").to_owned();
    (format!("{status}\n{text}"), start.elapsed())
}

#[tokio::test]
async fn bodies_that_stall_or_crawl_are_cut_off_and_not_stored() {
    if skip() {
        return;
    }
    let tarn = TarnProcess::quickstart_with(&[
        ("TARN_SERVER__BODY_IDLE_TIMEOUT_SECS", "1"),
        ("TARN_SERVER__BODY_MIN_RATE_BYTES", "1000"),
    ])
    .await;
    crate::support::create_repository(&tarn, "abuse").await;
    let basic = base64_basic();
    let api_head = |path: &str| {
        format!(
            "POST /api/v1/repositories/abuse/branches/main/objects?path={path} HTTP/1.1\r\n\
             Host: {}\r\nAuthorization: Basic {basic}\r\nContent-Length: 1000000\r\n\r\n",
            tarn.addr
        )
    };
    // Stalls: nothing after the first bytes.
    let (answer, took) = trickle(&tarn.addr, api_head("stalled"), Duration::from_secs(60), 0).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("too slowly"), "{answer}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    // Crawls: a byte every 200 ms is never idle, but far below 1000 B/s.
    let (answer, _) = trickle(
        &tarn.addr,
        api_head("crawled"),
        Duration::from_millis(200),
        1,
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    // The gateway answers S3's RequestTimeout.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (date, auth) = sigv4::sign_header(
        "PUT",
        "/abuse/main/gw-stalled",
        "",
        &[("host".to_owned(), tarn.addr.clone())],
        sigv4::UNSIGNED_PAYLOAD,
        KEY,
        SECRET,
        "us-east-1",
        now,
    );
    let gw_head = format!(
        "PUT /abuse/main/gw-stalled HTTP/1.1\r\nHost: {}\r\nx-amz-date: {date}\r\n\
         x-amz-content-sha256: {}\r\nAuthorization: {auth}\r\nContent-Length: 1000000\r\n\r\n",
        tarn.addr,
        sigv4::UNSIGNED_PAYLOAD
    );
    let (answer, _) = trickle(&tarn.addr, gw_head, Duration::from_secs(60), 0).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("<Code>RequestTimeout</Code>"), "{answer}");
    // Nothing was stored, and the server still serves.
    let http = reqwest::Client::new();
    for path in ["stalled", "crawled", "gw-stalled"] {
        let (status, _) = crate::support::api_json(
            &http,
            &tarn.url,
            Method::GET,
            &format!("/repositories/abuse/refs/main/objects/stat?path={path}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}

fn base64_basic() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:{SECRET}"))
}

/// A login as `name`/`password` from `client`: the status and how long it took.
async fn login(
    http: &reqwest::Client,
    url: &str,
    name: &str,
    password: &str,
) -> (StatusCode, Duration) {
    let t = Instant::now();
    let resp = http
        .post(format!("{url}/api/v1/auth/login"))
        .json(&json!({"access_key_id": name, "secret_access_key": password}))
        .send()
        .await
        .unwrap();
    (resp.status(), t.elapsed())
}

#[tokio::test]
async fn a_login_flood_costs_its_senders_not_the_user() {
    if skip() {
        return;
    }
    // A quickstart data directory, then its user's password set from the
    // command line (which reads quickstart's settings with --quickstart).
    let mut tarn = TarnProcess::start(tempfile::tempdir().unwrap(), &[]).await;
    tarn.terminate().await;
    let TarnProcess { data_dir, .. } = tarn;
    let args = ["set-password", "--user-name", "quickstart"];
    let (ok, _, err) =
        crate::support::run_cli(&args, data_dir.path(), "a long password\n", &[]).await;
    assert!(!ok, "without --quickstart the key is unknown");
    assert!(
        err.contains("--quickstart"),
        "the message says what to do: {err}"
    );
    let args = ["set-password", "--quickstart", "--user-name", "quickstart"];
    let (ok, out, err) =
        crate::support::run_cli(&args, data_dir.path(), "a long password\n", &[]).await;
    assert!(ok && out.contains("password set"), "{out}{err}");
    let tarn = TarnProcess::start(data_dir, &[]).await;

    // 24 clients on 12 other loopback addresses post junk without pause:
    // half of them access keys that exist nowhere, half user names.
    let flooder = |i: u8| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from([127, 0, 0, 2 + i / 2]))
            .build()
            .unwrap()
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let counts = std::sync::Arc::new(std::sync::Mutex::new(
        std::collections::BTreeMap::<u16, u32>::new(),
    ));
    let mut flood = Vec::new();
    for i in 0..24u8 {
        let (http, url, stop, counts) =
            (flooder(i), tarn.url.clone(), stop.clone(), counts.clone());
        flood.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let name = if i % 2 == 0 {
                    format!("AKIAJUNK{i:02}{n:010}")
                } else {
                    format!("someone-{i}")
                };
                let (status, _) = login(&http, &url, &name, "wrong password").await;
                *counts.lock().unwrap().entry(status.as_u16()).or_default() += 1;
                n += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Meanwhile the user logs in, again and again, from their own address.
    let user = reqwest::Client::new();
    let mut worst = Duration::ZERO;
    for _ in 0..5 {
        let (status, took) = login(&user, &tarn.url, "quickstart", "a long password").await;
        assert_eq!(status, StatusCode::OK, "the user's login during the flood");
        worst = worst.max(took);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for f in flood {
        f.await.unwrap();
    }
    let counts = counts.lock().unwrap().clone();
    // The flood was refused (401), or told to slow down (429); never did
    // it make the server refuse everyone (503).
    assert!(counts.keys().all(|s| [401, 429].contains(s)), "{counts:?}");
    println!(
        "a correct login during a 24-client flood took at most {worst:?}; the flood got {counts:?}"
    );
}

/// A 4 MiB tmpfs, unmounted on drop; `None` (the test says it skips) where
/// this user may not mount.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount() -> Option<Self> {
        let dir = tempfile::tempdir().ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Self { dir })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[tokio::test]
async fn a_full_disk_answers_insufficient_storage_and_blames_no_one() {
    if skip() {
        return;
    }
    let Some(disk) = SmallDisk::mount() else {
        eprintln!("skipped a_full_disk_answers_insufficient_storage: cannot mount a tmpfs here (not root)");
        return;
    };
    let block = disk.dir.path().display().to_string();
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("tarn.log");
    let mut env = crate::support::database_env().await;
    env.push(("TARN_BLOCKSTORE__LOCAL__PATH".into(), block));
    env.push(("TARN_LOGGING__FORMAT".into(), "json".into()));
    let tarn = TarnProcess::start_logged(tempfile::tempdir().unwrap(), &env, &log).await;
    crate::support::create_repository(&tarn, "full").await;
    let http = reqwest::Client::new();
    let big = vec![7u8; 6 << 20];
    // The API's upload: 507 with a message that names the condition.
    let resp = http
        .post(format!(
            "{}/api/v1/repositories/full/branches/main/objects?path=big",
            tarn.url
        ))
        .basic_auth(KEY, Some(SECRET))
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::INSUFFICIENT_STORAGE);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("insufficient storage"),
        "{body}"
    );
    // The gateway's PUT: InsufficientStorage.
    let resp = signed(
        Method::PUT,
        &format!("{}/full/main/big", tarn.url),
        &[],
        sigv4::UNSIGNED_PAYLOAD,
    )
    .body(big.clone())
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::INSUFFICIENT_STORAGE);
    assert_eq!(s3_code(&resp.text().await.unwrap()), "InsufficientStorage");
    // Fill the disk to the last byte: creating a repository is then the
    // disk's fault, not the namespace's (507, not 400).
    let call = |method: Method, path: &'static str, body: Option<Value>| {
        crate::support::api_json(&http, &tarn.url, method, path, body)
    };
    let another = || Some(json!({"name": "another", "storage_namespace": "local://another"}));
    let filler = disk.dir.path().join("filler");
    let _ = std::fs::write(&filler, vec![0u8; 8 << 20]);
    let (status, body) = call(Method::POST, "/repositories", another()).await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{body}");
    // Space again: everything works, nothing half-written stayed behind.
    std::fs::remove_file(&filler).unwrap();
    let (status, body) = call(Method::POST, "/repositories", another()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let stat = "/repositories/full/refs/main/objects/stat?path=big";
    let (status, _) = call(Method::GET, stat, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Each server error was logged once, at error, with its cause: the
    // disk's own words.
    let text = std::fs::read_to_string(&log).unwrap();
    let errors: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["level"] == "ERROR")
        .collect();
    let operations: Vec<&str> = errors
        .iter()
        .map(|l| l["fields"]["operation"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        operations,
        ["uploadObject", "PutObject", "createRepository"],
        "{text}"
    );
    for e in &errors {
        let error = e["fields"]["error"].as_str().unwrap_or("");
        assert!(
            error.contains("(cause: ") && error.contains("No space left on device"),
            "{e}"
        );
    }
}
