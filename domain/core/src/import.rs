//! Zero-copy import (lakeFS's `importStart`): objects already in the object
//! store become entries of a commit on a branch without being copied. The
//! sorted listing of each source streams straight into the tree writer as
//! changes (never a staging row per object): what was under each
//! destination replaced by what is under the source. One commit, whose
//! parent is the branch head; staged changes stay staged on top.

use crate::actions::{HookCommit, HookEvent, HookRecord};
use crate::error::{Error, Result};
use crate::trees::{ChangeSource, TreeChange, TreeCursor};
use crate::{CommitRequest, Engine, Protected};
use futures::future::BoxFuture;
use std::collections::{BTreeMap, VecDeque};
use tarn_model::{
    BlockKey, Branch, BranchName, Commit, Entry, ObjectPath, PhysicalAddress, RepositoryId,
    StorageNamespace,
};
use tarn_ports::{ErrorKind, ListedBlock};

const PAGE: usize = 1000;

/// What a path of an import names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    /// Every object under a prefix (lakeFS's `common_prefix`).
    Prefix,
    /// One object.
    Object,
}

/// One source and where it goes.
#[derive(Debug, Clone)]
pub struct ImportPath {
    /// A URI in the object store: `s3://bucket/prefix/`, `s3://bucket/key`.
    pub source: String,
    /// The path (or path prefix) on the branch.
    pub destination: String,
    /// A prefix or one object.
    pub kind: ImportKind,
}

/// Watches an import.
pub trait ImportObserver: Send + Sync {
    /// `n` objects ingested so far.
    fn ingested(&self, n: u64);
    /// Whether to stop.
    fn cancelled(&self) -> bool {
        false
    }
}

/// A source resolved: where to list and how keys map to paths.
#[derive(Debug, Clone)]
struct Source {
    ns: StorageNamespace,
    key: String,
    destination: String,
    kind: ImportKind,
}

/// `scheme://location/rest` → (`scheme://location`, `rest`).
fn split_uri(uri: &str) -> Option<(StorageNamespace, String)> {
    let scheme_end = uri.find("://")?;
    let rest = &uri[scheme_end + 3..];
    // `local:///abs/path/...`: an absolute directory, whose first segment
    // is the namespace's location (`/abs`).
    let (absolute, rest) = match rest.strip_prefix('/') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let (location, key) = rest.split_once('/').unwrap_or((rest, ""));
    if location.is_empty() {
        return None;
    }
    let slash = if absolute { "/" } else { "" };
    let ns = StorageNamespace::new(format!("{}://{slash}{location}", &uri[..scheme_end])).ok()?;
    Some((ns, key.to_owned()))
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::invalid("paths", reason.into())
}

/// Checks and orders the paths: sources parse, none is inside the
/// repository's own namespace, destinations do not overlap.
fn resolve(paths: &[ImportPath], own: &StorageNamespace) -> Result<Vec<Source>> {
    if paths.is_empty() {
        return Err(invalid("an import needs at least one path"));
    }
    let own_prefix = format!("{}/", own.as_str());
    let mut out = Vec::with_capacity(paths.len());
    for p in paths {
        let (ns, key) = split_uri(&p.source).ok_or_else(|| {
            invalid(format!(
                "{:?} is not a URI of the object store (scheme://location/key)",
                p.source
            ))
        })?;
        if p.source.starts_with(&own_prefix) || p.source == own.as_str() {
            return Err(invalid(format!(
                "{} is inside the repository's own storage namespace",
                p.source
            )));
        }
        if p.kind == ImportKind::Object && (key.is_empty() || key.ends_with('/')) {
            return Err(invalid(format!("{} names no object", p.source)));
        }
        if p.kind == ImportKind::Object {
            ObjectPath::new(&p.destination)?;
        }
        out.push(Source {
            ns,
            key,
            destination: p.destination.clone(),
            kind: p.kind,
        });
    }
    out.sort_by(|a, b| a.destination.cmp(&b.destination));
    for pair in out.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let overlaps = a.destination == b.destination
            || (a.kind == ImportKind::Prefix && b.destination.starts_with(&a.destination));
        if overlaps {
            return Err(invalid(format!(
                "destinations {:?} and {:?} overlap",
                a.destination, b.destination
            )));
        }
    }
    Ok(out)
}

/// An empty source would only empty the destination: refused (a missing
/// bucket lists as empty on S3).
fn no_objects(src: &Source) -> Error {
    invalid(format!(
        "no objects under {}/{} (a missing bucket or prefix?)",
        src.ns, src.key
    ))
}

fn entry_of(ns: &StorageNamespace, block: &ListedBlock) -> Entry {
    Entry {
        address: PhysicalAddress::Full {
            namespace: ns.clone(),
            key: block.key.clone(),
        },
        size: block.meta.size,
        checksum: block.meta.etag.trim_matches('"').to_owned(),
        last_modified: block.meta.last_modified,
        content_type: None,
        metadata: BTreeMap::new(),
        tags: BTreeMap::new(),
    }
}

