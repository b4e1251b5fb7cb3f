//! The `JobStore` conformance suite.

use super::assert_kind;
use crate::{ErrorKind, JobOutcome, JobQuery, JobStore, NewJob};
use std::collections::BTreeMap;
use std::sync::Arc;
use tarn_model::jobs::{Job, JobId, JobKind, JobOwner, JobProgress, JobState};
use tarn_model::{RepositoryId, Timestamp};

/// What a job-store conformance case needs.
pub struct JobFixture {
    /// The store under test, empty and fresh for this case.
    pub store: Arc<dyn JobStore>,
    /// Keeps temporary resources alive for the case.
    pub guard: Box<dyn std::any::Any + Send + Sync>,
}

/// Runs the whole `JobStore` suite against `$factory`, an async fn
/// returning a fresh [`JobFixture`].
#[macro_export]
macro_rules! job_store_conformance {
    ($factory:expr) => {
        $crate::__conformance_cases!(job_store_conformance, jobs, $factory;
            jobs_are_created_read_and_listed,
            parameters_are_kept_byte_for_byte,
            claim_takes_only_runnable_jobs_of_the_given_kinds,
            concurrent_claims_have_exactly_one_winner,
            expired_lease_is_taken_over_and_the_old_owner_refused,
            heartbeat_records_progress_and_extends_the_lease,
            cancellation_of_pending_and_running_jobs,
            finishing_twice_is_refused,
            listings_page_by_id_and_filter,
        );
    };
}

fn at(n: i64) -> Timestamp {
    Timestamp::from_unix_seconds(1_700_000_000 + n)
}
fn kind(s: &str) -> JobKind {
    JobKind::new(s).unwrap()
}
fn owner(s: &str) -> JobOwner {
    JobOwner::new(s).unwrap()
}
fn jid(n: usize) -> JobId {
    JobId::new(format!("job{n:04}")).unwrap()
}

fn new_job(n: usize, k: &str, created: Timestamp) -> NewJob {
    NewJob {
        id: jid(n),
        kind: kind(k),
        parameters: format!("{{\"n\":{n}}}"),
        repository: n
            .is_multiple_of(2)
            .then(|| RepositoryId::new(format!("repo-{n}")).unwrap()),
        created,
    }
}

fn progress(done: u64, total: Option<u64>, message: &str) -> JobProgress {
    JobProgress {
        done,
        total,
        message: message.to_owned(),
    }
}

fn ids(jobs: &[Job]) -> Vec<String> {
    jobs.iter().map(|j| j.id.as_str().to_owned()).collect()
}

async fn claim_one(s: &dyn JobStore, k: &[JobKind], o: &str, now: i64, until: i64) -> Option<Job> {
    s.claim(k, &owner(o), at(now), at(until)).await.unwrap()
}

pub async fn jobs_are_created_read_and_listed(f: JobFixture) {
    let s = &f.store;
    let created = s.create(&new_job(1, "gc", at(1))).await.unwrap();
    let expected = Job {
        id: jid(1),
        kind: kind("gc"),
        parameters: "{\"n\":1}".to_owned(),
        repository: None,
        state: JobState::Pending,
        progress: JobProgress::default(),
        result: None,
        error: None,
        lease: None,
        cancel_requested: false,
        attempts: 0,
        created: at(1),
        updated: at(1),
    };
    assert_eq!(created, expected);
    assert_eq!(s.get(&jid(1)).await.unwrap(), expected);
    let second = s.create(&new_job(2, "import", at(2))).await.unwrap();
    assert_eq!(
        second.repository.as_ref().map(RepositoryId::as_str),
        Some("repo-2")
    );
    assert_eq!(s.get(&jid(2)).await.unwrap(), second);
    assert_kind(
        s.create(&new_job(1, "import", at(3))).await,
        ErrorKind::AlreadyExists,
        "used id",
    );
    assert_eq!(s.get(&jid(1)).await.unwrap().kind, kind("gc"), "unchanged");
    assert_kind(s.get(&jid(9)).await, ErrorKind::NotFound, "missing job");
    let all = s.list(JobQuery::all(100)).await.unwrap();
    assert_eq!(all, [expected, second]);
}

pub async fn parameters_are_kept_byte_for_byte(f: JobFixture) {
    let s = &f.store;
    let odd = [
        String::new(),
        "{\"quote\":\"\\\"\",\"unicode\":\"日本語 🦀\",\"like\":\"%_\"}".to_owned(),
        "not json at all: 'x' \\ \t\r\n".to_owned(),
        format!("[{}]", "1,".repeat(50_000) + "1"),
    ];
    for (n, p) in odd.iter().enumerate() {
        let job = NewJob {
            parameters: p.clone(),
            ..new_job(n, "gc", at(1))
        };
        s.create(&job).await.unwrap();
        assert_eq!(&s.get(&jid(n)).await.unwrap().parameters, p, "case {n}");
    }
}

