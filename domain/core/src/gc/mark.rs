//! The mark: which data is live, and which of the namespace's data is
//! garbage.
//!
//! Order matters against concurrent writers: branch heads are read first,
//! then uploads in progress, then staging, then the heads again (adding the
//! trees and staging of every branch that moved, until none moves). An
//! entry committed after its staging was scanned is in a moved head's tree;
//! an upload completed after uploads were listed is staged by the time
//! staging is scanned. Data written but not yet staged is younger than the
//! grace period.

use super::active::{self, CommitNode, Start, NOBODY};
use super::spill::{Record, RunWriter};
use super::{canceled, run_dir, GcObserver, GcOptions, GcReport};
use crate::error::{Error, Result};
use crate::{Engine, Entity};
use std::collections::{BTreeMap, HashMap, HashSet};
use tarn_model::{
    Branch, BranchName, CommitId, Entry, MetaRangeId, ObjectPath, PhysicalAddress, RangeId,
    RepositoryId, StagedValue, StagingToken, StorageNamespace, Timestamp,
};

/// How often the heads are re-read before giving up on a busy repository.
const MAX_ROUNDS: usize = 20;
const PAGE: usize = 1000;
/// The most abandoned uploads one run aborts (their ids are in the report).
const MAX_ABANDONED: usize = 10_000;

/// The mark's state while it collects live addresses.
struct Marker<'a> {
    engine: &'a Engine,
    ns: &'a StorageNamespace,
    observer: &'a dyn GcObserver,
    live: RunWriter,
    /// Ranges read, with the paths left unmarked in each (`None`: none).
    ranges_seen: HashMap<RangeId, Hidden>,
    /// Branch names by owner tag.
    owners: Vec<BranchName>,
}

impl Marker<'_> {
    fn owner_of(&mut self, branch: &BranchName) -> u32 {
        match self.owners.iter().position(|b| b == branch) {
            Some(i) => i as u32,
            None => {
                self.owners.push(branch.clone());
                (self.owners.len() - 1) as u32
            }
        }
    }

    fn check_cancel(&self) -> Result<()> {
        if self.observer.cancelled() {
            Err(canceled())
        } else {
            Ok(())
        }
    }

    async fn push_entry(&mut self, entry: &Entry, owner: u32) -> Result<()> {
        if let Some(key) = own_data_key(&entry.address, self.ns) {
            self.live
                .push(Record {
                    key,
                    owner,
                    size: entry.size,
                })
                .await?;
        }
        Ok(())
    }

    /// Adds every address of the ranges, but for the paths every tree
    /// that references a range hides; a range already read is read again
    /// only for records it left unmarked that are now visible.
    async fn add_ranges(&mut self, ranges: BTreeMap<RangeId, ToMark>) -> Result<()> {
        let total = ranges.len() as u64;
        for (done, (range, m)) in ranges.into_iter().enumerate() {
            let before = match self.ranges_seen.get(&range) {
                None => None,
                Some(None) => continue,
                Some(Some(unmarked)) => Some(unmarked.clone()),
            };
            let now = match &before {
                Some(unmarked) => both_hide(Some(unmarked.clone()), m.hidden),
                None => m.hidden,
            };
            if before.is_some() && now == before {
                continue;
            }
            self.check_cancel()?;
            let records = self.engine.trees.range_uncached(self.ns, &range).await?;
            for i in 0..records.len() {
                let Some((path, entry)) = records.record(i)? else {
                    break;
                };
                let was_marked = before.as_ref().is_some_and(|u| !u.contains(&path));
                let hidden = now.as_ref().is_some_and(|h| h.contains(&path));
                if !was_marked && !hidden {
                    self.push_entry(&entry, m.owner).await?;
                }
            }
            self.ranges_seen.insert(range, now);
            self.observer
                .progress("mark: reading trees", done as u64 + 1, Some(total));
        }
        Ok(())
    }

    /// Adds the staged entries of a branch's tokens.
    async fn add_staging(&mut self, branch: &Branch) -> Result<()> {
        let owner = self.owner_of(&branch.name);
        let tokens: Vec<StagingToken> = std::iter::once(branch.staging_token.clone())
            .chain(branch.sealed_tokens.iter().cloned())
            .collect();
        for token in tokens {
            let mut after = None;
            loop {
                self.check_cancel()?;
                let page = self
                    .engine
                    .stores
                    .staging
                    .scan(&token, "", after.as_ref(), PAGE)
                    .await?;
                for (_, value) in &page {
                    if let StagedValue::Entry(entry) = value {
                        self.push_entry(entry, owner).await?;
                    }
                }
                if page.len() < PAGE {
                    break;
                }
                after = page.last().map(|(p, _)| p.clone());
            }
        }
        Ok(())
    }

    /// The ranges of tree `id`, tagged `owner`, into `into`, each with the
    /// paths a layered tree's overlay hides in it; the entries the overlay
    /// holds are marked at once.
    async fn tree_ranges(
        &mut self,
        id: &MetaRangeId,
        owner: u32,
        into: &mut BTreeMap<RangeId, ToMark>,
    ) -> Result<()> {
        let tree = self.engine.trees.tree_uncached(self.ns, id).await?;
        let overlay = tree.overlay_records();
        for (_, value) in overlay {
            if let Some(entry) = value {
                self.push_entry(entry, owner).await?;
            }
        }
        for info in tree.base.iter() {
            let lo = overlay.partition_point(|(p, _)| *p < info.first);
            let hi = overlay.partition_point(|(p, _)| *p <= info.last);
            let hidden: Hidden = (lo < hi).then(|| {
                overlay[lo..hi]
                    .iter()
                    .map(|(p, _)| p.clone())
                    .collect::<HashSet<_>>()
            });
            match into.get_mut(&info.id) {
                Some(m) => {
                    m.owner = active::combine(m.owner, owner);
                    m.hidden = both_hide(m.hidden.take(), hidden);
                }
                None => {
                    into.insert(info.id.clone(), ToMark { owner, hidden });
                }
            }
        }
        Ok(())
    }
}

