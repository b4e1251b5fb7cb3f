//! `put_and_read_branch`: the staging write whose answer tells whether a
//! commit may have missed it.

use super::{entry, path, scan_all, StagingFixture};
use crate::testkit::refs::create;
use crate::{ErrorKind, Guarded, RefStore, StagingEntry, StagingStore, PUT_MANY_ATOMIC};
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use tarn_model::{Branch, BranchName, RepositoryId, StagedValue, StagingToken};

fn name(s: &str) -> BranchName {
    BranchName::new(s).unwrap_or_else(|e| panic!("{e}"))
}

fn token(s: &str) -> StagingToken {
    StagingToken::new(s).unwrap_or_else(|e| panic!("{e}"))
}

/// The value is staged, and the branch comes back as `get_branch` would
/// read it after the write (or not at all, from a store without branches).
pub async fn put_and_read_branch_stages_then_reads(f: StagingFixture) {
    let repo = create(&*f.refs, "repo").await;
    let main = f.refs.get_branch(&repo.id, &name("main")).await.unwrap();
    let t = main.staging_token.clone();
    let first = f
        .store
        .put_and_read_branch(&t, &path("a"), &entry(1), (&repo.id, &main.name))
        .await
        .unwrap();
    if let Some(b) = &first {
        assert_eq!(b, &main, "the branch as stored");
    }
    assert_eq!(f.store.get(&t, &path("a")).await.unwrap(), Some(entry(1)));
    // A commit seals the token: the next write reads the branch as it now is.
    let sealed = seal(&f, &repo.id, &main).await;
    let second = f
        .store
        .put_and_read_branch(
            &t,
            &path("b"),
            &StagedValue::Tombstone,
            (&repo.id, &main.name),
        )
        .await
        .unwrap();
    match (&first, &second) {
        (Some(_), Some(b)) => assert_eq!(b, &sealed, "the branch after the seal"),
        (None, None) => {}
        (a, b) => panic!("a store reads the branch always or never: {a:?}, then {b:?}"),
    }
    assert_eq!(
        f.store.get(&t, &path("b")).await.unwrap(),
        Some(StagedValue::Tombstone)
    );
}

/// A missing branch or repository: `NotFound` (or no read), the value staged
/// all the same.
pub async fn put_and_read_branch_of_a_missing_branch_still_stages(f: StagingFixture) {
    let repo = create(&*f.refs, "repo").await;
    let t = token("t");
    let missing = [
        (repo.id.clone(), name("gone")),
        (RepositoryId::new("nope").unwrap(), name("main")),
    ];
    for (i, (r, b)) in missing.iter().enumerate() {
        let p = path(&format!("p{i}"));
        match f
            .store
            .put_and_read_branch(&t, &p, &entry(i as u64), (r, b))
            .await
        {
            Ok(None) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            other => panic!("{r}/{b}: {other:?}"),
        }
        assert_eq!(f.store.get(&t, &p).await.unwrap(), Some(entry(i as u64)));
    }
}

/// Seals `main`'s token as a commit does: a new token `next`, the old one
/// sealed; returns the branch now.
async fn seal(f: &StagingFixture, repo: &RepositoryId, main: &Branch) -> Branch {
    let sealed = Branch {
        staging_token: token("next"),
        sealed_tokens: vec![main.staging_token.clone()],
        ..main.clone()
    };
    f.refs.update_branch(repo, main, &sealed).await.unwrap();
    sealed
}

/// The branch after a write to `t`: from the store, or read after it.
async fn write(
    store: &dyn StagingStore,
    refs: &dyn RefStore,
    t: &StagingToken,
    p: &str,
    (repo, branch): (&RepositoryId, &BranchName),
) -> Branch {
    let p = path(p);
    match store
        .put_and_read_branch(t, &p, &entry(1), (repo, branch))
        .await
        .unwrap()
    {
        Some(b) => b,
        None => refs.get_branch(repo, branch).await.unwrap(),
    }
}