pub async fn claim_takes_only_runnable_jobs_of_the_given_kinds(f: JobFixture) {
    let s = &*f.store;
    // Created out of id order: claims go by creation time.
    s.create(&new_job(3, "gc", at(1))).await.unwrap();
    s.create(&new_job(1, "gc", at(2))).await.unwrap();
    s.create(&new_job(2, "import", at(3))).await.unwrap();
    s.create(&new_job(4, "other", at(4))).await.unwrap();
    assert!(claim_one(s, &[], "a", 10, 20).await.is_none(), "no kinds");
    assert!(claim_one(s, &[kind("nothing")], "a", 10, 20)
        .await
        .is_none());

    let gc = [kind("gc")];
    let first = claim_one(s, &gc, "a", 10, 20).await.unwrap();
    assert_eq!(first.id, jid(3), "oldest first");
    assert_eq!(first.state, JobState::Running);
    assert_eq!(first.attempts, 1);
    assert_eq!(first.updated, at(10));
    let lease = first.lease.clone().unwrap();
    assert_eq!((lease.owner, lease.expires), (owner("a"), at(20)));
    assert_eq!(s.get(&jid(3)).await.unwrap(), first, "claim is stored");

    let second = claim_one(s, &gc, "b", 11, 21).await.unwrap();
    assert_eq!(second.id, jid(1));
    assert!(
        claim_one(s, &gc, "c", 12, 22).await.is_none(),
        "live leases are not runnable"
    );
    let both = [kind("import"), kind("gc")];
    assert_eq!(claim_one(s, &both, "c", 12, 22).await.unwrap().id, jid(2));
    assert!(claim_one(s, &both, "c", 12, 22).await.is_none());

    // Final jobs are never claimed, even long after.
    let done = JobOutcome::Succeeded("ok".into());
    s.finish(&jid(3), &owner("a"), &done, &progress(1, None, ""), at(13))
        .await
        .unwrap();
    s.request_cancel(&jid(4), at(13)).await.unwrap();
    let all = [kind("gc"), kind("import"), kind("other")];
    let late = claim_one(s, &all, "d", 1_000, 1_010).await.unwrap();
    assert_ne!(late.id, jid(3));
    assert_ne!(late.id, jid(4));
    let later = claim_one(s, &all, "d", 1_000, 1_010).await.unwrap();
    assert!(claim_one(s, &all, "d", 1_000, 1_010).await.is_none());
    let mut taken = vec![late.id, later.id];
    taken.sort();
    assert_eq!(taken, [jid(1), jid(2)], "expired leases are taken over");
}

pub async fn concurrent_claims_have_exactly_one_winner(f: JobFixture) {
    const JOBS: usize = 20;
    const CLAIMERS: usize = 8;
    for n in 0..JOBS {
        f.store.create(&new_job(n, "race", at(1))).await.unwrap();
    }
    let mut tasks = Vec::new();
    for c in 0..CLAIMERS {
        let s = f.store.clone();
        tasks.push(tokio::spawn(async move {
            let mut won = Vec::new();
            while let Some(job) = claim_one(&*s, &[kind("race")], &format!("c{c}"), 10, 100).await {
                assert_eq!(job.lease.unwrap().owner, owner(&format!("c{c}")));
                won.push(job.id);
            }
            won
        }));
    }
    let mut winners: BTreeMap<JobId, usize> = BTreeMap::new();
    for task in tasks {
        for id in task.await.unwrap() {
            *winners.entry(id).or_default() += 1;
        }
    }
    // A claimer may stop early while others hold row locks: the rest are
    // still there for one more.
    while let Some(job) = claim_one(&*f.store, &[kind("race")], "last", 10, 100).await {
        *winners.entry(job.id).or_default() += 1;
    }
    assert_eq!(winners.len(), JOBS, "every job claimed");
    assert!(
        winners.values().all(|&n| n == 1),
        "claimed more than once: {winners:?}"
    );
    for job in f.store.list(JobQuery::all(100)).await.unwrap() {
        assert_eq!((job.state, job.attempts), (JobState::Running, 1));
    }
}

