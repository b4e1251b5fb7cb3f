//! Many objects in one request (Tarn's archive extension): a batch of
//! uploads to one branch whose small bodies are written to the block store
//! together (one sync for all, where the store can) and whose entries are
//! staged all at once, or not at all.

use crate::data::{locate, Described};
use crate::error::{body_write_error, Error, Result};
use crate::refs::ResolvedRef;
use crate::Engine;
use bytes::Bytes;
use std::collections::HashMap;
use tarn_model::{
    BlockKey, BranchName, Entry, ObjectPath, RepositoryId, StagedValue, StagingToken,
    StorageNamespace,
};
use tarn_ports::{ByteStream, ErrorKind, GetOutcome, Guarded, PUT_MANY_ATOMIC};

/// The most objects one batch takes: what staging stages all or nothing.
pub const MAX_BATCH_OBJECTS: usize = PUT_MANY_ATOMIC;

/// Staged entries read a page by [`Engine::stat_many`].
const SCAN_PAGE: usize = 1000;

/// The longest prefix `a` and `b` share, on a character boundary.
fn common_prefix<'s>(a: &'s str, b: &str) -> &'s str {
    let mut end = 0;
    for ((i, x), y) in a.char_indices().zip(b.chars()) {
        if x != y {
            break;
        }
        end = i + x.len_utf8();
    }
    &a[..end]
}

/// Small bodies held before they are written together.
const HELD_BYTES: usize = 4 << 20;
/// Small bodies held before they are written together, by count.
const HELD_OBJECTS: usize = 512;

/// Objects being uploaded to one branch, staged together by
/// [`ObjectBatch::stage`]. Until then nothing is visible on the branch;
/// data written for a batch that is dropped or fails is never staged (the
/// collector removes it after its grace period, as any unstaged data).
pub struct ObjectBatch<'a> {
    engine: &'a Engine,
    repo: RepositoryId,
    branch: BranchName,
    ns: StorageNamespace,
    /// Small bodies not written yet, with where they go and their place
    /// in the batch.
    held: Vec<(usize, ObjectPath, BlockKey, Bytes, Described)>,
    held_bytes: usize,
    /// Objects whose data is written, with their place in the batch (large
    /// ones are written before small ones that came earlier).
    written: Vec<(usize, ObjectPath, Entry)>,
}

