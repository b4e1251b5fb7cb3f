//! The `ActionRunStore` conformance suite.

use super::assert_kind;
use crate::{ActionRunStore, ErrorKind, RunFilter};
use std::sync::Arc;
use tarn_model::runs::{ActionRun, HookRun};
use tarn_model::{RepositoryId, Timestamp};

/// What a run-store conformance case needs.
pub struct RunFixture {
    /// The store under test, empty and fresh for this case.
    pub store: Arc<dyn ActionRunStore>,
    /// Keeps temporary resources alive for the case.
    pub guard: Box<dyn std::any::Any + Send + Sync>,
}

/// Runs the whole `ActionRunStore` suite against `$factory`.
#[macro_export]
macro_rules! run_store_conformance {
    ($factory:expr) => {
        $crate::__conformance_cases!(run_store_conformance, runs, $factory;
            runs_are_recorded_with_their_hooks_and_read_back,
            recording_a_run_twice_is_refused,
            listings_page_and_filter_by_branch_and_commit,
            a_later_commit_is_set_and_listed,
            repositories_are_separate_and_forgotten,
        );
    };
}

fn repo(s: &str) -> RepositoryId {
    RepositoryId::new(s).unwrap()
}

fn at(n: i64) -> Timestamp {
    Timestamp::from_unix_micros(1_700_000_000_000_000 + n)
}

fn run(r: &str, n: u32, branch: &str, commit: &str) -> ActionRun {
    ActionRun {
        repository: repo(r),
        run_id: format!("run{n:04}"),
        event_type: if n.is_multiple_of(2) {
            "pre-commit"
        } else {
            "post-merge"
        }
        .into(),
        branch: branch.into(),
        source_ref: format!("ref-{n}"),
        commit_id: commit.into(),
        start_time: at(i64::from(n)),
        end_time: at(i64::from(n) + 5),
        passed: !n.is_multiple_of(3),
    }
}

fn hooks(n: u32, count: u32) -> Vec<HookRun> {
    (0..count)
        .map(|h| HookRun {
            run_id: format!("run{n:04}"),
            hook_run_id: format!("0000_{h:04}"),
            hook_id: format!("hook{h}"),
            action_name: "Gate ü".into(),
            // The last hook of each run was skipped.
            start_time: (h + 1 < count).then(|| at(i64::from(h))),
            end_time: (h + 1 < count).then(|| at(i64::from(h) + 1)),
            passed: h == 0,
        })
        .collect()
}

fn ids(runs: &[ActionRun]) -> Vec<String> {
    runs.iter().map(|r| r.run_id.clone()).collect()
}

pub async fn runs_are_recorded_with_their_hooks_and_read_back(f: RunFixture) {
    let s = &f.store;
    let r = run("repo1", 1, "main", "");
    s.record(&r, &hooks(1, 3)).await.unwrap();
    assert_eq!(s.get_run(&repo("repo1"), "run0001").await.unwrap(), r);
    let got = s
        .list_hook_runs(&repo("repo1"), "run0001", "", 100)
        .await
        .unwrap();
    assert_eq!(got, hooks(1, 3));
    assert_eq!(got[2].start_time, None, "a skipped hook has no times");
    let page = s
        .list_hook_runs(&repo("repo1"), "run0001", "0000_0000", 1)
        .await
        .unwrap();
    assert_eq!(page, hooks(1, 3)[1..2].to_vec());
    assert!(s
        .list_hook_runs(&repo("repo1"), "nosuchrun", "", 10)
        .await
        .unwrap()
        .is_empty());
    assert_kind(
        s.get_run(&repo("repo1"), "nosuchrun").await,
        ErrorKind::NotFound,
        "missing run",
    );
    // A run with no hooks is kept too.
    s.record(&run("repo1", 2, "dev", "c2"), &[]).await.unwrap();
    assert_eq!(
        s.get_run(&repo("repo1"), "run0002").await.unwrap().branch,
        "dev"
    );
}