/// The changes of an import, in path order: per destination, the source's
/// objects, and removals of what the base tree has there and the source
/// does not.
struct ImportChanges<'a> {
    engine: &'a Engine,
    observer: &'a dyn ImportObserver,
    sources: VecDeque<Source>,
    base: TreeCursor,
    /// The current prefix source's listing.
    listed: VecDeque<ListedBlock>,
    /// The source's next object, read ahead to compare with the base.
    pending: Option<(ObjectPath, Entry)>,
    after: Option<BlockKey>,
    exhausted: bool,
    started: bool,
    /// Whether the current prefix source listed anything.
    listed_any: bool,
    /// The current prefix source's last listed key.
    last_listed: Option<BlockKey>,
    ingested: u64,
}

impl ImportChanges<'_> {
    async fn next_listed(&mut self, src: &Source) -> Result<Option<(ObjectPath, Entry)>> {
        loop {
            if let Some(block) = self.listed.pop_front() {
                self.last_listed = Some(block.key.clone());
                let rest = block
                    .key
                    .as_str()
                    .strip_prefix(src.key.as_str())
                    .unwrap_or("");
                let path = ObjectPath::new(format!("{}{rest}", src.destination))
                    .map_err(|e| invalid(format!("{}: {e}", block.key)))?;
                return Ok(Some((path, entry_of(&src.ns, &block))));
            }
            if self.exhausted {
                return Ok(None);
            }
            if self.observer.cancelled() {
                return Err(Error::Canceled("import".into()));
            }
            let page = self
                .engine
                .stores
                .blocks
                .list(&src.ns, &src.key, self.after.as_ref(), PAGE)
                .await
                .map_err(|e| match e.kind() {
                    ErrorKind::NotFound => {
                        invalid(format!("cannot list {}/{}: {e}", src.ns, src.key))
                    }
                    _ => Error::from(e),
                })?;
            self.exhausted = page.len() < PAGE;
            self.after = page.last().map(|b| b.key.clone());
            self.listed.extend(page);
        }
    }

    /// A listing that ends looks the same whether the source ended or
    /// vanished (a deleted directory lists as empty, a deleted prefix too):
    /// its last listed object must still be there, or the import fails
    /// rather than commit part of a source.
    async fn check_still_there(&self, src: &Source) -> Result<()> {
        let Some(last) = &self.last_listed else {
            return Ok(());
        };
        match self.engine.stores.blocks.head(&src.ns, last).await {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Err(invalid(format!(
                "the source {}/{} vanished while it was listed ({} is gone); nothing was imported",
                src.ns, src.key, last
            ))),
            Err(e) => Err(Error::from(e)),
        }
    }

    /// The base tree's next path under the current destination, if any.
    async fn next_base(&mut self, dest: &str) -> Result<Option<ObjectPath>> {
        match self.base.peek().await? {
            Some((p, _)) if p.as_str().starts_with(dest) => Ok(Some(p.clone())),
            _ => Ok(None),
        }
    }

    async fn step(&mut self) -> Result<Option<TreeChange>> {
        loop {
            let Some(src) = self.sources.front().cloned() else {
                return Ok(None);
            };
            if src.kind == ImportKind::Object {
                self.sources.pop_front();
                let key = BlockKey::new(src.key.clone())?;
                let meta = self
                    .engine
                    .stores
                    .blocks
                    .head(&src.ns, &key)
                    .await
                    .map_err(|e| match e.kind() {
                        ErrorKind::NotFound => {
                            invalid(format!("no object at {}", src.ns.uri_of(&key)))
                        }
                        _ => Error::from(e),
                    })?;
                self.ingested += 1;
                let block = ListedBlock { key, meta };
                let path = ObjectPath::new(src.destination.clone())?;
                return Ok(Some((path, Some(entry_of(&src.ns, &block)))));
            }
            if !self.started {
                self.base.seek(&src.destination).await?;
                self.listed.clear();
                self.pending = None;
                self.after = None;
                self.exhausted = false;
                self.listed_any = false;
                self.last_listed = None;
                self.started = true;
            }
            if self.pending.is_none() {
                self.pending = self.next_listed(&src).await?;
                self.listed_any |= self.pending.is_some();
            }
            let next_base = self.next_base(&src.destination).await?;
            let source_first = match (&self.pending, &next_base) {
                (None, None) => {
                    if !self.listed_any {
                        return Err(no_objects(&src));
                    }
                    self.check_still_there(&src).await?;
                    self.sources.pop_front();
                    self.started = false;
                    continue;
                }
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some((sp, _)), Some(bp)) => sp <= bp,
            };
            if source_first {
                let Some((path, entry)) = self.pending.take() else {
                    continue;
                };
                if next_base.as_ref() == Some(&path) {
                    self.base.advance();
                }
                self.ingested += 1;
                if self.ingested.is_multiple_of(1000) {
                    self.observer.ingested(self.ingested);
                }
                return Ok(Some((path, Some(entry))));
            }
            // Under the destination, not in the source: removed.
            self.base.advance();
            return Ok(next_base.map(|bp| (bp, None)));
        }
    }
}

