//! Refs dump and restore (lakeFS's `dumpRefs` / `restoreRefs`): a
//! repository's commits, branches and tags written to its own namespace as
//! three objects, and read back into a bare repository, which with the
//! namespace's data and tree files rebuilds its whole history.
//!
//! Tarn's format (lakeFS's is protobuf in SSTables and cannot be read here):
//! each object is JSON lines, one record per line, under `_tarn/refs/`; the
//! dump's ids name them, and `_tarn/refs_manifest.json` holds the last dump's
//! ids. Both directions stream, one page of records at a time, so memory
//! stays flat at any history size.

use crate::error::{Error, PortResultExt, Result};
use crate::Engine;
use crate::Entity;
use bytes::Bytes;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use tarn_model::{
    BlockKey, Branch, BranchName, Commit, CommitId, MetaRangeId, RepositoryId, Tag, TagName,
    Timestamp,
};
use tarn_ports::{ByteStream, ErrorKind, RefStore};

/// Records listed per store round trip.
const PAGE: usize = 1000;
/// The longest line a dump holds (a commit with large metadata).
const MAX_LINE: usize = 8 << 20;

/// The three objects of a dump, by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefsDump {
    /// The commits' object.
    pub commits_meta_range_id: String,
    /// The branches' object.
    pub branches_meta_range_id: String,
    /// The tags' object.
    pub tags_meta_range_id: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct CommitLine {
    id: String,
    committer: String,
    message: String,
    meta_range_id: String,
    creation_date: i64,
    metadata: BTreeMap<String, String>,
    parents: Vec<String>,
    generation: u64,
    version: u8,
}

#[derive(Debug, Serialize, Deserialize)]
struct RefLine {
    name: String,
    commit_id: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    hidden: bool,
}

#[derive(Clone, Copy)]
enum Kind {
    Commits,
    Branches,
    Tags,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Commits => "commits",
            Self::Branches => "branches",
            Self::Tags => "tags",
        }
    }
}

fn dump_key(id: &str) -> Result<BlockKey> {
    let valid = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(Error::invalid(
            "meta_range_id",
            format!("{id:?} is not the id of a refs dump"),
        ));
    }
    Ok(BlockKey::new(format!("_tarn/refs/{id}"))?)
}

/// Where a repository's last dump is recorded: per repository, since
/// repositories may share a namespace (a bare copy restored over another's).
fn manifest_key(repo: &RepositoryId) -> Result<BlockKey> {
    Ok(BlockKey::new(format!("_tarn/refs/{repo}.manifest.json"))?)
}

fn line(value: &impl Serialize) -> tarn_ports::PortResult<Bytes> {
    let mut out = serde_json::to_vec(value)
        .map_err(|e| tarn_ports::PortError::internal(format!("refs dump: {e}")))?;
    out.push(b'\n');
    Ok(Bytes::from(out))
}

fn commit_line(c: Commit) -> CommitLine {
    CommitLine {
        id: c.id.into_string(),
        committer: c.committer,
        message: c.message,
        meta_range_id: c.meta_range_id.into_string(),
        creation_date: c.creation_date.unix_micros(),
        metadata: c.metadata,
        parents: c.parents.into_iter().map(CommitId::into_string).collect(),
        generation: c.generation,
        version: c.version,
    }
}

/// Every record of `kind` as JSON lines, a page at a time.
fn records(refs: Arc<dyn RefStore>, repo: RepositoryId, kind: Kind) -> ByteStream {
    let pages = futures::stream::try_unfold(
        (Some(String::new()), refs, repo),
        move |(cursor, refs, repo)| async move {
            let Some(cursor) = cursor else {
                return Ok(None);
            };
            let after = Some(cursor.as_str()).filter(|c| !c.is_empty());
            let (chunk, last, n) = page(&*refs, &repo, kind, after)
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            let next = (n == PAGE).then_some(last);
            Ok::<_, std::io::Error>(Some((chunk, (next, refs, repo))))
        },
    );
    ByteStream::new(pages.filter(|c| {
        let keep = !matches!(c, Ok(b) if b.is_empty());
        async move { keep }
    }))
}

