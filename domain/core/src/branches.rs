//! Branches: create, get, list, delete, reset and hard reset.

use crate::actions::{HookEvent, HookRecord};
use crate::error::{Error, PortResultExt, Protected, Result};
use crate::page::Page;
use crate::settings::{ensure_unprotected, BRANCH_PROTECTION};
use crate::Engine;
use crate::Entity;
use tarn_model::{Branch, BranchName, ObjectPath, Repository, RepositoryId};

/// What a reset drops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResetScope {
    /// Every uncommitted change.
    All,
    /// The change to one path.
    Object(ObjectPath),
    /// The changes under a prefix.
    Prefix(String),
}

impl Engine {
    /// The repository, refusing writes when it is read-only.
    pub(crate) async fn writable_repository(&self, id: &RepositoryId) -> Result<Repository> {
        let repo = self.get_repository(id).await?;
        if repo.read_only {
            return Err(Error::ReadOnlyRepository(id.to_string()));
        }
        Ok(repo)
    }

    /// A writable repository and its unprotected branch `name`, in one read
    /// (repository, branch and protection rules).
    pub(crate) async fn writable_branch(
        &self,
        id: &RepositoryId,
        name: &BranchName,
    ) -> Result<(Repository, Branch)> {
        let read = self
            .stores
            .refs
            .get_repository_branch(id, name, Some(BRANCH_PROTECTION))
            .await
            .named(Entity::Repository, id)?;
        // A missing branch is reported before the repository's rules.
        let branch = read
            .branch
            .ok_or_else(|| Error::not_found(Entity::Branch, name))?;
        if read.repository.read_only {
            return Err(Error::ReadOnlyRepository(id.to_string()));
        }
        ensure_unprotected(read.setting.as_deref(), name, Protected::Write)?;
        Ok((read.repository, branch))
    }

    /// Creates branch `name` at the commit `source` resolves to.
    pub async fn create_branch(
        &self,
        repo: &RepositoryId,
        name: BranchName,
        source: &str,
    ) -> Result<Branch> {
        self.create_branch_with(repo, name, source, false).await
    }

