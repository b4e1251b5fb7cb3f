//! The history cases of the `RefStore` suite: commits in generation order
//! with the summaries they were stored with.

use super::*;
use crate::{CommitLink, MAX_COMMIT_SUMMARY};

fn link(c: &Commit, summary: Option<&[u8]>) -> CommitLink {
    CommitLink {
        id: c.id.clone(),
        parents: c.parents.clone(),
        generation: c.generation,
        creation_date: c.creation_date,
        meta_range_id: c.meta_range_id.clone(),
        summary: summary.map(<[u8]>::to_vec),
    }
}

/// A commit at `generation`, whatever its parents.
fn at(n: u64, generation: u64, parents: Vec<CommitId>) -> Commit {
    Commit {
        generation,
        ..commit(n, parents)
    }
}

/// `commit_links` pages through a repository's commits, highest
/// generation first and then id descending, each with its summary.
pub async fn commit_links_page_in_history_order(f: RefFixture) {
    let repo = create(&*f.store, "history").await;
    let other = create(&*f.store, "other-history").await;
    // Two branches of history: generation 2 and 3 have two commits each.
    let commits = [
        at(2, 2, vec![commit_id(1)]),
        at(3, 2, vec![commit_id(1)]),
        at(4, 3, vec![commit_id(2)]),
        at(5, 3, vec![commit_id(3)]),
        at(6, 4, vec![commit_id(4), commit_id(5)]),
    ];
    for (i, c) in commits.iter().enumerate() {
        if i % 2 == 0 {
            f.store
                .put_commit_with_summary(&repo.id, c, &[i as u8, 0xff])
                .await
                .unwrap();
        } else {
            f.store.put_commit(&repo.id, c).await.unwrap();
        }
    }
    f.store
        .put_commit_with_summary(&other.id, &at(9, 9, vec![]), b"other")
        .await
        .unwrap();
    let all = f.store.commit_links(&repo.id, None, 100).await.unwrap();
    let want = vec![
        link(&commits[4], Some(&[4, 0xff])),
        link(&commits[3], None),
        link(&commits[2], Some(&[2, 0xff])),
        link(&commits[1], None),
        link(&commits[0], Some(&[0, 0xff])),
        link(&commit(1, vec![]), None),
    ];
    assert_eq!(all, want, "every commit, generation then id descending");
    // Pages, starting inside a generation.
    let mut paged = Vec::new();
    let mut after: Option<(u64, CommitId)> = None;
    loop {
        let page = f
            .store
            .commit_links(&repo.id, after.as_ref().map(|(g, id)| (*g, id)), 2)
            .await
            .unwrap();
        assert!(page.len() <= 2, "at most the limit");
        let Some(last) = page.last() else { break };
        after = Some((last.generation, last.id.clone()));
        paged.extend(page);
    }
    assert_eq!(paged, want, "pages of two");
    let rest = f
        .store
        .commit_links(&repo.id, Some((3, &commit_id(5))), 10)
        .await
        .unwrap();
    assert_eq!(rest, want[2..], "after the first of a generation");
    assert_kind(
        f.store
            .commit_links(&repo_id("no-such-repo"), None, 1)
            .await,
        ErrorKind::NotFound,
        "missing repo",
    );
}

/// A put of an existing commit keeps what is stored, summary included; a
/// summary over the limit is refused and stores nothing.
pub async fn commit_summaries_are_kept_and_bounded(f: RefFixture) {
    let repo = create(&*f.store, "summaries").await;
    let c = at(2, 2, vec![commit_id(1)]);
    f.store
        .put_commit_with_summary(&repo.id, &c, b"first")
        .await
        .unwrap();
    f.store
        .put_commit_with_summary(&repo.id, &c, b"second")
        .await
        .unwrap();
    f.store.put_commit(&repo.id, &c).await.unwrap();
    let links = f.store.commit_links(&repo.id, None, 1).await.unwrap();
    assert_eq!(links, [link(&c, Some(b"first"))]);
    assert_eq!(f.store.get_commit(&repo.id, &c.id).await.unwrap(), c);
    let big = at(3, 3, vec![commit_id(2)]);
    assert_kind(
        f.store
            .put_commit_with_summary(&repo.id, &big, &vec![0; MAX_COMMIT_SUMMARY + 1])
            .await,
        ErrorKind::InvalidInput,
        "oversized summary",
    );
    assert_kind(
        f.store.get_commit(&repo.id, &big.id).await,
        ErrorKind::NotFound,
        "nothing stored",
    );
    f.store
        .put_commit_with_summary(&repo.id, &big, &vec![7; MAX_COMMIT_SUMMARY])
        .await
        .unwrap();
    let links = f.store.commit_links(&repo.id, None, 1).await.unwrap();
    assert_eq!(
        links[0].summary.as_deref().map(<[u8]>::len),
        Some(MAX_COMMIT_SUMMARY)
    );
    assert_kind(
        f.store
            .put_commit_with_summary(&repo_id("no-such-repo"), &c, b"x")
            .await,
        ErrorKind::NotFound,
        "missing repo",
    );
}
