//! Repositories: create, get, list, delete.

use crate::error::{Error, PortResultExt, Result};
use crate::page::Page;
use crate::Engine;
use crate::Entity;
use std::collections::BTreeMap;
use tarn_model::{
    commit_id, BlockKey, Branch, BranchName, Commit, Repository, RepositoryId, StagingToken,
    StorageNamespace,
};
use tarn_ports::{ByteStream, ErrorKind};

/// The object that marks a namespace as owned by a repository.
const MARKER_KEY: &str = "_tarn/dummy";
const MARKER_TEXT: &str = "this is dummy data - created by tarn to check accessibility";
/// The committer of every repository's first commit.
const SYSTEM_COMMITTER: &str = "";

/// Why a new repository cannot use `ns`: the store's answer to checking or
/// writing its marker (a missing bucket, refused credentials, a malformed
/// name) is the namespace's problem; a store that is down is not.
fn unusable_namespace(ns: &StorageNamespace, e: tarn_ports::PortError) -> Error {
    match e.kind() {
        ErrorKind::Unavailable | ErrorKind::StorageFull => Error::from(e),
        _ => Error::invalid(
            "storage_namespace",
            format!("cannot use {ns}: {}", e.message()),
        ),
    }
}

impl Engine {
    /// Creates a writable repository (see [`Engine::create_repository_with`]).
    pub async fn create_repository(
        &self,
        id: RepositoryId,
        storage_namespace: StorageNamespace,
        default_branch: BranchName,
    ) -> Result<Repository> {
        self.create_repository_with(id, storage_namespace, default_branch, false)
            .await
    }

    /// Creates a repository: claims the namespace with a marker object, writes
    /// the empty tree, and creates the first commit ("Repository created") with
    /// the default branch on it. A namespace already marked is refused.
    #[tracing::instrument(skip(self), fields(repo = %id))]
    pub async fn create_repository_with(
        &self,
        id: RepositoryId,
        storage_namespace: StorageNamespace,
        default_branch: BranchName,
        read_only: bool,
    ) -> Result<Repository> {
        match self.stores.refs.get_repository(&id).await {
            Ok(_) => {
                return Err(Error::AlreadyExists {
                    entity: Entity::Repository,
                    name: id.to_string(),
                })
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        self.claim_namespace(&storage_namespace, false).await?;
        let tree = self.trees.empty_tree(&storage_namespace).await?;
        let now = self.stores.clock.now();
        let metadata = BTreeMap::new();
        let message = "Repository created";
        let commit = Commit {
            id: commit_id(SYSTEM_COMMITTER, message, &tree, now, &metadata, &[]),
            committer: SYSTEM_COMMITTER.to_owned(),
            message: message.to_owned(),
            meta_range_id: tree,
            creation_date: now,
            metadata,
            parents: Vec::new(),
            generation: 1,
            version: 1,
        };
        let branch = Branch {
            name: default_branch.clone(),
            commit_id: commit.id.clone(),
            staging_token: self.new_token()?,
            sealed_tokens: Vec::new(),
            hidden: false,
        };
        let repo = Repository {
            id: id.clone(),
            storage_namespace,
            default_branch,
            creation_date: now,
            read_only,
        };
        self.stores
            .refs
            .create_repository(&repo, &commit, &branch)
            .await
            .named(Entity::Repository, &id)?;
        Ok(repo)
    }

    /// Creates a bare repository: the record alone, with no commit and no
    /// branch (a refs restore fills it, often over a namespace copied from
    /// another repository, whose claim it keeps). An unclaimed namespace is
    /// claimed, so that no other repository is created over it later.
    #[tracing::instrument(skip(self), fields(repo = %id))]
    pub async fn create_bare_repository(
        &self,
        id: RepositoryId,
        storage_namespace: StorageNamespace,
        default_branch: BranchName,
        read_only: bool,
    ) -> Result<Repository> {
        self.claim_namespace(&storage_namespace, true).await?;
        let repo = Repository {
            id: id.clone(),
            storage_namespace,
            default_branch,
            creation_date: self.stores.clock.now(),
            read_only,
        };
        self.stores
            .refs
            .create_bare_repository(&repo)
            .await
            .named(Entity::Repository, &id)?;
        Ok(repo)
    }

    /// Marks `ns` as a repository's. A namespace marked already is refused,
    /// unless `shared` (a bare repository restored over another's copy).
    async fn claim_namespace(&self, ns: &StorageNamespace, shared: bool) -> Result<()> {
        let marker = BlockKey::new(MARKER_KEY)?;
        match self.stores.blocks.head(ns, &marker).await {
            Ok(_) if shared => return Ok(()),
            Ok(_) => {
                return Err(Error::invalid(
                    "storage_namespace",
                    format!("{ns} is already in use by a repository"),
                ))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(unusable_namespace(ns, e)),
        }
        self.stores
            .blocks
            .put(
                ns,
                &marker,
                ByteStream::from_bytes(MARKER_TEXT),
                Some(MARKER_TEXT.len() as u64),
            )
            .await
            .map_err(|e| unusable_namespace(ns, e))?;
        Ok(())
    }

    /// Repositories whose id starts with `prefix`, after `after`, at most `amount`.
    pub async fn list_repositories(
        &self,
        prefix: &str,
        after: Option<&str>,
        amount: usize,
    ) -> Result<Page<Repository>> {
        let refs = &self.stores.refs;
        let fetch = |cursor: Option<String>, limit| async move {
            let cursor = cursor.and_then(|c| RepositoryId::new(c).ok());
            Ok(refs.list_repositories(cursor.as_ref(), limit).await?)
        };
        crate::page::filtered(
            prefix,
            after,
            amount,
            |r: &Repository| r.id.as_str(),
            |_| true,
            fetch,
        )
        .await
    }

    /// Deletes a repository with its refs and staged changes; its objects stay
    /// in the namespace for garbage collection.
    #[tracing::instrument(skip(self), fields(repo = %id))]
    pub async fn delete_repository(&self, id: &RepositoryId) -> Result<()> {
        self.get_repository(id).await?;
        let mut tokens = Vec::new();
        let mut after: Option<BranchName> = None;
        loop {
            let page = self
                .stores
                .refs
                .list_branches(id, after.as_ref(), 1000)
                .await?;
            let done = page.len() < 1000;
            for b in page {
                tokens.push(b.staging_token.clone());
                tokens.extend(b.sealed_tokens.iter().cloned());
                after = Some(b.name);
            }
            if done {
                break;
            }
        }
        self.stores
            .refs
            .delete_repository(id)
            .await
            .named(Entity::Repository, id)?;
        // Its commits may be cached; deleting repositories is rare enough to
        // drop them all. (Another process keeps its copies, but serves them
        // only for ids reached through the live repository's refs, and ids
        // hash the creation time: a new repository does not reach old ones.)
        self.commits.invalidate_all();
        for t in tokens {
            self.stores.staging.drop_token(&t).await?;
        }
        Ok(())
    }

    /// A fresh staging token.
    pub(crate) fn new_token(&self) -> Result<StagingToken> {
        Ok(StagingToken::new(format!(
            "t-{}",
            self.stores.ids.new_id()
        ))?)
    }
}
