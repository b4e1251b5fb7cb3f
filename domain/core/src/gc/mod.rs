//! Garbage collection: finds the data in a repository's namespace that
//! nothing keeps alive any more (no kept commit, no branch's staging, no
//! upload in progress) and deletes it, in two steps that can run apart.
//!
//! - **Mark** computes the live addresses (streamed into sorted runs in the
//!   block store, so memory stays bounded), merges them with the sorted
//!   listing of `data/` and writes the garbage found to
//!   `_tarn/gc/<run>/garbage/`, with a report at `_tarn/gc/<run>/report.json`.
//! - **Sweep** deletes exactly that list, in batches.
//!
//! What is kept is lakeFS's rule (see `active`); what is a candidate is only
//! data Tarn wrote (`data/h<hour>/<id>`) in the repository's own namespace,
//! older than the grace period, and (for addresses given out for direct
//! writes) past the link lifetime. `docs/gc.md` has the reasoning.

mod active;
mod mark;
mod spill;
mod sweep;
mod trees;

pub(crate) use trees::TRASH;

use crate::error::{Error, Result};
use crate::Engine;
use serde::{Deserialize, Serialize};
use tarn_model::{BlockKey, RepositoryId, StorageNamespace, Timestamp};

/// How a run works.
#[derive(Debug, Clone)]
pub struct GcOptions {
    /// The instant retention is evaluated at (default: now). Grace periods
    /// always count from the real now.
    pub as_of: Option<Timestamp>,
    /// Data younger than this is never collected (`gc.grace_period_secs`).
    pub grace_period_secs: u64,
    /// Multipart uploads started longer ago than this are abandoned: a
    /// sweep aborts them (`gc.abandoned_upload_secs`).
    pub abandoned_upload_secs: u64,
    /// Report only: write no garbage list (so nothing can be swept).
    pub dry_run: bool,
    /// Memory for sorting addresses, in bytes (`gc.sort_budget_bytes`).
    pub sort_budget_bytes: usize,
}

impl Default for GcOptions {
    fn default() -> Self {
        Self {
            as_of: None,
            grace_period_secs: 3600,
            abandoned_upload_secs: 7 * 86_400,
            dry_run: false,
            sort_budget_bytes: 32 << 20,
        }
    }
}

/// Where a run is, for progress reports.
pub trait GcObserver: Send + Sync {
    /// `phase` has done `done` of `total` (when known) units.
    fn progress(&self, phase: &str, done: u64, total: Option<u64>);
    /// Whether the run should stop.
    fn cancelled(&self) -> bool {
        false
    }
}

/// An observer that ignores progress and never cancels.
pub struct Unobserved;

impl GcObserver for Unobserved {
    fn progress(&self, _: &str, _: u64, _: Option<u64>) {}
}

/// A count of objects and their bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Objects.
    pub objects: u64,
    /// Their bytes.
    pub bytes: u64,
}

impl Tally {
    fn add(&mut self, bytes: u64) {
        self.objects += 1;
        self.bytes += bytes;
    }
}

/// What only one branch keeps alive: what deleting it (and letting its
/// history expire) would free.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchFootprint {
    /// The branch.
    pub branch: String,
    /// The data no other branch, commit in retention or upload keeps.
    pub exclusive: Tally,
}

/// What a run found and did; stored with the run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GcReport {
    /// The run.
    pub run_id: String,
    /// The repository.
    pub repository: String,
    /// When the mark started (Unix seconds).
    pub started: i64,
    /// The instant retention was evaluated at (Unix seconds).
    pub as_of: i64,
    /// Data last written at or after this (Unix seconds) was never a
    /// candidate: the grace period.
    pub cutoff: i64,
    /// A dry run writes no garbage list.
    pub dry_run: bool,
    /// Commits in the repository.
    pub commits: u64,
    /// Commits retention keeps (their data is live).
    pub kept_commits: u64,
    /// Distinct ranges read.
    pub ranges_read: u64,
    /// Data objects listed in the namespace.
    pub scanned: Tally,
    /// Of those, kept alive by a commit, staging or an upload.
    pub live: Tally,
    /// Of those, not live but too young to collect (grace period, link
    /// lifetime).
    pub skipped_grace: Tally,
    /// Of those, garbage: what a sweep deletes.
    pub garbage: Tally,
    /// What a sweep deleted.
    pub deleted: Tally,
    /// Uploads abandoned (started before the abandonment age): a sweep
    /// aborts them.
    pub abandoned_uploads: Vec<String>,
    /// Uploads a sweep aborted.
    pub uploads_aborted: u64,
    /// How many garbage list files the mark wrote.
    pub garbage_files: u64,
    /// Tree files (ranges, metaranges) no commit references, older than
    /// the grace period: a sweep moves them to the trash.
    pub tree_files: Tally,
    /// How many tree list files the mark wrote.
    pub tree_list_files: u64,
    /// Tree files a sweep moved to the trash.
    pub trees_trashed: u64,
    /// Trashed tree files a sweep deleted (trashed before the grace period
    /// and still unreferenced).
    pub trash_purged: u64,
    /// Trashed tree files a sweep put back (a commit references them again).
    pub trash_restored: u64,
    /// Per branch, what only it keeps alive.
    pub branches: Vec<BranchFootprint>,
    /// The mark finished.
    pub marked: bool,
    /// The sweep finished.
    pub swept: bool,
}

/// A run id: 1 to 64 of `[A-Za-z0-9_-]` (a job id fits).
fn check_run_id(run: &str) -> Result<()> {
    let ok = (1..=64).contains(&run.len())
        && run
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "run",
            format!("{run:?} is not a run id: 1 to 64 letters, digits, '_' or '-'"),
        ))
    }
}

