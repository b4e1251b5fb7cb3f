//! Garbage collection over the memory adapters: what each rule keeps, what
//! is collected, and that a collected object reads as gone.

use super::*;
use crate::{GcOptions, GcReport, Unobserved};
use tarn_ports::ByteStream;

const HOUR: i64 = 3_600_000_000;
const DAY: i64 = 24 * HOUR;

fn ns() -> StorageNamespace {
    StorageNamespace::new("mem://repo").unwrap()
}

impl Fixture {
    async fn upload(&self, branch: &str, path: &str, content: &str) -> String {
        let e = self
            .engine
            .upload_object(
                &self.repo,
                &b(branch),
                &p(path),
                ByteStream::from_bytes(content.as_bytes().to_vec()),
                UploadRequest::default(),
            )
            .await
            .unwrap();
        match e.address {
            PhysicalAddress::Relative(k) => k.as_str().to_owned(),
            other => panic!("uploads are relative: {other:?}"),
        }
    }

    async fn body(&self, reference: &str, path: &str) -> Result<String> {
        let read = self
            .engine
            .read_object(&self.repo, reference, &p(path), None)
            .await?;
        let bytes = read.data.body.collect_bounded(1 << 20).await.unwrap();
        Ok(String::from_utf8(bytes.to_vec()).unwrap())
    }

    async fn data_keys(&self) -> Vec<String> {
        let listed = self
            .engine
            .stores
            .blocks
            .list(&ns(), "data/", None, 100_000)
            .await
            .unwrap();
        listed
            .into_iter()
            .map(|b| b.key.as_str().to_owned())
            .collect()
    }

    async fn gc_with(&self, run: &str, options: GcOptions) -> GcReport {
        let marked = self
            .engine
            .gc_mark(&self.repo, run, &options, &Unobserved)
            .await
            .unwrap();
        if options.dry_run {
            return marked;
        }
        self.engine
            .gc_sweep(&self.repo, run, &Unobserved)
            .await
            .unwrap()
    }

    /// Collects with no grace period.
    async fn gc(&self, run: &str) -> GcReport {
        self.gc_with(
            run,
            GcOptions {
                grace_period_secs: 0,
                ..GcOptions::default()
            },
        )
        .await
    }

    async fn set_rules(&self, default_days: i64, branches: &[(&str, i64)]) {
        let rules = GcRules::new(
            default_days,
            branches.iter().map(|(b, d)| (b.to_string(), *d)).collect(),
        )
        .unwrap();
        self.engine.set_gc_rules(&self.repo, &rules).await.unwrap();
    }
}

#[tokio::test]
async fn overwritten_and_deleted_uncommitted_data_is_collected_and_the_rest_reads_back() {
    let f = fixture().await;
    let first = f.upload("main", "a", "one").await;
    let second = f.upload("main", "a", "two").await;
    let gone = f.upload("main", "b", "bee").await;
    f.engine
        .delete_object(&f.repo, &b("main"), &p("b"))
        .await
        .unwrap();
    f.clock.advance(1_000_000);
    let report = f.gc("r1").await;
    assert_eq!(report.garbage.objects, 2, "{report:?}");
    assert_eq!(report.deleted.objects, 2);
    assert_eq!(report.deleted.bytes, 6);
    assert_eq!(report.live.objects, 1);
    let keys = f.data_keys().await;
    assert_eq!(keys, vec![second.clone()]);
    assert!(!keys.contains(&first) && !keys.contains(&gone));
    assert_eq!(f.body("main", "a").await.unwrap(), "two");
}

#[tokio::test]
async fn the_grace_period_keeps_young_data() {
    let f = fixture().await;
    let first = f.upload("main", "a", "one").await;
    f.upload("main", "a", "two").await;
    let report = f
        .gc_with(
            "young",
            GcOptions {
                grace_period_secs: 3600,
                ..GcOptions::default()
            },
        )
        .await;
    assert_eq!(report.garbage.objects, 0);
    assert_eq!(report.skipped_grace.objects, 1);
    assert!(f.data_keys().await.contains(&first));
    // Strictly older than the grace period.
    f.clock.advance(HOUR + 1);
    let report = f
        .gc_with(
            "old",
            GcOptions {
                grace_period_secs: 3600,
                ..GcOptions::default()
            },
        )
        .await;
    assert_eq!(report.deleted.objects, 1);
    assert!(!f.data_keys().await.contains(&first));
}

