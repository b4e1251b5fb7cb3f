//! The `lua` hook's properties (lakeFS's): `script` (inline; wins when
//! set) or `script_path` (read from the event's reference, as the
//! event's user), and `args` (a map; its strings may read
//! `{{ ENV.NAME }}`), turned into a run of the Lua host.

use super::env::resolve;
use super::event_info::rfc3339_seconds;
use super::lua::{self, ApiClient, ApiSpec, LuaRun};
use super::ApiAccess;
use crate::settings::{ActionsEnv, ActionsSettings};
use serde_json::{json, Map, Value};
use tarn_domain::actions::{Action, HookRecord, HookSpec};

/// Where the script comes from.
enum Source {
    Inline(String),
    Path(String),
}

fn source(props: &Map<String, Value>) -> Result<Source, String> {
    match props.get("script") {
        Some(Value::String(s)) if !s.is_empty() => return Ok(Source::Inline(s.clone())),
        Some(Value::String(_)) | None => {}
        Some(_) => return Err("value of script is not of type string: wrong value type".into()),
    }
    match props.get("script_path") {
        Some(Value::String(p)) if !p.is_empty() => Ok(Source::Path(p.clone())),
        Some(Value::String(_)) | None => {
            Err("'script' or 'script_path' must be supplied in properties: invalid action".into())
        }
        Some(_) => Err("value of script_path is not of type string: wrong value type".into()),
    }
}

/// `args`, with `{{ ENV.NAME }}` replaced in every string.
fn args(props: &Map<String, Value>, env: &ActionsEnv) -> Result<Value, String> {
    fn walk(v: &Value, env: &ActionsEnv) -> Result<Value, String> {
        Ok(match v {
            Value::String(s) => Value::String(resolve(s, env)?.value),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| walk(i, env))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, i)| Ok((k.clone(), walk(i, env)?)))
                    .collect::<Result<_, String>>()?,
            ),
            other => other.clone(),
        })
    }
    match props.get("args") {
        None | Some(Value::Null) => Ok(json!({})),
        Some(v @ Value::Object(_)) => walk(v, env),
        Some(_) => Err("'args' should be a map: wrong value type".into()),
    }
}

/// lakeFS's `action` table.
fn action_table(record: &HookRecord, action: &Action, hook: &HookSpec, run_id: &str) -> Value {
    let commit = record.commit.clone().unwrap_or_default();
    let created = if record.commit.is_some() {
        rfc3339_seconds(commit.creation_date)
    } else {
        "0001-01-01T00:00:00Z".to_owned()
    };
    json!({
        "action_name": action.name,
        "hook_id": hook.id,
        "run_id": run_id,
        "pre_run_id": record.pre_run_id,
        "event_type": record.event.as_str(),
        "repository_id": record.repository,
        "storage_namespace": record.storage_namespace,
        "branch_id": record.branch,
        "source_ref": record.source_ref,
        "commit_id": record.commit_id,
        "tag_id": record.tag,
        "merge_source": record.merge_source,
        "commit": {
            "message": commit.message,
            "meta_range_id": commit.meta_range_id,
            "creation_date": created,
            "version": 1,
            "metadata": commit.metadata,
            "parents": commit.parents,
        },
    })
}

/// Runs a Lua hook: its outcome and its log.
pub async fn run(
    pool: &lua::ChildPool,
    api: Option<(&ApiAccess, &reqwest::Client)>,
    record: &HookRecord,
    action: &Action,
    hook: &HookSpec,
    run_id: &str,
    settings: &ActionsSettings,
) -> (Result<(), String>, String) {
    let prepared = async {
        let src = source(&hook.properties)?;
        let args = args(&hook.properties, &settings.env)?;
        let spec = match api {
            Some((access, _)) if !record.user.is_empty() => {
                (access.token_for)(&record.user).map(|token| ApiSpec {
                    base: access.base.clone(),
                    token,
                })
            }
            _ => None,
        };
        let script = match src {
            Source::Inline(s) => s,
            Source::Path(p) => {
                let client = match (&spec, api) {
                    (Some(spec), Some((_, http))) => Some(ApiClient {
                        http: http.clone(),
                        base: spec.base.clone(),
                        token: spec.token.clone(),
                        handle: tokio::runtime::Handle::current(),
                        deadline: lua::deadline(&settings.lua),
                        max_body: usize::try_from(settings.lua.memory_bytes).unwrap_or(usize::MAX),
                    }),
                    _ => None,
                };
                load_script(client, record, &p).await?
            }
        };
        Ok::<_, String>(LuaRun {
            script,
            action: action_table(record, action, hook, run_id),
            args,
            username: record.user.clone(),
            api: spec,
        })
    };
    match prepared.await {
        // In a child process: whatever the script does, the server keeps
        // its memory and its threads.
        Ok(job) => pool.run(job, &settings.lua).await,
        Err(e) => (Err(e), String::new()),
    }
}

/// Reads `script_path` at the event's reference, as the event's user.
async fn load_script(
    client: Option<ApiClient>,
    record: &HookRecord,
    path: &str,
) -> Result<String, String> {
    let Some(client) = client else {
        return Err(format!(
            "could not load script_path {path}: no user to read it as"
        ));
    };
    let url = format!(
        "/repositories/{}/refs/{}/objects",
        urlencoding::encode(&record.repository),
        urlencoding::encode(&record.source_ref)
    );
    let query = [("path", path.to_owned())];
    let answer =
        tokio::task::spawn_blocking(move || client.call(reqwest::Method::GET, &url, &query, None))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("could not load script_path {path}: {e}"))?;
    if answer.status != 200 {
        return Err(format!(
            "could not load script_path {path}: HTTP {}: invalid action",
            answer.status
        ));
    }
    String::from_utf8(answer.body)
        .map_err(|_| format!("could not load script_path {path}: not UTF-8 text"))
}