/// Where a run keeps its files.
fn run_dir(run: &str) -> String {
    format!("_tarn/gc/{run}/")
}

fn report_key(run: &str) -> Result<BlockKey> {
    Ok(BlockKey::new(format!("{}report.json", run_dir(run)))?)
}

fn garbage_key(run: &str, n: u64) -> Result<BlockKey> {
    Ok(BlockKey::new(format!("{}garbage/{n:06}", run_dir(run)))?)
}

fn tree_list_key(run: &str, n: u64) -> Result<BlockKey> {
    Ok(BlockKey::new(format!("{}trees/{n:06}", run_dir(run)))?)
}

/// The repository setting holding when a scheduled run was last started
/// (Unix seconds).
const SCHEDULED: &str = "gc/last_scheduled";

fn canceled() -> Error {
    Error::Canceled("garbage collection".to_owned())
}

impl Engine {
    /// Marks: finds the garbage of `repo` and (unless a dry run) writes the
    /// list a sweep deletes. Returns the report, also stored with the run.
    pub async fn gc_mark(
        &self,
        repo: &RepositoryId,
        run: &str,
        options: &GcOptions,
        observer: &dyn GcObserver,
    ) -> Result<GcReport> {
        check_run_id(run)?;
        let ns = self.get_repository(repo).await?.storage_namespace;
        self.check_namespace_alone(repo, &ns).await?;
        let mut report = mark::mark(self, repo, &ns, run, options, observer).await?;
        report.marked = true;
        self.write_gc_report(&ns, &report).await?;
        Ok(report)
    }

    /// Sweeps: deletes exactly the garbage run `run` marked, and aborts the
    /// uploads it found abandoned. Safe to repeat.
    pub async fn gc_sweep(
        &self,
        repo: &RepositoryId,
        run: &str,
        observer: &dyn GcObserver,
    ) -> Result<GcReport> {
        check_run_id(run)?;
        let ns = self.get_repository(repo).await?.storage_namespace;
        let mut report = self.read_gc_report(&ns, run).await?;
        if !report.marked || report.dry_run {
            return Err(Error::invalid(
                "run",
                format!("run {run} was a dry run or did not finish marking: nothing to sweep"),
            ));
        }
        sweep::sweep(self, repo, &ns, &mut report, observer).await?;
        report.swept = true;
        self.write_gc_report(&ns, &report).await?;
        Ok(report)
    }

    /// Whether a scheduled run of `repo` is due (none started by a schedule
    /// in the last `interval_secs`); if so, records that one starts now.
    /// A compare-and-set: of several instances asking at once, one gets
    /// `true`.
    pub async fn claim_scheduled_gc(
        &self,
        repo: &RepositoryId,
        interval_secs: u64,
    ) -> Result<bool> {
        let now = self.now().unix_seconds();
        let interval = i64::try_from(interval_secs).unwrap_or(i64::MAX);
        self.update_setting(repo, SCHEDULED, |current| {
            let last = current.and_then(|c| c.parse::<i64>().ok());
            Ok(match last {
                Some(last) if now.saturating_sub(last) < interval => (None, false),
                _ => (Some(now.to_string()), true),
            })
        })
        .await
    }

    /// The report of run `run`.
    pub async fn gc_report(&self, repo: &RepositoryId, run: &str) -> Result<GcReport> {
        check_run_id(run)?;
        let ns = self.get_repository(repo).await?.storage_namespace;
        self.read_gc_report(&ns, run).await
    }

    /// Refuses a namespace that another repository shares (the same one, or
    /// one inside the other): a run could not tell their data apart.
    async fn check_namespace_alone(
        &self,
        repo: &RepositoryId,
        ns: &StorageNamespace,
    ) -> Result<()> {
        let within = |a: &str, b: &str| a == b || a.starts_with(&format!("{b}/"));
        let mut after: Option<RepositoryId> = None;
        loop {
            let page = self
                .stores
                .refs
                .list_repositories(after.as_ref(), 1000)
                .await?;
            let done = page.len() < 1000;
            after = page.last().map(|r| r.id.clone());
            for other in page {
                let theirs = other.storage_namespace.as_str();
                if other.id != *repo && (within(theirs, ns.as_str()) || within(ns.as_str(), theirs))
                {
                    return Err(Error::invalid(
                        "repository",
                        format!(
                            "{repo} shares its storage namespace with repository {} ({theirs}): garbage collection cannot tell their data apart",
                            other.id
                        ),
                    ));
                }
            }
            if done {
                return Ok(());
            }
        }
    }

    async fn read_gc_report(&self, ns: &StorageNamespace, run: &str) -> Result<GcReport> {
        let key = report_key(run)?;
        let got = match self.stores.blocks.get(ns, &key, None).await {
            Ok(got) => got,
            Err(e) if e.kind() == tarn_ports::ErrorKind::NotFound => {
                return Err(Error::not_found(crate::Entity::GcRun, run));
            }
            Err(e) => return Err(e.into()),
        };
        let bytes = got
            .body
            .collect_bounded(64 << 20)
            .await
            .map_err(|e| Error::Internal(tarn_ports::PortError::internal(e.to_string())))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            Error::Internal(tarn_ports::PortError::internal(format!(
                "the report of gc run {run} is unreadable: {e}"
            )))
        })
    }

    async fn write_gc_report(&self, ns: &StorageNamespace, report: &GcReport) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(report).map_err(|e| {
            Error::Internal(tarn_ports::PortError::internal(format!(
                "encoding a gc report: {e}"
            )))
        })?;
        let size = bytes.len() as u64;
        self.stores
            .blocks
            .put(
                ns,
                &report_key(&report.run_id)?,
                tarn_ports::ByteStream::from_bytes(bytes),
                Some(size),
            )
            .await?;
        Ok(())
    }
}
