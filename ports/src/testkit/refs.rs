//! The `RefStore` conformance suite.

use super::assert_kind;
use crate::{ErrorKind, RefStore};
use std::collections::BTreeMap;
use std::sync::Arc;
use tarn_model::{
    Branch, BranchName, Commit, CommitId, MetaRangeId, Repository, RepositoryId, StagingToken,
    StorageNamespace, Tag, TagName, Timestamp,
};

/// What a ref-store conformance case needs.
pub struct RefFixture {
    /// The store under test, empty and fresh for this case.
    pub store: Arc<dyn RefStore>,
    /// Keeps temporary resources alive for the case.
    pub guard: Box<dyn std::any::Any + Send + Sync>,
}

/// Runs the whole `RefStore` suite against `$factory`, an async fn returning
/// a fresh [`RefFixture`].
#[macro_export]
macro_rules! ref_store_conformance {
    ($factory:expr) => {
        $crate::__conformance_cases!(ref_store_conformance, refs, $factory;
            create_repository_makes_commit_and_branch_visible,
            existing_repository_is_already_exists,
            repositories_list_in_pages,
            delete_repository_removes_its_refs,
            missing_repository_is_not_found,
            branches_create_get_and_list,
            thousands_of_branches_page_exactly,
            update_branch_is_compare_and_set,
            concurrent_branch_updates_have_one_winner,
            delete_branch_then_not_found,
            tags_create_get_list_delete,
            commits_are_content_addressed,
            commit_prefix_lookup_is_ordered_and_bounded,
            repositories_do_not_share_refs,
            repository_and_branch_read_together,
            settings_are_compare_and_set,
            concurrent_setting_updates_have_one_winner,
            bare_repository_has_no_refs,
            settings_list_by_prefix_in_byte_order,
            commits_list_in_id_order,
            commit_links_page_in_history_order,
            commit_summaries_are_kept_and_bounded,
        );
    };
}

mod history;
mod settings;
pub use history::*;
pub use settings::*;

fn repo_id(s: &str) -> RepositoryId {
    RepositoryId::new(s).unwrap_or_else(|e| panic!("{e}"))
}

fn branch_name(s: &str) -> BranchName {
    BranchName::new(s).unwrap_or_else(|e| panic!("{e}"))
}

fn token(s: &str) -> StagingToken {
    StagingToken::new(s).unwrap_or_else(|e| panic!("{e}"))
}

/// A commit id made of the hex digits of `n`, padded.
pub fn commit_id(n: u64) -> CommitId {
    CommitId::new(format!("{n:064x}")).unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) fn commit(n: u64, parents: Vec<CommitId>) -> Commit {
    let mut metadata = BTreeMap::new();
    metadata.insert("k".to_owned(), format!("v{n}"));
    Commit {
        id: commit_id(n),
        committer: "tester".to_owned(),
        message: format!("commit {n}"),
        meta_range_id: MetaRangeId::new(format!("{:064x}", n + 1_000_000))
            .unwrap_or_else(|e| panic!("{e}")),
        creation_date: Timestamp::from_unix_seconds(1_700_000_000 + n as i64),
        metadata,
        generation: parents.len() as u64 + 1,
        parents,
        version: 1,
    }
}

pub(crate) fn branch(name: &str, commit: u64) -> Branch {
    Branch {
        name: branch_name(name),
        commit_id: commit_id(commit),
        staging_token: token(&format!("{name}-t{commit}")),
        sealed_tokens: vec![],
        // Every field round-trips, the flag included.
        hidden: name.starts_with("hidden"),
    }
}

pub(crate) fn repository(id: &str) -> Repository {
    Repository {
        id: repo_id(id),
        storage_namespace: StorageNamespace::new(format!("mem://ns/{id}"))
            .unwrap_or_else(|e| panic!("{e}")),
        default_branch: branch_name("main"),
        creation_date: Timestamp::from_unix_seconds(1_700_000_000),
        read_only: false,
    }
}

pub(crate) async fn create(store: &dyn RefStore, id: &str) -> Repository {
    let repo = repository(id);
    store
        .create_repository(&repo, &commit(1, vec![]), &branch("main", 1))
        .await
        .unwrap_or_else(|e| panic!("create {id}: {e}"));
    repo
}