#[tokio::test]
async fn retention_keeps_the_window_and_the_first_older_commit() {
    let f = fixture().await;
    f.upload("main", "a", "v1").await;
    let c1 = f.commit("main", "one").await;
    f.clock.advance(2 * DAY);
    f.upload("main", "a", "v2").await;
    let c2 = f.commit("main", "two").await;
    f.clock.advance(2 * DAY);
    f.upload("main", "a", "v3").await;
    let c3 = f.commit("main", "three").await;
    f.clock.advance(5 * DAY);
    // Without rules every commit is kept.
    assert_eq!(f.gc("norules").await.garbage.objects, 0);
    // Three days: the head c3 is kept; it was made five days ago, so it
    // does not keep c2 (a parent is kept while its child is in the window).
    f.set_rules(3, &[]).await;
    let dry = f
        .gc_with(
            "dry",
            GcOptions {
                grace_period_secs: 0,
                dry_run: true,
                ..GcOptions::default()
            },
        )
        .await;
    assert_eq!(dry.garbage.objects, 2);
    assert_eq!(dry.kept_commits, 1);
    assert_eq!(dry.garbage_files, 0, "a dry run writes no list");
    assert!(matches!(
        f.engine.gc_sweep(&f.repo, "dry", &Unobserved).await,
        Err(Error::InvalidInput { .. })
    ));
    assert_eq!(f.body(c1.id.as_str(), "a").await.unwrap(), "v1");
    // An hour after c3 was made, c3 and c2 are both within three days:
    // c3 keeps c2 and c2 keeps c1 (the repository's first commit, older
    // than c1's window, is not kept).
    let as_of = Timestamp::from_unix_micros(c3.creation_date.unix_micros() + HOUR);
    let then = f
        .gc_with(
            "then",
            GcOptions {
                as_of: Some(as_of),
                grace_period_secs: 0,
                dry_run: true,
                ..GcOptions::default()
            },
        )
        .await;
    assert_eq!(then.kept_commits, 3);
    assert_eq!(then.garbage.objects, 0);
    // Seven days for main: c3 (five days old) keeps c2; c2 (seven days
    // and a second old) does not keep c1.
    f.set_rules(3, &[("main", 7)]).await;
    let main_rule = f.gc("mainrule").await;
    assert_eq!(main_rule.kept_commits, 2);
    assert_eq!(main_rule.deleted.objects, 1);
    assert!(matches!(
        f.body(c1.id.as_str(), "a").await,
        Err(Error::Gone(_))
    ));
    assert_eq!(f.body(c2.id.as_str(), "a").await.unwrap(), "v2");
    f.set_rules(3, &[]).await;
    let report = f.gc("real").await;
    assert_eq!(report.deleted.objects, 1);
    assert_eq!(f.body("main", "a").await.unwrap(), "v3");
    assert_eq!(f.body(c3.id.as_str(), "a").await.unwrap(), "v3");
    for old in [&c1, &c2] {
        assert!(
            matches!(f.body(old.id.as_str(), "a").await, Err(Error::Gone(_))),
            "an expired commit's data reads as gone"
        );
    }
}

#[tokio::test]
async fn data_of_deleted_branches_goes_and_their_commits_follow_the_default_rule() {
    let f = fixture().await;
    f.engine
        .create_branch(&f.repo, b("feat"), "main")
        .await
        .unwrap();
    let staged = f.upload("feat", "x", "staged").await;
    f.engine
        .create_branch(&f.repo, b("done"), "main")
        .await
        .unwrap();
    let committed = f.upload("done", "y", "committed").await;
    f.commit("done", "work").await;
    f.engine.delete_branch(&f.repo, &b("feat")).await.unwrap();
    f.engine.delete_branch(&f.repo, &b("done")).await.unwrap();
    f.clock.advance(DAY);
    f.set_rules(2, &[]).await;
    f.gc("r1").await;
    let keys = f.data_keys().await;
    assert!(
        !keys.contains(&staged),
        "uncommitted data of a deleted branch"
    );
    assert!(
        keys.contains(&committed),
        "a dangling commit within retention"
    );
    f.clock.advance(2 * DAY);
    f.gc("r2").await;
    assert!(!f.data_keys().await.contains(&committed));
}

