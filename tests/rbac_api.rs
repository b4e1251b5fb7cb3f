//! Every REST operation against every kind of user: the admin may do
//! everything; a Viewer reads but cannot write, commit, merge or delete; a
//! Developer writes but cannot manage users or repositories; a user denied
//! one repository cannot touch it; nobody gets in without credentials. The
//! table must name every operation of the OpenAPI document.

#![allow(clippy::unwrap_used)]

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use support::rbac::{Who, World};

/// What an operation needs, in terms of the built-in groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// No credentials at all.
    Public,
    /// Any authenticated user.
    Any,
    /// Viewers and up.
    Read,
    /// Developers and up.
    Write,
    /// Admins only (among these users).
    Admin,
    /// Any user, on its own credentials.
    OwnCredentials,
}

struct Case {
    id: &'static str,
    method: Method,
    /// `{repo}`, `{self}`, `{selfkey}`, `{commit}` and `{role}` are filled in.
    path: &'static str,
    body: Option<&'static str>,
    need: Need,
}

fn case(
    id: &'static str,
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
    need: Need,
) -> Case {
    Case {
        id,
        method,
        path,
        body,
        need,
    }
}

/// In order: reads, then writes, then deletions (so each finds what it needs).
fn cases() -> Vec<Case> {
    use Method as M;
    use Need::*;
    vec![
        case("healthCheck", M::GET, "/healthcheck", None, Public),
        case("getSetupState", M::GET, "/setup_lakefs", None, Public),
        case(
            "setup",
            M::POST,
            "/setup_lakefs",
            Some(r#"{"username":"intruder"}"#),
            Public,
        ),
        case(
            "setupCommPrefs",
            M::POST,
            "/setup_comm_prefs",
            Some(r#"{"email":"a@b.c","featureUpdates":false,"securityUpdates":false}"#),
            Public,
        ),
        case(
            "login",
            M::POST,
            "/auth/login",
            Some(
                r#"{"access_key_id":"AKIAIOSFOLQUICKSTART","secret_access_key":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}"#,
            ),
            Public,
        ),
        case(
            "getAuthCapabilities",
            M::GET,
            "/auth/capabilities",
            None,
            Public,
        ),
        case("getConfig", M::GET, "/config", None, Any),
        case("getLakeFSVersion", M::GET, "/config/version", None, Any),
        case("getCurrentUser", M::GET, "/user", None, Any),
        case("getStorageConfig", M::GET, "/config/storage", None, Read),
        case("listRepositories", M::GET, "/repositories", None, Read),
        case("getRepository", M::GET, "/repositories/{repo}", None, Read),
        case(
            "getRepositoryMetadata",
            M::GET,
            "/repositories/{repo}/metadata",
            None,
            Read,
        ),
        case(
            "getBranchProtectionRules",
            M::GET,
            "/repositories/{repo}/settings/branch_protection",
            None,
            Write,
        ),
        case(
            "listBranches",
            M::GET,
            "/repositories/{repo}/branches",
            None,
            Read,
        ),
        case(
            "getBranch",
            M::GET,
            "/repositories/{repo}/branches/main",
            None,
            Read,
        ),
        case(
            "diffBranch",
            M::GET,
            "/repositories/{repo}/branches/main/diff",
            None,
            Read,
        ),
        case(
            "getCommit",
            M::GET,
            "/repositories/{repo}/commits/{commit}",
            None,
            Read,
        ),
        case(
            "logCommits",
            M::GET,
            "/repositories/{repo}/refs/main/commits",
            None,
            Read,
        ),
        case(
            "findMergeBase",
            M::GET,
            "/repositories/{repo}/refs/dev/merge/main",
            None,
            Read,
        ),
        case(
            "diffRefs",
            M::GET,
            "/repositories/{repo}/refs/main/diff/dev",
            None,
            Read,
        ),
        case("listTags", M::GET, "/repositories/{repo}/tags", None, Read),
        case(
            "getTag",
            M::GET,
            "/repositories/{repo}/tags/doomed-tag",
            None,
            Read,
        ),
        case(
            "getObject",
            M::GET,
            "/repositories/{repo}/refs/main/objects?path=data/a.txt",
            None,
            Read,
        ),
        case(
            "headObject",
            M::HEAD,
            "/repositories/{repo}/refs/main/objects?path=data/a.txt",
            None,
            Read,
        ),
        case(
            "statObject",
            M::GET,
            "/repositories/{repo}/refs/main/objects/stat?path=data/a.txt",
            None,
            Read,
        ),
        case(
            "listObjects",
            M::GET,
            "/repositories/{repo}/refs/main/objects/ls",
            None,
            Read,
        ),
        case(
            "getUnderlyingProperties",
            M::GET,
            "/repositories/{repo}/refs/main/objects/underlyingProperties?path=data/a.txt",
            None,
            Read,
        ),
        case("listUsers", M::GET, "/auth/users", None, Admin),
        case("getUser", M::GET, "/auth/users/spare", None, Admin),
        case(
            "listUserGroups",
            M::GET,
            "/auth/users/spare/groups",
            None,
            Admin,
        ),
        case(
            "listUserPolicies",
            M::GET,
            "/auth/users/spare/policies?effective=true",
            None,
            Admin,
        ),
        case("listGroups", M::GET, "/auth/groups", None, Admin),
        case("getGroup", M::GET, "/auth/groups/Viewers", None, Admin),
        case(
            "listGroupMembers",
            M::GET,
            "/auth/groups/Viewers/members",
            None,
            Admin,
        ),
        case(
            "listGroupPolicies",
            M::GET,
            "/auth/groups/Viewers/policies",
            None,
            Admin,
        ),
        case("listPolicies", M::GET, "/auth/policies", None, Admin),
        case("getPolicy", M::GET, "/auth/policies/FSReadAll", None, Admin),
        case(
            "listUserCredentials",
            M::GET,
            "/auth/users/{self}/credentials",
            None,
            OwnCredentials,
        ),
        case(
            "listUserCredentials",
            M::GET,
            "/auth/users/spare/credentials",
            None,
            Admin,
        ),
        case(
            "getCredentials",
            M::GET,
            "/auth/users/{self}/credentials/{selfkey}",
            None,
            OwnCredentials,
        ),
        case(
            "createCredentials",
            M::POST,
            "/auth/users/{self}/credentials",
            None,
            OwnCredentials,
        ),
        case(
            "createCredentials",
            M::POST,
            "/auth/users/spare/credentials",
            None,
            Admin,
        ),
        // Writes.
        case(
            "uploadObject",
            M::POST,
            "/repositories/{repo}/branches/main/objects?path=data/up-{role}.txt",
            Some(r#""raw""#),
            Write,
        ),
        case(
            "copyObject",
            M::POST,
            "/repositories/{repo}/branches/main/objects/copy?dest_path=data/copy-{role}.txt",
            Some(r#"{"src_path":"data/a.txt"}"#),
            Write,
        ),
        case(
            "updateObjectUserMetadata",
            M::PUT,
            "/repositories/{repo}/branches/main/objects/stat/user_metadata?path=data/a.txt",
            Some(r#"{"set":{"k":"v"}}"#),
            Write,
        ),
        case(
            "getPhysicalAddress",
            M::GET,
            "/repositories/{repo}/branches/main/staging/backing?path=data/linked.txt",
            None,
            Write,
        ),
        case(
            "linkPhysicalAddress",
            M::PUT,
            "/repositories/{repo}/branches/main/staging/backing?path=data/linked.txt",
            Some(
                r#"{"staging":{"physical_address":"local://nowhere/x"},"checksum":"0","size_bytes":1}"#,
            ),
            Write,
        ),
        case(
            "commit",
            M::POST,
            "/repositories/{repo}/branches/main/commits",
            Some(r#"{"message":"by {role}"}"#),
            Write,
        ),
        case(
            "createBranch",
            M::POST,
            "/repositories/{repo}/branches",
            Some(r#"{"name":"b-{role}","source":"main"}"#),
            Write,
        ),
        case(
            "createTag",
            M::POST,
            "/repositories/{repo}/tags",
            Some(r#"{"id":"t-{role}","ref":"main"}"#),
            Write,
        ),
        case(
            "mergeIntoBranch",
            M::POST,
            "/repositories/{repo}/refs/main/merge/dev",
            Some(r#"{}"#),
            Write,
        ),
        case(
            "cherryPick",
            M::POST,
            "/repositories/{repo}/branches/dev/cherry-pick",
            Some(r#"{"ref":"{commit}"}"#),
            Write,
        ),
        case(
            "revertBranch",
            M::POST,
            "/repositories/{repo}/branches/dev/revert",
            Some(r#"{"ref":"{commit}","parent_number":0}"#),
            Write,
        ),
        case(
            "resetBranch",
            M::PUT,
            "/repositories/{repo}/branches/main",
            Some(r#"{"type":"reset"}"#),
            Write,
        ),
        case(
            "hardResetBranch",
            M::PUT,
            "/repositories/{repo}/branches/dev/hard_reset?ref=main",
            None,
            Write,
        ),
        case(
            "setBranchProtectionRules",
            M::PUT,
            "/repositories/{repo}/settings/branch_protection",
            Some(r#"[]"#),
            Admin,
        ),
        case(
            "createRepository",
            M::POST,
            "/repositories",
            Some(r#"{"name":"new-{role}","storage_namespace":"local://new-{role}"}"#),
            Admin,
        ),
        case(
            "createUser",
            M::POST,
            "/auth/users",
            Some(r#"{"id":"u-{role}"}"#),
            Admin,
        ),
        case(
            "createGroup",
            M::POST,
            "/auth/groups",
            Some(r#"{"id":"g-{role}"}"#),
            Admin,
        ),
        case(
            "createPolicy",
            M::POST,
            "/auth/policies",
            Some(
                r#"{"id":"p-{role}","statement":[{"effect":"allow","action":["fs:ReadObject"],"resource":"*"}]}"#,
            ),
            Admin,
        ),
        case(
            "updatePolicy",
            M::PUT,
            "/auth/policies/doomed-policy",
            Some(
                r#"{"id":"doomed-policy","statement":[{"effect":"allow","action":["fs:ListObjects"],"resource":"*"}]}"#,
            ),
            Admin,
        ),
        case(
            "addGroupMembership",
            M::PUT,
            "/auth/groups/spare-group/members/spare",
            None,
            Admin,
        ),
        case(
            "attachPolicyToUser",
            M::PUT,
            "/auth/users/spare/policies/FSReadAll",
            None,
            Admin,
        ),
        case(
            "attachPolicyToGroup",
            M::PUT,
            "/auth/groups/spare-group/policies/FSReadAll",
            None,
            Admin,
        ),
        // Deletions.
        case(
            "detachPolicyFromGroup",
            M::DELETE,
            "/auth/groups/spare-group/policies/FSReadAll",
            None,
            Admin,
        ),
        case(
            "detachPolicyFromUser",
            M::DELETE,
            "/auth/users/spare/policies/FSReadAll",
            None,
            Admin,
        ),
        case(
            "deleteGroupMembership",
            M::DELETE,
            "/auth/groups/spare-group/members/spare",
            None,
            Admin,
        ),
        case(
            "deleteCredentials",
            M::DELETE,
            "/auth/users/{self}/credentials/{selfkey}",
            None,
            OwnCredentials,
        ),
        case(
            "deletePolicy",
            M::DELETE,
            "/auth/policies/doomed-policy",
            None,
            Admin,
        ),
        case(
            "deleteGroup",
            M::DELETE,
            "/auth/groups/doomed-group",
            None,
            Admin,
        ),
        case(
            "deleteUser",
            M::DELETE,
            "/auth/users/doomed-user",
            None,
            Admin,
        ),
        case(
            "deleteObject",
            M::DELETE,
            "/repositories/{repo}/branches/main/objects?path=data/up-{role}.txt",
            None,
            Write,
        ),
        case(
            "deleteObjects",
            M::POST,
            "/repositories/{repo}/branches/main/objects/delete",
            Some(r#"{"paths":["data/copy-{role}.txt"]}"#),
            Write,
        ),
        case(
            "deleteTag",
            M::DELETE,
            "/repositories/{repo}/tags/doomed-tag",
            None,
            Write,
        ),
        case(
            "deleteBranch",
            M::DELETE,
            "/repositories/{repo}/branches/doomed-branch",
            None,
            Write,
        ),
        case(
            "deleteRepository",
            M::DELETE,
            "/repositories/{repo}",
            None,
            Admin,
        ),
    ]
}

fn allowed(need: Need, role: &str) -> bool {
    match role {
        "quickstart" => true,
        "developer" => matches!(
            need,
            Need::Public | Need::Any | Need::Read | Need::Write | Need::OwnCredentials
        ),
        "viewer" => matches!(
            need,
            Need::Public | Need::Any | Need::Read | Need::OwnCredentials
        ),
        _ => need == Need::Public,
    }
}

fn fill(template: &str, who: Option<&Who>, repo: &str, commit: &str) -> String {
    let (name, key) = who.map_or(("anonymous", "AKIAJNOSUCHKEY"), |w| {
        (w.name, w.spare_key.as_str())
    });
    template
        .replace("{repo}", repo)
        .replace("{self}", name)
        .replace("{selfkey}", key)
        .replace("{commit}", commit)
        .replace("{role}", name)
}

fn repo_scoped(c: &Case) -> bool {
    c.path.contains("{repo}")
}

async fn run(world: &World, c: &Case, who: Option<&Who>, repo: &str) -> (StatusCode, Value) {
    let path = fill(c.path, who, repo, &world.commit);
    let body = c.body.map(|b| fill(b, who, repo, &world.commit));
    let json = body
        .as_deref()
        .map(|b| serde_json::from_str::<Value>(b).unwrap());
    if c.id == "uploadObject" {
        // Raw bytes, not JSON.
        let mut r = world
            .api
            .http
            .post(format!("{}/api/v1{path}", world.api.tarn.url))
            .body("uploaded");
        if let Some(w) = who {
            r = r.basic_auth(&w.key, Some(&w.secret));
        }
        let resp = r.send().await.unwrap();
        let status = resp.status();
        return (status, resp.json().await.unwrap_or(Value::Null));
    }
    world.call(who, c.method.clone(), &path, json).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_checks_its_permission_for_every_kind_of_user() {
    let world = World::start(&[]).await;
    let viewer = world.who("viewer").clone();
    let developer = world.who("developer").clone();
    let outsider = world.who("outsider").clone();
    let admin = world.who("quickstart").clone();

    // The table covers the whole served API.
    let doc: Value = reqwest::get(format!("{}/openapi.json", world.api.tarn.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let documented: BTreeSet<String> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .map(|op| op["operationId"].as_str().unwrap().to_owned())
        .collect();
    let tested: BTreeSet<String> = cases().iter().map(|c| c.id.to_owned()).collect();
    assert_eq!(tested, documented, "the table must cover every operation");

    let mut checked = 0;
    for c in cases() {
        // The outsider, on the repository it is denied: refused, always.
        if repo_scoped(&c) {
            let (s, v) = run(&world, &c, Some(&outsider), "secret").await;
            assert_eq!(
                s,
                StatusCode::FORBIDDEN,
                "outsider on secret: {} {}: {v}",
                c.id,
                c.path
            );
            if c.method != Method::HEAD {
                assert_eq!(v["message"], "insufficient permissions", "{}", c.id);
            }
            checked += 1;
        }
        for who in [None, Some(&viewer), Some(&developer), Some(&admin)] {
            let role = who.map_or("anonymous", |w| w.name);
            let (s, v) = run(&world, &c, who, "open").await;
            let what = format!("{role}: {} {} {}", c.id, c.method, c.path);
            if allowed(c.need, role) {
                assert!(
                    s != StatusCode::UNAUTHORIZED
                        && s != StatusCode::FORBIDDEN
                        && !s.is_server_error(),
                    "{what} should be allowed, got {s}: {v}"
                );
            } else if who.is_none() {
                assert_eq!(s, StatusCode::UNAUTHORIZED, "{what}: {v}");
            } else {
                assert_eq!(s, StatusCode::FORBIDDEN, "{what}: {v}");
                if c.method != Method::HEAD {
                    assert_eq!(v["message"], "insufficient permissions", "{what}");
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 300, "{checked}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_show_only_what_the_caller_may_read() {
    let world = World::start(&[]).await;
    let ids = |v: &Value| -> Vec<String> {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (s, v) = world
        .call(
            Some(world.who("viewer")),
            Method::GET,
            "/repositories",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ids(&v), ["open", "secret"]);
    let outsider = world.who("outsider");
    let (_, v) = world
        .call(Some(outsider), Method::GET, "/repositories", None)
        .await;
    assert_eq!(ids(&v), ["open"], "the denied repository is hidden");
    // Paging over a hidden repository still fills pages.
    let (_, v) = world
        .call(Some(outsider), Method::GET, "/repositories?amount=1", None)
        .await;
    assert_eq!(
        (ids(&v), v["pagination"]["has_more"].as_bool()),
        (vec!["open".to_owned()], Some(false))
    );
    // Same answer whether the denied repository exists or not: no leak.
    let (s1, v1) = world
        .call(Some(outsider), Method::GET, "/repositories/secret", None)
        .await;
    let (s2, v2) = world
        .call(
            Some(outsider),
            Method::GET,
            "/repositories/secret-nope",
            None,
        )
        .await;
    assert_eq!(
        (s1, &v1),
        (
            StatusCode::FORBIDDEN,
            &json!({"message": "insufficient permissions"})
        )
    );
    assert_eq!(
        (s2, &v2),
        (s1, &v1),
        "DenySecret covers secret*, existing or not"
    );
    // The outsider still works on other repositories.
    let (s, _) = world
        .call(
            Some(outsider),
            Method::POST,
            "/repositories/open/branches",
            Some(json!({"name": "mine", "source": "main"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    // Presigned listings hand out read URLs: they need fs:ReadObject too.
    let admin = world.who("quickstart");
    let list_only = json!({"id": "ListOnly", "statement": [{"effect": "allow",
        "action": ["fs:ListObjects", "fs:ReadRepository"], "resource": "*"}]});
    let (s, _) = world
        .call(Some(admin), Method::POST, "/auth/policies", Some(list_only))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = world
        .call(
            Some(admin),
            Method::POST,
            "/auth/users",
            Some(json!({"id": "lister"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = world
        .call(
            Some(admin),
            Method::PUT,
            "/auth/users/lister/policies/ListOnly",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, creds) = world
        .call(
            Some(admin),
            Method::POST,
            "/auth/users/lister/credentials",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let lister = Who {
        name: "lister",
        key: creds["access_key_id"].as_str().unwrap().to_owned(),
        secret: creds["secret_access_key"].as_str().unwrap().to_owned(),
        spare_key: String::new(),
    };
    let (s, _) = world
        .call(
            Some(&lister),
            Method::GET,
            "/repositories/open/refs/main/objects/ls",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = world
        .call(
            Some(&lister),
            Method::GET,
            "/repositories/open/refs/main/objects/ls?presign=true",
            None,
        )
        .await;
    if support::test_s3().is_some() {
        assert_eq!(
            s,
            StatusCode::FORBIDDEN,
            "presigned URLs need fs:ReadObject: {v}"
        );
    } else {
        assert_eq!(
            s,
            StatusCode::OK,
            "no presigning on a local block store: {v}"
        );
    }
    // Effective policies include the groups'.
    let (_, v) = world
        .call(
            Some(world.who("quickstart")),
            Method::GET,
            "/auth/users/outsider/policies?effective=true",
            None,
        )
        .await;
    let mut policies = ids(&v);
    policies.sort();
    assert!(
        policies.contains(&"DenySecret".to_owned())
            && policies.contains(&"FSReadWriteAll".to_owned()),
        "{policies:?}"
    );
    let (_, v) = world
        .call(
            Some(world.who("quickstart")),
            Method::GET,
            "/auth/users/outsider/policies",
            None,
        )
        .await;
    assert_eq!(ids(&v), ["DenySecret"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn percent_encoded_paths_are_checked_like_plain_ones() {
    let world = World::start(&[]).await;
    let viewer = world.who("viewer");
    let outsider = world.who("outsider");
    // Encoding a letter of a fixed segment still routes to the operation,
    // so it must still need the operation's permission.
    let attempts = [
        (
            viewer,
            Method::PUT,
            "/auth/users/viewer/polic%69es/AuthFullAccess",
        ),
        (viewer, Method::DELETE, "/repositori%65s/open"),
        (
            viewer,
            Method::POST,
            "/auth/us%65rs/viewer/credentials/../../spare/credentials",
        ),
        (outsider, Method::GET, "/repositories/s%65cret"),
        (
            outsider,
            Method::GET,
            "/repositories/secret/refs/main/obj%65cts?path=data/a.txt",
        ),
    ];
    for (who, method, path) in attempts {
        let (s, v) = world.call(Some(who), method.clone(), path, None).await;
        assert!(
            s == StatusCode::FORBIDDEN || s == StatusCode::NOT_FOUND,
            "{} {method} {path}: {s} {v}",
            who.name
        );
    }
    let (s, v) = world
        .call(
            Some(viewer),
            Method::GET,
            "/auth/users/viewer/policies?effective=true",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (_, v) = world
        .call(
            Some(world.who("quickstart")),
            Method::GET,
            "/auth/users/viewer/policies",
            None,
        )
        .await;
    assert_eq!(v["results"], json!([]), "nothing was attached");
    let (s, _) = world
        .call(Some(viewer), Method::GET, "/repositories/open", None)
        .await;
    assert_eq!(s, StatusCode::OK, "the repository is still there");
    // Ids with wildcards are refused: `${user}` must not widen a policy.
    let (s, v) = world
        .call(
            Some(world.who("quickstart")),
            Method::POST,
            "/auth/users",
            Some(json!({"id": "*"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_and_tampered_tokens_are_401() {
    let world = World::start(&[]).await;
    let dev = world.who("developer").clone();
    let url = &world.api.tarn.url;
    let http = &world.api.http;
    let user = |b: reqwest::RequestBuilder| async move { b.send().await.unwrap().status() };
    let wrong = http
        .get(format!("{url}/api/v1/user"))
        .basic_auth(&dev.key, Some("wrong-secret"));
    assert_eq!(user(wrong).await, StatusCode::UNAUTHORIZED);
    let unknown = http
        .get(format!("{url}/api/v1/user"))
        .basic_auth("AKIAJNOSUCHKEYXXXXXQ", Some(&dev.secret));
    assert_eq!(user(unknown).await, StatusCode::UNAUTHORIZED);
    // Login gives a token that works as a Bearer and as the session cookie.
    let (s, v) = world
        .call(
            None,
            Method::POST,
            "/auth/login",
            Some(json!({"access_key_id": dev.key, "secret_access_key": dev.secret})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let token = v["token"].as_str().unwrap().to_owned();
    let bearer = http.get(format!("{url}/api/v1/user")).bearer_auth(&token);
    let me: Value = bearer.send().await.unwrap().json().await.unwrap();
    assert_eq!(me["user"]["id"], "developer");
    let cookie = http
        .get(format!("{url}/api/v1/user"))
        .header("cookie", format!("internal_auth_session={token}"));
    assert_eq!(user(cookie).await, StatusCode::OK);
    // The token carries the developer's permissions, no more.
    let users = http
        .get(format!("{url}/api/v1/auth/users"))
        .bearer_auth(&token);
    assert_eq!(user(users).await, StatusCode::FORBIDDEN);
    // Tampered: a changed payload (claiming to be the admin) or signature.
    let parts: Vec<&str> = token.split('.').collect();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    claims["sub"] = json!("quickstart");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(claims.to_string()),
        parts[2]
    );
    let r = http
        .get(format!("{url}/api/v1/auth/users"))
        .bearer_auth(&forged);
    assert_eq!(user(r).await, StatusCode::UNAUTHORIZED);
    // A character in the middle of the signature (the last one may only
    // carry padding bits).
    let mut sig: Vec<char> = parts[2].chars().collect();
    let mid = sig.len() / 2;
    sig[mid] = if sig[mid] == 'A' { 'B' } else { 'A' };
    let bad_sig = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        sig.iter().collect::<String>()
    );
    let r = http.get(format!("{url}/api/v1/user")).bearer_auth(&bad_sig);
    assert_eq!(user(r).await, StatusCode::UNAUTHORIZED);
    // A login with a wrong secret is refused.
    let (s, _) = world
        .call(
            None,
            Method::POST,
            "/auth/login",
            Some(json!({"access_key_id": dev.key, "secret_access_key": "nope"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // A deleted user's token stops working.
    let (s, _) = world
        .call(
            Some(world.who("quickstart")),
            Method::DELETE,
            "/auth/users/developer",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let r = http.get(format!("{url}/api/v1/user")).bearer_auth(&token);
    assert_eq!(user(r).await, StatusCode::UNAUTHORIZED);
}