pub async fn create_repository_makes_commit_and_branch_visible(f: RefFixture) {
    let repo = create(&*f.store, "repo-one").await;
    assert_eq!(f.store.get_repository(&repo.id).await.unwrap(), repo);
    assert_eq!(
        f.store
            .get_branch(&repo.id, &branch_name("main"))
            .await
            .unwrap(),
        branch("main", 1)
    );
    assert_eq!(
        f.store.get_commit(&repo.id, &commit_id(1)).await.unwrap(),
        commit(1, vec![])
    );
}

pub async fn existing_repository_is_already_exists(f: RefFixture) {
    let repo = create(&*f.store, "repo-dup").await;
    let mut other = repository("repo-dup");
    other.read_only = true;
    let res = f
        .store
        .create_repository(&other, &commit(2, vec![]), &branch("other", 2))
        .await;
    assert_kind(res, ErrorKind::AlreadyExists, "second create");
    assert_eq!(
        f.store.get_repository(&repo.id).await.unwrap(),
        repo,
        "original kept"
    );
    let res = f.store.get_branch(&repo.id, &branch_name("other")).await;
    assert_kind(res, ErrorKind::NotFound, "the failed create left no branch");
}

pub async fn repositories_list_in_pages(f: RefFixture) {
    let mut ids: Vec<String> = (0..25)
        .map(|i| format!("repo-{:02}", (i * 7) % 25))
        .collect();
    for id in &ids {
        create(&*f.store, id).await;
    }
    ids.sort();
    let mut seen = Vec::new();
    let mut after: Option<RepositoryId> = None;
    loop {
        let page = f.store.list_repositories(after.as_ref(), 10).await.unwrap();
        assert!(page.len() <= 10);
        after = page.last().map(|r| r.id.clone());
        let done = page.len() < 10;
        seen.extend(page.into_iter().map(|r| r.id.into_string()));
        if done {
            break;
        }
    }
    assert_eq!(seen, ids);
    let tail = f
        .store
        .list_repositories(Some(&repo_id("repo-23")), 10)
        .await
        .unwrap();
    assert_eq!(tail.len(), 1);
}

pub async fn delete_repository_removes_its_refs(f: RefFixture) {
    let repo = create(&*f.store, "doomed").await;
    f.store
        .create_branch(&repo.id, &branch("dev", 1))
        .await
        .unwrap();
    let tag = Tag {
        name: TagName::new("v1").unwrap(),
        commit_id: commit_id(1),
    };
    f.store.create_tag(&repo.id, &tag).await.unwrap();
    f.store.delete_repository(&repo.id).await.unwrap();
    assert_kind(
        f.store.get_repository(&repo.id).await,
        ErrorKind::NotFound,
        "repository",
    );
    assert_kind(
        f.store.delete_repository(&repo.id).await,
        ErrorKind::NotFound,
        "second delete",
    );
    assert!(f
        .store
        .list_repositories(None, 10)
        .await
        .unwrap()
        .is_empty());
    // Recreated under the same id it starts empty.
    let repo = create(&*f.store, "doomed").await;
    let branches = f.store.list_branches(&repo.id, None, 10).await.unwrap();
    assert_eq!(branches, vec![branch("main", 1)]);
    assert!(f
        .store
        .list_tags(&repo.id, None, 10)
        .await
        .unwrap()
        .is_empty());
}

pub async fn missing_repository_is_not_found(f: RefFixture) {
    let id = repo_id("no-such-repo");
    let main = branch_name("main");
    assert_kind(
        f.store.get_repository(&id).await,
        ErrorKind::NotFound,
        "get",
    );
    assert_kind(
        f.store.create_branch(&id, &branch("main", 1)).await,
        ErrorKind::NotFound,
        "create branch",
    );
    assert_kind(
        f.store.get_branch(&id, &main).await,
        ErrorKind::NotFound,
        "get branch",
    );
    assert_kind(
        f.store.list_branches(&id, None, 10).await,
        ErrorKind::NotFound,
        "list branches",
    );
    let tag = Tag {
        name: TagName::new("t").unwrap(),
        commit_id: commit_id(1),
    };
    assert_kind(
        f.store.create_tag(&id, &tag).await,
        ErrorKind::NotFound,
        "create tag",
    );
    assert_kind(
        f.store.put_commit(&id, &commit(1, vec![])).await,
        ErrorKind::NotFound,
        "put commit",
    );
    assert_kind(
        f.store.get_commit(&id, &commit_id(1)).await,
        ErrorKind::NotFound,
        "get commit",
    );
}