/// A model of writes racing commits: writers follow the safe-write protocol
/// (write under the token they last saw, then, from the branch read after:
/// done if the token is still current, else take the write back unless the
/// token is being committed, and write again under the new one) while a
/// committer seals the current token, reads what it holds (what a commit
/// would take), then unseals and drops it. Every acknowledged write must be
/// in what the committer read of its token, or, for the token current at
/// the end, still staged.
pub async fn acknowledged_writes_survive_concurrent_seals(f: StagingFixture) {
    const WRITERS: usize = 8;
    const WRITES: usize = 40;
    let repo = create(&*f.refs, "repo").await.id;
    let main = name("main");
    let writing = Arc::new(AtomicUsize::new(WRITERS));
    let rewritten = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (store, refs) = (f.store.clone(), f.refs.clone());
        let (repo, main) = (repo.clone(), main.clone());
        let (writing, rewritten) = (writing.clone(), rewritten.clone());
        writers.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for i in 0..WRITES {
                let p = format!("w{w}/{i:03}");
                let mut t = refs.get_branch(&repo, &main).await.unwrap().staging_token;
                for attempt in 0.. {
                    assert!(attempt < 1000, "{p}: never landed");
                    let now = write(&*store, &*refs, &t, &p, (&repo, &main)).await;
                    if now.staging_token == t {
                        break;
                    }
                    rewritten.fetch_add(1, Ordering::Relaxed);
                    if !now.sealed_tokens.contains(&t) {
                        store.delete(&t, &path(&p)).await.unwrap();
                    }
                    t = now.staging_token;
                }
                acknowledged.push((p, t));
            }
            writing.fetch_sub(1, Ordering::Relaxed);
            acknowledged
        }));
    }
    let (stop, committer) = spawn_committer(&f, &repo, 1000);
    let mut acknowledged = Vec::new();
    for w in writers {
        acknowledged.extend(w.await.unwrap());
    }
    assert_eq!(writing.load(Ordering::Relaxed), 0);
    stop.store(true, Ordering::Relaxed);
    let taken = committer.await.unwrap();
    let last = f.refs.get_branch(&repo, &main).await.unwrap().staging_token;
    let staged = scan_slowly(&*f.store, &last, 1000).await;
    assert_eq!(acknowledged.len(), WRITERS * WRITES);
    for (p, t) in &acknowledged {
        let found = if *t == last {
            staged.contains(p)
        } else {
            taken.get(t).is_some_and(|held| held.contains(p))
        };
        assert!(
            found,
            "{p}, acknowledged under {t}, is neither in what its commit took nor staged ({} seals, {} writes redone)",
            taken.len(),
            rewritten.load(Ordering::Relaxed)
        );
    }
    assert!(
        taken.len() >= 3,
        "the committer sealed {} tokens",
        taken.len()
    );
}

fn batch(paths: &[String]) -> Vec<StagingEntry> {
    paths.iter().map(|p| (path(p), entry(7))).collect()
}

/// A batch is staged under the branch's current token, or, from a store
/// that holds the branch, not at all under a token no longer current.
pub async fn put_many_on_branch_stages_only_under_the_current_token(f: StagingFixture) {
    let repo = create(&*f.refs, "repo").await;
    let main = f.refs.get_branch(&repo.id, &name("main")).await.unwrap();
    let t = main.staging_token.clone();
    let on = (&repo.id, &main.name);
    let first = batch(&["a".to_owned(), "b".to_owned()]);
    let answer = f.store.put_many_on_branch(&t, &first, on).await.unwrap();
    let guarded = match answer {
        Guarded::Staged => true,
        Guarded::Unguarded => false,
        Guarded::Moved(b) => panic!("moved while current: {b:?}"),
    };
    assert_eq!(scan_all(&*f.store, &t, "", 10).await, first);
    let sealed = seal(&f, &repo.id, &main).await;
    let late = batch(&["c".to_owned()]);
    match f.store.put_many_on_branch(&t, &late, on).await.unwrap() {
        Guarded::Moved(b) if guarded => {
            assert_eq!(b, sealed, "the branch as it now is");
            assert_eq!(
                scan_all(&*f.store, &t, "", 10).await,
                first,
                "nothing staged"
            );
        }
        Guarded::Unguarded if !guarded => {}
        other => panic!("a sealed token: {other:?} (guarded: {guarded})"),
    }
    // Under the new token it lands.
    let answer = f.store.put_many_on_branch(&token("next"), &late, on).await;
    assert!(
        matches!(answer, Ok(Guarded::Staged | Guarded::Unguarded)),
        "{answer:?}"
    );
    if guarded {
        let gone = (&repo.id, &name("gone"));
        let err = f
            .store
            .put_many_on_branch(&t, &late, gone)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
        let many: Vec<String> = (0..=PUT_MANY_ATOMIC).map(|i| format!("m{i:05}")).collect();
        let next = token("next");
        let err = f
            .store
            .put_many_on_branch(&next, &batch(&many), on)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert_eq!(
            scan_all(&*f.store, &next, "", 10).await,
            late,
            "nothing more staged"
        );
    }
}

/// Scans every entry of `t`, `size` at a time, yielding between pages: what
/// a commit reading a large staging area does, over several queries.
async fn scan_slowly(store: &dyn StagingStore, t: &StagingToken, size: usize) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut after = None;
    loop {
        let page = store.scan(t, "", after.as_ref(), size).await.unwrap();
        tokio::task::yield_now().await;
        let done = page.len() < size;
        after = page.last().map(|(p, _)| p.clone());
        out.extend(page.into_iter().map(|(p, _)| p.as_str().to_owned()));
        if done {
            return out;
        }
    }
}