/// One page of `kind` after `after`: its lines, the last name, the count.
async fn page(
    refs: &dyn RefStore,
    repo: &RepositoryId,
    kind: Kind,
    after: Option<&str>,
) -> tarn_ports::PortResult<(Bytes, String, usize)> {
    let mut out = Vec::new();
    let (last, n) = match kind {
        Kind::Commits => {
            let after = after.map(CommitId::new).transpose().ok().flatten();
            let page = refs.list_commits(repo, after.as_ref(), PAGE).await?;
            let n = page.len();
            let last = page.last().map(|c| c.id.to_string()).unwrap_or_default();
            for c in page {
                out.extend_from_slice(&line(&commit_line(c))?);
            }
            (last, n)
        }
        Kind::Branches => {
            let after = after.map(BranchName::new).transpose().ok().flatten();
            let page = refs.list_branches(repo, after.as_ref(), PAGE).await?;
            let n = page.len();
            let last = page.last().map(|b| b.name.to_string()).unwrap_or_default();
            for b in page {
                let record = RefLine {
                    name: b.name.into_string(),
                    commit_id: b.commit_id.into_string(),
                    hidden: b.hidden,
                };
                out.extend_from_slice(&line(&record)?);
            }
            (last, n)
        }
        Kind::Tags => {
            let after = after.map(TagName::new).transpose().ok().flatten();
            let page = refs.list_tags(repo, after.as_ref(), PAGE).await?;
            let n = page.len();
            let last = page.last().map(|t| t.name.to_string()).unwrap_or_default();
            for t in page {
                let record = RefLine {
                    name: t.name.into_string(),
                    commit_id: t.commit_id.into_string(),
                    hidden: false,
                };
                out.extend_from_slice(&line(&record)?);
            }
            (last, n)
        }
    };
    Ok((Bytes::from(out), last, n))
}

fn bad_dump(what: impl std::fmt::Display) -> Error {
    Error::invalid("refs dump", what)
}

impl Engine {
    /// Writes the commits, branches and tags of `repo` to its namespace and
    /// returns the dump's ids.
    pub async fn dump_refs(&self, repo: &RepositoryId) -> Result<RefsDump> {
        let ns = self.get_repository(repo).await?.storage_namespace;
        // Refs first, commits last: commits are never deleted, so every ref
        // listed points at a commit the later listing holds, whatever lands
        // meanwhile.
        let mut ids = Vec::new();
        for kind in [Kind::Branches, Kind::Tags, Kind::Commits] {
            let id = format!("{}-{}", kind.as_str(), self.stores.ids.new_id());
            let body = records(self.stores.refs.clone(), repo.clone(), kind);
            self.stores
                .blocks
                .put(&ns, &dump_key(&id)?, body, None)
                .await?;
            ids.push(id);
        }
        let [branches, tags, commits] = <[String; 3]>::try_from(ids)
            .map_err(|_| Error::invalid("refs dump", "three objects"))?;
        let dump = RefsDump {
            commits_meta_range_id: commits,
            branches_meta_range_id: branches,
            tags_meta_range_id: tags,
        };
        let manifest = serde_json::to_vec_pretty(&dump).map_err(bad_dump)?;
        let size = manifest.len() as u64;
        self.stores
            .blocks
            .put(
                &ns,
                &manifest_key(repo)?,
                ByteStream::from_bytes(manifest),
                Some(size),
            )
            .await?;
        Ok(dump)
    }

