//! The `lakefs` module: calls to this server's own API as the user who
//! caused the event (so their permissions apply, and the script sees no
//! credential), answering as lakeFS's module does: the HTTP status, then
//! the answer (a table for JSON lists, the raw body for objects and
//! stats). An HTTP error is a status, never a Lua error.

use super::convert::to_lua;
use mlua::{IntoLuaMulti, Lua, MultiValue, Table, Value};
use std::time::Instant;

/// Where the API is and the token to call it with (what a hook's child
/// process is given).
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct ApiSpec {
    /// `http://127.0.0.1:<port>/api/v1`.
    pub base: String,
    pub token: String,
}

/// How a hook reaches the API.
#[derive(Clone)]
pub struct ApiClient {
    pub http: reqwest::Client,
    /// `http://127.0.0.1:<port>/api/v1`.
    pub base: String,
    /// A token of the user the hook acts for.
    pub token: String,
    pub handle: tokio::runtime::Handle,
    pub deadline: Instant,
    /// The largest answer read (the hook's memory limit).
    pub max_body: usize,
}

impl ApiClient {
    /// A client for `spec`, on the current runtime, never through a proxy.
    /// The API is plain HTTP on loopback: no certificates are loaded (that
    /// alone took most of a hook run).
    pub fn new(spec: ApiSpec, deadline: Instant, max_body: usize) -> mlua::Result<Self> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .tls_built_in_root_certs(false)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(mlua::Error::external)?;
        Ok(Self {
            http,
            base: spec.base,
            token: spec.token,
            handle: tokio::runtime::Handle::current(),
            deadline,
            max_body,
        })
    }
}

/// One API answer.
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// A path segment, escaped; `.` and `..` (which URL normalization would
/// turn into another route) are refused.
fn seg(s: &str) -> mlua::Result<String> {
    if s == "." || s == ".." || s.is_empty() {
        return Err(mlua::Error::runtime(format!(
            "lakefs: {s:?} is not a valid repository, reference or branch"
        )));
    }
    Ok(urlencoding::encode(s).into_owned())
}

/// `list_objects`' arguments.
type ListArgs = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Value,
);
/// `diff_refs`' arguments.
type DiffArgs = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
);

impl ApiClient {
    /// Sends a request and reads its answer (blocking: Lua runs on a
    /// blocking thread).
    pub fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<serde_json::Value>,
    ) -> Result<Answer, String> {
        let url = format!("{}{}", self.base, path);
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("the hook's time is up".to_owned());
        }
        let mut req = self
            .http
            .request(method, url)
            .bearer_auth(&self.token)
            .header(reqwest::header::USER_AGENT, "lakefs-lua/tarn")
            .query(query)
            .timeout(left);
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b.to_string());
        }
        let max = self.max_body;
        self.handle.block_on(async move {
            let mut resp = req.send().await.map_err(|e| e.without_url().to_string())?;
            let status = resp.status().as_u16();
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
                if body.len() + chunk.len() > max {
                    return Err(format!(
                        "the answer is larger than the hook's memory limit ({max} bytes)"
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Answer { status, body })
        })
    }
}

/// `code`, then the body parsed as JSON (nothing when it is empty).
fn parsed(lua: &Lua, a: Answer) -> mlua::Result<MultiValue> {
    if a.body.is_empty() {
        return i64::from(a.status).into_lua_multi(lua);
    }
    let v: serde_json::Value = serde_json::from_slice(&a.body).map_err(mlua::Error::external)?;
    (i64::from(a.status), to_lua(lua, &v)?).into_lua_multi(lua)
}

/// `code`, then the raw body.
fn raw(lua: &Lua, a: Answer) -> mlua::Result<MultiValue> {
    (i64::from(a.status), lua.create_string(a.body)?).into_lua_multi(lua)
}

/// The listing parameters a call was given (the ones given only).
fn paging(
    after: Option<String>,
    prefix: Option<String>,
    delimiter: Option<String>,
    amount: Option<i64>,
) -> Vec<(&'static str, String)> {
    let mut q = Vec::new();
    opt(&mut q, "after", after);
    opt(&mut q, "prefix", prefix);
    opt(&mut q, "delimiter", delimiter);
    opt(&mut q, "amount", amount.map(|a| a.to_string()));
    q
}

