//! Lua hooks, through the binary: a data-quality gate reading objects
//! through the `lakefs` module, branch-name checks, the user a hook acts
//! as, and the sandbox and limits over the wire.

use crate::support::api::Api;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn put(api: &Api, repo: &str, path: &str, body: &str) {
    let resp = api
        .req(
            Method::POST,
            &format!("/repositories/{repo}/branches/main/objects"),
        )
        .query(&[("path", path)])
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED, "{path}");
}

async fn commit(api: &Api, repo: &str, message: &str) -> (StatusCode, Value) {
    api.json(
        Method::POST,
        &format!("/repositories/{repo}/branches/main/commits"),
        Some(json!({ "message": message })),
    )
    .await
}

/// The first run `pick` chooses, and its first hook's output (runs are
/// ordered by second only: within one, the order is not the events').
async fn output(api: &Api, repo: &str, pick: impl Fn(&Value) -> bool) -> (Value, String) {
    let (_, runs) = api
        .json(
            Method::GET,
            &format!("/repositories/{repo}/actions/runs"),
            None,
        )
        .await;
    let Some(run) = runs["results"].as_array().unwrap().iter().find(|r| pick(r)) else {
        return (Value::Null, String::new());
    };
    let run = run.clone();
    let id = run["run_id"].as_str().unwrap().to_owned();
    let (_, hooks) = api
        .json(
            Method::GET,
            &format!("/repositories/{repo}/actions/runs/{id}/hooks"),
            None,
        )
        .await;
    let hook_run = hooks["results"][0]["hook_run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let text = api
        .req(
            Method::GET,
            &format!("/repositories/{repo}/actions/runs/{id}/hooks/{hook_run}/output"),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (run, text)
}

const CSV_GATE: &str = r#"name: CSV headers
on:
  pre-commit:
    branches: [main]
hooks:
  - id: csv_header
    type: lua
    properties:
      script_path: scripts/csv_header.lua
      args:
        header: "id,name,score"
"#;

/// Reads every changed CSV's first line; a wrong header fails the commit.
const CSV_SCRIPT: &str = r#"
local lakefs = require("lakefs")
local strings = require("strings")
local hook = require("hook")
local code, diff = lakefs.diff_branch(action.repository_id, action.branch_id)
if code ~= 200 then error("could not diff: " .. code) end
for _, change in ipairs(diff.results) do
  if change.type ~= "removed" and strings.has_suffix(change.path, ".csv") then
    local c, body = lakefs.get_object(action.repository_id, action.source_ref, change.path)
    if c ~= 200 then error("could not read " .. change.path .. ": " .. c) end
    local first = strings.split(body, "\n")[1]
    if first ~= args.header then
      hook.fail(change.path .. ": bad header '" .. first .. "', expected '" .. args.header .. "'")
    end
    print(change.path .. ": header ok")
  end
end
"#;

#[tokio::test]
async fn a_lua_hook_reads_each_csv_and_blocks_a_commit_with_a_bad_header() {
    let api = Api::start().await;
    api.repo("gate").await;
    put(&api, "gate", "_lakefs_actions/csv.yaml", CSV_GATE).await;
    put(&api, "gate", "scripts/csv_header.lua", CSV_SCRIPT).await;
    put(&api, "gate", "data/good.csv", "id,name,score\n1,a,3\n").await;
    let (s, v) = commit(&api, "gate", "good data").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (run, log) = output(&api, "gate", |_| true).await;
    assert_eq!(run["status"], "completed", "{run}");
    assert_eq!(log, "data/good.csv: header ok\n");

    put(&api, "gate", "data/bad.csv", "id;name;score\n1;a;3\n").await;
    let (_, before) = api
        .json(Method::GET, "/repositories/gate/branches/main", None)
        .await;
    let (s, v) = commit(&api, "gate", "bad data").await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED, "{v}");
    let message = v["message"].as_str().unwrap();
    assert!(message.starts_with("pre-commit hook aborted"), "{message}");
    assert!(
        message.contains(
            "failed on action 'CSV headers' hook 'csv_header': action failed: \
             data/bad.csv: bad header 'id;name;score', expected 'id,name,score'"
        ),
        "{message}"
    );
    let (_, after) = api
        .json(Method::GET, "/repositories/gate/branches/main", None)
        .await;
    assert_eq!(before["commit_id"], after["commit_id"], "nothing committed");
    let (_, staged) = api
        .json(Method::GET, "/repositories/gate/branches/main/diff", None)
        .await;
    assert_eq!(staged["results"][0]["path"], "data/bad.csv", "still staged");
    let failed = message.split('\'').nth(1).unwrap().to_owned();
    let (run, log) = output(&api, "gate", |r| r["run_id"] == failed.as_str()).await;
    assert_eq!(run["status"], "failed");
    assert!(log.ends_with("expected 'id,name,score'\n"), "{log}");

    // Fixed, it goes through.
    put(&api, "gate", "data/bad.csv", "id,name,score\n1,a,3\n").await;
    let (s, v) = commit(&api, "gate", "fixed").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

#[tokio::test]
async fn branch_hooks_check_names_and_act_as_the_caller() {
    let api = Api::start().await;
    api.repo("names").await;
    // lakeFS's documented branch-name check, unchanged.
    let names = r#"name: validate-lower-case-branches
on:
  pre-create-branch:
hooks:
  - id: check_branch_id
    type: lua
    properties:
      script: |
        regexp = require("regexp")
        if not regexp.match("^[a-z0-9\\_\\-]+$", action.branch_id) then
          error("branches must be lower case, invalid branch ID: " .. action.branch_id)
        end
"#;
    let who = r#"name: who
on:
  post-create-branch:
hooks:
  - id: whoami
    type: lua
    properties:
      script: |
        local lakefs = require("lakefs")
        local code, list = lakefs.list_objects(action.repository_id, action.branch_id, "", "", "", 10)
        print(username, code, #list.results, list.results[1].path)
"#;
    put(&api, "names", "_lakefs_actions/names.yaml", names).await;
    put(&api, "names", "_lakefs_actions/who.yaml", who).await;
    api.commit("names", "main", "actions").await;
    let create = |name: &'static str| {
        let api = &api;
        async move {
            api.json(
                Method::POST,
                "/repositories/names/branches",
                Some(json!({"name": name, "source": "main"})),
            )
            .await
        }
    };
    let (s, v) = create("Feature_X").await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED, "{v}");
    assert!(v["message"]
        .as_str()
        .unwrap()
        .contains("branches must be lower case, invalid branch ID: Feature_X"));
    let (s, _) = api
        .json(Method::GET, "/repositories/names/branches/Feature_X", None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = create("feature-x").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, me) = api.json(Method::GET, "/user", None).await;
    let me = me["user"]["id"].as_str().unwrap().to_owned();
    // The post hook runs after the answer.
    let mut log = String::new();
    for _ in 0..100 {
        let post = |r: &Value| r["event_type"] == "post-create-branch";
        let (_, text) = output(&api, "names", post).await;
        if !text.is_empty() {
            log = text;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(log, format!("{me}\t200\t2\t_lakefs_actions/names.yaml\n"));
}

#[tokio::test]
async fn the_sandbox_and_the_limits_hold_over_the_wire() {
    let api = Api {
        tarn: crate::support::TarnProcess::quickstart_with(&[(
            "TARN_ACTIONS__LUA__MAX_INSTRUCTIONS",
            "5000000",
        )])
        .await,
        http: reqwest::Client::new(),
    };
    api.repo("sandbox").await;
    for (script, expect) in [
        ("os.execute('id')", "global 'os'"),
        ("io.open('/etc/passwd')", "global 'io'"),
        (
            "while true do pcall(function() while true do end end) end",
            "more than 5000000 instructions",
        ),
    ] {
        let action = format!(
            "name: sandbox\non:\n  pre-commit:\nhooks:\n  - id: escape\n    type: lua\n    properties:\n      script: \"{script}\"\n"
        );
        put(&api, "sandbox", "_lakefs_actions/sandbox.yaml", &action).await;
        let started = std::time::Instant::now();
        let (s, v) = commit(&api, "sandbox", "try").await;
        assert_eq!(s, StatusCode::PRECONDITION_FAILED, "{script}: {v}");
        let message = v["message"].as_str().unwrap();
        assert!(message.contains(expect), "{script}: {message}");
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }
    let (_, log) = api
        .json(Method::GET, "/repositories/sandbox/refs/main/commits", None)
        .await;
    assert_eq!(
        log["results"].as_array().unwrap().len(),
        1,
        "only the repository's first commit: {log}"
    );
}