impl Engine {
    /// A batch of uploads to `branch`, which must be writable (checked now,
    /// and again when the batch is staged).
    pub async fn object_batch(
        &self,
        repo: &RepositoryId,
        branch: &BranchName,
    ) -> Result<ObjectBatch<'_>> {
        let (repository, _) = self.writable_branch(repo, branch).await?;
        Ok(ObjectBatch {
            engine: self,
            repo: repo.clone(),
            branch: branch.clone(),
            ns: repository.storage_namespace,
            held: Vec::new(),
            held_bytes: 0,
            written: Vec::new(),
        })
    }

    /// The objects at `paths` on `reference`, read as of one moment (the
    /// ref resolved once; read again if a branch moved meanwhile), with the
    /// repository's storage namespace. `NotFound` names the first path that
    /// shows no object.
    pub async fn stat_many(
        &self,
        repo: &RepositoryId,
        reference: &str,
        paths: &[ObjectPath],
    ) -> Result<(Vec<Entry>, StorageNamespace)> {
        let (repository, mut r) = self.resolve_in_repository(repo, reference).await?;
        let ns = repository.storage_namespace;
        let mut attempts = self.settings.max_attempts;
        loop {
            let staged = self.staged_values(&r, paths).await?;
            let mut found = Vec::with_capacity(paths.len());
            for (path, staged) in paths.iter().zip(staged) {
                let value = match staged {
                    Some(value) => value,
                    None => self.committed_value(&ns, &r, path).await?,
                };
                match value {
                    Some(entry) => found.push(entry),
                    None => return Err(Error::not_found(crate::Entity::Object, path)),
                }
            }
            attempts = attempts.saturating_sub(1);
            if attempts == 0 || self.still_current(repo, &r).await? {
                return Ok((found, ns));
            }
            r = self.resolve_ref(repo, reference).await?;
        }
    }

    /// What the staging tokens of `r` say of each of `paths` (as
    /// `staged_value` does for one): each token's entries between the
    /// lowest and highest path are read in order, a page at a time, so a
    /// batch costs a few range reads rather than a read a path; a token
    /// with many more entries in that range than paths asked for is read
    /// path by path instead.
    async fn staged_values(
        &self,
        r: &ResolvedRef,
        paths: &[ObjectPath],
    ) -> Result<Vec<Option<Option<Entry>>>> {
        let mut found: Vec<Option<Option<Entry>>> = vec![None; paths.len()];
        let (Some(lo), Some(hi)) = (paths.iter().min(), paths.iter().max()) else {
            return Ok(found);
        };
        let prefix = common_prefix(lo.as_str(), hi.as_str());
        let budget = paths.len() * 2 + SCAN_PAGE;
        for token in Self::read_tokens(r) {
            let mut in_range: HashMap<String, StagedValue> = HashMap::new();
            let mut after: Option<ObjectPath> = None;
            let mut read = 0;
            let by_range = loop {
                let page = self
                    .stores
                    .staging
                    .scan(&token, prefix, after.as_ref(), SCAN_PAGE)
                    .await?;
                read += page.len();
                let (full, last) = (page.len() == SCAN_PAGE, page.last().map(|(p, _)| p.clone()));
                let mut past = false;
                for (path, value) in page {
                    if path.as_str() > hi.as_str() {
                        past = true;
                        break;
                    }
                    in_range.insert(path.into_string(), value);
                }
                if past || !full {
                    break true;
                }
                if read > budget {
                    break false;
                }
                after = last;
            };
            for (slot, path) in found.iter_mut().zip(paths) {
                if slot.is_some() {
                    continue;
                }
                let value = if by_range {
                    in_range.get(path.as_str()).cloned()
                } else {
                    self.stores.staging.get(&token, path).await?
                };
                *slot = value.map(|v| match v {
                    StagedValue::Entry(e) => Some(e),
                    StagedValue::Tombstone => None,
                });
            }
        }
        Ok(found)
    }

    /// The data of `entry` (the object at `path`), found by
    /// [`Self::stat_many`] in namespace `ns`.
    pub async fn read_entry(
        &self,
        ns: &StorageNamespace,
        path: &ObjectPath,
        entry: &Entry,
    ) -> Result<GetOutcome> {
        let (data_ns, key) = locate(ns, &entry.address);
        self.stores
            .blocks
            .get(&data_ns, &key, None)
            .await
            .map_err(|e| match e.kind() {
                ErrorKind::NotFound => Error::Gone(path.to_string()),
                _ => Error::from(e),
            })
    }

    /// Stages `entries` all or nothing (at most [`MAX_BATCH_OBJECTS`]) while
    /// `token` is the branch's, so that a commit takes all of them or none
    /// (`StagingStore::put_many_on_branch`); a store that cannot hold the
    /// branch still gets the check afterwards that [`Engine::safe_write`]
    /// makes for one path.
    async fn safe_write_many(
        &self,
        repo: &RepositoryId,
        name: &BranchName,
        entries: &[(ObjectPath, StagedValue)],
        mut token: StagingToken,
    ) -> Result<()> {
        for _ in 0..self.settings.max_attempts {
            let put = self
                .stores
                .staging
                .put_many_on_branch(&token, entries, (repo, name))
                .await;
            let now = match put {
                Ok(Guarded::Staged) => return Ok(()),
                // Nothing was staged: again under the branch's token.
                Ok(Guarded::Moved(now)) => {
                    token = now.staging_token;
                    continue;
                }
                Ok(Guarded::Unguarded) => self.get_branch(repo, name).await?,
                Err(e) => return Err(self.branch_read_error(repo, name, e).await),
            };
            if now.staging_token == token {
                return Ok(());
            }
            // A dropped token takes the writes with it unless they are
            // taken back out (see `safe_write`).
            if !now.sealed_tokens.contains(&token) {
                for (path, _) in entries {
                    self.stores.staging.delete(&token, path).await?;
                }
            }
            token = now.staging_token;
        }
        Err(Error::TooManyAttempts(name.to_string()))
    }
}