pub async fn recording_a_run_twice_is_refused(f: RunFixture) {
    let s = &f.store;
    s.record(&run("repo1", 1, "main", ""), &hooks(1, 2))
        .await
        .unwrap();
    let mut again = run("repo1", 1, "other", "x");
    again.passed = false;
    assert_kind(
        s.record(&again, &hooks(1, 1)).await,
        ErrorKind::AlreadyExists,
        "the same run id",
    );
    assert_eq!(
        s.get_run(&repo("repo1"), "run0001").await.unwrap(),
        run("repo1", 1, "main", ""),
        "unchanged"
    );
    assert_eq!(
        s.list_hook_runs(&repo("repo1"), "run0001", "", 10)
            .await
            .unwrap()
            .len(),
        2
    );
}

pub async fn listings_page_and_filter_by_branch_and_commit(f: RunFixture) {
    let s = &f.store;
    for n in (1..=9).rev() {
        let branch = if n % 2 == 0 { "main" } else { "main-2" };
        let commit = if n % 3 == 0 { "c3" } else { "" };
        s.record(&run("repo1", n, branch, commit), &[])
            .await
            .unwrap();
    }
    let all = s
        .list_runs(&repo("repo1"), RunFilter::All, "", 100)
        .await
        .unwrap();
    assert_eq!(
        ids(&all),
        (1..=9).map(|n| format!("run{n:04}")).collect::<Vec<_>>(),
        "by run id"
    );
    let page = s
        .list_runs(&repo("repo1"), RunFilter::All, "run0003", 2)
        .await
        .unwrap();
    assert_eq!(ids(&page), ["run0004", "run0005"]);
    let main = s
        .list_runs(&repo("repo1"), RunFilter::Branch("main"), "", 100)
        .await
        .unwrap();
    assert_eq!(
        ids(&main),
        ["run0002", "run0004", "run0006", "run0008"],
        "the branch exactly, not main-2"
    );
    let main_page = s
        .list_runs(&repo("repo1"), RunFilter::Branch("main"), "run0004", 1)
        .await
        .unwrap();
    assert_eq!(ids(&main_page), ["run0006"]);
    let c3 = s
        .list_runs(&repo("repo1"), RunFilter::Commit("c3"), "", 100)
        .await
        .unwrap();
    assert_eq!(ids(&c3), ["run0003", "run0006", "run0009"]);
    assert!(s
        .list_runs(&repo("repo1"), RunFilter::Commit("c"), "", 100)
        .await
        .unwrap()
        .is_empty());
}

pub async fn a_later_commit_is_set_and_listed(f: RunFixture) {
    let s = &f.store;
    s.record(&run("repo1", 1, "main", ""), &[]).await.unwrap();
    s.set_commit(&repo("repo1"), "run0001", "abc")
        .await
        .unwrap();
    assert_eq!(
        s.get_run(&repo("repo1"), "run0001")
            .await
            .unwrap()
            .commit_id,
        "abc"
    );
    let found = s
        .list_runs(&repo("repo1"), RunFilter::Commit("abc"), "", 10)
        .await
        .unwrap();
    assert_eq!(ids(&found), ["run0001"]);
    assert_kind(
        s.set_commit(&repo("repo1"), "nosuchrun", "abc").await,
        ErrorKind::NotFound,
        "missing run",
    );
}

pub async fn repositories_are_separate_and_forgotten(f: RunFixture) {
    let s = &f.store;
    s.record(&run("repo1", 1, "main", ""), &hooks(1, 1))
        .await
        .unwrap();
    s.record(&run("repo2", 1, "main", ""), &hooks(1, 2))
        .await
        .unwrap();
    assert_eq!(
        s.list_runs(&repo("repo2"), RunFilter::All, "", 10)
            .await
            .unwrap()
            .len(),
        1
    );
    s.delete_repository(&repo("repo1")).await.unwrap();
    s.delete_repository(&repo("repo9")).await.unwrap();
    assert_kind(
        s.get_run(&repo("repo1"), "run0001").await,
        ErrorKind::NotFound,
        "forgotten",
    );
    assert!(s
        .list_hook_runs(&repo("repo1"), "run0001", "", 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        s.list_hook_runs(&repo("repo2"), "run0001", "", 10)
            .await
            .unwrap()
            .len(),
        2,
        "the other repository keeps its runs"
    );
}