#[tokio::test]
async fn given_out_addresses_wait_for_the_link_lifetime_and_other_data_is_untouched() {
    let f = fixture().await;
    let (given, _) = f
        .engine
        .new_physical_address(&f.repo, &p("direct"))
        .await
        .unwrap();
    let blocks = f.engine.stores.blocks.clone();
    let foreign = BlockKey::new("data/not-tarns/file").unwrap();
    for key in [&given, &foreign] {
        blocks
            .put(&ns(), key, ByteStream::from_bytes(b"x".to_vec()), Some(1))
            .await
            .unwrap();
    }
    f.clock.advance(2 * HOUR);
    assert_eq!(f.gc("early").await.skipped_grace.objects, 1);
    assert!(f.data_keys().await.contains(&given.as_str().to_owned()));
    f.clock.advance(25 * HOUR);
    assert_eq!(f.gc("late").await.deleted.objects, 1);
    assert_eq!(f.data_keys().await, vec!["data/not-tarns/file".to_owned()]);
}

#[tokio::test]
async fn many_small_sort_runs_merge_to_the_same_answer() {
    let f = fixture().await;
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for i in 0..150 {
        dropped.push(f.upload("main", &format!("f{i:03}"), "old").await);
        kept.push(
            f.upload("main", &format!("f{i:03}"), &format!("new{i}"))
                .await,
        );
    }
    f.commit("main", "all").await;
    f.clock.advance(1_000_000);
    let report = f
        .gc_with(
            "tiny",
            GcOptions {
                grace_period_secs: 0,
                // One record per run: 150 runs, merged in rounds of 64.
                sort_budget_bytes: 1,
                ..GcOptions::default()
            },
        )
        .await;
    assert_eq!(report.live.objects, 150);
    assert_eq!(report.deleted.objects, 150);
    kept.sort();
    assert_eq!(f.data_keys().await, kept);
    let scratch = f
        .engine
        .stores
        .blocks
        .list(&ns(), "_tarn/gc/tiny/live", None, 10)
        .await
        .unwrap();
    assert!(scratch.is_empty(), "sort runs are removed");
}

#[tokio::test]
async fn the_report_names_what_only_each_branch_keeps() {
    let f = fixture().await;
    f.upload("main", "shared", "12345").await;
    f.commit("main", "base").await;
    f.engine
        .create_branch(&f.repo, b("feat"), "main")
        .await
        .unwrap();
    f.upload("feat", "mine", "abcdefg").await;
    f.upload("main", "main-only", "xyz").await;
    let report = f.gc("report").await;
    let of = |name: &str| {
        report
            .branches
            .iter()
            .find(|b| b.branch == name)
            .map(|b| b.exclusive)
            .unwrap()
    };
    assert_eq!(of("feat").bytes, 7);
    assert_eq!(of("main").bytes, 3);
    assert_eq!(report.live.bytes, 15);
    let stored = f.engine.gc_report(&f.repo, "report").await.unwrap();
    assert_eq!(stored, report);
}

#[tokio::test]
async fn abandoned_uploads_are_aborted_and_young_ones_kept() {
    let f = fixture().await;
    let old = f
        .engine
        .create_multipart_upload(&f.repo, &b("main"), &p("old"), Default::default())
        .await
        .unwrap();
    f.clock.advance(8 * DAY);
    let young = f
        .engine
        .create_multipart_upload(&f.repo, &b("main"), &p("young"), Default::default())
        .await
        .unwrap();
    let report = f.gc("uploads").await;
    assert_eq!(report.abandoned_uploads, vec![old.upload_id.to_string()]);
    assert_eq!(report.uploads_aborted, 1);
    assert!(f
        .engine
        .get_multipart_upload(&f.repo, old.upload_id.as_str())
        .await
        .is_err());
    assert!(f
        .engine
        .get_multipart_upload(&f.repo, young.upload_id.as_str())
        .await
        .is_ok());
}

async fn tree_keys(f: &Fixture, prefix: &str) -> Vec<String> {
    f.engine
        .stores
        .blocks
        .list(&ns(), prefix, None, 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.key.as_str().to_owned())
        .collect()
}

