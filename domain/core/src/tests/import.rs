//! Zero-copy import over the memory adapters.

use super::*;
use crate::{ImportKind, ImportObserver, ImportPath};
use tarn_ports::ByteStream;

struct Quiet;
impl ImportObserver for Quiet {
    fn ingested(&self, _: u64) {}
}

struct Stop;
impl ImportObserver for Stop {
    fn ingested(&self, _: u64) {}
    fn cancelled(&self) -> bool {
        true
    }
}

async fn put_source(f: &Fixture, key: &str, body: &str) {
    f.engine
        .stores
        .blocks
        .put(
            &StorageNamespace::new("mem://source").unwrap(),
            &BlockKey::new(key).unwrap(),
            ByteStream::from_bytes(body.as_bytes().to_vec()),
            Some(body.len() as u64),
        )
        .await
        .unwrap();
}

fn prefix(source: &str, destination: &str) -> ImportPath {
    ImportPath {
        source: source.into(),
        destination: destination.into(),
        kind: ImportKind::Prefix,
    }
}

fn commit_req() -> CommitRequest {
    CommitRequest {
        message: "import".into(),
        committer: "tester".into(),
        ..Default::default()
    }
}

async fn body(f: &Fixture, reference: &str, path: &str) -> String {
    let read = f
        .engine
        .read_object(&f.repo, reference, &p(path), None)
        .await
        .unwrap();
    let bytes = read.data.body.collect_bounded(1 << 20).await.unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn a_prefix_import_replaces_the_destination_in_one_commit() {
    let f = fixture().await;
    for (k, v) in [
        ("lake/a.csv", "A"),
        ("lake/sub/b.csv", "B"),
        ("other/c", "C"),
    ] {
        put_source(&f, k, v).await;
    }
    f.put("main", "imported/stale.csv", "old").await;
    f.put("main", "keep.txt", "kept").await;
    f.commit("main", "before").await;
    f.put("main", "staged.txt", "staged").await;
    let (commit, n) = f
        .engine
        .import(
            &f.repo,
            &b("main"),
            &[prefix("mem://source/lake/", "imported/")],
            commit_req(),
            &Quiet,
        )
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(
        f.list(commit.id.as_str(), "", None).await,
        vec!["imported/a.csv", "imported/sub/b.csv", "keep.txt"]
    );
    assert_eq!(body(&f, "main", "imported/sub/b.csv").await, "B");
    // The data was not copied: the entry points at the source.
    let stat = f
        .engine
        .stat_object(&f.repo, "main", &p("imported/a.csv"))
        .await
        .unwrap();
    assert_eq!(
        stat.address
            .uri(&StorageNamespace::new("mem://repo").unwrap()),
        "mem://source/lake/a.csv"
    );
    // Staged changes stay staged, on top of the import.
    assert_eq!(
        f.read("main", "staged.txt").await.as_deref(),
        Some("staged")
    );
    assert_eq!(f.read(commit.id.as_str(), "staged.txt").await, None);
    let head = f.engine.get_branch(&f.repo, &b("main")).await.unwrap();
    assert_eq!(head.commit_id, commit.id);
}

#[tokio::test]
async fn objects_import_one_by_one_and_bad_paths_are_refused() {
    let f = fixture().await;
    put_source(&f, "one/file.bin", "X").await;
    let object = ImportPath {
        source: "mem://source/one/file.bin".into(),
        destination: "here/file.bin".into(),
        kind: ImportKind::Object,
    };
    let (_, n) = f
        .engine
        .import(
            &f.repo,
            &b("main"),
            std::slice::from_ref(&object),
            commit_req(),
            &Quiet,
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(body(&f, "main", "here/file.bin").await, "X");
    let head = f.engine.get_branch(&f.repo, &b("main")).await.unwrap();
    for bad in [
        vec![
            prefix("mem://source/a/", "x/"),
            prefix("mem://source/b/", "x/y/"),
        ],
        vec![prefix("mem://repo/data/", "x/")],
        vec![prefix("not a uri", "x/")],
        vec![ImportPath {
            source: "mem://source/one/".into(),
            destination: "x".into(),
            kind: ImportKind::Object,
        }],
        vec![],
    ] {
        let res = f
            .engine
            .import(&f.repo, &b("main"), &bad, commit_req(), &Quiet)
            .await;
        assert!(
            matches!(res, Err(Error::InvalidInput { .. })),
            "{bad:?}: {res:?}"
        );
    }
    let missing = ImportPath {
        source: "mem://source/none".into(),
        ..object
    };
    assert!(matches!(
        f.engine
            .import(&f.repo, &b("main"), &[missing], commit_req(), &Quiet)
            .await,
        Err(Error::InvalidInput { .. })
    ));
    // An empty source would only empty the destination: refused.
    assert!(matches!(
        f.engine
            .import(
                &f.repo,
                &b("main"),
                &[prefix("mem://source/nothing/", "here/")],
                commit_req(),
                &Quiet
            )
            .await,
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        f.engine
            .check_import(
                &f.repo,
                &b("main"),
                &[prefix("mem://source/nothing/", "here/")]
            )
            .await,
        Err(Error::InvalidInput { .. })
    ));
    assert_eq!(body(&f, "main", "here/file.bin").await, "X");
    // A canceled import leaves the branch as it was.
    put_source(&f, "more/x", "x").await;
    assert!(matches!(
        f.engine
            .import(
                &f.repo,
                &b("main"),
                &[prefix("mem://source/more/", "m/")],
                commit_req(),
                &Stop
            )
            .await,
        Err(Error::Canceled(_))
    ));
    let after = f.engine.get_branch(&f.repo, &b("main")).await.unwrap();
    assert_eq!(after.commit_id, head.commit_id);
}
