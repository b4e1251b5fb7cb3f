//! Commits: seal the staging token, apply the sealed changes to the head's
//! tree, write the commit record, move the branch by compare-and-set.

use crate::actions::{HookCommit, HookEvent, HookRecord};
use crate::error::{Error, PortResultExt, Protected, Result};
use crate::staging::{StagingCursor, ViewCursor};
use crate::Engine;
use crate::Entity;
use std::collections::BTreeMap;
use tarn_model::changed_paths::ChangedPaths;
use tarn_model::{
    commit_id, Branch, BranchName, Commit, CommitId, MetaRangeId, RepositoryId, Timestamp,
};
use tarn_ports::ErrorKind;
use tracing::field::Empty;

/// What a commit records.
#[derive(Debug, Clone, Default)]
pub struct CommitRequest {
    /// The message.
    pub message: String,
    /// Who commits.
    pub committer: String,
    /// User metadata.
    pub metadata: BTreeMap<String, String>,
    /// An explicit creation date (default: now).
    pub date: Option<Timestamp>,
    /// Commit even when nothing changed.
    pub allow_empty: bool,
}

impl Engine {
    /// Commits the staged changes of branch `name`.
    ///
    /// Writes that arrive while the commit runs go to a fresh staging token
    /// and are never lost. A lost race retries up to the configured number of
    /// attempts, then fails with `TooManyAttempts`.
    #[tracing::instrument(
        skip(self, req),
        fields(repo = %repo, branch = %name, entries = Empty, outcome = Empty)
    )]
    pub async fn commit(
        &self,
        repo: &RepositoryId,
        name: &BranchName,
        req: CommitRequest,
    ) -> Result<Commit> {
        let r = self.writable_repository(repo).await?;
        self.check_unprotected(repo, name, Protected::Commit)
            .await?;
        let ns = r.storage_namespace;
        let record = |event: HookEvent, source_ref: &str| {
            let mut rec = HookRecord::new(event, repo.as_str(), ns.as_str(), source_ref);
            rec.branch = name.to_string();
            rec.user = req.committer.clone();
            rec.commit = Some(HookCommit {
                message: req.message.clone(),
                committer: req.committer.clone(),
                metadata: req.metadata.clone(),
                creation_date: req.date.unwrap_or_else(|| self.now()).unix_seconds(),
                ..HookCommit::default()
            });
            rec
        };
        // Tarn's own hidden branches trigger no hooks (nor does anything
        // without hooks configured: no extra read then).
        let hidden = !self.hooks_on() || self.get_branch(repo, name).await?.hidden;
        if !hidden {
            self.pre_hook(record(HookEvent::PrepareCommit, name.as_str()))
                .await?;
        }
        for _ in 0..self.settings.max_attempts {
            let current = self.get_branch(repo, name).await?;
            let Some(sealed) = self.seal(repo, &current).await? else {
                continue;
            };
            if sealed.sealed_tokens.is_empty() && !req.allow_empty {
                return Err(Error::NoChanges);
            }
            let head = self.get_commit_record(repo, &sealed.commit_id).await?;
            let staging = sealed
                .sealed_tokens
                .iter()
                .map(|t| {
                    StagingCursor::new(
                        self.stores.staging.clone(),
                        t.clone(),
                        "",
                        None,
                        self.settings.staging_page,
                    )
                })
                .collect();
            let mut changes = ViewCursor::new(staging, None);
            let applied = self
                .trees
                .apply(&ns, &head.meta_range_id, &mut changes)
                .await?;
            if applied.changed == 0 && !req.allow_empty {
                // Only no-op changes were staged: drop them and say so.
                let cleared = Branch {
                    sealed_tokens: Vec::new(),
                    ..sealed.clone()
                };
                if self.try_update(repo, &sealed, &cleared).await? {
                    self.drop_sealed(&sealed).await?;
                    return Err(Error::NoChanges);
                }
                continue;
            }
            let mut pre = record(HookEvent::PreCommit, name.as_str());
            if let Some(c) = pre.commit.as_mut() {
                c.parents = vec![head.id.to_string()];
                c.meta_range_id = applied.tree.to_string();
            }
            let pre_run_id = if hidden {
                String::new()
            } else {
                self.pre_hook(pre).await?
            };
            let commit = self
                .new_commit(
                    repo,
                    &req,
                    (applied.tree, applied.paths),
                    vec![head.id.clone()],
                    head.generation + 1,
                )
                .await?;
            let moved = Branch {
                commit_id: commit.id.clone(),
                sealed_tokens: Vec::new(),
                ..sealed.clone()
            };
            if self.try_update(repo, &sealed, &moved).await? {
                tracing::info!(commit = %commit.id, changes = applied.changed, "committed");
                self.note_layer(repo, &commit.meta_range_id);
                self.describe_later(repo, &ns, &commit.meta_range_id, Some(&head.id));
                let mut post = record(HookEvent::PostCommit, commit.id.as_str());
                post.commit_id = commit.id.to_string();
                post.pre_run_id = pre_run_id;
                if let Some(c) = post.commit.as_mut() {
                    c.parents = vec![head.id.to_string()];
                    c.meta_range_id = commit.meta_range_id.to_string();
                    c.creation_date = commit.creation_date.unix_seconds();
                }
                // The commit landed: its post hooks start whatever the
                // clean-up of the sealed tokens says.
                if !sealed.hidden {
                    self.post_hook(post);
                }
                self.drop_sealed(&sealed).await?;
                crate::succeeded(Some(applied.changed));
                return Ok(commit);
            }
        }
        Err(Error::TooManyAttempts(name.to_string()))
    }

    /// Moves a non-empty staging token to the front of the sealed tokens.
    /// Returns the branch as it now is, or `None` when the race was lost.
    async fn seal(&self, repo: &RepositoryId, b: &Branch) -> Result<Option<Branch>> {
        let staged = self
            .stores
            .staging
            .scan(&b.staging_token, "", None, 1)
            .await?;
        if staged.is_empty() {
            return Ok(Some(b.clone()));
        }
        let mut sealed_tokens = vec![b.staging_token.clone()];
        sealed_tokens.extend(b.sealed_tokens.iter().cloned());
        let sealed = Branch {
            staging_token: self.new_token()?,
            sealed_tokens,
            ..b.clone()
        };
        Ok(self.try_update(repo, b, &sealed).await?.then_some(sealed))
    }

    /// A compare-and-set that reports a lost race as `false`.
    pub(crate) async fn try_update(
        &self,
        repo: &RepositoryId,
        old: &Branch,
        new: &Branch,
    ) -> Result<bool> {
        match self.stores.refs.update_branch(repo, old, new).await {
            Ok(()) => Ok(true),
            Err(e)
                if e.kind() == ErrorKind::PreconditionFailed || e.kind() == ErrorKind::NotFound =>
            {
                // A deleted branch is reported by the next read.
                Ok(false)
            }
            Err(e) => Err(Error::from_port(e, Entity::Branch, &old.name)),
        }
    }

    async fn drop_sealed(&self, b: &Branch) -> Result<()> {
        for t in &b.sealed_tokens {
            self.stores.staging.drop_token(t).await?;
        }
        Ok(())
    }

    /// Writes a commit record, with the summary of the paths it changed
    /// relative to its first parent when they are known.
    pub(crate) async fn new_commit(
        &self,
        repo: &RepositoryId,
        req: &CommitRequest,
        (tree, paths): (MetaRangeId, Option<ChangedPaths>),
        parents: Vec<CommitId>,
        generation: u64,
    ) -> Result<Commit> {
        let date = req.date.unwrap_or_else(|| self.stores.clock.now());
        let commit = Commit {
            id: commit_id(
                &req.committer,
                &req.message,
                &tree,
                date,
                &req.metadata,
                &parents,
            ),
            committer: req.committer.clone(),
            message: req.message.clone(),
            meta_range_id: tree,
            creation_date: date,
            metadata: req.metadata.clone(),
            parents,
            generation,
            version: 1,
        };
        let stored = match paths {
            Some(paths) => {
                let summary = paths.encode();
                self.stores
                    .refs
                    .put_commit_with_summary(repo, &commit, &summary)
                    .await
            }
            None => self.stores.refs.put_commit(repo, &commit).await,
        };
        stored.named(Entity::Repository, repo)?;
        Ok(commit)
    }

    /// A commit by id or any ref expression.
    pub async fn get_commit(&self, repo: &RepositoryId, reference: &str) -> Result<Commit> {
        self.resolve_commit(repo, reference).await
    }
}