#[tokio::test]
async fn unreferenced_tree_files_go_to_the_trash_and_later_away() {
    let f = fixture().await;
    f.upload("main", "a", "kept").await;
    f.commit("main", "one").await;
    let referenced = tree_keys(&f, "_tarn/range/").await;
    // Files a failed commit left behind.
    let orphan_range = format!("_tarn/range/{}", "a".repeat(64));
    let orphan_meta = format!("_tarn/metarange/{}", "b".repeat(64));
    let blocks = f.engine.stores.blocks.clone();
    for k in [&orphan_range, &orphan_meta] {
        let key = BlockKey::new(k.clone()).unwrap();
        blocks
            .put(
                &ns(),
                &key,
                ByteStream::from_bytes(b"old".to_vec()),
                Some(3),
            )
            .await
            .unwrap();
    }
    // Young: untouched.
    let report = f.gc_with("young", GcOptions::default()).await;
    assert_eq!(report.tree_files.objects, 0);
    f.clock.advance(2 * HOUR);
    let report = f.gc_with("first", GcOptions::default()).await;
    assert_eq!(report.tree_files.objects, 2, "{report:?}");
    assert_eq!(report.trees_trashed, 2);
    assert_eq!(tree_keys(&f, "_tarn/range/").await, referenced);
    assert_eq!(tree_keys(&f, "_tarn/trash/").await.len(), 2);
    // Still within the grace period in the trash: kept there.
    let report = f.gc_with("second", GcOptions::default()).await;
    assert_eq!(report.trash_purged, 0);
    f.clock.advance(2 * HOUR);
    let report = f.gc_with("third", GcOptions::default()).await;
    assert_eq!(report.trash_purged, 2);
    assert!(tree_keys(&f, "_tarn/trash/").await.is_empty());
    assert_eq!(f.body("main", "a").await.unwrap(), "kept");
}

#[tokio::test]
async fn a_trashed_tree_file_a_commit_uses_comes_back() {
    let f = fixture().await;
    f.upload("main", "a", "content").await;
    f.commit("main", "one").await;
    // As if a run trashed a range a commit in flight had just written.
    let range = tree_keys(&f, "_tarn/range/").await.remove(0);
    let main = BlockKey::new(range.clone()).unwrap();
    let trash = BlockKey::new(range.replace("_tarn/", "_tarn/trash/")).unwrap();
    let blocks = f.engine.stores.blocks.clone();
    blocks.copy(&ns(), &main, &ns(), &trash).await.unwrap();
    blocks.delete(&ns(), &main).await.unwrap();
    // A fresh engine (no cached ranges) reads through the trash.
    let engine = Engine::new(f.engine.stores.clone(), EngineSettings::default());
    let read = engine
        .read_object(&f.repo, "main", &p("a"), None)
        .await
        .unwrap();
    let bytes = read.data.body.collect_bounded(1 << 20).await.unwrap();
    assert_eq!(&bytes[..], b"content");
    assert!(blocks.head(&ns(), &main).await.is_ok(), "restored in place");
    // A run finds it referenced in the trash and tidies up.
    blocks.copy(&ns(), &main, &ns(), &trash).await.unwrap();
    let report = f.gc("tidy").await;
    assert_eq!(report.trash_restored, 1);
    assert!(tree_keys(&f, "_tarn/trash/").await.is_empty());
    assert!(blocks.head(&ns(), &main).await.is_ok());
}

#[tokio::test]
async fn one_of_many_concurrent_schedule_claims_wins_each_interval() {
    let f = fixture().await;
    let claims =
        futures::future::join_all((0..8).map(|_| f.engine.claim_scheduled_gc(&f.repo, 3600))).await;
    let won = claims.into_iter().filter(|c| *c.as_ref().unwrap()).count();
    assert_eq!(won, 1);
    assert!(!f.engine.claim_scheduled_gc(&f.repo, 3600).await.unwrap());
    f.clock.advance(HOUR);
    assert!(f.engine.claim_scheduled_gc(&f.repo, 3600).await.unwrap());
}

/// Stops the run once it has reported `after` progress events.
struct CancelAfter {
    after: usize,
    seen: std::sync::atomic::AtomicUsize,
}