/// Batches racing commits: writers stage batches of four paths through
/// `put_many_on_branch` (again under the new token when it moved; checked
/// afterwards when the store cannot hold the branch) while a committer
/// seals the token, reads it a page at a time, unseals and drops it. No
/// acknowledged batch is lost, and from a store that holds the branch,
/// every commit took each batch whole or not at all.
pub async fn batches_are_taken_whole_by_commits(f: StagingFixture) {
    const WRITERS: usize = 4;
    const BATCHES: usize = 40;
    let repo = create(&*f.refs, "repo").await.id;
    let main = name("main");
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (store, refs, repo, main) =
            (f.store.clone(), f.refs.clone(), repo.clone(), main.clone());
        writers.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut guarded = true;
            for i in 0..BATCHES {
                let paths: Vec<String> = (0..4).map(|k| format!("w{w}/{i:03}/{k}")).collect();
                let entries = batch(&paths);
                let mut t = refs.get_branch(&repo, &main).await.unwrap().staging_token;
                for attempt in 0.. {
                    assert!(attempt < 1000, "batch {w}/{i} never landed");
                    let now = match store
                        .put_many_on_branch(&t, &entries, (&repo, &main))
                        .await
                        .unwrap()
                    {
                        Guarded::Staged => break,
                        Guarded::Moved(now) => {
                            t = now.staging_token;
                            continue;
                        }
                        Guarded::Unguarded => {
                            guarded = false;
                            refs.get_branch(&repo, &main).await.unwrap()
                        }
                    };
                    if now.staging_token == t {
                        break;
                    }
                    if !now.sealed_tokens.contains(&t) {
                        for (p, _) in &entries {
                            store.delete(&t, p).await.unwrap();
                        }
                    }
                    t = now.staging_token;
                }
                acknowledged.push((paths, t));
                // Spread the batches over many commits.
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            (acknowledged, guarded)
        }));
    }
    let (stop, committer) = spawn_committer(&f, &repo, 3);
    let (mut acknowledged, mut guarded) = (Vec::new(), true);
    for w in writers {
        let (a, g) = w.await.unwrap();
        acknowledged.extend(a);
        guarded &= g;
    }
    stop.store(true, Ordering::Relaxed);
    let taken = committer.await.unwrap();
    let last = f.refs.get_branch(&repo, &main).await.unwrap().staging_token;
    let staged = scan_slowly(&*f.store, &last, 1000).await;
    for (paths, t) in &acknowledged {
        let held = if *t == last { &staged } else { &taken[t] };
        for p in paths {
            assert!(
                held.contains(p),
                "{p}, acknowledged under {t}, is lost ({} seals)",
                taken.len()
            );
        }
    }
    if guarded {
        for (t, held) in &taken {
            for (paths, _) in &acknowledged {
                let n = paths.iter().filter(|p| held.contains(*p)).count();
                assert!(
                    n == 0 || n == paths.len(),
                    "the commit of {t} took {n} of {paths:?}"
                );
            }
        }
    }
    assert!(
        taken.len() >= 3,
        "the committer sealed {} tokens",
        taken.len()
    );
}

/// What each token held when the committer read it after sealing it.
type Taken = HashMap<StagingToken, BTreeSet<String>>;

/// A committer racing writers on branch `main` of `repo`: it seals the
/// branch's token, reads what the token holds (`page` entries a query),
/// then unseals and drops it, again and again until `stop` is set (and at
/// least three times). Only it moves the branch, so its compare-and-sets
/// hold.
fn spawn_committer(
    f: &StagingFixture,
    repo: &RepositoryId,
    page: usize,
) -> (Arc<AtomicBool>, tokio::task::JoinHandle<Taken>) {
    let (store, refs, repo) = (f.store.clone(), f.refs.clone(), repo.clone());
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    let task = tokio::spawn(async move {
        let main = name("main");
        let mut taken = Taken::new();
        for n in 0.. {
            if stopped.load(Ordering::Relaxed) && n >= 3 {
                break;
            }
            let cur = refs.get_branch(&repo, &main).await.unwrap();
            let sealed = Branch {
                staging_token: token(&format!("t{n}")),
                sealed_tokens: vec![cur.staging_token.clone()],
                ..cur.clone()
            };
            refs.update_branch(&repo, &cur, &sealed).await.unwrap();
            let held = scan_slowly(&*store, &cur.staging_token, page).await;
            taken.insert(cur.staging_token.clone(), held);
            let done = Branch {
                sealed_tokens: vec![],
                ..sealed.clone()
            };
            refs.update_branch(&repo, &sealed, &done).await.unwrap();
            store.drop_token(&cur.staging_token).await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        taken
    });
    (stop, task)
}
