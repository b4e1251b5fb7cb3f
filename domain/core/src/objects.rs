//! Objects on a ref: stage, stat, delete and list, with staging merged over
//! the committed tree.

use crate::error::{Error, Result};
use crate::page::Page;
use crate::refs::{RefView, ResolvedRef};
use crate::staging::{StagingCursor, ViewCursor};
use crate::trees::TreeCursor;
use crate::Engine;
use crate::Entity;
use tarn_model::{
    BranchName, Entry, ObjectPath, RepositoryId, StagedValue, StagingToken, StorageNamespace,
};
use tarn_ports::folder_of;

/// A listing request.
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    /// Only paths starting with this.
    pub prefix: String,
    /// Only results strictly after this.
    pub after: Option<String>,
    /// At most this many results.
    pub amount: usize,
    /// Collapse paths that contain this after the prefix into common prefixes.
    pub delimiter: Option<String>,
}

/// One listing result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    /// An object.
    Object(ObjectPath, Entry),
    /// A common prefix (ends with the delimiter).
    CommonPrefix(String),
}

impl Listing {
    /// Its path or prefix: the listing's offset.
    pub fn key(&self) -> &str {
        match self {
            Self::Object(p, _) => p.as_str(),
            Self::CommonPrefix(p) => p,
        }
    }
}