    /// Creates a branch, hidden from listings if `hidden`.
    #[tracing::instrument(skip(self), fields(repo = %repo, branch = %name))]
    pub async fn create_branch_with(
        &self,
        repo: &RepositoryId,
        name: BranchName,
        source: &str,
        hidden: bool,
    ) -> Result<Branch> {
        let r = self.writable_repository(repo).await?;
        let commit = self.resolve_commit(repo, source).await?;
        // Hidden branches are Tarn's own: no hooks run on them.
        let record = |event: HookEvent| {
            let mut rec =
                HookRecord::new(event, repo.as_str(), r.storage_namespace.as_str(), source);
            rec.branch = name.to_string();
            rec.commit_id = commit.id.to_string();
            rec
        };
        // As lakeFS: an existing name is refused before any hook runs
        // (without hooks, the store's create refuses it).
        if self.hooks_on() && !hidden {
            match self.stores.refs.get_branch(repo, &name).await {
                Ok(_) => return Err(Error::already_exists(Entity::Branch, &name)),
                Err(e) if e.kind() == tarn_ports::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        let pre_run_id = if hidden {
            String::new()
        } else {
            self.pre_hook(record(HookEvent::PreCreateBranch)).await?
        };
        let branch = Branch {
            name: name.clone(),
            commit_id: commit.id.clone(),
            staging_token: self.new_token()?,
            sealed_tokens: Vec::new(),
            hidden,
        };
        self.stores
            .refs
            .create_branch(repo, &branch)
            .await
            .named(Entity::Branch, &name)?;
        if !hidden {
            let mut post = record(HookEvent::PostCreateBranch);
            post.pre_run_id = pre_run_id;
            self.post_hook(post);
        }
        Ok(branch)
    }

    /// A branch, or `NotFound` (for the branch or the repository).
    pub async fn get_branch(&self, repo: &RepositoryId, name: &BranchName) -> Result<Branch> {
        match self.stores.refs.get_branch(repo, name).await {
            Ok(b) => Ok(b),
            Err(e) => Err(self.branch_read_error(repo, name, e).await),
        }
    }

    /// What a failed read of branch `name` means: `NotFound` names the
    /// repository when that is what is missing, else the branch.
    pub(crate) async fn branch_read_error(
        &self,
        repo: &RepositoryId,
        name: &BranchName,
        e: tarn_ports::PortError,
    ) -> Error {
        if e.kind() != tarn_ports::ErrorKind::NotFound {
            return e.into();
        }
        match self.get_repository(repo).await {
            Ok(_) => Error::not_found(Entity::Branch, name),
            Err(e) => e,
        }
    }

    /// Branches whose name starts with `prefix`, after `after`, at most `amount`.
    pub async fn list_branches(
        &self,
        repo: &RepositoryId,
        prefix: &str,
        after: Option<&str>,
        amount: usize,
    ) -> Result<Page<Branch>> {
        self.list_branches_with(repo, prefix, after, amount, false)
            .await
    }

    /// Branches, hidden ones too when `show_hidden`.
    pub async fn list_branches_with(
        &self,
        repo: &RepositoryId,
        prefix: &str,
        after: Option<&str>,
        amount: usize,
        show_hidden: bool,
    ) -> Result<Page<Branch>> {
        self.get_repository(repo).await?;
        let refs = &self.stores.refs;
        let fetch = |cursor: Option<String>, limit| async move {
            let cursor = cursor.and_then(|c| BranchName::new(c).ok());
            Ok(refs.list_branches(repo, cursor.as_ref(), limit).await?)
        };
        crate::page::filtered(
            prefix,
            after,
            amount,
            |b: &Branch| b.name.as_str(),
            |b| show_hidden || !b.hidden,
            fetch,
        )
        .await
    }

    /// Deletes a branch and its staged changes; never the default branch.
    #[tracing::instrument(skip(self), fields(repo = %repo, branch = %name))]
    pub async fn delete_branch(&self, repo: &RepositoryId, name: &BranchName) -> Result<()> {
        let r = self.writable_repository(repo).await?;
        if r.default_branch == *name {
            return Err(Error::DefaultBranch(name.to_string()));
        }
        let branch = self.get_branch(repo, name).await?;
        let record = |event: HookEvent| {
            let mut rec = HookRecord::new(
                event,
                repo.as_str(),
                r.storage_namespace.as_str(),
                branch.commit_id.as_str(),
            );
            rec.branch = name.to_string();
            rec
        };
        let pre_run_id = if branch.hidden {
            String::new()
        } else {
            self.pre_hook(record(HookEvent::PreDeleteBranch)).await?
        };
        self.stores
            .refs
            .delete_branch(repo, name)
            .await
            .named(Entity::Branch, name)?;
        self.drop_tokens(&branch).await?;
        if !branch.hidden {
            let mut post = record(HookEvent::PostDeleteBranch);
            post.pre_run_id = pre_run_id;
            self.post_hook(post);
        }
        Ok(())
    }

    async fn drop_tokens(&self, branch: &Branch) -> Result<()> {
        self.stores
            .staging
            .drop_token(&branch.staging_token)
            .await?;
        for t in &branch.sealed_tokens {
            self.stores.staging.drop_token(t).await?;
        }
        Ok(())
    }

    /// Drops uncommitted changes: all of them, one path's, or a prefix's.
    #[tracing::instrument(skip(self), fields(repo = %repo, branch = %name))]
    pub async fn reset_branch(
        &self,
        repo: &RepositoryId,
        name: &BranchName,
        scope: ResetScope,
    ) -> Result<()> {
        self.writable_repository(repo).await?;
        self.check_unprotected(repo, name, Protected::Write).await?;
        match scope {
            ResetScope::All => {
                for _ in 0..self.settings.max_attempts {
                    let old = self.get_branch(repo, name).await?;
                    let new = Branch {
                        staging_token: self.new_token()?,
                        sealed_tokens: Vec::new(),
                        ..old.clone()
                    };
                    match self.stores.refs.update_branch(repo, &old, &new).await {
                        Ok(()) => return self.drop_tokens(&old).await,
                        Err(e) if e.kind() == tarn_ports::ErrorKind::PreconditionFailed => continue,
                        Err(e) => return Err(Error::from_port(e, Entity::Branch, name)),
                    }
                }
                Err(Error::TooManyAttempts(name.to_string()))
            }
            ResetScope::Object(path) => {
                let b = self.get_branch(repo, name).await?;
                for t in std::iter::once(&b.staging_token).chain(&b.sealed_tokens) {
                    self.stores.staging.delete(t, &path).await?;
                }
                Ok(())
            }
            ResetScope::Prefix(prefix) => {
                let b = self.get_branch(repo, name).await?;
                for t in std::iter::once(&b.staging_token).chain(&b.sealed_tokens) {
                    self.stores.staging.drop_prefix(t, &prefix).await?;
                }
                Ok(())
            }
        }
    }

    /// Moves a clean branch to the commit `target` resolves to.
    #[tracing::instrument(skip(self), fields(repo = %repo, branch = %name))]
    pub async fn hard_reset_branch(
        &self,
        repo: &RepositoryId,
        name: &BranchName,
        target: &str,
    ) -> Result<Branch> {
        self.writable_repository(repo).await?;
        self.check_unprotected(repo, name, Protected::Commit)
            .await?;
        let commit = self.resolve_commit(repo, target).await?;
        let old = self.get_branch(repo, name).await?;
        if self.is_dirty(&old).await? {
            return Err(Error::DirtyBranch);
        }
        let new = Branch {
            commit_id: commit.id,
            ..old.clone()
        };
        self.compare_and_set(repo, &old, &new).await?;
        Ok(new)
    }

    /// Whether a branch has any staged entry, tombstones and no-op entries
    /// included. Stricter than lakeFS (which looks only at entries that differ
    /// from the head): a staged entry or tombstone that matches the head now
    /// would shadow what a merge, revert or reset brings to its path.
    pub(crate) async fn is_dirty(&self, b: &Branch) -> Result<bool> {
        if !b.sealed_tokens.is_empty() {
            return Ok(true);
        }
        Ok(!self
            .stores
            .staging
            .scan(&b.staging_token, "", None, 1)
            .await?
            .is_empty())
    }

    /// One compare-and-set; a lost race is `TooManyAttempts` for callers that
    /// cannot retry.
    pub(crate) async fn compare_and_set(
        &self,
        repo: &RepositoryId,
        old: &Branch,
        new: &Branch,
    ) -> Result<()> {
        match self.stores.refs.update_branch(repo, old, new).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == tarn_ports::ErrorKind::PreconditionFailed => {
                Err(Error::TooManyAttempts(old.name.to_string()))
            }
            Err(e) => Err(Error::from_port(e, Entity::Branch, &old.name)),
        }
    }
}
