//! Lua hooks, through the binary: a data-quality gate reading objects
//! through the `lakefs` module, branch-name checks, the user a hook acts
//! as, the sandbox and limits over the wire, and writes racing pre-hooks.

use crate::support::api::Api;
use crate::support::receiver::Receiver;
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
    let text = api.hook_output(repo, &id, &hook_run).await;
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
    for _ in 0..400 {
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

/// An action whose `event` hook is a webhook answering after 3 s; the
/// receiver records the request as it arrives, so a test knows the hook is
/// running.
fn slow_hook(event: &str, url: &str) -> String {
    format!(
        "name: slow\non:\n  {event}:\nhooks:\n  - id: wait\n    type: webhook\n    properties:\n      url: {url}/slow\n"
    )
}

/// Waits until the receiver has seen `n` requests.
async fn hook_started(receiver: &Receiver, n: usize) {
    for _ in 0..200 {
        if receiver.received().len() >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the hook did not start");
}

/// What the hooks of a commit check is what lands: the staged changes are
/// sealed before its pre-commit hooks run, so a write made while they run
/// is kept for the next commit, never slipped in unchecked; and a merge
/// whose destination moves while its pre-merge hooks run runs them again
/// on the merge that lands.
#[tokio::test]
async fn writes_racing_pre_hooks_never_land_unchecked() {
    let receiver = Receiver::start().await;
    let api = Api::start().await;
    api.repo("race").await;
    let url = &receiver.url;
    put(
        &api,
        "race",
        "_lakefs_actions/slow.yaml",
        &slow_hook("pre-commit", url),
    )
    .await;
    put(&api, "race", "early.csv", "checked by the hook\n").await;
    let ((s, c), ()) = tokio::join!(commit(&api, "race", "with early"), async {
        hook_started(&receiver, 1).await;
        put(&api, "race", "late.csv", "written while the hook ran\n").await;
    });
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let id = c["id"].as_str().unwrap();
    let (s, _) = api
        .json(
            Method::GET,
            &format!("/repositories/race/refs/{id}/objects/stat?path=early.csv"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "the checked file landed");
    let (s, _) = api
        .json(
            Method::GET,
            &format!("/repositories/race/refs/{id}/objects/stat?path=late.csv"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "the late write did not slip in");
    let (_, staged) = api
        .json(Method::GET, "/repositories/race/branches/main/diff", None)
        .await;
    assert_eq!(staged["results"][0]["path"], "late.csv", "it waits, staged");

    // A merge racing a commit on its destination.
    put(
        &api,
        "race",
        "_lakefs_actions/slow.yaml",
        &slow_hook("pre-merge", url),
    )
    .await;
    api.commit("race", "main", "pre-merge gate").await;
    let (s, v) = api
        .json(
            Method::POST,
            "/repositories/race/branches",
            Some(json!({"name": "feature", "source": "main"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let resp = api
        .req(Method::POST, "/repositories/race/branches/feature/objects")
        .query(&[("path", "feature.csv")])
        .body("from the feature branch\n")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    api.commit("race", "feature", "feature work").await;
    let merge = api.json(
        Method::POST,
        "/repositories/race/refs/feature/merge/main",
        Some(json!({"message": "merge feature"})),
    );
    let ((s, merged), racing) = tokio::join!(merge, async {
        hook_started(&receiver, 2).await;
        put(
            &api,
            "race",
            "racing.csv",
            "committed during the merge's hooks\n",
        )
        .await;
        api.commit("race", "main", "racing commit").await
    });
    assert_eq!(s, StatusCode::OK, "{merged}");
    let (_, commit) = api
        .json(
            Method::GET,
            &format!(
                "/repositories/race/commits/{}",
                merged["reference"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(
        commit["parents"][0], racing["id"],
        "the merge landed on the racing commit: {commit}"
    );
    let (_, runs) = api
        .json(Method::GET, "/repositories/race/actions/runs", None)
        .await;
    let pre_merge: Vec<&Value> = runs["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["event_type"] == "pre-merge")
        .collect();
    assert_eq!(pre_merge.len(), 2, "the hooks ran again: {runs}");
    assert!(pre_merge
        .iter()
        .any(|r| r["commit_id"] == merged["reference"]));
}

/// A Lua hook reads through the API with the rights of the user who caused
/// the event, no more: a user denied `secret/` gets 403 from the hook's
/// `lakefs.get_object` where the admin gets 200.
#[tokio::test]
async fn lua_hooks_have_the_callers_rights() {
    let api = Api::start().await;
    api.repo("rights").await;
    let action = r#"name: rights
on:
  pre-commit:
hooks:
  - id: read
    type: lua
    properties:
      script: |
        local lakefs = require("lakefs")
        local secret = lakefs.get_object(action.repository_id, action.branch_id, "secret/key.txt")
        local public = lakefs.get_object(action.repository_id, action.branch_id, "public.txt")
        print(username, secret, public)
"#;
    put(&api, "rights", "_lakefs_actions/rights.yaml", action).await;
    put(&api, "rights", "secret/key.txt", "k").await;
    put(&api, "rights", "public.txt", "p").await;
    let admin_json = |m: Method, p: &'static str, b: Option<Value>| {
        let api = &api;
        async move {
            let (s, v) = api.json(m, p, b).await;
            assert!(s.is_success(), "{p}: {s} {v}");
            v
        }
    };
    admin_json(Method::POST, "/auth/users", Some(json!({"id": "dana"}))).await;
    admin_json(Method::PUT, "/auth/groups/Developers/members/dana", None).await;
    let deny = json!({"id": "NoSecrets", "statement": [{"effect": "deny",
        "action": ["fs:ReadObject"], "resource": "arn:lakefs:fs:::repository/rights/object/secret/*"}]});
    admin_json(Method::POST, "/auth/policies", Some(deny)).await;
    admin_json(Method::PUT, "/auth/users/dana/policies/NoSecrets", None).await;
    let keys = admin_json(Method::POST, "/auth/users/dana/credentials", None).await;
    let dana = (
        keys["access_key_id"].as_str().unwrap(),
        keys["secret_access_key"].as_str().unwrap(),
    );
    let (s, v) = crate::support::api_json_as(
        &api.http,
        &api.tarn.url,
        Some(dana),
        Method::POST,
        "/repositories/rights/branches/main/commits",
        Some(json!({"message": "as dana"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, log) = output(&api, "rights", |_| true).await;
    assert_eq!(log, "dana\t403\t200\n");
}

/// What the in-process limits cannot stop (a C call that loops, a Rust
/// allocation outside Lua's memory) stays in the hook's child process: it
/// is stopped at its deadline or its memory limit, the operation fails
/// with 412, and the server goes on serving.
#[tokio::test]
async fn escapes_are_contained_in_the_hooks_process() {
    let api = Api {
        tarn: crate::support::TarnProcess::quickstart_with(&[(
            "TARN_ACTIONS__LUA__TIMEOUT_SECS",
            "2",
        )])
        .await,
        http: reqwest::Client::new(),
    };
    api.repo("contained").await;
    for script in [
        // table.concat as __index: 2^63 C iterations, no Lua instruction.
        "local t = setmetatable({}, {__index = table.concat}) table.concat(t, '', 1, math.maxinteger)",
        // An indent of a megabyte on every line: gigabytes, in Rust.
        "local json = require('encoding/json') local t = {} for i = 1, 20000 do t[i] = i end json.marshal(array(t), {indent = string.rep(' ', 1000000)})",
    ] {
        let action = format!(
            "name: escape\non:\n  pre-commit:\nhooks:\n  - id: escape\n    type: lua\n    properties:\n      script: \"{script}\"\n"
        );
        put(&api, "contained", "_lakefs_actions/escape.yaml", &action).await;
        let started = std::time::Instant::now();
        let (s, v) = commit(&api, "contained", "try").await;
        assert_eq!(s, StatusCode::PRECONDITION_FAILED, "{script}: {v}");
        let message = v["message"].as_str().unwrap();
        assert!(
            message.contains("ran out of time") || message.contains("process was stopped"),
            "{script}: {message}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{script}: {:?}",
            started.elapsed()
        );
        let (s, _) = api.json(Method::GET, "/repositories/contained", None).await;
        assert_eq!(s, StatusCode::OK, "the server still serves");
    }
}