impl Engine {
    /// Staging tokens a read of `r` goes through, newest first.
    pub(crate) fn read_tokens(r: &ResolvedRef) -> Vec<StagingToken> {
        match (&r.view, &r.branch) {
            (RefView::Branch | RefView::StagingOnly, Some(b)) => {
                std::iter::once(b.staging_token.clone())
                    .chain(b.sealed_tokens.iter().cloned())
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// A cursor for a listing of what `r` shows under `prefix`, after
    /// `after`, that likely needs `wanted` entries (or folders, when
    /// delimited by `delimiter`: staging is then read folder by folder).
    pub(crate) async fn open_view(
        &self,
        ns: &StorageNamespace,
        r: &ResolvedRef,
        prefix: &str,
        after: Option<&str>,
        delimiter: Option<&str>,
        wanted: usize,
    ) -> Result<ViewCursor> {
        let after_path = after.and_then(|a| ObjectPath::new(a).ok());
        let page = self.settings.staging_page;
        let staging = Self::read_tokens(r)
            .into_iter()
            .map(|t| {
                StagingCursor::new(
                    self.stores.staging.clone(),
                    t,
                    prefix,
                    after_path.clone(),
                    page,
                )
                .for_listing(delimiter, wanted)
            })
            .collect();
        let tree = if r.view == RefView::StagingOnly {
            None
        } else {
            let mut t = TreeCursor::open(&self.trees, ns, &r.commit.meta_range_id).await?;
            let start = match after {
                Some(a) if a >= prefix => a,
                _ => prefix,
            };
            t.seek(start).await?;
            if let Some(a) = after {
                while matches!(t.peek().await?, Some((p, _)) if p.as_str() <= a) {
                    t.advance();
                }
            }
            Some(t)
        };
        Ok(ViewCursor::new(staging, tree))
    }

    /// The entry at `path` on `reference`.
    pub async fn stat_object(
        &self,
        repo: &RepositoryId,
        reference: &str,
        path: &ObjectPath,
    ) -> Result<Entry> {
        let (repository, mut r) = self.resolve_in_repository(repo, reference).await?;
        let ns = repository.storage_namespace;
        let mut attempts = self.settings.max_attempts;
        loop {
            // A value in the current staging token was the branch's value
            // when the read began: no need to check that the branch is still
            // as read. (A sealed token may be dropped under the read while an
            // older one is not yet: those hits are checked like the tree.)
            let found = match self.staged_value(&r, path).await? {
                Some((0, staged)) => {
                    return staged.ok_or_else(|| Error::not_found(Entity::Object, path))
                }
                Some((_, staged)) => staged,
                None => self.committed_value(&ns, &r, path).await?,
            };
            attempts = attempts.saturating_sub(1);
            if attempts == 0 || self.still_current(repo, &r).await? {
                return found.ok_or_else(|| Error::not_found(Entity::Object, path));
            }
            r = self.resolve_ref(repo, reference).await?;
        }
    }

    /// Whether the branch a read went through is as the read saw it. A
    /// commit drops the staging tokens it sealed right after it moves the
    /// branch: a read that began before the move may have missed entries in
    /// them, and must read again.
    pub(crate) async fn still_current(&self, repo: &RepositoryId, r: &ResolvedRef) -> Result<bool> {
        match (&r.view, &r.branch) {
            (RefView::Branch | RefView::StagingOnly, Some(b)) => {
                match self.stores.refs.get_branch(repo, &b.name).await {
                    Ok(now) => Ok(now == *b),
                    Err(e) if e.kind() == tarn_ports::ErrorKind::NotFound => Ok(true),
                    Err(e) => Err(e.into()),
                }
            }
            _ => Ok(true),
        }
    }

    pub(crate) async fn lookup(
        &self,
        ns: &StorageNamespace,
        r: &ResolvedRef,
        path: &ObjectPath,
    ) -> Result<Option<Entry>> {
        match self.staged_value(r, path).await? {
            Some((_, staged)) => Ok(staged),
            None => self.committed_value(ns, r, path).await,
        }
    }

    /// What the staging tokens of `r` say of `path`, newest first: `None`
    /// when none holds it, else which token (0: the current one) and its
    /// value (`None` for a tombstone).
    async fn staged_value(
        &self,
        r: &ResolvedRef,
        path: &ObjectPath,
    ) -> Result<Option<(usize, Option<Entry>)>> {
        for (i, t) in Self::read_tokens(r).iter().enumerate() {
            match self.stores.staging.get(t, path).await? {
                Some(StagedValue::Entry(e)) => return Ok(Some((i, Some(e)))),
                Some(StagedValue::Tombstone) => return Ok(Some((i, None))),
                None => {}
            }
        }
        Ok(None)
    }

    /// The committed value of `path` under `r` (none for a staging-only view).
    pub(crate) async fn committed_value(
        &self,
        ns: &StorageNamespace,
        r: &ResolvedRef,
        path: &ObjectPath,
    ) -> Result<Option<Entry>> {
        if r.view == RefView::StagingOnly {
            return Ok(None);
        }
        self.trees.get(ns, &r.commit.meta_range_id, path).await
    }

    /// Stages `entry` at `path` on branch `name`.
    #[tracing::instrument(skip(self, entry), fields(repo = %repo, branch = %name, path = %path))]
    pub async fn stage_object(
        &self,
        repo: &RepositoryId,
        name: &BranchName,
        path: &ObjectPath,
        entry: Entry,
    ) -> Result<()> {
        let (_, branch) = self.writable_branch(repo, name).await?;
        let value = StagedValue::Entry(entry);
        self.safe_write(repo, name, path, &value, branch.staging_token)
            .await
    }

    /// Deletes `path` on branch `name`; `NotFound` if the branch does not show it.
    #[tracing::instrument(skip(self), fields(repo = %repo, branch = %name, path = %path))]
    pub async fn delete_object(
        &self,
        repo: &RepositoryId,
        name: &BranchName,
        path: &ObjectPath,
    ) -> Result<()> {
        let (r, branch) = self.writable_branch(repo, name).await?;
        let token = branch.staging_token.clone();
        let resolved = ResolvedRef {
            commit: self.get_commit_record(repo, &branch.commit_id).await?,
            branch: Some(branch),
            view: RefView::Branch,
        };
        if self
            .lookup(&r.storage_namespace, &resolved, path)
            .await?
            .is_none()
        {
            return Err(Error::not_found(Entity::Object, path));
        }
        self.safe_write(repo, name, path, &StagedValue::Tombstone, token)
            .await
    }

    /// Writes to the branch's current staging token, then checks that the
    /// token is still current: if a commit sealed it meanwhile, the write may
    /// have missed that commit, so it is written again to the new token. An
    /// acknowledged write therefore lands in a commit or stays staged.
    pub(crate) async fn safe_write(
        &self,
        repo: &RepositoryId,
        name: &BranchName,
        path: &ObjectPath,
        value: &StagedValue,
        mut token: StagingToken,
    ) -> Result<()> {
        // `token` was read before; the check after the write is what makes
        // the write safe.
        for _ in 0..self.settings.max_attempts {
            // The branch as read after the write: one read for all the
            // writes that shared a transaction, where the store can.
            let now = match self
                .stores
                .staging
                .put_and_read_branch(&token, path, value, (repo, name))
                .await
            {
                Ok(Some(now)) => now,
                Ok(None) => self.get_branch(repo, name).await?,
                Err(e) => return Err(self.branch_read_error(repo, name, e).await),
            };
            if now.staging_token == token {
                return Ok(());
            }
            // A token no longer on the branch has been (or is being) dropped:
            // take the write back out, or it stays there unreachable.
            if !now.sealed_tokens.contains(&token) {
                self.stores.staging.delete(&token, path).await?;
            }
            token = now.staging_token;
        }
        Err(Error::TooManyAttempts(name.to_string()))
    }

    /// Lists objects on `reference`.
    pub async fn list_objects(
        &self,
        repo: &RepositoryId,
        reference: &str,
        req: &ListRequest,
    ) -> Result<Page<Listing>> {
        let mut attempts = self.settings.max_attempts;
        loop {
            let r = self.resolve_ref(repo, reference).await?;
            let page = self.list_once(repo, &r, req).await?;
            attempts = attempts.saturating_sub(1);
            if attempts == 0 || self.still_current(repo, &r).await? {
                return Ok(page);
            }
        }
    }

    async fn list_once(
        &self,
        repo: &RepositoryId,
        r: &ResolvedRef,
        req: &ListRequest,
    ) -> Result<Page<Listing>> {
        let ns = self.get_repository(repo).await?.storage_namespace;
        let amount = req.amount.max(1);
        let after = req.after.as_deref().filter(|a| !a.is_empty());
        let delimiter = req.delimiter.as_deref().filter(|d| !d.is_empty());
        // The page, the one after it that says whether there is more, and a
        // common prefix the previous page ended on.
        let wanted = amount.saturating_add(2);
        let mut cursor = self
            .open_view(&ns, r, &req.prefix, after, delimiter, wanted)
            .await?;
        let mut out: Vec<Listing> = Vec::new();
        while out.len() <= amount {
            let Some((path, entry)) = cursor.next_entry().await? else {
                break;
            };
            if !path.as_str().starts_with(&req.prefix) {
                break;
            }
            match delimiter.and_then(|d| folder_of(path.as_str(), &req.prefix, d)) {
                Some(common) => {
                    cursor.skip_prefix(common).await?;
                    // A prefix the previous page ended on is not repeated.
                    if after.is_some_and(|a| common <= a) {
                        continue;
                    }
                    out.push(Listing::CommonPrefix(common.to_owned()));
                }
                None => out.push(Listing::Object(path, entry)),
            }
        }
        Ok(Page::from_overfetch(out, amount, |l| l.key().to_owned()))
    }
}
