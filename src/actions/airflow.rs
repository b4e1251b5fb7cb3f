//! The `airflow` hook, as lakeFS's: triggers a DAG run over Airflow's
//! REST API (`POST <url>/api/v1/dags/<dag_id>/dagRuns`, basic auth) with
//! the event in its `conf` (`lakeFS_event`, beside `dag_conf`); with
//! `wait_for_dag`, polls the run every five seconds until it succeeds,
//! fails, or `timeout` (one minute by default) passes. The password may
//! read `{{ ENV.NAME }}` and is never logged.

use super::env::{go_duration, resolve};
use crate::settings::ActionsEnv;
use serde_json::{json, Map, Value};
use std::fmt::Write;
use std::time::{Duration, Instant};

/// Each request's own limit (lakeFS's).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
const POLL_EVERY: Duration = Duration::from_secs(5);
const DEFAULT_WAIT: Duration = Duration::from_secs(60);
const MAX_LOGGED_BODY: usize = 64 << 10;

struct Request {
    url: String,
    dag_id: String,
    username: String,
    password: String,
    conf: Map<String, Value>,
    wait: bool,
    timeout: Duration,
}

fn required(props: &Map<String, Value>, key: &str) -> Result<String, String> {
    match props.get(key) {
        None => Err(format!(
            "airflow hook {key} property: key {key}: missing key in properties"
        )),
        Some(Value::String(s)) if s.is_empty() => Err(format!(
            "airflow hook {key} property: value of {key} is empty: missing key in properties"
        )),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!(
            "airflow hook {key} property: value of {key} is not of type string: wrong value type"
        )),
    }
}

fn parse(props: &Map<String, Value>, env: &ActionsEnv) -> Result<Request, String> {
    let url = required(props, "url")?;
    let dag_id = required(props, "dag_id")?;
    let username = required(props, "username")?;
    let password = resolve(&required(props, "password")?, env)
        .map_err(|e| format!("airflow hook password property: {e}"))?
        .value;
    let conf = match props.get("dag_conf") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            return Err("airflow hook conf is not of type Properties: wrong value type".into())
        }
    };
    let wait = matches!(props.get("wait_for_dag"), Some(Value::Bool(true)));
    let timeout = match props.get("timeout") {
        Some(Value::String(t)) if !t.is_empty() => {
            go_duration(t).map_err(|e| format!("airflow hook timeout property: {e}"))?
        }
        _ => DEFAULT_WAIT,
    };
    Ok(Request {
        url,
        dag_id,
        username,
        password,
        conf,
        wait,
        timeout,
    })
}

/// Sends one request; its status and (at most 64 KiB of) its body.
async fn send(
    builder: reqwest::RequestBuilder,
    log: &mut String,
) -> Result<(u16, Vec<u8>), String> {
    let started = Instant::now();
    let sent = builder.timeout(REQUEST_TIMEOUT).send().await;
    let _ = writeln!(log, "Request duration: {:?}", started.elapsed());
    let mut resp = sent.map_err(|e| {
        format!(
            "failed executing airflow request: {}",
            super::webhook::causes(e)
        )
    })?;
    let status = resp.status();
    let _ = writeln!(log, "Response:\n{:?} {}", resp.version(), status);
    let (body, failed) = super::webhook::read_capped(&mut resp, MAX_LOGGED_BODY).await;
    let _ = writeln!(log, "{}\n", String::from_utf8_lossy(&body));
    if let Some(e) = failed {
        return Err(format!("failed reading the airflow answer: {e}"));
    }
    Ok((status.as_u16(), body))
}

/// Triggers (and maybe awaits) the DAG run; the outcome and the log.
pub async fn run(
    http: &reqwest::Client,
    props: &Map<String, Value>,
    event: Value,
    hook_id: &str,
    run_id: &str,
    env: &ActionsEnv,
) -> (Result<(), String>, String) {
    let mut log = String::new();
    let req = match parse(props, env) {
        Ok(r) => r,
        Err(e) => return (Err(e), log),
    };
    let base = format!(
        "{}/api/v1/dags/{}/dagRuns",
        req.url.trim_end_matches('/'),
        req.dag_id
    );
    let dag_run_id = format!("lakeFS_hook_{hook_id}_{run_id}");
    let mut conf = req.conf.clone();
    conf.insert("lakeFS_event".into(), event);
    let body = json!({ "dag_run_id": dag_run_id, "conf": conf });
    let _ = writeln!(
        log,
        "Request:\nPOST {base}\nUsername: {}, Password: *******\nBody: {body}\n",
        req.username
    );
    let trigger = http
        .post(&base)
        .basic_auth(&req.username, Some(&req.password))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_string());
    match send(trigger, &mut log).await {
        Ok((200, _)) => {}
        Ok((code, _)) => {
            return (
                Err(format!("status code ({code}): airflow hook request failed")),
                log,
            )
        }
        Err(e) => return (Err(e), log),
    }
    if !req.wait {
        return (Ok(()), log);
    }
    log.push_str("\nWaiting for DAG to complete...\n");
    let deadline = Instant::now() + req.timeout;
    let poll_url = format!("{base}/{dag_run_id}");
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (Err("context deadline exceeded".into()), log);
        }
        tokio::time::sleep(POLL_EVERY.min(left)).await;
        if Instant::now() >= deadline {
            return (Err("context deadline exceeded".into()), log);
        }
        let _ = writeln!(log, "Request:\nGET {poll_url}");
        let poll = http
            .get(&poll_url)
            .basic_auth(&req.username, Some(&req.password));
        let state = match send(poll, &mut log).await {
            Ok((200, body)) => serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get("state").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_default(),
            Ok((code, _)) => {
                return (
                    Err(format!("status code ({code}): airflow hook request failed")),
                    log,
                )
            }
            Err(e) => return (Err(e), log),
        };
        let _ = writeln!(log, "\nDAG completed with state: {state}");
        match state.as_str() {
            "success" => return (Ok(()), log),
            "failed" => return (Err("airflow hook DAG failed".into()), log),
            _ => {}
        }
    }
}
