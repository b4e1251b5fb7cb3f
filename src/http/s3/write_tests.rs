//! Gateway writes in process, on a real (SQLite) metadata store: a PUT reads
//! the repository and branch once (the engine's read, counted as statements
//! sent), and errors come in the order S3 clients expect.

use super::GatewayConfig;
use crate::http::shared::session::AuthState;
use actix_web::http::StatusCode;
use actix_web::test as atest;
use actix_web::{web, App};
use std::sync::Arc;
use tarn_adapter_memory::{MemoryAuthStore, MemoryBlockStore, SystemClock, UniqueIds};
use tarn_adapter_sql::{Backend, SqlStore};
use tarn_domain::auth::{Auth, AuthSettings};
use tarn_domain::{Engine, EngineSettings, Stores};
use tarn_model::{BranchName, RepositoryId, StorageNamespace};
use tarn_ports::Clock;
use tarn_s3_protocol::sigv4;

/// A PUT's path and extra headers, and the status and code it gets.
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], u16, &'a str);

#[actix_web::test]
async fn a_put_reads_the_repository_and_branch_once() {
    let dir = tempfile::tempdir().unwrap();
    let sql = Arc::new(
        SqlStore::open(&Backend::Sqlite {
            path: dir.path().join("meta.db"),
            max_connections: 2,
            cache_bytes: tarn_adapter_sql::DEFAULT_SQLITE_CACHE_BYTES,
        })
        .await
        .unwrap(),
    );
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    let stores = Stores {
        blocks: Arc::new(MemoryBlockStore::new(clock.clone())),
        refs: sql.clone(),
        staging: sql.clone(),
        multipart: sql.clone(),
        clock: clock.clone(),
        ids: Arc::new(UniqueIds::new()),
    };
    let engine = web::Data::new(Engine::new(stores, EngineSettings::default()));
    engine
        .create_repository(
            RepositoryId::new("repo").unwrap(),
            StorageNamespace::new("mem://repo").unwrap(),
            BranchName::new("main").unwrap(),
        )
        .await
        .unwrap();
    engine
        .create_repository_with(
            RepositoryId::new("frozen").unwrap(),
            StorageNamespace::new("mem://frozen").unwrap(),
            BranchName::new("main").unwrap(),
            true,
        )
        .await
        .unwrap();
    engine
        .set_branch_protection(
            &RepositoryId::new("repo").unwrap(),
            vec!["prod*".into()],
            None,
        )
        .await
        .unwrap();
    let settings = AuthSettings {
        cache_ttl: std::time::Duration::from_secs(60),
        cache_size: 100,
    };
    let auth = Auth::new(
        Arc::new(MemoryAuthStore::new()),
        clock.clone(),
        "put reads test",
        &settings,
    )
    .unwrap();
    let key = auth.setup("admin", None).await.unwrap();
    let app = atest::init_service(
        App::new()
            .app_data(engine.clone())
            .app_data(web::Data::new(AuthState::new(Arc::new(auth), "k")))
            .app_data(web::Data::new(GatewayConfig {
                domains: vec!["s3.local.lakefs.io".into()],
                region: "us-east-1".into(),
            }))
            .configure(super::gateway_only),
    )
    .await;
    let put = |path: &str, headers: &[(&str, &str)]| {
        let host = "localhost:8000".to_owned();
        let (date, authorization) = sigv4::sign_header(
            "PUT",
            path,
            "",
            &[("host".to_owned(), host.clone())],
            sigv4::UNSIGNED_PAYLOAD,
            key.access_key_id.as_str(),
            &key.secret_access_key,
            "us-east-1",
            clock.now().unix_seconds(),
        );
        let mut req = atest::TestRequest::put()
            .uri(path)
            .insert_header(("host", host))
            .insert_header(("x-amz-date", date))
            .insert_header(("x-amz-content-sha256", sigv4::UNSIGNED_PAYLOAD))
            .insert_header(("authorization", authorization));
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        req.set_payload("hello").to_request()
    };
    // A first PUT warms what is cached (the access key, the policies).
    let resp = atest::call_service(&app, put("/repo/main/warm.txt", &[])).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let before = sql.round_trips().get();
    let resp = atest::call_service(&app, put("/repo/main/data.txt", &[])).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let sent = sql.round_trips().get() - before;
    // One read of repository + branch, the staging write, and the check that
    // the staging token is still the branch's (what makes the write safe).
    assert_eq!(sent, 3, "statements for one PUT");
    // Errors, in the order S3 answers them: a missing bucket first, then a
    // missing branch (before the repository's rules), then the write's own.
    let big = "v".repeat(3000);
    let cases: &[Case] = &[
        ("/nope/main/x", &[], 404, "NoSuchBucket"),
        (
            "/nope/main/x",
            &[("x-amz-meta-big", big.as_str())],
            404,
            "NoSuchBucket",
        ),
        ("/repo/nope/x", &[], 404, "NoSuchBucket"),
        ("/repo/prod-missing/x", &[], 404, "NoSuchBucket"),
        ("/frozen/nope/x", &[], 404, "NoSuchBucket"),
        ("/frozen/main/x", &[], 403, "ErrReadOnlyRepository"),
        (
            "/repo/main/x",
            &[("x-amz-meta-big", big.as_str())],
            400,
            "MetadataTooLarge",
        ),
        (
            "/repo/main/x",
            &[("if-none-match", "\"abc\"")],
            501,
            "NotImplemented",
        ),
        // If-None-Match: * wins over If-Match: the object exists, so no write.
        (
            "/repo/main/data.txt",
            &[("if-none-match", "*"), ("if-match", "\"whatever\"")],
            412,
            "PreconditionFailed",
        ),
    ];
    for (path, headers, status, code) in cases {
        let resp = atest::call_service(&app, put(path, headers)).await;
        let got = resp.status().as_u16();
        let body = atest::read_body(resp).await;
        let text = String::from_utf8_lossy(&body);
        assert_eq!(got, *status, "{path} {headers:?} answered {got}: {text}");
        assert!(
            text.contains(&format!("<Code>{code}</Code>")),
            "{path} {headers:?}: {text}"
        );
    }
}