pub async fn branches_create_get_and_list(f: RefFixture) {
    let repo = create(&*f.store, "branchy").await;
    for name in ["zeta", "alpha", "feature-1", "Feature_2"] {
        f.store
            .create_branch(&repo.id, &branch(name, 1))
            .await
            .unwrap();
    }
    let dup = f.store.create_branch(&repo.id, &branch("alpha", 2)).await;
    assert_kind(dup, ErrorKind::AlreadyExists, "duplicate branch");
    assert_eq!(
        f.store
            .get_branch(&repo.id, &branch_name("alpha"))
            .await
            .unwrap(),
        branch("alpha", 1)
    );
    let names: Vec<_> = f
        .store
        .list_branches(&repo.id, None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.name.into_string())
        .collect();
    assert_eq!(names, ["Feature_2", "alpha", "feature-1", "main", "zeta"]);
    let page = f
        .store
        .list_branches(&repo.id, Some(&branch_name("alpha")), 2)
        .await
        .unwrap();
    let names: Vec<_> = page.into_iter().map(|b| b.name.into_string()).collect();
    assert_eq!(names, ["feature-1", "main"]);
}

pub async fn thousands_of_branches_page_exactly(f: RefFixture) {
    let repo = create(&*f.store, "many-branches").await;
    let mut expected = vec!["main".to_owned()];
    for i in 0..2500 {
        let name = format!("b{i:05}");
        f.store
            .create_branch(&repo.id, &branch(&name, 1))
            .await
            .unwrap();
        expected.push(name);
    }
    expected.sort();
    let mut seen = Vec::new();
    let mut after: Option<BranchName> = None;
    loop {
        let page = f
            .store
            .list_branches(&repo.id, after.as_ref(), 1000)
            .await
            .unwrap();
        assert!(page.len() <= 1000);
        after = page.last().map(|b| b.name.clone());
        let done = page.len() < 1000;
        seen.extend(page.into_iter().map(|b| b.name.into_string()));
        if done {
            break;
        }
    }
    assert_eq!(seen, expected);
}

pub async fn update_branch_is_compare_and_set(f: RefFixture) {
    let repo = create(&*f.store, "cas-repo").await;
    let current = branch("main", 1);
    let mut sealed = current.clone();
    sealed.sealed_tokens = vec![current.staging_token.clone()];
    sealed.staging_token = token("main-next");
    f.store
        .update_branch(&repo.id, &current, &sealed)
        .await
        .unwrap();
    assert_eq!(
        f.store.get_branch(&repo.id, &current.name).await.unwrap(),
        sealed
    );
    // A stale expectation (even one differing only in sealed tokens) fails.
    let mut moved = current.clone();
    moved.commit_id = commit_id(2);
    let res = f.store.update_branch(&repo.id, &current, &moved).await;
    assert_kind(res, ErrorKind::PreconditionFailed, "stale expected state");
    assert_eq!(
        f.store.get_branch(&repo.id, &current.name).await.unwrap(),
        sealed
    );
    let ghost = branch("ghost", 1);
    assert_kind(
        f.store.update_branch(&repo.id, &ghost, &ghost).await,
        ErrorKind::NotFound,
        "missing branch",
    );
}