pub async fn expired_lease_is_taken_over_and_the_old_owner_refused(f: JobFixture) {
    let s = &*f.store;
    let k = [kind("gc")];
    s.create(&new_job(1, "gc", at(1))).await.unwrap();
    claim_one(s, &k, "a", 10, 20).await.unwrap();
    let p = progress(5, Some(10), "half");
    s.heartbeat(&jid(1), &owner("a"), &p, at(12), at(20))
        .await
        .unwrap();
    assert!(claim_one(s, &k, "b", 19, 29).await.is_none(), "still held");

    let taken = claim_one(s, &k, "b", 20, 30).await.unwrap();
    assert_eq!(taken.lease.clone().unwrap().owner, owner("b"));
    assert_eq!(taken.attempts, 2);
    assert_eq!(taken.progress, p, "progress survives a takeover");

    let late = progress(6, Some(10), "late");
    assert_kind(
        s.heartbeat(&jid(1), &owner("a"), &late, at(21), at(31))
            .await,
        ErrorKind::PreconditionFailed,
        "heartbeat of the old owner",
    );
    let done = JobOutcome::Succeeded("a's".into());
    assert_kind(
        s.finish(&jid(1), &owner("a"), &done, &late, at(21)).await,
        ErrorKind::PreconditionFailed,
        "finish by the old owner",
    );
    assert_eq!(s.get(&jid(1)).await.unwrap(), taken, "nothing changed");

    let done = JobOutcome::Succeeded("b's".into());
    let finished = s.finish(&jid(1), &owner("b"), &done, &late, at(22)).await;
    let finished = finished.unwrap();
    assert_eq!(finished.state, JobState::Succeeded);
    assert_eq!(finished.result.as_deref(), Some("b's"));
}

pub async fn heartbeat_records_progress_and_extends_the_lease(f: JobFixture) {
    let s = &*f.store;
    let k = [kind("gc")];
    s.create(&new_job(1, "gc", at(1))).await.unwrap();
    let p = progress(3, None, "counting");
    assert_kind(
        s.heartbeat(&jid(1), &owner("a"), &p, at(2), at(12)).await,
        ErrorKind::PreconditionFailed,
        "heartbeat of a pending job",
    );
    assert_kind(
        s.heartbeat(&jid(9), &owner("a"), &p, at(2), at(12)).await,
        ErrorKind::NotFound,
        "heartbeat of a missing job",
    );
    claim_one(s, &k, "a", 10, 20).await.unwrap();
    let beat = s
        .heartbeat(&jid(1), &owner("a"), &p, at(15), at(25))
        .await
        .unwrap();
    assert_eq!(beat.progress, p);
    assert_eq!(beat.updated, at(15));
    assert_eq!(beat.lease.clone().unwrap().expires, at(25));
    assert!(!beat.cancel_requested);
    assert_eq!(s.get(&jid(1)).await.unwrap(), beat, "heartbeat is stored");
    assert!(
        claim_one(s, &k, "b", 24, 34).await.is_none(),
        "lease extended"
    );

    // Expired but not taken over: the owner may still renew.
    let p = progress(7, Some(9), "nearly");
    let renewed = s
        .heartbeat(&jid(1), &owner("a"), &p, at(30), at(40))
        .await
        .unwrap();
    assert_eq!(renewed.lease.unwrap().expires, at(40));
    assert!(claim_one(s, &k, "b", 35, 45).await.is_none());
    assert_kind(
        s.heartbeat(&jid(1), &owner("b"), &p, at(36), at(46)).await,
        ErrorKind::PreconditionFailed,
        "heartbeat of another owner",
    );
}

pub async fn cancellation_of_pending_and_running_jobs(f: JobFixture) {
    let s = &*f.store;
    let k = [kind("gc")];
    s.create(&new_job(1, "gc", at(1))).await.unwrap();
    s.create(&new_job(2, "gc", at(2))).await.unwrap();

    let pending = s.request_cancel(&jid(1), at(5)).await.unwrap();
    assert_eq!(
        pending.state,
        JobState::Canceled,
        "pending: canceled at once"
    );
    assert!(pending.cancel_requested);
    assert_eq!(pending.updated, at(5));
    assert_eq!(s.get(&jid(1)).await.unwrap(), pending);

    let running = claim_one(s, &k, "a", 10, 20).await.unwrap();
    assert_eq!(running.id, jid(2), "a canceled job is never claimed");
    let flagged = s.request_cancel(&jid(2), at(11)).await.unwrap();
    assert_eq!(flagged.state, JobState::Running, "running: only flagged");
    assert!(flagged.cancel_requested);
    assert_eq!(flagged.lease, running.lease);
    let again = s.request_cancel(&jid(2), at(12)).await.unwrap();
    assert!(again.cancel_requested, "asking twice is harmless");
    let p = progress(1, Some(2), "stopping");
    let beat = s
        .heartbeat(&jid(2), &owner("a"), &p, at(13), at(23))
        .await
        .unwrap();
    assert!(beat.cancel_requested, "the runner hears of it");
    let canceled = s
        .finish(&jid(2), &owner("a"), &JobOutcome::Canceled, &p, at(14))
        .await
        .unwrap();
    assert_eq!(canceled.state, JobState::Canceled);
    assert_eq!(canceled.lease, None);
    assert_eq!(canceled.progress, p);

    for id in [jid(1), jid(2)] {
        assert_kind(
            s.request_cancel(&id, at(15)).await,
            ErrorKind::PreconditionFailed,
            "cancel of a final job",
        );
    }
    assert_kind(
        s.request_cancel(&jid(9), at(15)).await,
        ErrorKind::NotFound,
        "cancel of a missing job",
    );
}

