use super::*;
use crate::http::shared::session::AuthState;
use actix_web::http::StatusCode;
use actix_web::test as atest;
use actix_web::{App, HttpResponse};
use base64::Engine as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tarn_adapter_memory::{MemoryAuthStore, SystemClock};
use tarn_domain::auth::{Auth, AuthSettings};

/// The permission for a request to `path` (under `/api/v1`) with `query`,
/// binding `{name}` segments of the operation's path to `path`'s segments.
fn permission(op: &Operation, path: &str, query: &str) -> Option<Permission> {
    let bound: Vec<(String, String)> = op
        .path
        .split('/')
        .zip(path.split('/'))
        .filter_map(|(p, v)| {
            let name = p.strip_prefix('{')?.strip_suffix('}')?;
            Some((name.to_owned(), decode(v)))
        })
        .collect();
    op.permission_with(|name| {
        if name == "path" {
            return query_path(query);
        }
        bound
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    })
}

#[test]
fn permissions_bind_path_and_query_parameters() {
    let op = operation(
        &Method::GET,
        "/api/v1/repositories/{repository}/refs/{ref}/objects",
    )
    .unwrap();
    assert_eq!(op.id, "getObject");
    let perm = permission(
        op,
        "/repositories/demo/refs/main/objects",
        "path=a%2Fb%20c.txt&presign=false",
    )
    .unwrap();
    assert_eq!(perm.action, Action::ReadObject);
    assert_eq!(
        perm.resource,
        "arn:lakefs:fs:::repository/demo/object/a/b c.txt"
    );
    let merge = operation(
        &Method::POST,
        "/api/v1/repositories/{repository}/refs/{sourceRef}/merge/{destinationBranch}",
    )
    .unwrap();
    let perm = permission(merge, "/repositories/r/refs/dev/merge/main", "").unwrap();
    assert_eq!(perm.resource, "arn:lakefs:fs:::repository/r/branch/main");
}

#[test]
fn templates_fill_in_one_pass() {
    let op = operation(&Method::POST, "/api/v1/auth/users/{userId}/credentials").unwrap();
    let perm = permission(op, "/auth/users/%7Bpath%7D/credentials", "path=viewer").unwrap();
    assert_eq!(perm.resource, "arn:lakefs:auth:::user/{path}");
    let invalid = permission(op, "/auth/users/a%FFb/credentials", "").unwrap();
    assert_eq!(invalid.resource, "arn:lakefs:auth:::user/a\u{FFFD}b");
}

#[test]
fn public_operations_need_no_permission() {
    let login = operation(&Method::POST, "/api/v1/auth/login").unwrap();
    assert_eq!(login.access, Access::Public);
    assert!(permission(login, "/auth/login", "").is_none());
}

#[test]
fn operations_are_unique() {
    let mut routes = std::collections::HashSet::new();
    let mut ids = std::collections::HashSet::new();
    for op in crate::http::api::operations() {
        assert!(
            routes.insert((op.method.clone(), op.path)),
            "{} {} declared twice",
            op.method,
            op.path
        );
        assert!(ids.insert(op.id), "{} declared twice", op.id);
    }
}

#[test]
fn the_document_describes_exactly_the_declared_operations() {
    let doc = serde_json::to_value(crate::http::api::openapi::document()).unwrap();
    let mut documented = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, entry) in item.as_object().unwrap() {
            let id = entry["operationId"].as_str().unwrap();
            let relative = path.strip_prefix(crate::http::api::PREFIX).unwrap();
            let declared = crate::http::api::operations()
                .find(|o| o.id == id)
                .unwrap_or_else(|| panic!("{id} is documented but not declared"));
            assert_eq!(declared.path, relative, "{id}");
            assert_eq!(declared.method.as_str().to_ascii_lowercase(), *method);
            assert!(entry["tags"].as_array().is_some_and(|t| !t.is_empty()));
            documented.insert(id);
        }
    }
    let declared: std::collections::BTreeSet<_> =
        crate::http::api::operations().map(|o| o.id).collect();
    assert_eq!(documented, declared);
    // Every schema a body names is in the components.
    let text = doc.to_string();
    for reference in text.split("\"#/components/schemas/").skip(1) {
        let name = &reference[..reference.find('"').unwrap()];
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "{name} is referred to but not described"
        );
    }
}

