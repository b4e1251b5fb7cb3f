use crate::PortResult;
use async_trait::async_trait;
use tarn_model::{
    Branch, BranchName, Commit, CommitId, MetaRangeId, Repository, RepositoryId, Tag, TagName,
    Timestamp,
};

/// The most bytes a commit's summary may take (see
/// [`RefStore::put_commit_with_summary`]).
pub const MAX_COMMIT_SUMMARY: usize = 64 << 10;

/// A commit's place in history, as a walk of the log needs it, with the
/// summary stored beside its record (see [`RefStore::commit_links`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitLink {
    /// The commit.
    pub id: CommitId,
    /// Its parents, the first parent first.
    pub parents: Vec<CommitId>,
    /// Its generation.
    pub generation: u64,
    /// When it was committed.
    pub creation_date: Timestamp,
    /// Its tree.
    pub meta_range_id: MetaRangeId,
    /// What it was stored with, if anything.
    pub summary: Option<Vec<u8>>,
}

/// What [`RefStore::get_repository_branch`] reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryBranch {
    /// The repository.
    pub repository: Repository,
    /// The branch asked for, if it exists.
    pub branch: Option<Branch>,
    /// The setting asked for, if one was and it is set.
    pub setting: Option<String>,
}

/// Repositories, branches, tags and commit records.
///
/// Contract, for every adapter:
/// - **Repositories**: `create_repository` is atomic: the repository, its
///   first commit and its default branch all appear, or none does (an
///   existing id answers `AlreadyExists`). `delete_repository` removes the
///   repository with all its branches, tags and commits; afterwards the id can
///   be created again and shows none of them. A missing repository answers
///   `NotFound`, for its own operations and for those on its refs.
/// - **Branches** are updated only by compare-and-set: `update_branch`
///   replaces the record iff the stored one equals `expected` in every field,
///   else answers `PreconditionFailed`; of concurrent updates from one
///   expected state, exactly one succeeds. A missing branch answers
///   `NotFound`. Creating an existing branch answers `AlreadyExists`.
/// - **Tags**: create answers `AlreadyExists` if the name is taken; tags are
///   never updated in place.
/// - **Commits** are content-addressed: `put_commit` of an id that exists is
///   `Ok` and keeps the stored record.
/// - **Listings** are in byte order of the name, strictly after `after`, at
///   most `limit` items (no more; fewer only at the end).
/// - **Bare repositories**: `create_bare_repository` creates the repository
///   alone, with no commit and no branch (a restore fills them in).
/// - **Settings** (per-repository values such as branch protection rules):
///   `set_setting` replaces the value iff the stored one equals `expected`
///   (`None`: no value yet), else answers `PreconditionFailed`; of concurrent
///   updates from one expected value, exactly one succeeds. They go with the
///   repository. `list_settings` lists the keys starting with a prefix, in
///   byte order, as listings do.
/// - Reads observe every write that returned `Ok` before them (no stale
///   reads), across every instance sharing the store.
#[async_trait]
pub trait RefStore: Send + Sync + 'static {
    /// Creates a repository with its first commit and default branch.
    async fn create_repository(
        &self,
        repo: &Repository,
        initial_commit: &Commit,
        default_branch: &Branch,
    ) -> PortResult<()>;

    /// Creates a repository with no commit and no branch (lakeFS's bare
    /// repository, the target of a refs restore).
    async fn create_bare_repository(&self, repo: &Repository) -> PortResult<()>;

    /// Reads a repository.
    async fn get_repository(&self, id: &RepositoryId) -> PortResult<Repository>;

    /// Lists repositories.
    async fn list_repositories(
        &self,
        after: Option<&RepositoryId>,
        limit: usize,
    ) -> PortResult<Vec<Repository>>;

    /// Deletes a repository and all its refs and commit records.
    async fn delete_repository(&self, id: &RepositoryId) -> PortResult<()>;

    /// Creates a branch.
    async fn create_branch(&self, repo: &RepositoryId, branch: &Branch) -> PortResult<()>;

    /// Reads a branch.
    async fn get_branch(&self, repo: &RepositoryId, name: &BranchName) -> PortResult<Branch>;

    /// Reads a repository with, if they exist, its branch `name` and its
    /// setting `setting` (when given), as one read where the store can: most
    /// requests need the first two, writes the branch protection rules too.
    /// `NotFound` only for a missing repository.
    async fn get_repository_branch(
        &self,
        repo: &RepositoryId,
        name: &BranchName,
        setting: Option<&str>,
    ) -> PortResult<RepositoryBranch> {
        let repository = self.get_repository(repo).await?;
        let branch = match self.get_branch(repo, name).await {
            Ok(b) => Some(b),
            Err(e) if e.kind() == crate::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        let setting = match setting {
            Some(key) => self.get_setting(repo, key).await?,
            None => None,
        };
        Ok(RepositoryBranch {
            repository,
            branch,
            setting,
        })
    }

    /// Lists branches.
    async fn list_branches(
        &self,
        repo: &RepositoryId,
        after: Option<&BranchName>,
        limit: usize,
    ) -> PortResult<Vec<Branch>>;

    /// Replaces `expected` (same name) with `new` iff it is still current.
    async fn update_branch(
        &self,
        repo: &RepositoryId,
        expected: &Branch,
        new: &Branch,
    ) -> PortResult<()>;

    /// Deletes a branch.
    async fn delete_branch(&self, repo: &RepositoryId, name: &BranchName) -> PortResult<()>;

    /// Creates a tag.
    async fn create_tag(&self, repo: &RepositoryId, tag: &Tag) -> PortResult<()>;

    /// Reads a tag.
    async fn get_tag(&self, repo: &RepositoryId, name: &TagName) -> PortResult<Tag>;

    /// Lists tags.
    async fn list_tags(
        &self,
        repo: &RepositoryId,
        after: Option<&TagName>,
        limit: usize,
    ) -> PortResult<Vec<Tag>>;

    /// Deletes a tag.
    async fn delete_tag(&self, repo: &RepositoryId, name: &TagName) -> PortResult<()>;

    /// Stores a commit record (idempotent).
    async fn put_commit(&self, repo: &RepositoryId, commit: &Commit) -> PortResult<()>;

    /// Stores a commit record as [`Self::put_commit`] does, with `summary`
    /// (opaque bytes, at most [`MAX_COMMIT_SUMMARY`]; larger is
    /// `InvalidInput`) kept beside it for [`Self::commit_links`]. A put of
    /// an id that exists keeps the stored record and summary.
    async fn put_commit_with_summary(
        &self,
        repo: &RepositoryId,
        commit: &Commit,
        summary: &[u8],
    ) -> PortResult<()>;

    /// Commits of a repository in history order: highest generation first,
    /// then id descending; strictly after `after` (the generation and id of
    /// the last one of the previous page) in that order; at most `limit`
    /// (no more; fewer only at the end). Each comes with the summary it was
    /// stored with (`None` when put by [`Self::put_commit`]). Every commit of
    /// the repository is listed, reachable or not.
    async fn commit_links(
        &self,
        repo: &RepositoryId,
        after: Option<(u64, &CommitId)>,
        limit: usize,
    ) -> PortResult<Vec<CommitLink>>;

    /// Reads a commit record.
    async fn get_commit(&self, repo: &RepositoryId, id: &CommitId) -> PortResult<Commit>;

    /// Commit records of a repository in id order, strictly after `after`,
    /// at most `limit` (every commit, reachable or not: what a refs dump
    /// holds).
    async fn list_commits(
        &self,
        repo: &RepositoryId,
        after: Option<&CommitId>,
        limit: usize,
    ) -> PortResult<Vec<Commit>>;

    /// A repository setting, `None` when unset.
    async fn get_setting(&self, repo: &RepositoryId, key: &str) -> PortResult<Option<String>>;

    /// Sets a repository setting iff its current value is `expected`.
    async fn set_setting(
        &self,
        repo: &RepositoryId,
        key: &str,
        expected: Option<&str>,
        value: &str,
    ) -> PortResult<()>;

    /// Settings whose key starts with `prefix`, strictly after `after`, in
    /// byte order of the key, at most `limit`, as `(key, value)`.
    async fn list_settings(
        &self,
        repo: &RepositoryId,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> PortResult<Vec<(String, String)>>;

    /// The ids of commits starting with `prefix` (lowercase hex), in order, at
    /// most `limit`: the engine asks for two to detect an ambiguous prefix.
    async fn find_commits_by_prefix(
        &self,
        repo: &RepositoryId,
        prefix: &str,
        limit: usize,
    ) -> PortResult<Vec<CommitId>>;
}