pub async fn concurrent_branch_updates_have_one_winner(f: RefFixture) {
    let repo = create(&*f.store, "race-repo").await;
    for round in 0..20u64 {
        let expected = f
            .store
            .get_branch(&repo.id, &branch_name("main"))
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for contender in 0..8u64 {
            let store = f.store.clone();
            let (id, expected) = (repo.id.clone(), expected.clone());
            let mut new = expected.clone();
            new.commit_id = commit_id(100 + round * 10 + contender);
            tasks.push(tokio::spawn(async move {
                store
                    .update_branch(&id, &expected, &new)
                    .await
                    .map(|()| new)
            }));
        }
        let mut winners = Vec::new();
        for t in tasks {
            match t.await.unwrap() {
                Ok(new) => winners.push(new),
                Err(e) => assert_eq!(e.kind(), ErrorKind::PreconditionFailed, "loser: {e}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: exactly one winner");
        let now = f
            .store
            .get_branch(&repo.id, &branch_name("main"))
            .await
            .unwrap();
        assert_eq!(now, winners[0], "the winner's state is stored");
    }
}

pub async fn delete_branch_then_not_found(f: RefFixture) {
    let repo = create(&*f.store, "del-branch").await;
    f.store
        .create_branch(&repo.id, &branch("dev", 1))
        .await
        .unwrap();
    f.store
        .delete_branch(&repo.id, &branch_name("dev"))
        .await
        .unwrap();
    assert_kind(
        f.store.get_branch(&repo.id, &branch_name("dev")).await,
        ErrorKind::NotFound,
        "get",
    );
    assert_kind(
        f.store.delete_branch(&repo.id, &branch_name("dev")).await,
        ErrorKind::NotFound,
        "again",
    );
    f.store
        .create_branch(&repo.id, &branch("dev", 1))
        .await
        .unwrap();
}

pub async fn tags_create_get_list_delete(f: RefFixture) {
    let repo = create(&*f.store, "tagged").await;
    let names = ["v1.0", "v0.9", "release/2024", "a~b"];
    for (i, n) in names.iter().enumerate() {
        let tag = Tag {
            name: TagName::new(*n).unwrap(),
            commit_id: commit_id(i as u64 + 1),
        };
        f.store.create_tag(&repo.id, &tag).await.unwrap();
    }
    let dup = Tag {
        name: TagName::new("v1.0").unwrap(),
        commit_id: commit_id(9),
    };
    assert_kind(
        f.store.create_tag(&repo.id, &dup).await,
        ErrorKind::AlreadyExists,
        "duplicate tag",
    );
    let got = f
        .store
        .get_tag(&repo.id, &TagName::new("v1.0").unwrap())
        .await
        .unwrap();
    assert_eq!(got.commit_id, commit_id(1), "a tag is never overwritten");
    let listed: Vec<_> = f
        .store
        .list_tags(&repo.id, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.into_string())
        .collect();
    assert_eq!(listed, ["a~b", "release/2024", "v0.9", "v1.0"]);
    let after = TagName::new("release/2024").unwrap();
    assert_eq!(
        f.store
            .list_tags(&repo.id, Some(&after), 1)
            .await
            .unwrap()
            .len(),
        1
    );
    f.store
        .delete_tag(&repo.id, &TagName::new("v0.9").unwrap())
        .await
        .unwrap();
    let missing = TagName::new("v0.9").unwrap();
    assert_kind(
        f.store.get_tag(&repo.id, &missing).await,
        ErrorKind::NotFound,
        "deleted tag",
    );
    assert_kind(
        f.store.delete_tag(&repo.id, &missing).await,
        ErrorKind::NotFound,
        "delete twice",
    );
}

pub async fn commits_are_content_addressed(f: RefFixture) {
    let repo = create(&*f.store, "commits").await;
    let c2 = commit(2, vec![commit_id(1)]);
    f.store.put_commit(&repo.id, &c2).await.unwrap();
    f.store.put_commit(&repo.id, &c2).await.unwrap();
    assert_eq!(f.store.get_commit(&repo.id, &c2.id).await.unwrap(), c2);
    let mut merge = commit(3, vec![commit_id(2), commit_id(1)]);
    merge
        .metadata
        .insert(".lakefs.merge.strategy".into(), "default".into());
    f.store.put_commit(&repo.id, &merge).await.unwrap();
    assert_eq!(
        f.store.get_commit(&repo.id, &merge.id).await.unwrap(),
        merge,
        "parents keep their order"
    );
    assert_kind(
        f.store.get_commit(&repo.id, &commit_id(99)).await,
        ErrorKind::NotFound,
        "unknown commit",
    );
}

pub async fn commit_prefix_lookup_is_ordered_and_bounded(f: RefFixture) {
    let repo = create(&*f.store, "prefixes").await;
    let ids = [
        "ab00000000000000000000000000000000000000000000000000000000000001",
        "ab00000000000000000000000000000000000000000000000000000000000000",
        "abc0000000000000000000000000000000000000000000000000000000000000",
        "b000000000000000000000000000000000000000000000000000000000000000",
    ];
    for id in ids {
        let mut c = commit(5, vec![]);
        c.id = CommitId::new(id).unwrap();
        f.store.put_commit(&repo.id, &c).await.unwrap();
    }
    let found = f
        .store
        .find_commits_by_prefix(&repo.id, "ab", 10)
        .await
        .unwrap();
    let found: Vec<_> = found.iter().map(CommitId::as_str).collect();
    assert_eq!(found, [ids[1], ids[0], ids[2]]);
    assert_eq!(
        f.store
            .find_commits_by_prefix(&repo.id, "ab", 2)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        f.store
            .find_commits_by_prefix(&repo.id, "abc", 2)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(f
        .store
        .find_commits_by_prefix(&repo.id, "f", 2)
        .await
        .unwrap()
        .is_empty());
    let full = f
        .store
        .find_commits_by_prefix(&repo.id, ids[3], 2)
        .await
        .unwrap();
    assert_eq!(full.len(), 1);
    // A LIKE wildcard is a literal character, never a pattern.
    assert!(f
        .store
        .find_commits_by_prefix(&repo.id, "a_", 2)
        .await
        .unwrap()
        .is_empty());
    assert!(f
        .store
        .find_commits_by_prefix(&repo.id, "%", 2)
        .await
        .unwrap()
        .is_empty());
}

pub async fn repositories_do_not_share_refs(f: RefFixture) {
    let one = create(&*f.store, "repo-a").await;
    let two = create(&*f.store, "repo-b").await;
    f.store
        .create_branch(&one.id, &branch("only-in-a", 1))
        .await
        .unwrap();
    f.store
        .put_commit(&one.id, &commit(7, vec![]))
        .await
        .unwrap();
    let res = f.store.get_branch(&two.id, &branch_name("only-in-a")).await;
    assert_kind(res, ErrorKind::NotFound, "branch of another repository");
    assert_kind(
        f.store.get_commit(&two.id, &commit_id(7)).await,
        ErrorKind::NotFound,
        "commit of another repository",
    );
    f.store.delete_repository(&one.id).await.unwrap();
    assert_eq!(
        f.store
            .get_branch(&two.id, &branch_name("main"))
            .await
            .unwrap(),
        branch("main", 1)
    );
}

/// A bare repository exists with no commit and no branch; refs can be added
/// to it afterwards; a taken id answers `AlreadyExists` either way.
pub async fn bare_repository_has_no_refs(f: RefFixture) {
    let repo = repository("bare");
    f.store.create_bare_repository(&repo).await.unwrap();
    assert_eq!(f.store.get_repository(&repo.id).await.unwrap(), repo);
    assert!(f
        .store
        .list_branches(&repo.id, None, 10)
        .await
        .unwrap()
        .is_empty());
    assert_kind(
        f.store.get_commit(&repo.id, &commit_id(1)).await,
        ErrorKind::NotFound,
        "no first commit",
    );
    assert_kind(
        f.store.create_bare_repository(&repo).await,
        ErrorKind::AlreadyExists,
        "bare over bare",
    );
    assert_kind(
        f.store
            .create_repository(&repo, &commit(1, vec![]), &branch("main", 1))
            .await,
        ErrorKind::AlreadyExists,
        "full over bare",
    );
    create(&*f.store, "full").await;
    assert_kind(
        f.store.create_bare_repository(&repository("full")).await,
        ErrorKind::AlreadyExists,
        "bare over full",
    );
    f.store
        .put_commit(&repo.id, &commit(1, vec![]))
        .await
        .unwrap();
    f.store
        .create_branch(&repo.id, &branch("main", 1))
        .await
        .unwrap();
    assert_eq!(
        f.store
            .get_branch(&repo.id, &branch_name("main"))
            .await
            .unwrap(),
        branch("main", 1)
    );
}

/// `list_commits` pages through every commit of one repository in id order.
pub async fn commits_list_in_id_order(f: RefFixture) {
    let repo = create(&*f.store, "listed-commits").await;
    let other = create(&*f.store, "other-commits").await;
    for n in (2..=7).rev() {
        f.store
            .put_commit(&repo.id, &commit(n, vec![commit_id(n - 1)]))
            .await
            .unwrap();
    }
    f.store
        .put_commit(&other.id, &commit(99, vec![]))
        .await
        .unwrap();
    let ids = |v: Vec<Commit>| v.into_iter().map(|c| c.id).collect::<Vec<_>>();
    let all = f.store.list_commits(&repo.id, None, 100).await.unwrap();
    assert_eq!(all[1], commit(2, vec![commit_id(1)]), "whole records");
    assert_eq!(ids(all), (1..=7).map(commit_id).collect::<Vec<_>>());
    let page = f
        .store
        .list_commits(&repo.id, Some(&commit_id(3)), 2)
        .await
        .unwrap();
    assert_eq!(ids(page), [commit_id(4), commit_id(5)]);
    assert!(f
        .store
        .list_commits(&repo.id, Some(&commit_id(7)), 2)
        .await
        .unwrap()
        .is_empty());
    assert_kind(
        f.store
            .list_commits(&repo_id("no-such-repo"), None, 1)
            .await,
        ErrorKind::NotFound,
        "missing repo",
    );
}
