//! Every REST operation against every kind of user: the admin may do
//! everything; a Viewer reads but cannot write, commit, merge or delete; a
//! Developer writes but cannot manage users or repositories; a user denied
//! one repository cannot touch it; nobody gets in without credentials. The
//! table must name every operation of the OpenAPI document.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use support::rbac::{Who, World};
use support::rbac_cases::{allowed, cases, Case};

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
    if c.id == "uploadObjectArchive" {
        // A tar archive of one file, not JSON.
        let name = format!("data/archived-{}.txt", who.map_or("anonymous", |w| w.name));
        let tar = support::tar::archive(&[support::tar::File::new(&name, "archived")]).await;
        let mut r = world
            .api
            .http
            .post(format!("{}/api/v1{path}", world.api.tarn.url))
            .body(tar);
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
    // (Each answer carries its own request id; the rest must be equal.)
    let (mut v1, mut v2) = (v1, v2);
    for v in [&mut v1, &mut v2] {
        assert!(v["request_id"].is_string(), "{v}");
        v.as_object_mut().unwrap().remove("request_id");
    }
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