impl ChangeSource for ImportChanges<'_> {
    fn next_change(&mut self) -> BoxFuture<'_, Result<Option<TreeChange>>> {
        Box::pin(self.step())
    }
}

impl Engine {
    /// What an import checks before it starts: the repository takes
    /// writes, the branch exists and takes commits, the paths are sound.
    pub async fn check_import(
        &self,
        repo: &RepositoryId,
        name: &BranchName,
        paths: &[ImportPath],
    ) -> Result<()> {
        let r = self.writable_repository(repo).await?;
        self.get_branch(repo, name).await?;
        self.check_unprotected(repo, name, Protected::Commit)
            .await?;
        // Each source must be readable with the store's credentials and
        // hold something: a foreign scheme, a refusal, a missing bucket or
        // prefix (which lists as empty) is the caller's mistake, said now
        // rather than as a failed job; an empty source would only empty
        // the destination.
        for src in resolve(paths, &r.storage_namespace)? {
            let probe = match src.kind {
                ImportKind::Prefix => {
                    match self.stores.blocks.list(&src.ns, &src.key, None, 1).await {
                        Ok(found) if found.is_empty() => return Err(no_objects(&src)),
                        other => other.map(|_| ()),
                    }
                }
                ImportKind::Object => {
                    let key = BlockKey::new(src.key.clone())?;
                    self.stores.blocks.head(&src.ns, &key).await.map(|_| ())
                }
            };
            probe.map_err(|e| match e.kind() {
                ErrorKind::Unavailable => Error::from(e),
                _ => invalid(format!("cannot read {}/{}: {e}", src.ns, src.key)),
            })?;
        }
        Ok(())
    }

    /// Imports `paths` into branch `name` as one commit; returns it and how
    /// many objects were ingested.
    pub async fn import(
        &self,
        repo: &RepositoryId,
        name: &BranchName,
        paths: &[ImportPath],
        commit: CommitRequest,
        observer: &dyn ImportObserver,
    ) -> Result<(Commit, u64)> {
        let r = self.writable_repository(repo).await?;
        self.check_unprotected(repo, name, Protected::Commit)
            .await?;
        let ns = r.storage_namespace;
        let sources = resolve(paths, &ns)?;
        for _ in 0..self.settings.max_attempts {
            let branch: Branch = self.get_branch(repo, name).await?;
            let head = self.get_commit_record(repo, &branch.commit_id).await?;
            let mut changes = ImportChanges {
                engine: self,
                observer,
                sources: sources.iter().cloned().collect(),
                base: TreeCursor::open(&self.trees, &ns, &head.meta_range_id).await?,
                listed: VecDeque::new(),
                pending: None,
                after: None,
                exhausted: false,
                started: false,
                listed_any: false,
                last_listed: None,
                ingested: 0,
            };
            let applied = self
                .trees
                .apply(&ns, &head.meta_range_id, &mut changes)
                .await?;
            let ingested = changes.ingested;
            observer.ingested(ingested);
            if observer.cancelled() {
                return Err(Error::Canceled("import".into()));
            }
            // As lakeFS: an import is a commit to its hooks.
            let record = |event: HookEvent, source_ref: &str| {
                let mut rec = HookRecord::new(event, repo.as_str(), ns.as_str(), source_ref);
                rec.branch = name.to_string();
                rec.user = commit.committer.clone();
                rec.commit = Some(HookCommit {
                    message: commit.message.clone(),
                    committer: commit.committer.clone(),
                    metadata: commit.metadata.clone(),
                    parents: vec![head.id.to_string()],
                    meta_range_id: applied.tree.to_string(),
                    creation_date: self.now().unix_seconds(),
                });
                rec
            };
            let hidden = branch.hidden;
            let pre_run_id = if hidden {
                String::new()
            } else {
                self.pre_hook(record(HookEvent::PreCommit, name.as_str()))
                    .await?
            };
            let made = self
                .new_commit(
                    repo,
                    &commit,
                    (applied.tree.clone(), applied.paths),
                    vec![head.id.clone()],
                    head.generation + 1,
                )
                .await?;
            let moved = Branch {
                commit_id: made.id.clone(),
                ..branch.clone()
            };
            if self.try_update(repo, &branch, &moved).await? {
                tracing::info!(commit = %made.id, ingested, "imported");
                self.note_layer(repo, &made.meta_range_id);
                self.describe_later(repo, &ns, &made.meta_range_id, Some(&head.id));
                if !hidden {
                    let mut post = record(HookEvent::PostCommit, made.id.as_str());
                    post.commit_id = made.id.to_string();
                    post.pre_run_id = pre_run_id;
                    self.post_hook(post);
                }
                return Ok((made, ingested));
            }
        }
        Err(Error::TooManyAttempts(name.to_string()))
    }
}