    /// What a restore checks before it loads anything: the repository is
    /// bare (and writable, unless `force`), and the dump's three objects
    /// are in its namespace. Returns the repository and their keys.
    pub async fn check_restore(
        &self,
        repo: &RepositoryId,
        dump: &RefsDump,
        force: bool,
    ) -> Result<(tarn_model::Repository, [BlockKey; 3])> {
        let r = self.get_repository(repo).await?;
        if r.read_only && !force {
            return Err(Error::ReadOnlyRepository(repo.to_string()));
        }
        match self.stores.refs.get_branch(repo, &r.default_branch).await {
            Ok(_) => {
                return Err(Error::invalid(
                    "repository",
                    "can only restore into a bare repository",
                ))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(Error::from_port(e, Entity::Repository, repo)),
        }
        let keys = [
            dump_key(&dump.commits_meta_range_id)?,
            dump_key(&dump.branches_meta_range_id)?,
            dump_key(&dump.tags_meta_range_id)?,
        ];
        // All three must be there before anything is loaded.
        for key in &keys {
            self.stores
                .blocks
                .head(&r.storage_namespace, key)
                .await
                .map_err(|e| match e.kind() {
                    ErrorKind::NotFound => bad_dump(format!("no {key} in the namespace")),
                    _ => Error::from(e),
                })?;
        }
        Ok((r, keys))
    }

    /// Loads a dump into `repo`, which must be bare (its default branch does
    /// not exist): commits first (each checked against its content address),
    /// then branches (with fresh staging areas), then tags. `force` lets it
    /// into a read-only repository.
    pub async fn restore_refs(
        &self,
        repo: &RepositoryId,
        dump: &RefsDump,
        force: bool,
    ) -> Result<()> {
        let (r, keys) = self.check_restore(repo, dump, force).await?;
        let [commits, branches, tags] = keys;
        let ns = &r.storage_namespace;
        // Commits first (idempotent), then their generations, then every
        // ref checked before any is created; the default branch comes last,
        // so that a failed restore leaves the repository bare, to retry.
        self.load_lines(ns, &commits, |l| self.load_commit(repo, l))
            .await?;
        self.load_lines(ns, &commits, |l| self.check_generation(repo, l))
            .await?;
        let default_name = r.default_branch.as_str();
        let default = std::sync::Mutex::new(None::<RefLine>);
        self.load_lines(ns, &branches, |l| {
            let checked = self.check_ref(repo, l);
            let slot = &default;
            async move {
                let line = checked.await?;
                if line.name == default_name {
                    if let Ok(mut slot) = slot.lock() {
                        *slot = Some(line);
                    }
                }
                Ok(())
            }
        })
        .await?;
        let default = default.into_inner().ok().flatten().ok_or_else(|| {
            bad_dump(format!(
                "it holds no branch {}, the default",
                r.default_branch
            ))
        })?;
        self.load_lines(ns, &tags, |l| async move {
            self.check_ref(repo, l).await.map(|_| ())
        })
        .await?;
        self.load_lines(ns, &tags, |l| self.load_tag(repo, l))
            .await?;
        self.load_lines(ns, &branches, |l| async move {
            let line: RefLine = serde_json::from_slice(&l).map_err(bad_dump)?;
            if line.name == default_name {
                return Ok(());
            }
            self.load_branch(repo, line).await
        })
        .await?;
        self.load_branch(repo, default).await
    }

    /// Calls `load` on each line of object `key`, in order.
    async fn load_lines<F, Fut>(
        &self,
        ns: &tarn_model::StorageNamespace,
        key: &BlockKey,
        mut load: F,
    ) -> Result<()>
    where
        F: FnMut(Vec<u8>) -> Fut,
        Fut: std::future::Future<Output = Result<()>>,
    {
        let mut body = self.stores.blocks.get(ns, key, None).await?.body;
        let mut pending: Vec<u8> = Vec::new();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| {
                Error::from(tarn_ports::PortError::internal(format!(
                    "reading {key}: {e}"
                )))
            })?;
            pending.extend_from_slice(&chunk);
            // Hand out each whole line, then drop them all at once.
            let mut start = 0;
            while let Some(len) = pending[start..].iter().position(|b| *b == b'\n') {
                let line = &pending[start..start + len];
                if !line.is_empty() {
                    load(line.to_vec()).await?;
                }
                start += len + 1;
            }
            pending.drain(..start);
            if pending.len() > MAX_LINE {
                return Err(bad_dump(format!(
                    "{key}: a line longer than {MAX_LINE} bytes"
                )));
            }
        }
        if !pending.is_empty() {
            load(pending).await?;
        }
        Ok(())
    }

    async fn load_commit(&self, repo: &RepositoryId, line: Vec<u8>) -> Result<()> {
        let c: CommitLine = serde_json::from_slice(&line).map_err(bad_dump)?;
        let commit = Commit {
            id: CommitId::new(c.id)?,
            committer: c.committer,
            message: c.message,
            meta_range_id: MetaRangeId::new(c.meta_range_id)?,
            creation_date: Timestamp::from_unix_micros(c.creation_date),
            metadata: c.metadata,
            parents: c
                .parents
                .into_iter()
                .map(CommitId::new)
                .collect::<Result<_, _>>()?,
            generation: c.generation,
            version: c.version,
        };
        if crate::commits::content_address(&commit) != commit.id {
            return Err(bad_dump(format!(
                "commit {} is not the content address of its fields",
                commit.id
            )));
        }
        self.stores
            .refs
            .put_commit(repo, &commit)
            .await
            .named(Entity::Repository, repo)
    }

    /// Checks a commit's generation against its parents' (all loaded by
    /// now): one more than the highest, 1 without parents. It is not part of
    /// the content address, and merge bases are found by it.
    async fn check_generation(&self, repo: &RepositoryId, line: Vec<u8>) -> Result<()> {
        let c: CommitLine = serde_json::from_slice(&line).map_err(bad_dump)?;
        let mut highest = 0;
        for p in &c.parents {
            let parent = self
                .get_commit_record(repo, &CommitId::new(p.as_str())?)
                .await
                .map_err(|_| bad_dump(format!("commit {}: parent {p} is not in the dump", c.id)))?;
            highest = highest.max(parent.generation);
        }
        if c.generation != highest + 1 {
            return Err(bad_dump(format!(
                "commit {} has generation {}, its parents make it {}",
                c.id,
                c.generation,
                highest + 1
            )));
        }
        Ok(())
    }

    /// Parses a branch or tag line and checks its name and commit.
    async fn check_ref(&self, repo: &RepositoryId, line: Vec<u8>) -> Result<RefLine> {
        let r: RefLine = serde_json::from_slice(&line).map_err(bad_dump)?;
        BranchName::new(r.name.as_str())
            .map(|_| ())
            .or_else(|_| TagName::new(r.name.as_str()).map(|_| ()))?;
        let id = CommitId::new(r.commit_id.as_str())?;
        self.get_commit_record(repo, &id).await.map_err(|_| {
            bad_dump(format!(
                "{} points at {id}, which is not in the dump",
                r.name
            ))
        })?;
        Ok(r)
    }

    /// Creates a branch of the dump; one already there at the same commit
    /// (an earlier, interrupted restore) is kept.
    async fn load_branch(&self, repo: &RepositoryId, b: RefLine) -> Result<()> {
        let branch = Branch {
            name: BranchName::new(b.name)?,
            commit_id: CommitId::new(b.commit_id)?,
            staging_token: self.new_token()?,
            sealed_tokens: Vec::new(),
            hidden: b.hidden,
        };
        match self.stores.refs.create_branch(repo, &branch).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                let there = self.get_branch(repo, &branch.name).await?;
                if there.commit_id == branch.commit_id {
                    Ok(())
                } else {
                    Err(Error::from_port(e, Entity::Branch, &branch.name))
                }
            }
            Err(e) => Err(Error::from_port(e, Entity::Branch, &branch.name)),
        }
    }

    /// Creates a tag of the dump; one already there at the same commit is kept.
    async fn load_tag(&self, repo: &RepositoryId, line: Vec<u8>) -> Result<()> {
        let t: RefLine = serde_json::from_slice(&line).map_err(bad_dump)?;
        let tag = Tag {
            name: TagName::new(t.name)?,
            commit_id: CommitId::new(t.commit_id)?,
        };
        match self.stores.refs.create_tag(repo, &tag).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                let there = self
                    .stores
                    .refs
                    .get_tag(repo, &tag.name)
                    .await
                    .map_err(|e| Error::from_port(e, Entity::Tag, &tag.name))?;
                if there.commit_id == tag.commit_id {
                    Ok(())
                } else {
                    Err(Error::from_port(e, Entity::Tag, &tag.name))
                }
            }
            Err(e) => Err(Error::from_port(e, Entity::Tag, &tag.name)),
        }
    }
}
