//! Resolving ref expressions: commit ids, branches, tags, unique commit-id
//! prefixes, `~N` / `^N` chains, and the `@` / `$` views of a branch.

use crate::error::{Error, PortResultExt, Result};
use crate::Engine;
use crate::Entity;
use tarn_model::{
    Branch, BranchName, Commit, CommitId, RefExpr, RefModifier, Repository, RepositoryId, TagName,
    ViewModifier,
};
use tarn_ports::ErrorKind;

/// What a resolved ref lets a reader see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefView {
    /// A commit's tree only.
    Commit,
    /// A branch: its staging over its head commit.
    Branch,
    /// `branch@`: the branch's head commit only.
    CommittedOnly,
    /// `branch$`: the branch's staged changes only.
    StagingOnly,
}

/// A ref expression resolved against a repository.
#[derive(Debug, Clone)]
pub struct ResolvedRef {
    /// The commit reached.
    pub commit: Commit,
    /// The branch, when the expression names one with no commit modifiers.
    pub branch: Option<Branch>,
    /// What reads through this ref see.
    pub view: RefView,
}

impl Engine {
    /// Resolves `expr` in `repo`.
    pub async fn resolve_ref(&self, repo: &RepositoryId, expr: &str) -> Result<ResolvedRef> {
        let parsed = RefExpr::parse(expr).map_err(|e| Error::invalid("ref", e.reason))?;
        let (commit, branch) = self.resolve_base(repo, &parsed.base).await?;
        self.apply_modifiers(repo, expr, &parsed, commit, branch)
            .await
    }

    /// The repository, and `expr` resolved in it: one read of both when the
    /// expression starts with a branch name (the common case).
    pub async fn resolve_in_repository(
        &self,
        repo: &RepositoryId,
        expr: &str,
    ) -> Result<(Repository, ResolvedRef)> {
        let parsed = RefExpr::parse(expr).map_err(|e| Error::invalid("ref", e.reason))?;
        // A full commit id comes first in the resolution order.
        let name = BranchName::new(parsed.base.as_str())
            .ok()
            .filter(|_| CommitId::new(parsed.base.as_str()).is_err());
        let Some(name) = name else {
            let repository = self.get_repository(repo).await?;
            return Ok((repository, self.resolve_ref(repo, expr).await?));
        };
        let read = self
            .stores
            .refs
            .get_repository_branch(repo, &name, None)
            .await
            .named(Entity::Repository, repo)?;
        let repository = read.repository;
        let resolved = match read.branch {
            Some(b) => {
                let commit = self.get_commit_record(repo, &b.commit_id).await?;
                self.apply_modifiers(repo, expr, &parsed, commit, Some(b))
                    .await?
            }
            None => self.resolve_ref(repo, expr).await?,
        };
        Ok((repository, resolved))
    }

    /// Applies the view and the `~N`/`^N` chain of `parsed` to its base.
    async fn apply_modifiers(
        &self,
        repo: &RepositoryId,
        expr: &str,
        parsed: &RefExpr,
        commit: Commit,
        branch: Option<Branch>,
    ) -> Result<ResolvedRef> {
        if let Some(view) = parsed.view {
            let Some(branch) = branch else {
                return Err(Error::invalid(
                    "ref",
                    format!("{expr}: '@' and '$' apply only to a branch"),
                ));
            };
            let view = match view {
                ViewModifier::Committed => RefView::CommittedOnly,
                ViewModifier::Staging => RefView::StagingOnly,
            };
            return Ok(ResolvedRef {
                commit,
                branch: Some(branch),
                view,
            });
        }
        if parsed.modifiers.is_empty() {
            let view = if branch.is_some() {
                RefView::Branch
            } else {
                RefView::Commit
            };
            return Ok(ResolvedRef {
                commit,
                branch,
                view,
            });
        }
        let mut commit = commit;
        for m in &parsed.modifiers {
            commit = match *m {
                RefModifier::Parent(0) => commit,
                RefModifier::Parent(n) => {
                    let Some(id) = commit.parents.get(n as usize - 1).cloned() else {
                        return Err(Error::not_found(Entity::Ref, expr));
                    };
                    self.get_commit_record(repo, &id).await?
                }
                RefModifier::Ancestor(n) => {
                    for _ in 0..n {
                        let Some(id) = commit.parents.first().cloned() else {
                            return Err(Error::not_found(Entity::Ref, expr));
                        };
                        commit = self.get_commit_record(repo, &id).await?;
                    }
                    commit
                }
            };
        }
        Ok(ResolvedRef {
            commit,
            branch: None,
            view: RefView::Commit,
        })
    }

    /// Resolves `expr` to a commit; `branch$` is refused (it has no commit).
    pub async fn resolve_commit(&self, repo: &RepositoryId, expr: &str) -> Result<Commit> {
        let r = self.resolve_ref(repo, expr).await?;
        if r.view == RefView::StagingOnly {
            return Err(Error::invalid(
                "ref",
                format!("{expr}: a staging view has no commit"),
            ));
        }
        Ok(r.commit)
    }

    /// Base resolution order (lakeFS): full commit id, branch, tag, unique
    /// commit-id prefix.
    async fn resolve_base(
        &self,
        repo: &RepositoryId,
        base: &str,
    ) -> Result<(Commit, Option<Branch>)> {
        let refs = &self.stores.refs;
        if let Ok(id) = CommitId::new(base) {
            // A commit id from a client is looked up in the store itself: the
            // cache serves only commits reached through the repository's
            // refs, so a deleted repository's commits never come back.
            match refs.get_commit(repo, &id).await {
                Ok(c) => return Ok((c, None)),
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        if let Ok(name) = BranchName::new(base) {
            match refs.get_branch(repo, &name).await {
                Ok(b) => {
                    let c = self.get_commit_record(repo, &b.commit_id).await?;
                    return Ok((c, Some(b)));
                }
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(Error::from_port(e, Entity::Repository, repo)),
            }
        }
        if let Ok(name) = TagName::new(base) {
            match refs.get_tag(repo, &name).await {
                Ok(t) => return Ok((self.get_commit_record(repo, &t.commit_id).await?, None)),
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        let is_hex = !base.is_empty()
            && base.len() <= 64
            && base
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if is_hex {
            let found = refs.find_commits_by_prefix(repo, base, 2).await?;
            if let [only] = found.as_slice() {
                return Ok((self.get_commit_record(repo, only).await?, None));
            }
        }
        // Tell a missing repository from a missing ref.
        self.get_repository(repo).await?;
        Err(Error::not_found(Entity::Ref, base))
    }

    pub(crate) async fn get_commit_record(
        &self,
        repo: &RepositoryId,
        id: &CommitId,
    ) -> Result<Commit> {
        self.cached_commit(repo, id).await.named(Entity::Commit, id)
    }

    /// A commit record, from memory when this process has seen it.
    pub(crate) async fn cached_commit(
        &self,
        repo: &RepositoryId,
        id: &CommitId,
    ) -> tarn_ports::PortResult<Commit> {
        let key = (repo.clone(), id.clone());
        if let Some(c) = self.commits.get(&key) {
            return Ok(c);
        }
        let c = self.stores.refs.get_commit(repo, id).await?;
        self.commits.insert(key, c.clone());
        Ok(c)
    }

    /// A repository, or `NotFound`.
    pub async fn get_repository(&self, id: &RepositoryId) -> Result<Repository> {
        self.stores
            .refs
            .get_repository(id)
            .await
            .named(Entity::Repository, id)
    }
}