pub async fn finishing_twice_is_refused(f: JobFixture) {
    let s = &*f.store;
    let k = [kind("gc")];
    s.create(&new_job(1, "gc", at(1))).await.unwrap();
    s.create(&new_job(2, "gc", at(2))).await.unwrap();
    let p = progress(10, Some(10), "done");
    assert_kind(
        s.finish(&jid(1), &owner("a"), &JobOutcome::Canceled, &p, at(3))
            .await,
        ErrorKind::PreconditionFailed,
        "finish of a pending job",
    );
    assert_kind(
        s.finish(&jid(9), &owner("a"), &JobOutcome::Canceled, &p, at(3))
            .await,
        ErrorKind::NotFound,
        "finish of a missing job",
    );
    claim_one(s, &k, "a", 10, 20).await.unwrap();
    claim_one(s, &k, "a", 10, 20).await.unwrap();

    let ok = JobOutcome::Succeeded("42 objects".into());
    let done = s.finish(&jid(1), &owner("a"), &ok, &p, at(11)).await;
    let done = done.unwrap();
    assert_eq!(
        (done.state, done.result.as_deref(), done.error.as_deref()),
        (JobState::Succeeded, Some("42 objects"), None)
    );
    assert_eq!((done.lease.clone(), done.updated), (None, at(11)));
    assert_eq!(done.progress, p);
    assert_eq!(s.get(&jid(1)).await.unwrap(), done);
    let failed = JobOutcome::Failed("boom".into());
    assert_kind(
        s.finish(&jid(1), &owner("a"), &failed, &p, at(12)).await,
        ErrorKind::PreconditionFailed,
        "second finish",
    );
    assert_kind(
        s.heartbeat(&jid(1), &owner("a"), &p, at(12), at(22)).await,
        ErrorKind::PreconditionFailed,
        "heartbeat after finish",
    );
    assert_eq!(s.get(&jid(1)).await.unwrap(), done, "nothing changed");

    let fail = s.finish(&jid(2), &owner("a"), &failed, &p, at(13)).await;
    let fail = fail.unwrap();
    assert_eq!(
        (fail.state, fail.result.as_deref(), fail.error.as_deref()),
        (JobState::Failed, None, Some("boom"))
    );
    assert!(claim_one(s, &k, "b", 1_000, 1_010).await.is_none());
}

pub async fn listings_page_by_id_and_filter(f: JobFixture) {
    let s = &*f.store;
    for n in 0..25 {
        let k = if n % 3 == 0 { "gc" } else { "import" };
        s.create(&new_job(n, k, at(n as i64))).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let query = JobQuery {
            after: &after,
            ..JobQuery::all(10)
        };
        let page = s.list(query).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 10);
        after = page[page.len() - 1].id.as_str().to_owned();
        seen.extend(ids(&page));
    }
    let expected: Vec<String> = (0..25).map(|n| jid(n).into_string()).collect();
    assert_eq!(seen, expected);

    let gc = kind("gc");
    let by_kind = JobQuery {
        kind: Some(&gc),
        ..JobQuery::all(100)
    };
    let gcs: Vec<String> = (0..25).step_by(3).map(|n| jid(n).into_string()).collect();
    assert_eq!(ids(&s.list(by_kind).await.unwrap()), gcs);

    // jobs 0 and 3 run, job 6 is canceled.
    claim_one(s, std::slice::from_ref(&gc), "a", 100, 200)
        .await
        .unwrap();
    claim_one(s, std::slice::from_ref(&gc), "a", 100, 200)
        .await
        .unwrap();
    s.request_cancel(&jid(6), at(100)).await.unwrap();
    let running = JobQuery {
        state: Some(JobState::Running),
        ..JobQuery::all(100)
    };
    assert_eq!(ids(&s.list(running).await.unwrap()), ["job0000", "job0003"]);
    let pending_gc = JobQuery {
        kind: Some(&gc),
        state: Some(JobState::Pending),
        after: "job0009",
        limit: 2,
    };
    assert_eq!(
        ids(&s.list(pending_gc).await.unwrap()),
        ["job0012", "job0015"]
    );
    let canceled = JobQuery {
        state: Some(JobState::Canceled),
        ..JobQuery::all(100)
    };
    assert_eq!(ids(&s.list(canceled).await.unwrap()), ["job0006"]);
    assert!(s.list(JobQuery::all(0)).await.unwrap().is_empty());
}