fn opt(q: &mut Vec<(&'static str, String)>, name: &'static str, v: Option<String>) {
    if let Some(v) = v {
        q.push((name, v));
    }
}

type Get = reqwest::Method;

/// The module, acting through `api`.
pub fn module(lua: &Lua, api: Option<ApiClient>) -> mlua::Result<Table> {
    let m = lua.create_table()?;
    let client = move || {
        api.clone()
            .ok_or_else(|| mlua::Error::runtime("lakefs: no user to act as for this event"))
    };
    let call = move |method: reqwest::Method,
                     path: String,
                     q: Vec<(&'static str, String)>,
                     body: Option<serde_json::Value>| {
        client()?
            .call(method, &path, &q, body)
            .map_err(|e| mlua::Error::runtime(format!("lakefs: {e}")))
    };
    let c = call.clone();
    m.set(
        "list_objects",
        lua.create_function(
            move |lua, (repo, r, after, prefix, delimiter, amount, meta): ListArgs| {
                let mut q = paging(after, prefix, delimiter, amount);
                if !meta.is_nil() {
                    let on = !matches!(meta, Value::Boolean(false));
                    q.push(("user_metadata", on.to_string()));
                }
                let path = format!("/repositories/{}/refs/{}/objects/ls", seg(&repo)?, seg(&r)?);
                parsed(lua, c(Get::GET, path, q, None)?)
            },
        )?,
    )?;
    let c = call.clone();
    m.set(
        "get_object",
        lua.create_function(move |lua, (repo, r, path): (String, String, String)| {
            let p = format!("/repositories/{}/refs/{}/objects", seg(&repo)?, seg(&r)?);
            raw(lua, c(Get::GET, p, vec![("path", path)], None)?)
        })?,
    )?;
    let c = call.clone();
    m.set(
        "stat_object",
        lua.create_function(
            move |lua, (repo, r, path, meta): (String, String, String, Value)| {
                let p = format!(
                    "/repositories/{}/refs/{}/objects/stat",
                    seg(&repo)?,
                    seg(&r)?
                );
                let mut q = vec![("path", path)];
                if !meta.is_nil() {
                    let on = !matches!(meta, Value::Boolean(false));
                    q.push(("user_metadata", on.to_string()));
                }
                raw(lua, c(Get::GET, p, q, None)?)
            },
        )?,
    )?;
    let c = call.clone();
    m.set(
        "diff_refs",
        lua.create_function(
            move |lua, (repo, left, right, after, prefix, delimiter, amount): DiffArgs| {
                let q = paging(after, prefix, delimiter, amount);
                let p = format!(
                    "/repositories/{}/refs/{}/diff/{}",
                    seg(&repo)?,
                    seg(&left)?,
                    seg(&right)?
                );
                parsed(lua, c(Get::GET, p, q, None)?)
            },
        )?,
    )?;
    let c = call.clone();
    m.set(
        "diff_branch",
        lua.create_function(
            move |lua,
                  (repo, branch, after, amount, prefix, delimiter): (
                String,
                String,
                Option<String>,
                Option<i64>,
                Option<String>,
                Option<String>,
            )| {
                let q = paging(after, prefix, delimiter, amount);
                let p = format!(
                    "/repositories/{}/branches/{}/diff",
                    seg(&repo)?,
                    seg(&branch)?
                );
                parsed(lua, c(Get::GET, p, q, None)?)
            },
        )?,
    )?;
    let c = call.clone();
    m.set(
        "create_tag",
        lua.create_function(move |lua, (repo, r, tag): (String, String, String)| {
            let p = format!("/repositories/{}/tags", seg(&repo)?);
            let body = serde_json::json!({"ref": r, "id": tag});
            parsed(lua, c(Get::POST, p, Vec::new(), Some(body))?)
        })?,
    )?;
    let c = call;
    m.set(
        "update_object_user_metadata",
        lua.create_function(
            move |lua, (repo, branch, path, meta): (String, String, String, Table)| {
                let mut set = serde_json::Map::new();
                for pair in meta.pairs::<String, String>() {
                    let (k, v) = pair.map_err(|_| {
                        mlua::Error::runtime("user metadata must be a table of strings")
                    })?;
                    set.insert(k, serde_json::Value::String(v));
                }
                let p = format!(
                    "/repositories/{}/branches/{}/objects/stat/user_metadata",
                    seg(&repo)?,
                    seg(&branch)?
                );
                let body = serde_json::json!({ "set": set });
                parsed(lua, c(Get::PUT, p, vec![("path", path)], Some(body))?)
            },
        )?,
    )?;
    Ok(m)
}
