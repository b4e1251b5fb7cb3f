//! Engine tests: many objects at once (the archive extension): a batch is
//! staged whole or not at all, and `stat_many` reads what `stat_object`
//! reads, whether it scans staging by range or path by path.

use super::*;
use bytes::Bytes;
use tarn_ports::ByteStream;

fn described() -> Described {
    (Some("text/plain".into()), BTreeMap::new(), BTreeMap::new())
}

/// The bytes at `path` on main, if it shows an object.
async fn content(f: &Fixture, path: &str) -> Option<String> {
    match f.engine.read_object(&f.repo, "main", &p(path), None).await {
        Ok(read) => {
            let bytes = read.data.body.collect_bounded(1 << 20).await.unwrap();
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        Err(Error::NotFound { .. }) => None,
        Err(e) => panic!("{path}: {e}"),
    }
}

async fn same_as_one_by_one(f: &Fixture, reference: &str, paths: &[ObjectPath]) {
    let (many, _) = f.engine.stat_many(&f.repo, reference, paths).await.unwrap();
    assert_eq!(many.len(), paths.len());
    for (path, got) in paths.iter().zip(&many) {
        let one = f
            .engine
            .stat_object(&f.repo, reference, path)
            .await
            .unwrap();
        assert_eq!(*got, one, "{path}");
    }
}

#[tokio::test]
async fn stat_many_reads_staging_over_commits_as_stat_object_does() {
    let f = fixture().await;
    for i in 0..100 {
        f.put("main", &format!("f/{i:03}"), &format!("v1 {i}"))
            .await;
    }
    f.commit("main", "base").await;
    f.put("main", "f/010", "v2").await;
    f.engine
        .delete_object(&f.repo, &b("main"), &p("f/020"))
        .await
        .unwrap();
    f.put("main", "f/100", "new").await;
    let mut paths: Vec<ObjectPath> = (0..=100)
        .filter(|i| *i != 20)
        .map(|i| p(&format!("f/{i:03}")))
        .collect();
    paths.reverse(); // any order
                     // Few staged entries in the range: read by range.
    same_as_one_by_one(&f, "main", &paths).await;
    // Many more staged entries in the range than paths: path by path.
    for i in 0..2500 {
        f.put("main", &format!("f/050-extra-{i:04}"), "x").await;
    }
    same_as_one_by_one(&f, "main", &paths).await;
    // Committed only, and a deleted path.
    same_as_one_by_one(&f, "main@", &[p("f/020"), p("f/010")]).await;
    let gone = f
        .engine
        .stat_many(&f.repo, "main", &[p("f/001"), p("f/020")])
        .await;
    assert!(
        matches!(gone, Err(Error::NotFound { entity: Entity::Object, ref name }) if name == "f/020"),
        "{gone:?}"
    );
    let (none, _) = f.engine.stat_many(&f.repo, "main", &[]).await.unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn a_batch_shows_nothing_until_staged_then_everything() {
    let f = fixture().await;
    let mut batch = f.engine.object_batch(&f.repo, &b("main")).await.unwrap();
    for i in 0..700 {
        let body = Bytes::from(format!("small {i}"));
        batch
            .add_small(p(&format!("s/{i:03}")), body, described())
            .await
            .unwrap();
    }
    batch
        .add_stream(
            p("s/large"),
            ByteStream::from_bytes(vec![7u8; 300_000]),
            Some(300_000),
            described(),
        )
        .await
        .unwrap();
    // Twice at one path: the later wins.
    batch
        .add_small(p("s/000"), Bytes::from("again"), described())
        .await
        .unwrap();
    assert_eq!(batch.len(), 702);
    // Held bodies of more than one flush have been written, none staged.
    assert_eq!(content(&f, "s/001").await, None);
    assert_eq!(content(&f, "s/large").await, None);
    let (written, _) = batch.stage().await.unwrap();
    let order: Vec<&str> = written.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(order[..2], ["s/000", "s/001"]);
    assert_eq!(order[700..], ["s/large", "s/000"], "in the order added");
    assert_eq!(content(&f, "s/001").await.as_deref(), Some("small 1"));
    assert_eq!(content(&f, "s/000").await.as_deref(), Some("again"));
    let large = f
        .engine
        .stat_object(&f.repo, "main", &p("s/large"))
        .await
        .unwrap();
    assert_eq!(large.size, 300_000);
    assert_eq!(large.content_type.as_deref(), Some("text/plain"));
}

#[tokio::test]
async fn a_batch_refuses_more_than_it_can_stage_at_once_and_protected_branches() {
    let f = fixture().await;
    let mut batch = f.engine.object_batch(&f.repo, &b("main")).await.unwrap();
    for i in 0..MAX_BATCH_OBJECTS {
        batch
            .add_small(p(&format!("n/{i}")), Bytes::new(), described())
            .await
            .unwrap();
    }
    let more = batch
        .add_small(p("n/over"), Bytes::new(), described())
        .await;
    assert!(matches!(more, Err(Error::InvalidInput { .. })), "{more:?}");
    drop(batch);
    assert_eq!(
        content(&f, "n/0").await,
        None,
        "a dropped batch stages nothing"
    );
    let missing = f.engine.object_batch(&f.repo, &b("nope")).await;
    assert!(matches!(
        missing,
        Err(Error::NotFound {
            entity: Entity::Branch,
            ..
        })
    ));

    // A branch protected while a batch is being written refuses it at
    // staging, and nothing of it shows; then no batch opens on it.
    let mut batch = f.engine.object_batch(&f.repo, &b("main")).await.unwrap();
    batch
        .add_small(p("late/1"), Bytes::from("1"), described())
        .await
        .unwrap();
    let rules = f.engine.branch_protection(&f.repo).await.unwrap();
    f.engine
        .set_branch_protection(&f.repo, vec!["main".into()], Some(&rules.etag))
        .await
        .unwrap();
    let staged = batch.stage().await;
    assert!(
        matches!(staged, Err(Error::ProtectedBranch { .. })),
        "{staged:?}"
    );
    assert_eq!(content(&f, "late/1").await, None);
    let refused = f.engine.object_batch(&f.repo, &b("main")).await;
    assert!(
        matches!(refused, Err(Error::ProtectedBranch { .. })),
        "{:?}",
        refused.err()
    );
}

/// A path asked for twice is found twice, also when only staging holds it
/// and staging is read by range.
#[tokio::test]
async fn stat_many_finds_a_path_asked_for_twice() {
    let f = fixture().await;
    f.put("main", "only/staged", "s").await;
    f.put("main", "only/other", "o").await;
    let paths = [p("only/staged"), p("only/other"), p("only/staged")];
    same_as_one_by_one(&f, "main", &paths).await;
}
