//! Every metadata, auth and job conformance suite, on SQLite (a fresh file per
//! case) and on PostgreSQL (a fresh database per case on the server that
//! `TARN_TEST_POSTGRES_URL` names; `make test` starts one; without it the
//! PostgreSQL cases skip, except under `make test`).

use std::sync::Arc;
use tarn_adapter_sql::testing::{fresh_postgres_database, postgres_url_or_skip};
use tarn_adapter_sql::{Backend, SqlStore};
use tarn_ports::testkit::{
    AuthFixture, JobFixture, MultipartFixture, RefFixture, RunFixture, StagingFixture,
};

async fn sqlite() -> (Arc<SqlStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let backend = Backend::Sqlite {
        path: dir.path().join("tarn.db"),
        max_connections: 8,
        cache_bytes: tarn_adapter_sql::DEFAULT_SQLITE_CACHE_BYTES,
    };
    let store = SqlStore::open(&backend).await.expect("open SQLite");
    (Arc::new(store), dir)
}

/// A store on a fresh database, or `None` (the case skips) without a server.
async fn postgres() -> Option<Arc<SqlStore>> {
    let url = postgres_url_or_skip()?;
    let db = fresh_postgres_database(&url)
        .await
        .expect("create a database");
    let backend = Backend::Postgres {
        connection_string: db,
        max_connections: 8,
        ca_file: None,
    };
    Some(Arc::new(
        SqlStore::open(&backend).await.expect("open PostgreSQL"),
    ))
}

mod on_sqlite {
    use super::*;

    async fn refs() -> RefFixture {
        let (store, dir) = sqlite().await;
        RefFixture {
            store,
            guard: Box::new(dir),
        }
    }
    async fn staging() -> StagingFixture {
        let (store, dir) = sqlite().await;
        StagingFixture {
            store: store.clone(),
            refs: store,
            guard: Box::new(dir),
        }
    }
    async fn multipart() -> MultipartFixture {
        let (store, dir) = sqlite().await;
        MultipartFixture {
            store,
            guard: Box::new(dir),
        }
    }
    async fn auth() -> AuthFixture {
        let (store, dir) = sqlite().await;
        AuthFixture {
            store,
            guard: Box::new(dir),
        }
    }
    async fn jobs() -> JobFixture {
        let (store, dir) = sqlite().await;
        JobFixture {
            store,
            guard: Box::new(dir),
        }
    }
    async fn runs() -> RunFixture {
        let (store, dir) = sqlite().await;
        RunFixture {
            store,
            guard: Box::new(dir),
        }
    }

    tarn_ports::ref_store_conformance!(refs);
    tarn_ports::staging_store_conformance!(staging);
    tarn_ports::multipart_store_conformance!(multipart);
    tarn_ports::auth_store_conformance!(auth);
    tarn_ports::job_store_conformance!(jobs);
    tarn_ports::run_store_conformance!(runs);
}

mod on_postgres {
    use super::*;

    async fn refs() -> Option<RefFixture> {
        Some(RefFixture {
            store: postgres().await?,
            guard: Box::new(()),
        })
    }
    async fn staging() -> Option<StagingFixture> {
        let store = postgres().await?;
        Some(StagingFixture {
            store: store.clone(),
            refs: store,
            guard: Box::new(()),
        })
    }
    async fn multipart() -> Option<MultipartFixture> {
        Some(MultipartFixture {
            store: postgres().await?,
            guard: Box::new(()),
        })
    }
    async fn auth() -> Option<AuthFixture> {
        Some(AuthFixture {
            store: postgres().await?,
            guard: Box::new(()),
        })
    }
    async fn jobs() -> Option<JobFixture> {
        Some(JobFixture {
            store: postgres().await?,
            guard: Box::new(()),
        })
    }
    async fn runs() -> Option<RunFixture> {
        Some(RunFixture {
            store: postgres().await?,
            guard: Box::new(()),
        })
    }

    tarn_ports::ref_store_conformance!(refs);
    tarn_ports::staging_store_conformance!(staging);
    tarn_ports::multipart_store_conformance!(multipart);
    tarn_ports::auth_store_conformance!(auth);
    tarn_ports::job_store_conformance!(jobs);
    tarn_ports::run_store_conformance!(runs);
}

/// Concurrent single staging writes share transactions (group commit),
/// every one of them lands, and a path written twice in one transaction
/// does not fail it.
async fn concurrent_puts_share_transactions(store: Arc<SqlStore>) {
    use tarn_model::{ObjectPath, StagedValue, StagingToken};
    use tarn_ports::StagingStore;
    let t = StagingToken::new("group").expect("token");
    let start = Arc::new(tokio::sync::Barrier::new(64));
    let mut tasks = Vec::new();
    for w in 0..64 {
        let (store, t, start) = (store.clone(), t.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            for i in 0..5 {
                let p = ObjectPath::new(format!("w{w:02}/{i}")).expect("path");
                store.put(&t, &p, &StagedValue::Tombstone).await?;
                // A path every writer writes: batches hold it several times.
                let shared = ObjectPath::new(format!("shared/{i}")).expect("path");
                store.put(&t, &shared, &StagedValue::Tombstone).await?;
            }
            Ok::<_, tarn_ports::PortError>(())
        }));
    }
    for task in tasks {
        task.await.expect("task").expect("put");
    }
    let (batches, rows, retried) = store.staging_group_commits();
    assert_eq!(rows, 640, "every put went through the shared transactions");
    assert!(
        batches < 320,
        "{batches} transactions for 640 concurrent puts"
    );
    assert_eq!(
        retried, 0,
        "a shared transaction failed (a path twice in one?)"
    );
    let staged = store.scan(&t, "", None, 1000).await.expect("scan");
    assert_eq!(staged.len(), 320 + 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_puts_share_transactions_on_sqlite() {
    let (store, _dir) = sqlite().await;
    concurrent_puts_share_transactions(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_puts_share_transactions_on_postgres() {
    if let Some(store) = postgres().await {
        concurrent_puts_share_transactions(store).await;
    }
}