#[test]
fn no_declared_operation_is_also_listed_as_unimplemented() {
    for (method, path, id) in crate::http::api::unimplemented::UNIMPLEMENTED {
        assert!(
            operation(
                &Method::from_bytes(method.as_bytes()).unwrap(),
                &format!("{}{path}", crate::http::api::PREFIX)
            )
            .is_none(),
            "{id} is served; remove it from unimplemented.rs"
        );
    }
}

/// The status a request gets, whether the guard or a handler answers.
macro_rules! status {
    ($app:expr, $req:expr) => {
        match atest::try_call_service($app, $req).await {
            Ok(resp) => resp.status(),
            Err(e) => e.as_response_error().status_code(),
        }
    };
}

/// An auth state with one admin, and its Basic credentials.
async fn admin() -> (web::Data<AuthState>, String) {
    let settings = AuthSettings {
        cache_ttl: std::time::Duration::from_secs(1),
        cache_size: 100,
    };
    let auth = Auth::new(
        Arc::new(MemoryAuthStore::new()),
        Arc::new(SystemClock::new()),
        "operation test key",
        &settings,
    )
    .unwrap();
    let key = auth.setup("admin", None).await.unwrap();
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", key.access_key_id, key.secret_access_key));
    let state = web::Data::new(AuthState::new(Arc::new(auth), "operation test key"));
    (state, format!("Basic {basic}"))
}

#[actix_web::test]
async fn an_undeclared_route_is_refused_not_served() {
    static SERVED: AtomicBool = AtomicBool::new(false);
    let (state, credentials) = admin().await;
    let app = atest::init_service(
        App::new().app_data(state).service(
            web::scope(crate::http::api::PREFIX)
                .service(crate::http::api::resource("/undeclared").get(|| async {
                    SERVED.store(true, Ordering::SeqCst);
                    HttpResponse::Ok().body("secret")
                }))
                // An extra method on a declared path is not declared either.
                .service(crate::http::api::resource("/repositories").patch(|| async {
                    SERVED.store(true, Ordering::SeqCst);
                    HttpResponse::Ok().body("secret")
                })),
        ),
    )
    .await;
    let req = atest::TestRequest::get()
        .uri("/api/v1/undeclared")
        .insert_header(("Authorization", credentials.as_str()))
        .to_request();
    assert_eq!(status!(&app, req), StatusCode::INTERNAL_SERVER_ERROR);
    let req = atest::TestRequest::patch()
        .uri("/api/v1/repositories")
        .insert_header(("Authorization", credentials.as_str()))
        .to_request();
    assert_eq!(status!(&app, req), StatusCode::NOT_FOUND);
    let req = atest::TestRequest::patch()
        .uri("/api/v1/repositories")
        .to_request();
    assert_eq!(status!(&app, req), StatusCode::UNAUTHORIZED);
    assert!(
        !SERVED.load(Ordering::SeqCst),
        "an undeclared route was served"
    );
}

#[actix_web::test]
async fn declared_routes_are_served_through_the_guard() {
    let (state, credentials) = admin().await;
    let app = atest::init_service(
        App::new()
            .app_data(state)
            .configure(crate::http::api::routes),
    )
    .await;
    // A public operation, without credentials.
    let req = atest::TestRequest::get()
        .uri("/api/v1/auth/capabilities")
        .to_request();
    assert_eq!(
        atest::call_service(&app, req).await.status(),
        StatusCode::OK
    );
    // An authenticated one: 401 without credentials, served with them.
    let req = atest::TestRequest::get().uri("/api/v1/user").to_request();
    assert_eq!(status!(&app, req), StatusCode::UNAUTHORIZED);
    let req = atest::TestRequest::get()
        .uri("/api/v1/user")
        .insert_header(("Authorization", credentials.as_str()))
        .to_request();
    let resp = atest::call_service(&app, req).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: serde_json::Value = atest::read_body_json(resp).await;
    assert_eq!(body["user"]["id"], "admin");
}

