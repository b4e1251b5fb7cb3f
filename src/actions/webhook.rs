//! The `webhook` hook: a POST of the event's JSON to `url`, with
//! `query_params`, `headers` (both may read `{{ ENV.NAME }}`) and a
//! `timeout` (a Go duration, one minute by default). A 2xx answer passes.

use super::env::{go_duration, resolve, Resolved};
use crate::settings::ActionsEnv;
use serde_json::{Map, Value};
use std::fmt::Write;
use std::time::{Duration, Instant};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// The most of a response body a log keeps.
const MAX_LOGGED_BODY: usize = 64 << 10;

struct Request {
    url: String,
    timeout: Duration,
    query: Vec<(String, Resolved)>,
    headers: Vec<(String, Resolved)>,
}

fn wrong(what: &str) -> String {
    format!("{what}: webhook wrong format")
}

fn parse(props: &Map<String, Value>, env: &ActionsEnv) -> Result<Request, String> {
    let url = match props.get("url") {
        Some(Value::String(u)) if !u.is_empty() => u.clone(),
        _ => return Err(wrong("webhook url must be string")),
    };
    let timeout = match props.get("timeout") {
        Some(Value::String(t)) if !t.is_empty() => {
            go_duration(t).map_err(|e| format!("webhook request duration: {e}"))?
        }
        _ => DEFAULT_TIMEOUT,
    };
    let mut query = Vec::new();
    match props.get("query_params") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (k, v) in map {
                let values: Vec<&Value> = match v {
                    Value::Array(items) => items.iter().collect(),
                    other => vec![other],
                };
                for v in values {
                    let Value::String(s) = v else {
                        return Err(wrong(
                            "extracting query params: query params values must be strings",
                        ));
                    };
                    let r = resolve(s, env).map_err(|e| format!("extracting query params: {e}"))?;
                    query.push((k.clone(), r));
                }
            }
        }
        Some(_) => return Err(wrong("extracting query params: unsupported query params")),
    }
    let mut headers = Vec::new();
    match props.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (k, v) in map {
                let Value::String(s) = v else {
                    return Err(wrong("extracting headers: headers must be strings"));
                };
                let r = resolve(s, env).map_err(|e| format!("extracting headers: {e}"))?;
                headers.push((k.clone(), r));
            }
        }
        Some(_) => return Err(wrong("extracting headers: unsupported headers")),
    }
    Ok(Request {
        url,
        timeout,
        query,
        headers,
    })
}

/// A request's error with its causes (a refused address says why), without
/// its URL (whose query may hold values from the environment).
pub(super) fn causes(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut out = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// At most `max` bytes of an answer's body (the rest is never fetched), and
/// why reading stopped early, if it failed.
pub(super) async fn read_capped(
    resp: &mut reqwest::Response,
    max: usize,
) -> (Vec<u8>, Option<String>) {
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let room = max.saturating_sub(body.len());
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if body.len() >= max {
                    return (body, None);
                }
            }
            Ok(None) => return (body, None),
            Err(e) => return (body, Some(e.without_url().to_string())),
        }
    }
}

/// Posts `body` as `props` say; the outcome and the hook's log.
pub async fn run(
    http: &reqwest::Client,
    props: &Map<String, Value>,
    body: &str,
    env: &ActionsEnv,
) -> (Result<(), String>, String) {
    let mut log = String::new();
    let req = match parse(props, env) {
        Ok(r) => r,
        Err(e) => return (Err(e), log),
    };
    let _ = writeln!(log, "Request:\nPOST {}", req.url);
    if !req.query.is_empty() {
        log.push_str("Query Params:\n");
        for (k, v) in &req.query {
            let _ = writeln!(log, "{k}: {}", v.shown());
        }
    }
    log.push_str("Headers:\n");
    for (k, v) in &req.headers {
        let _ = writeln!(log, "{k}: {}", v.shown());
    }
    log.push_str("Content-Type: application/json\n");
    let _ = writeln!(log, "Request Body:\n{body}\n\n");
    let mut builder = http.post(&req.url).timeout(req.timeout).query(
        &req.query
            .iter()
            .map(|(k, v)| (k.as_str(), v.value.as_str()))
            .collect::<Vec<_>>(),
    );
    for (k, v) in &req.headers {
        // The body is JSON whatever a header says (as lakeFS forces it).
        if k.eq_ignore_ascii_case("content-type") {
            continue;
        }
        builder = builder.header(k.as_str(), v.value.as_str());
    }
    let builder = builder
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_owned());
    let started = Instant::now();
    let sent = builder.send().await;
    let _ = writeln!(log, "Request duration: {:?}\n", started.elapsed());
    let resp = match sent {
        Ok(r) => r,
        Err(e) => {
            let why = if e.is_timeout() {
                format!(
                    "webhook request to {} timed out after {:?}",
                    req.url, req.timeout
                )
            } else {
                // Without its URL: the query may carry values from the
                // environment.
                format!("webhook request to {} failed: {}", req.url, causes(e))
            };
            return (Err(why), log);
        }
    };
    let mut resp = resp;
    let status = resp.status();
    let _ = writeln!(log, "Response:\n{:?} {}", resp.version(), status);
    for (k, v) in resp.headers() {
        let _ = writeln!(log, "{k}: {}", v.to_str().unwrap_or("<binary>"));
    }
    log.push('\n');
    let (body, failed) = read_capped(&mut resp, MAX_LOGGED_BODY).await;
    if let Some(e) = failed {
        let _ = write!(log, "<reading the body failed: {e}>");
    }
    log.push_str(&String::from_utf8_lossy(&body));
    log.push('\n');
    if status.is_success() {
        (Ok(()), log)
    } else {
        (
            Err(format!(
                "webhook request failed (status code: {})",
                status.as_u16()
            )),
            log,
        )
    }
}