impl Engine {
    /// Adds a commit record as given (lakeFS's `CreateCommitRecord`, used to
    /// rebuild history): its id must be the content address of its fields,
    /// an existing id answers `AlreadyExists`, and no branch moves. Neither
    /// its tree nor its parents are checked (a restore adds them in any
    /// order; where they are all known, the generation must be one more than
    /// the highest of theirs). `force` lets it into a read-only repository.
    pub async fn create_commit_record(
        &self,
        repo: &RepositoryId,
        commit: Commit,
        force: bool,
    ) -> Result<()> {
        let r = self.get_repository(repo).await?;
        if r.read_only && !force {
            return Err(Error::ReadOnlyRepository(repo.to_string()));
        }
        let expected = content_address(&commit);
        if expected != commit.id {
            return Err(Error::invalid(
                "commit id",
                format!(
                    "{} is not the content address of the commit's fields ({expected})",
                    commit.id
                ),
            ));
        }
        // The generation orders merge-base searches but is not part of the
        // id: where the parents are known, it must follow from them.
        let mut highest = Some(0);
        for p in &commit.parents {
            match self.stores.refs.get_commit(repo, p).await {
                Ok(parent) => highest = highest.map(|h: u64| h.max(parent.generation)),
                Err(e) if e.kind() == ErrorKind::NotFound => highest = None,
                Err(e) => return Err(Error::from_port(e, Entity::Repository, repo)),
            }
        }
        if let Some(h) = highest.filter(|h| commit.generation != h + 1) {
            return Err(Error::invalid(
                "generation",
                format!("{}: its parents make it {}", commit.generation, h + 1),
            ));
        }
        match self.stores.refs.get_commit(repo, &commit.id).await {
            Ok(_) => {
                return Err(Error::AlreadyExists {
                    entity: Entity::Commit,
                    name: commit.id.to_string(),
                })
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(Error::from_port(e, Entity::Repository, repo)),
        }
        self.stores
            .refs
            .put_commit(repo, &commit)
            .await
            .named(Entity::Repository, repo)
    }
}

/// The id a commit's fields give it (its content address): what a record
/// given from outside must carry.
pub(crate) fn content_address(c: &Commit) -> CommitId {
    commit_id(
        &c.committer,
        &c.message,
        &c.meta_range_id,
        c.creation_date,
        &c.metadata,
        &c.parents,
    )
}
