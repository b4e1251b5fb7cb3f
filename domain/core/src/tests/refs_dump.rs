//! Refs dump and restore: a restored copy has the same history; a dump with
//! a forged generation or a dangling ref is refused before any ref is made,
//! so the repository stays bare (and after a dangling ref, the good dump
//! restores into it).

use super::*;
use crate::RefsDump;
use bytes::Bytes;
use futures::StreamExt;
use tarn_model::{BlockKey, TagName};
use tarn_ports::ByteStream;

async fn history(f: &Fixture) {
    f.put("main", "a", "1").await;
    f.commit("main", "one").await;
    f.engine
        .create_branch(&f.repo, b("dev"), "main")
        .await
        .unwrap();
    f.put("dev", "b", "2").await;
    f.commit("dev", "two").await;
    f.put("main", "a", "3").await;
    f.commit("main", "three").await;
    f.engine
        .create_tag(&f.repo, TagName::new("v1").unwrap(), "dev")
        .await
        .unwrap();
}

async fn bare(f: &Fixture, name: &str) -> RepositoryId {
    let id = RepositoryId::new(name).unwrap();
    f.engine
        .create_bare_repository(
            id.clone(),
            StorageNamespace::new("mem://repo").unwrap(),
            b("main"),
            false,
        )
        .await
        .unwrap();
    id
}

async fn object(f: &Fixture, id: &str) -> String {
    let ns = StorageNamespace::new("mem://repo").unwrap();
    let key = BlockKey::new(format!("_tarn/refs/{id}")).unwrap();
    let mut body = f
        .engine
        .stores
        .blocks
        .get(&ns, &key, None)
        .await
        .unwrap()
        .body;
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    String::from_utf8(out).unwrap()
}

async fn write_object(f: &Fixture, id: &str, text: String) {
    let ns = StorageNamespace::new("mem://repo").unwrap();
    let key = BlockKey::new(format!("_tarn/refs/{id}")).unwrap();
    let size = text.len() as u64;
    f.engine
        .stores
        .blocks
        .put(
            &ns,
            &key,
            ByteStream::from_bytes(Bytes::from(text)),
            Some(size),
        )
        .await
        .unwrap();
}

async fn log(f: &Fixture, repo: &RepositoryId, reference: &str) -> Vec<String> {
    let req = crate::LogRequest {
        amount: 100,
        ..Default::default()
    };
    let page = f.engine.log(repo, reference, &req).await.unwrap();
    page.items.into_iter().map(|c| c.id.into_string()).collect()
}

#[tokio::test]
async fn a_restored_copy_has_the_same_history() {
    let f = fixture().await;
    history(&f).await;
    let dump = f.engine.dump_refs(&f.repo).await.unwrap();
    assert_eq!(
        object(&f, &dump.commits_meta_range_id)
            .await
            .lines()
            .count(),
        4
    );
    let copy = bare(&f, "copy").await;
    f.engine.restore_refs(&copy, &dump, false).await.unwrap();
    for reference in ["main", "dev", "v1"] {
        assert_eq!(
            log(&f, &copy, reference).await,
            log(&f, &f.repo, reference).await
        );
    }
    let again = f.engine.restore_refs(&copy, &dump, false).await;
    assert!(
        matches!(again, Err(Error::InvalidInput { .. })),
        "{again:?}"
    );
}

#[tokio::test]
async fn a_forged_dump_is_refused_and_leaves_the_repository_bare() {
    let f = fixture().await;
    history(&f).await;
    let dump = f.engine.dump_refs(&f.repo).await.unwrap();
    let forged_copy = bare(&f, "forged").await;
    // A generation that does not follow from the parents.
    let commits = object(&f, &dump.commits_meta_range_id).await;
    let line = commits
        .lines()
        .find(|l| l.contains("\"generation\":2"))
        .unwrap();
    let forged = commits.replacen(
        line,
        &line.replace("\"generation\":2", "\"generation\":9"),
        1,
    );
    write_object(&f, "commits-forged", forged).await;
    let forged_dump = RefsDump {
        commits_meta_range_id: "commits-forged".into(),
        ..dump.clone()
    };
    let err = f
        .engine
        .restore_refs(&forged_copy, &forged_dump, false)
        .await;
    assert!(
        matches!(&err, Err(Error::InvalidInput { reason, .. }) if reason.contains("generation")),
        "{err:?}"
    );
    let branches = f.engine.list_branches(&forged_copy, "", None, 10).await;
    assert!(branches.unwrap().items.is_empty(), "no ref was made");
    let copy = bare(&f, "copy").await;
    // A branch at a commit the dump does not hold.
    let branches = object(&f, &dump.branches_meta_range_id).await;
    let dangling = format!(
        "{branches}{{\"name\":\"ghost\",\"commit_id\":\"{}\"}}\n",
        "f".repeat(64)
    );
    write_object(&f, "branches-dangling", dangling).await;
    let dangling_dump = RefsDump {
        branches_meta_range_id: "branches-dangling".into(),
        ..dump.clone()
    };
    let err = f.engine.restore_refs(&copy, &dangling_dump, false).await;
    assert!(matches!(err, Err(Error::InvalidInput { .. })), "{err:?}");
    // Nothing was made: still bare, and the good dump restores.
    assert!(f
        .engine
        .list_branches(&copy, "", None, 10)
        .await
        .unwrap()
        .items
        .is_empty());
    f.engine.restore_refs(&copy, &dump, false).await.unwrap();
    assert_eq!(log(&f, &copy, "dev").await, log(&f, &f.repo, "dev").await);
}