impl crate::GcObserver for CancelAfter {
    fn progress(&self, _: &str, _: u64, _: Option<u64>) {
        self.seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    fn cancelled(&self) -> bool {
        self.seen.load(std::sync::atomic::Ordering::SeqCst) >= self.after
    }
}

#[tokio::test]
async fn a_canceled_run_deletes_nothing_and_a_later_one_finishes() {
    let f = fixture().await;
    let old = f.upload("main", "a", "one").await;
    f.upload("main", "a", "two").await;
    f.commit("main", "c").await;
    f.clock.advance(1_000_000);
    let options = GcOptions {
        grace_period_secs: 0,
        ..GcOptions::default()
    };
    for after in 0..3 {
        let stop = CancelAfter {
            after,
            seen: Default::default(),
        };
        let res = f.engine.gc_mark(&f.repo, "stopped", &options, &stop).await;
        assert!(matches!(res, Err(Error::Canceled(_))), "{after}: {res:?}");
        assert!(matches!(
            f.engine.gc_report(&f.repo, "stopped").await,
            Err(Error::NotFound { .. })
        ));
    }
    assert!(f.data_keys().await.contains(&old));
    // A mark that finished, then a sweep stopped half way, then resumed.
    f.engine
        .gc_mark(&f.repo, "resumed", &options, &Unobserved)
        .await
        .unwrap();
    let stop = CancelAfter {
        after: 0,
        seen: Default::default(),
    };
    assert!(matches!(
        f.engine.gc_sweep(&f.repo, "resumed", &stop).await,
        Err(Error::Canceled(_))
    ));
    let swept = f
        .engine
        .gc_sweep(&f.repo, "resumed", &Unobserved)
        .await
        .unwrap();
    assert_eq!(swept.deleted.objects, 1);
    assert!(!f.data_keys().await.contains(&old));
}

#[tokio::test]
async fn bare_and_shared_namespaces_are_refused() {
    let f = fixture().await;
    f.upload("main", "a", "data").await;
    f.clock.advance(2 * HOUR);
    // A bare repository over the same namespace (as a restore starts).
    let twin = RepositoryId::new("twin").unwrap();
    f.engine
        .create_bare_repository(twin.clone(), ns(), b("main"), false)
        .await
        .unwrap();
    for repo in [&f.repo, &twin] {
        let res = f
            .engine
            .gc_mark(repo, "refused", &GcOptions::default(), &Unobserved)
            .await;
        assert!(matches!(res, Err(Error::InvalidInput { .. })), "{res:?}");
    }
    assert_eq!(f.data_keys().await.len(), 1);
    f.engine.delete_repository(&twin).await.unwrap();
    // Alone again: the run goes ahead.
    f.gc("alone").await;
}

/// Pauses the mark at its first progress report while reading trees, until
/// the test lets it go.
struct PauseOnce {
    reached: std::sync::Mutex<Option<std::sync::mpsc::Sender<()>>>,
    resume: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
}

impl crate::GcObserver for PauseOnce {
    fn progress(&self, phase: &str, _: u64, _: Option<u64>) {
        if phase != "mark: reading trees" {
            return;
        }
        let reached = self.reached.lock().unwrap().take();
        if let Some(tx) = reached {
            tx.send(()).unwrap();
            self.resume.lock().unwrap().recv().unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_made_while_the_mark_runs_keep_their_data() {
    let f = Arc::new(fixture().await);
    f.upload("main", "base", "base").await;
    f.commit("main", "base").await;
    // Staged long ago: the grace period does not protect it.
    let staged = f
        .upload("main", "d", "in a commit made during the mark")
        .await;
    f.clock.advance(2 * HOUR);
    let (reached_tx, reached_rx) = std::sync::mpsc::channel();
    let (resume_tx, resume_rx) = std::sync::mpsc::channel();
    let observer = Arc::new(PauseOnce {
        reached: std::sync::Mutex::new(Some(reached_tx)),
        resume: std::sync::Mutex::new(resume_rx),
    });
    let marking = {
        let (f, observer) = (f.clone(), observer.clone());
        tokio::spawn(async move {
            f.engine
                .gc_mark(&f.repo, "during", &GcOptions::default(), &*observer)
                .await
        })
    };
    tokio::task::spawn_blocking(move || reached_rx.recv().unwrap())
        .await
        .unwrap();
    // While the mark is paused: commit the staged data, then move on so
    // that no head shows that commit.
    let with_d = f.commit("main", "with d").await;
    f.engine
        .delete_object(&f.repo, &b("main"), &p("d"))
        .await
        .unwrap();
    f.commit("main", "without d").await;
    resume_tx.send(()).unwrap();
    marking.await.unwrap().unwrap();
    f.engine
        .gc_sweep(&f.repo, "during", &Unobserved)
        .await
        .unwrap();
    assert!(
        f.data_keys().await.contains(&staged),
        "no rules: every commit is kept"
    );
    assert_eq!(
        f.body(with_d.id.as_str(), "d").await.unwrap(),
        "in a commit made during the mark"
    );
}