/// Paths whose records a range leaves unmarked (`None`: none).
type Hidden = Option<HashSet<ObjectPath>>;

/// A range to mark: the owner tag of the trees that reference it, and the
/// paths every one of them hides (a layer's overlay replaces or removes
/// them): through this range, those records are not live.
struct ToMark {
    owner: u32,
    hidden: Hidden,
}

/// What two references to one range both hide.
fn both_hide(a: Hidden, b: Hidden) -> Hidden {
    match (a, b) {
        (Some(a), Some(b)) => {
            let both: HashSet<ObjectPath> = a.intersection(&b).cloned().collect();
            (!both.is_empty()).then_some(both)
        }
        _ => None,
    }
}

/// The key of `address` when it is data in namespace `ns` (`data/…`).
pub(super) fn own_data_key(address: &PhysicalAddress, ns: &StorageNamespace) -> Option<String> {
    let key = match address {
        PhysicalAddress::Relative(key) => key.as_str().to_owned(),
        PhysicalAddress::Full { namespace, key } => namespace
            .uri_of(key)
            .strip_prefix(&format!("{}/", ns.as_str()))?
            .to_owned(),
    };
    key.starts_with("data/").then_some(key)
}

async fn all_branches(engine: &Engine, repo: &RepositoryId) -> Result<Vec<Branch>> {
    let mut out: Vec<Branch> = Vec::new();
    loop {
        let page = engine
            .stores
            .refs
            .list_branches(repo, out.last().map(|b| &b.name), PAGE)
            .await?;
        let done = page.len() < PAGE;
        out.extend(page);
        if done {
            return Ok(out);
        }
    }
}

async fn all_commits(
    engine: &Engine,
    repo: &RepositoryId,
) -> Result<HashMap<CommitId, CommitNode>> {
    let mut out = HashMap::new();
    let mut after: Option<CommitId> = None;
    loop {
        let page = engine
            .stores
            .refs
            .list_commits(repo, after.as_ref(), PAGE)
            .await?;
        let done = page.len() < PAGE;
        after = page.last().map(|c| c.id.clone());
        for c in page {
            out.insert(
                c.id,
                CommitNode {
                    first_parent: c.parents.into_iter().next(),
                    created: c.creation_date,
                    meta_range: c.meta_range_id,
                },
            );
        }
        if done {
            return Ok(out);
        }
    }
}

fn days_before(t: Timestamp, days: u32) -> Timestamp {
    Timestamp::from_unix_micros(t.unix_micros() - i64::from(days) * 86_400_000_000)
}

