//! Action files: lakeFS's schema, its checks and their messages.

use super::*;

const GOOD: &str = r#"
name: Data quality gate
description: checks before merging to main
on:
  pre-merge:
    branches:
      - main
      - release-*
  pre-commit:
  post-create-tag:
hooks:
  - id: check_schema
    type: webhook
    description: schema check
    properties:
      url: "http://127.0.0.1:9000/check"
      timeout: 10s
      query_params:
        tables: [a, b]
      headers:
        authorization: "Bearer {{ ENV.LAKEFSACTION_TOKEN }}"
  - id: lua_check
    type: lua
    if: failure()
    properties:
      script: |
        print("hello")
  - id: always
    type: lua
    if: true
    unknown_key: ignored
    properties:
      script_path: scripts/x.lua
"#;

#[test]
fn a_good_file_parses_with_its_events_hooks_and_properties() {
    let a = Action::parse(GOOD.as_bytes()).unwrap();
    assert_eq!(a.name, "Data quality gate");
    assert_eq!(a.on.len(), 3);
    assert_eq!(a.on[&HookEvent::PreMerge], ["main", "release-*"]);
    assert!(a.on[&HookEvent::PreCommit].is_empty());
    let ids: Vec<&str> = a.hooks.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["check_schema", "lua_check", "always"]);
    assert_eq!(a.hooks[0].kind, HookKind::Webhook);
    assert_eq!(a.hooks[0].properties["timeout"], "10s");
    assert_eq!(
        a.hooks[0].properties["query_params"]["tables"],
        serde_json::json!(["a", "b"])
    );
    assert_eq!(a.hooks[1].condition.as_deref(), Some("failure()"));
    assert_eq!(
        a.hooks[2].condition.as_deref(),
        Some("true"),
        "if: true is text"
    );
    assert_eq!(a.hooks[0].condition, None);
}

#[test]
fn matching_follows_events_and_branch_globs() {
    let a = Action::parse(GOOD.as_bytes()).unwrap();
    assert!(a.matches(HookEvent::PreMerge, "main"));
    assert!(a.matches(HookEvent::PreMerge, "release-2026"));
    assert!(!a.matches(HookEvent::PreMerge, "dev"));
    assert!(
        !a.matches(HookEvent::PreMerge, "release-1/x"),
        "* stops at /"
    );
    assert!(a.matches(HookEvent::PreCommit, "anything"));
    assert!(a.matches(HookEvent::PostCreateTag, ""));
    assert!(!a.matches(HookEvent::PostCommit, "main"));
}

fn error_of(yaml: &str) -> String {
    Action::parse(yaml.as_bytes()).unwrap_err().to_string()
}

#[test]
fn bad_files_are_refused_with_lakefs_messages() {
    let hook = "hooks:\n  - id: h1\n    type: webhook\n    properties:\n      url: http://x\n";
    for (yaml, want) in [
        (format!("on:\n  pre-commit:\n{hook}"), "'name' is required: invalid action"),
        (format!("name: '-x'\non:\n  pre-commit:\n{hook}"), "'name' is invalid: invalid action"),
        (format!("name: n1\n{hook}"), "'on' is required: invalid action"),
        (
            format!("name: n1\non:\n  pre_commit:\n{hook}"),
            "event 'pre_commit' is not supported: invalid action",
        ),
        (
            format!("name: n1\non:\n  pre-create-tag:\n    branches: [main]\n{hook}"),
            "'branches' is not supported in tag event types. invalid event parameter",
        ),
        (
            "name: n1\non:\n  pre-commit:\nhooks:\n  - type: webhook\n    properties:\n      url: u\n".into(),
            "hook[0] missing ID: invalid action",
        ),
        (
            format!("name: n1\non:\n  pre-commit:\n{hook}  - id: h1\n    type: lua\n    properties:\n      script: x\n"),
            "hook[1] duplicate ID 'h1': invalid action",
        ),
        (
            "name: n1\non:\n  pre-commit:\nhooks:\n  - id: h1\n    type: shell\n    properties:\n      url: u\n".into(),
            "hook[0] type 'shell' unknown: invalid action",
        ),
        (
            "name: n1\non:\n  pre-commit:\nhooks:\n  - id: h1\n    type: webhook\n".into(),
            "hook[0] type 'webhook': missing hook properties: invalid action",
        ),
        (
            "name: n1\non:\n  pre-commit:\nhooks:\n  - id: h1\n    type: webhook\n    properties:\n      timeout: 1s\n".into(),
            "hook[0] type 'webhook': 'url' must be supplied in properties: invalid action",
        ),
        (
            "name: n1\non:\n  pre-commit:\nhooks:\n  - id: h1\n    type: airflow\n    properties:\n      url: u\n      dag_id: d\n      username: u\n".into(),
            "hook[0] type 'airflow': 'password' must be supplied in properties: invalid action",
        ),
        (
            "name: n1\non:\n  pre-commit:\nhooks:\n  - id: h1\n    type: lua\n    properties:\n      args: {}\n".into(),
            "hook[0] type 'lua': 'script' or 'script_path' must be supplied in properties: invalid action",
        ),
        (
            format!("name: n1\non:\n  pre-merge:\n    branches: ['[']\n{hook}"),
            "event 'pre-merge': branch pattern \"[\" is malformed: invalid action",
        ),
    ] {
        assert_eq!(error_of(&yaml), want, "{yaml}");
    }
    assert!(error_of("name: [unclosed").starts_with("yaml: "));
}

#[test]
fn every_file_of_a_reference_must_parse_and_names_must_be_unique() {
    let good = (
        "_lakefs_actions/a.yaml".to_owned(),
        GOOD.as_bytes().to_vec(),
    );
    assert_eq!(parse_all(std::slice::from_ref(&good)).unwrap().len(), 1);
    let twin = (
        "_lakefs_actions/b.yaml".to_owned(),
        GOOD.as_bytes().to_vec(),
    );
    assert_eq!(
        parse_all(&[good.clone(), twin]).unwrap_err().to_string(),
        "parsing file _lakefs_actions/b.yaml: action name 'Data quality gate' already loaded: invalid action"
    );
    let bad = ("_lakefs_actions/c.yaml".to_owned(), b"name: x1\n".to_vec());
    assert_eq!(
        parse_all(&[good, bad]).unwrap_err().to_string(),
        "parsing file _lakefs_actions/c.yaml: 'on' is required: invalid action"
    );
}

#[test]
fn event_names_round_trip_and_classify() {
    for e in HookEvent::ALL {
        assert_eq!(HookEvent::parse(e.as_str()), Some(e));
    }
    assert!(HookEvent::PrepareCommit.is_pre());
    assert!(HookEvent::PreMerge.is_pre());
    assert!(!HookEvent::PostMerge.is_pre());
    assert!(HookEvent::PreDeleteTag.is_tag());
    assert!(!HookEvent::PreDeleteBranch.is_tag());
}