#[test]
fn every_permission_template_is_bound_by_its_path() {
    for op in crate::http::api::operations() {
        let Access::Requires(_, template) = op.access else {
            continue;
        };
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            let close = rest[open..].find('}').unwrap() + open;
            let name = &rest[open + 1..close];
            assert!(
                name == "path" || op.path.contains(&format!("{{{name}}}")),
                "{}: {{{name}}} is not a parameter of {}",
                op.id,
                op.path
            );
            rest = &rest[close + 1..];
        }
    }
}

/// Through the nested scopes, a request for each declared operation (path
/// parameters filled in with values no static segment has) reaches the
/// resource of exactly that operation's path, as the router reports it
/// to the guard.
#[actix_web::test]
async fn every_declared_operation_is_routed_to_its_own_path() {
    let paths = crate::http::api::declared_paths();
    let scope = crate::http::api::nesting::nest(
        web::scope(crate::http::api::PREFIX),
        "",
        &paths,
        &|_, relative| {
            web::resource(relative).to(|req: actix_web::HttpRequest| async move {
                HttpResponse::Ok().body(req.match_pattern().unwrap_or_default())
            })
        },
    );
    let app = atest::init_service(App::new().service(scope)).await;
    let mut checked = 0;
    for op in crate::http::api::operations() {
        let concrete: Vec<String> = op
            .path
            .split('/')
            .map(|s| {
                if s.starts_with('{') {
                    format!("v-{}", s.trim_matches(|c| c == '{' || c == '}'))
                } else {
                    s.to_owned()
                }
            })
            .collect();
        let uri = format!("{}{}", crate::http::api::PREFIX, concrete.join("/"));
        let req = atest::TestRequest::default()
            .method(op.method.clone())
            .uri(&uri)
            .to_request();
        let resp = atest::call_service(&app, req).await;
        assert_eq!(resp.status(), StatusCode::OK, "{} {uri}", op.method);
        let body = atest::read_body(resp).await;
        assert_eq!(
            String::from_utf8_lossy(&body),
            format!("{}{}", crate::http::api::PREFIX, op.path),
            "{} {uri} reached another path",
            op.method
        );
        checked += 1;
    }
    assert!(checked > 100, "only {checked} operations");
}

/// A request under a nested scope's head that no resource matches gets the
/// API's fallback (401 to a stranger, 501 for an operation Tarn lacks, 404
/// JSON otherwise), not the app's default; so does a trailing slash.
#[actix_web::test]
async fn unmatched_requests_under_nested_scopes_get_the_api_fallback() {
    let (state, credentials) = admin().await;
    let app = atest::init_service(
        App::new()
            .app_data(state)
            .configure(crate::http::api::routes)
            .default_service(web::to(|| async {
                HttpResponse::Ok().body("the app's default")
            })),
    )
    .await;
    for (method, uri, want) in [
        ("GET", "/api/v1/repositories/r/nope", StatusCode::NOT_FOUND),
        (
            "GET",
            "/api/v1/repositories/r/branches/b/nope",
            StatusCode::NOT_FOUND,
        ),
        ("GET", "/api/v1/repositories/r/", StatusCode::NOT_FOUND),
        (
            "GET",
            "/api/v1/auth/groups/g/acl",
            StatusCode::NOT_IMPLEMENTED,
        ),
        (
            "POST",
            "/api/v1/repositories/r/gc/prepare_commits",
            StatusCode::NOT_IMPLEMENTED,
        ),
    ] {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
        let req = atest::TestRequest::default()
            .method(method.clone())
            .uri(uri)
            .to_request();
        assert_eq!(
            status!(&app, req),
            StatusCode::UNAUTHORIZED,
            "{method} {uri} unauthenticated"
        );
        let req = atest::TestRequest::default()
            .method(method.clone())
            .uri(uri)
            .insert_header(("Authorization", credentials.as_str()))
            .to_request();
        assert_eq!(status!(&app, req), want, "{method} {uri}");
    }
}