/// Removes sort runs that attempts of `run` which died left behind.
async fn remove_stale_scratch(engine: &Engine, ns: &StorageNamespace, run: &str) {
    let prefix = format!("{}live-", run_dir(run));
    loop {
        let Ok(page) = engine.stores.blocks.list(ns, &prefix, None, PAGE).await else {
            return;
        };
        if page.is_empty() {
            return;
        }
        let keys: Vec<_> = page.into_iter().map(|b| b.key).collect();
        for chunk in keys.chunks(tarn_ports::DELETE_BATCH) {
            if engine.stores.blocks.delete_many(ns, chunk).await.is_err() {
                return;
            }
        }
    }
}

/// Computes the live set into sorted runs, then merges it with the
/// namespace's data (see `sweep::classify`).
pub(super) async fn mark(
    engine: &Engine,
    repo: &RepositoryId,
    ns: &StorageNamespace,
    run: &str,
    options: &GcOptions,
    observer: &dyn GcObserver,
) -> Result<GcReport> {
    let now = engine.now();
    let as_of = options.as_of.unwrap_or(now);
    let cutoff = Timestamp::from_unix_micros(
        now.unix_micros()
            .saturating_sub((options.grace_period_secs as i64).saturating_mul(1_000_000)),
    );
    let rules = match engine.gc_rules(repo).await {
        Ok(r) => Some(r),
        Err(Error::NotFound {
            entity: Entity::GcRules,
            ..
        }) => None,
        Err(e) => return Err(e),
    };
    let mut m = Marker {
        engine,
        ns,
        observer,
        live: RunWriter::new(
            engine.stores.blocks.clone(),
            ns.clone(),
            // Each attempt its own: a run taken over may overlap the attempt
            // it replaced for a moment.
            format!("{}live-{}/", run_dir(run), engine.stores.ids.new_id()),
            options.sort_budget_bytes,
        ),
        ranges_seen: HashMap::new(),
        owners: Vec::new(),
    };

    // 1. Heads, then every commit, then what retention keeps.
    observer.progress("mark: reading commits", 0, None);
    let mut branches = all_branches(engine, repo).await?;
    if branches.is_empty() {
        return Err(Error::invalid(
            "repository",
            format!("{repo} has no branches (a bare repository, or one being restored): nothing can be told live, so nothing is collected"),
        ));
    }
    let mut commits = all_commits(engine, repo).await?;
    if let Some(b) = branches
        .iter()
        .find(|b| !commits.contains_key(&b.commit_id))
    {
        return Err(Error::Internal(tarn_ports::PortError::internal(format!(
            "branch {} of {repo} points at commit {}, which the commit listing lacks; nothing is collected",
            b.name, b.commit_id
        ))));
    }
    let threshold = |branch: Option<&BranchName>| {
        rules.as_ref().map(|r| {
            let days = branch
                .and_then(|b| r.branches.get(b))
                .copied()
                .unwrap_or(r.default_retention_days);
            days_before(as_of, days)
        })
    };
    let mut starts = Vec::new();
    for b in &branches {
        starts.push(Start {
            commit: b.commit_id.clone(),
            owner: m.owner_of(&b.name),
            threshold: threshold(Some(&b.name)),
            is_head: true,
        });
    }
    let heads: HashSet<CommitId> = branches.iter().map(|b| b.commit_id.clone()).collect();
    for commit in active::dangling(&commits, &heads) {
        starts.push(Start {
            commit,
            owner: NOBODY,
            threshold: threshold(None),
            is_head: false,
        });
    }
    let kept = active::kept_commits(&commits, &starts);
    let mut trees: BTreeMap<MetaRangeId, u32> = BTreeMap::new();
    for (id, owner) in &kept {
        if let Some(node) = commits.get(id) {
            trees
                .entry(node.meta_range.clone())
                .and_modify(|o| *o = active::combine(*o, *owner))
                .or_insert(*owner);
        }
    }
    let mut ranges = BTreeMap::new();
    for (tree, owner) in &trees {
        m.check_cancel()?;
        m.tree_ranges(tree, *owner, &mut ranges).await?;
    }
    m.add_ranges(ranges).await?;

    // 2. Uploads in progress (abandoned ones are aborted by the sweep).
    let abandoned_before = now
        .unix_seconds()
        .saturating_sub(options.abandoned_upload_secs as i64);
    let mut abandoned = Vec::new();
    let mut after: Option<(String, tarn_model::UploadId)> = None;
    loop {
        let page = engine
            .stores
            .multipart
            .list_uploads(repo, after.as_ref().map(|(k, id)| (k.as_str(), id)), PAGE)
            .await?;
        let done = page.len() < PAGE;
        after = page.last().map(|u| (u.gateway_key(), u.upload_id.clone()));
        for u in page {
            if u.initiated.unix_seconds() < abandoned_before {
                // A bounded list per run; the next run takes the rest.
                if abandoned.len() < MAX_ABANDONED {
                    abandoned.push(u.upload_id.to_string());
                }
            }
            // Live even when abandoned: an upload completed after this
            // listing is staged by the time staging is scanned, and S3
            // dates a completed upload from its start.
            let owner = m.owner_of(&u.branch);
            m.live
                .push(Record {
                    key: u.physical_key.as_str().to_owned(),
                    owner,
                    size: 0,
                })
                .await?;
        }
        if done {
            break;
        }
    }

    // 3. Staging, then the heads again until none moved.
    for b in &branches {
        m.add_staging(b).await?;
    }
    let mut stable = false;
    // Trees of heads that moved during the mark (new commits).
    let mut moved_trees: Vec<MetaRangeId> = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let now_branches = all_branches(engine, repo).await?;
        let moved: Vec<Branch> = now_branches
            .iter()
            .filter(|b| !branches.contains(b))
            .cloned()
            .collect();
        if moved.is_empty() {
            stable = true;
            break;
        }
        let mut ranges = BTreeMap::new();
        for b in &moved {
            let owner = m.owner_of(&b.name);
            let commit = engine.cached_commit(repo, &b.commit_id).await?;
            m.tree_ranges(&commit.meta_range_id, owner, &mut ranges)
                .await?;
            moved_trees.push(commit.meta_range_id);
        }
        m.add_ranges(ranges).await?;
        for b in &moved {
            m.add_staging(b).await?;
        }
        branches = now_branches;
    }
    if !stable {
        return Err(Error::TooManyAttempts(format!(
            "(garbage collection of {repo}: branches kept moving while it read them)"
        )));
    }
    // Commits made while the mark ran (kept whatever the rules say: they
    // are new), including ones no head shows any more.
    let later = all_commits(engine, repo).await?;
    let mut ranges = BTreeMap::new();
    for (id, node) in later {
        if commits.contains_key(&id) {
            continue;
        }
        m.tree_ranges(&node.meta_range, NOBODY, &mut ranges).await?;
        moved_trees.push(node.meta_range.clone());
        commits.insert(id, node);
    }
    m.add_ranges(ranges).await?;

    let pushed = m.live.pushed;
    let owners = std::mem::take(&mut m.owners);
    let (live, files) = m.live.finish().await?;
    let mut report = GcReport {
        run_id: run.to_owned(),
        repository: repo.to_string(),
        started: now.unix_seconds(),
        as_of: as_of.unix_seconds(),
        cutoff: cutoff.unix_seconds(),
        dry_run: options.dry_run,
        commits: commits.len() as u64,
        kept_commits: kept.len() as u64,
        ranges_read: m.ranges_seen.len() as u64,
        abandoned_uploads: abandoned,
        ..GcReport::default()
    };
    tracing::debug!(%repo, run, pushed, "gc: live addresses collected");
    // Tree files: every commit's tree is referenced.
    observer.progress("mark: reading tree files", 0, None);
    let all_trees: Vec<MetaRangeId> = commits
        .values()
        .map(|c| c.meta_range.clone())
        .chain(moved_trees)
        .collect();
    let referenced = super::trees::referenced(engine, ns, all_trees).await?;
    let found = super::trees::classify(engine, ns, &referenced, cutoff).await?;
    report.tree_files = found.unreferenced;
    if !options.dry_run {
        for chunk in found.actions.chunks(10_000) {
            let key = super::tree_list_key(run, report.tree_list_files)?;
            super::spill::write_records(&engine.stores.blocks, ns, &key, chunk).await?;
            report.tree_list_files += 1;
        }
    }
    let classified = super::sweep::classify(
        engine,
        ns,
        run,
        live,
        (cutoff, now),
        &owners,
        options,
        observer,
        &mut report,
    )
    .await;
    // The runs are scratch either way.
    for key in files {
        let _ = engine.stores.blocks.delete(ns, &key).await;
    }
    classified?;
    remove_stale_scratch(engine, ns, run).await;
    Ok(report)
}