impl ObjectBatch<'_> {
    /// Objects added so far.
    pub fn len(&self) -> usize {
        self.held.len() + self.written.len()
    }

    /// Whether none was added.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn room_for_one(&self) -> Result<()> {
        if self.len() >= MAX_BATCH_OBJECTS {
            return Err(Error::invalid(
                "objects",
                format!("at most {MAX_BATCH_OBJECTS} objects in one request"),
            ));
        }
        Ok(())
    }

    /// Adds an object whose whole body is in memory; it is written with
    /// others (see [`HELD_BYTES`]).
    pub async fn add_small(
        &mut self,
        path: ObjectPath,
        body: Bytes,
        described: Described,
    ) -> Result<()> {
        self.room_for_one()?;
        let key = self.engine.new_data_key()?;
        self.held_bytes += body.len();
        let place = self.len();
        self.held.push((place, path, key, body, described));
        if self.held_bytes >= HELD_BYTES || self.held.len() >= HELD_OBJECTS {
            self.write_held().await?;
        }
        Ok(())
    }

    /// Adds an object whose body streams (of `size` bytes, when known),
    /// written now.
    pub async fn add_stream(
        &mut self,
        path: ObjectPath,
        body: ByteStream,
        size: Option<u64>,
        described: Described,
    ) -> Result<()> {
        self.room_for_one()?;
        let key = self.engine.new_data_key()?;
        let put = self
            .engine
            .stores
            .blocks
            .put(&self.ns, &key, body, size)
            .await
            .map_err(body_write_error)?;
        let entry = self
            .engine
            .fresh_entry(key, (put.size, put.etag), described);
        let place = self.len();
        self.written.push((place, path, entry));
        Ok(())
    }

    async fn write_held(&mut self) -> Result<()> {
        if self.held.is_empty() {
            return Ok(());
        }
        let held = std::mem::take(&mut self.held);
        self.held_bytes = 0;
        let bodies: Vec<(BlockKey, Bytes)> = held
            .iter()
            .map(|(_, _, key, body, _)| (key.clone(), body.clone()))
            .collect();
        let outcomes = self
            .engine
            .stores
            .blocks
            .put_small_many(&self.ns, &bodies)
            .await
            .map_err(body_write_error)?;
        for ((place, path, key, _, described), put) in held.into_iter().zip(outcomes) {
            let entry = self
                .engine
                .fresh_entry(key, (put.size, put.etag), described);
            self.written.push((place, path, entry));
        }
        Ok(())
    }

    /// Writes what is held, then stages every object at once: all of them
    /// show on the branch, or (on an error) none. Returns the objects in
    /// the order they were added, and the repository's storage namespace.
    pub async fn stage(mut self) -> Result<(Vec<(ObjectPath, Entry)>, StorageNamespace)> {
        self.write_held().await?;
        if self.written.is_empty() {
            return Ok((Vec::new(), self.ns));
        }
        // In the order added: of two objects at one path, the later wins.
        self.written.sort_unstable_by_key(|(place, _, _)| *place);
        let values: Vec<(ObjectPath, StagedValue)> = self
            .written
            .iter()
            .map(|(_, path, entry)| (path.clone(), StagedValue::Entry(entry.clone())))
            .collect();
        // The branch again, now: writing took time, and the branch may
        // have been protected, its repository made read-only, or its
        // staging token sealed by a commit meanwhile.
        let (_, branch) = self
            .engine
            .writable_branch(&self.repo, &self.branch)
            .await?;
        self.engine
            .safe_write_many(&self.repo, &self.branch, &values, branch.staging_token)
            .await?;
        let written = self
            .written
            .into_iter()
            .map(|(_, path, entry)| (path, entry))
            .collect();
        Ok((written, self.ns))
    }
}
