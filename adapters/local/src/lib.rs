//! A `BlockStore` on a local directory, for `local://…` namespaces.
//!
//! `local://a/b` is the directory `a/b` under the store's root; keys map to
//! paths below it through [`encoding`], which keeps every key inside its
//! namespace. Objects are written to `.tarn-tmp/`, synced, and renamed into
//! place (atomic and durable); multipart parts live in
//! `.tarn-multipart/<upload id>/` until the upload is completed or aborted.
//!
//! Listing walks directories best-first by the key prefix each stands for,
//! reading only those a page can come from; of each directory it reads, it
//! keeps only as many files as the page can take. A page thus holds memory
//! for one page, but costs time in proportion to the entries of the
//! directories it reads: huge flat directories list slowly (data is spread
//! over one directory per hour).

mod encoding;
mod external;
mod file;
mod multipart;
mod sync_group;

use async_trait::async_trait;
use file::{io_error, open_stored, remove_stale, write_stream, HEADER_LEN};
use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;
use tarn_model::{BlockKey, PartNumber, StorageNamespace, Timestamp};
use tarn_ports::{
    BlockStore, ByteRange, ByteStream, CompletedPart, ErrorKind, GetOutcome, ListedBlock,
    ObjectMeta, PortError, PortResult, PutOutcome,
};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

const READ_CHUNK: usize = 256 * 1024;
/// Bodies up to this size are read whole in one step, not streamed.
const INLINE_READ: u64 = 256 * 1024;
/// Bodies up to this size are gathered in memory and written in one step
/// (one blocking task), not streamed.
const WHOLE_WRITE: u64 = 64 * 1024;
const TMP_DIR: &str = ".tarn-tmp";
const MULTIPART_DIR: &str = ".tarn-multipart";

/// A `BlockStore` rooted at a directory.
#[derive(Debug, Clone)]
pub struct LocalBlockStore {
    root: PathBuf,
    external: external::External,
    /// Shares one file system sync among concurrent small writes.
    syncs: Option<sync_group::SyncGroup>,
}

impl LocalBlockStore {
    /// The scheme this store serves.
    pub const SCHEME: &'static str = "local";

    /// Opens (creating if needed) a store rooted at `root`, and removes
    /// temporary files left by a crash: those untouched for an hour. A
    /// write in flight touches its file at least every few seconds (a body
    /// that stalls is cut off), so another process opening the same store
    /// (a command beside a running server) never takes a live one.
    pub async fn open(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        let tmp = root.join(TMP_DIR);
        tokio::fs::create_dir_all(&tmp).await?;
        remove_stale(&tmp, std::time::Duration::from_secs(3600)).await?;
        tokio::fs::create_dir_all(root.join(MULTIPART_DIR)).await?;
        Ok(Self {
            syncs: sync_group::SyncGroup::open(&root)?,
            root,
            external: external::External::default(),
        })
    }

    /// Lets imports read `local:///…` directories under `prefixes` (which
    /// must exist), read-only.
    pub fn with_import_prefixes(mut self, prefixes: &[PathBuf]) -> io::Result<Self> {
        self.external = external::External::new(prefixes)?;
        Ok(self)
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `put`; for a `fresh` key (see `BlockStore::put_fresh`), a small body
    /// is renamed into place unsynced and made durable by the next shared
    /// file system sync (see `sync_group`).
    async fn write(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        body: ByteStream,
        size: Option<u64>,
        fresh: bool,
    ) -> PortResult<PutOutcome> {
        let dest = self.object_path(ns, key)?;
        match file::read_head(body, size, WHOLE_WRITE).await? {
            // A small body is written in one blocking step.
            file::Head::Whole(bytes) => {
                let (tmp, what, size) = (self.tmp_dir(), key.to_string(), bytes.len() as u64);
                let group = self.syncs.as_ref().filter(|_| fresh);
                let ticket = group.map(|g| g.ticket());
                let (device, at) = (group.map(|g| g.device()), dest.clone());
                let (etag, grouped) = tokio::task::spawn_blocking(move || {
                    file::write_whole_sync(&tmp, (&at, &what), &bytes, device)
                })
                .await
                .map_err(|e| PortError::internal(format!("the write of {key} stopped: {e}")))??;
                if let (true, Some(syncs), Some(ticket)) = (grouped, group, ticket) {
                    if let Err(e) = syncs.wait(ticket).await {
                        // A fresh key: the file is ours, and may be bad.
                        let _ = tokio::fs::remove_file(&dest).await;
                        return Err(io_error(key, e));
                    }
                }
                Ok(PutOutcome { size, etag })
            }
            file::Head::Long(body) => {
                let (tmp, size, etag) = write_stream(&self.tmp_dir(), body, size).await?;
                tmp.publish(&dest).await.map_err(|e| io_error(key, e))?;
                Ok(PutOutcome { size, etag })
            }
        }
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join(TMP_DIR)
    }

    fn ns_dir(&self, ns: &StorageNamespace) -> PortResult<PathBuf> {
        if ns.scheme() != Self::SCHEME {
            return Err(PortError::invalid_input(format!(
                "the local block store serves local:// namespaces, not {ns}"
            )));
        }
        if external::is_external(ns) {
            return Err(PortError::invalid_input(format!(
                "{ns} is a directory imports read: it takes no writes"
            )));
        }
        let mut dir = self.root.clone();
        dir.extend(encoding::dir_components(ns.location()));
        Ok(dir)
    }

    fn object_path(&self, ns: &StorageNamespace, key: &BlockKey) -> PortResult<PathBuf> {
        let mut path = self.ns_dir(ns)?;
        path.extend(encoding::key_components(key.as_str()));
        Ok(path)
    }

    async fn meta(&self, path: &Path, key: &BlockKey) -> PortResult<(tokio::fs::File, ObjectMeta)> {
        let (file, etag, size) = open_stored(path).await.map_err(|e| io_error(key, e))?;
        let modified = file
            .metadata()
            .await
            .and_then(|m| m.modified())
            .map_err(|e| io_error(key, e))?;
        let micros = modified
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        Ok((
            file,
            ObjectMeta {
                size,
                etag,
                last_modified: Timestamp::from_unix_micros(micros),
            },
        ))
    }

    /// Removes now-empty directories from `path`'s parent up to `stop`.
    async fn prune_dirs(path: &Path, stop: &Path) {
        let mut cur = path.parent();
        while let Some(dir) = cur {
            if dir == stop || !dir.starts_with(stop) || tokio::fs::remove_dir(dir).await.is_err() {
                break;
            }
            cur = dir.parent();
        }
    }
}

fn range_error(range: ByteRange, size: u64) -> PortError {
    PortError::new(
        ErrorKind::InvalidRange,
        format!("{range:?} cannot be satisfied for {size} bytes"),
    )
}

#[async_trait]
impl BlockStore for LocalBlockStore {
    async fn put(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        body: ByteStream,
        size: Option<u64>,
    ) -> PortResult<PutOutcome> {
        self.write(ns, key, body, size, false).await
    }

    async fn put_fresh(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        body: ByteStream,
        size: Option<u64>,
    ) -> PortResult<PutOutcome> {
        self.write(ns, key, body, size, true).await
    }

    async fn put_small_many(
        &self,
        ns: &StorageNamespace,
        objects: &[(BlockKey, bytes::Bytes)],
    ) -> PortResult<Vec<PutOutcome>> {
        let batch = objects
            .iter()
            .map(|(key, body)| Ok((self.object_path(ns, key)?, body.clone())))
            .collect::<PortResult<Vec<_>>>()?;
        let tmp = self.tmp_dir();
        tokio::task::spawn_blocking(move || file::write_many_sync(&tmp, &batch))
            .await
            .map_err(|e| PortError::internal(format!("a batch of writes stopped: {e}")))?
    }

    async fn get(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        range: Option<ByteRange>,
    ) -> PortResult<GetOutcome> {
        let (mut file, meta, offset) = if ns.scheme() == Self::SCHEME && external::is_external(ns) {
            let path = self.external.resolve(ns, key.as_str())?;
            let meta = external::object_meta(&path).map_err(|e| io_error(key, e))?;
            let file = tokio::fs::File::open(&path)
                .await
                .map_err(|e| io_error(key, e))?;
            (file, meta, 0)
        } else {
            // Opened, and a small body read, in one blocking step each: a
            // step per call (open, header, metadata, seek, reads) costs
            // more than reading a small file.
            let path = self.object_path(ns, key)?;
            let (file, etag, size, modified) =
                tokio::task::spawn_blocking(move || file::open_stored_sync(&path))
                    .await
                    .map_err(|e| PortError::internal(format!("reading {key}: {e}")))?
                    .map_err(|e| io_error(key, e))?;
            let meta = ObjectMeta {
                size,
                etag,
                last_modified: Timestamp::from_unix_micros(
                    modified
                        .duration_since(UNIX_EPOCH)
                        .map(|d| d.as_micros() as i64)
                        .unwrap_or(0),
                ),
            };
            let (first, len, range) = resolve_range(range, meta.size)?;
            if len <= INLINE_READ {
                let body = tokio::task::spawn_blocking(move || {
                    file::read_at_sync(file, HEADER_LEN + first, len)
                })
                .await
                .map_err(|e| PortError::internal(format!("reading {key}: {e}")))?
                .map_err(|e| io_error(key, e))?;
                return Ok(GetOutcome {
                    meta,
                    range,
                    body: ByteStream::from_bytes(body),
                });
            }
            (tokio::fs::File::from_std(file), meta, HEADER_LEN)
        };
        let (first, len, range) = resolve_range(range, meta.size)?;
        file.seek(io::SeekFrom::Start(offset + first))
            .await
            .map_err(|e| io_error(key, e))?;
        let body = ReaderStream::with_capacity(file.take(len), READ_CHUNK);
        Ok(GetOutcome {
            meta,
            range,
            body: ByteStream::new(body),
        })
    }

    async fn head(&self, ns: &StorageNamespace, key: &BlockKey) -> PortResult<ObjectMeta> {
        if ns.scheme() == Self::SCHEME && external::is_external(ns) {
            let path = self.external.resolve(ns, key.as_str())?;
            return external::object_meta(&path).map_err(|e| io_error(key, e));
        }
        let path = self.object_path(ns, key)?;
        Ok(self.meta(&path, key).await?.1)
    }

    async fn delete(&self, ns: &StorageNamespace, key: &BlockKey) -> PortResult<()> {
        let path = self.object_path(ns, key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {
                Self::prune_dirs(&path, &self.ns_dir(ns)?).await;
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(key, e)),
        }
    }

    async fn copy(
        &self,
        src_ns: &StorageNamespace,
        src: &BlockKey,
        dst_ns: &StorageNamespace,
        dst: &BlockKey,
    ) -> PortResult<PutOutcome> {
        if src_ns.scheme() == Self::SCHEME && external::is_external(src_ns) {
            // An imported file: its bytes, stored as a new object.
            let got = self.get(src_ns, src, None).await?;
            let size = got.meta.size;
            return self.put(dst_ns, dst, got.body, Some(size)).await;
        }
        let src_path = self.object_path(src_ns, src)?;
        let dst_path = self.object_path(dst_ns, dst)?;
        let (mut from, meta) = self.meta(&src_path, src).await?;
        from.seek(io::SeekFrom::Start(0))
            .await
            .map_err(|e| io_error(src, e))?;
        let tmp = file::TempFile::new(&self.tmp_dir());
        let mut to = tokio::fs::File::create(tmp.path())
            .await
            .map_err(|e| io_error("creating temporary file", e))?;
        tokio::io::copy(&mut from.take(HEADER_LEN + meta.size), &mut to)
            .await
            .map_err(|e| io_error(src, e))?;
        to.sync_all().await.map_err(|e| io_error(dst, e))?;
        tmp.publish(&dst_path).await.map_err(|e| io_error(dst, e))?;
        Ok(PutOutcome {
            size: meta.size,
            etag: meta.etag,
        })
    }

    async fn list(
        &self,
        ns: &StorageNamespace,
        prefix: &str,
        after: Option<&BlockKey>,
        limit: usize,
    ) -> PortResult<Vec<ListedBlock>> {
        let (start, dir_text, naming) = if ns.scheme() == Self::SCHEME && external::is_external(ns)
        {
            match self.external.list_start(ns, prefix)? {
                Some((dir, text)) => (dir, text, Naming::Raw),
                None => return Ok(Vec::new()),
            }
        } else {
            let (dirs, dir_text) = encoding::prefix_components(prefix);
            let mut start = self.ns_dir(ns)?;
            start.extend(dirs);
            (start, dir_text.to_owned(), Naming::Stored)
        };
        let prefix = prefix.to_owned();
        let after = after.map(|a| a.as_str().to_owned());
        // One blocking task walks and reads every listed file's header.
        let found = tokio::task::spawn_blocking(move || {
            sorted_walk(&start, &dir_text, &prefix, after.as_deref(), limit, naming)
        })
        .await
        .map_err(|e| PortError::internal(format!("listing task failed: {e}")))?
        .map_err(|e| io_error("listing", e))?;
        found
            .into_iter()
            .map(|(k, (etag, size, modified))| {
                let micros = modified
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_micros() as i64)
                    .unwrap_or(0);
                Ok(ListedBlock {
                    key: BlockKey::new(k)?,
                    meta: ObjectMeta {
                        size,
                        etag,
                        last_modified: Timestamp::from_unix_micros(micros),
                    },
                })
            })
            .collect()
    }

    async fn create_multipart(&self, ns: &StorageNamespace, key: &BlockKey) -> PortResult<String> {
        self.ns_dir(ns)?;
        multipart::create(&self.root.join(MULTIPART_DIR), ns, key).await
    }

    async fn upload_part(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        upload_id: &str,
        number: PartNumber,
        body: ByteStream,
        size: Option<u64>,
    ) -> PortResult<String> {
        let dir = multipart::upload_dir(&self.root.join(MULTIPART_DIR), ns, key, upload_id).await?;
        let (tmp, _, etag) = write_stream(&self.tmp_dir(), body, size).await?;
        multipart::store_part(tmp, &dir, number, upload_id).await?;
        Ok(etag)
    }

    async fn upload_part_copy(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        upload_id: &str,
        number: PartNumber,
        src_ns: &StorageNamespace,
        src: &BlockKey,
        range: Option<ByteRange>,
    ) -> PortResult<String> {
        let dir = multipart::upload_dir(&self.root.join(MULTIPART_DIR), ns, key, upload_id).await?;
        let source = self.get(src_ns, src, range).await?;
        let (tmp, _, etag) = write_stream(&self.tmp_dir(), source.body, None).await?;
        multipart::store_part(tmp, &dir, number, upload_id).await?;
        Ok(etag)
    }

    async fn complete_multipart(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> PortResult<PutOutcome> {
        let dest = self.object_path(ns, key)?;
        let dir = multipart::upload_dir(&self.root.join(MULTIPART_DIR), ns, key, upload_id).await?;
        multipart::complete(&self.tmp_dir(), &dir, &dest, parts).await
    }

    async fn abort_multipart(
        &self,
        ns: &StorageNamespace,
        key: &BlockKey,
        upload_id: &str,
    ) -> PortResult<()> {
        let dir = multipart::upload_dir(&self.root.join(MULTIPART_DIR), ns, key, upload_id).await?;
        tokio::fs::remove_dir_all(&dir)
            .await
            .map_err(|e| io_error(upload_id, e))
    }
}

/// Collects (key suffix, file path) for every stored file below `dir`;
/// `names` holds the components from the walk's start to `dir`.
/// One step of a sorted walk: a file (its key) or a directory (the text
/// every key below it starts with, a lower bound of them).
enum Node {
    File(String, PathBuf),
    /// A directory to read: its lower bound, path and names; with a resume
    /// key, a second reading for its files after that key only (the first
    /// kept only as many files as a page can take).
    Dir(String, PathBuf, Vec<String>, Option<String>),
}

impl Node {
    /// Order of the walk: by key or lower bound; a file before a directory
    /// with the same text (no key below a directory equals its text).
    fn order(&self) -> (&str, u8) {
        match self {
            Self::File(k, _) => (k, 0),
            Self::Dir(t, ..) => (t, 1),
        }
    }
}

struct ByOrder(Node);

impl PartialEq for ByOrder {
    fn eq(&self, other: &Self) -> bool {
        self.0.order() == other.0.order()
    }
}
impl Eq for ByOrder {}
impl PartialOrd for ByOrder {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ByOrder {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Reversed: the heap pops the smallest.
        other.0.order().cmp(&self.0.order())
    }
}

/// Reads the headers of `pending` files (on up to four threads: a listing
/// is one open, read and stat per file) into `out`, in order, leaving out
/// files deleted meanwhile.
fn read_metas(
    pending: &mut Vec<(String, PathBuf)>,
    out: &mut Vec<(String, Listed)>,
    names: Naming,
) -> io::Result<()> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4);
    let files = std::mem::take(pending);
    let chunk = files.len().div_ceil(threads).max(64);
    let read = |part: &[(String, PathBuf)]| -> Vec<io::Result<Listed>> {
        part.iter()
            .map(|(_, p)| match names {
                Naming::Stored => file::stored_meta_sync(p),
                Naming::Raw => external::raw_meta_sync(p),
            })
            .collect()
    };
    let metas: Vec<io::Result<Listed>> = if files.len() <= chunk {
        read(&files)
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = files
                .chunks(chunk)
                .map(|part| scope.spawn(move || read(part)))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| {
                    h.join().unwrap_or_else(|_| {
                        vec![Err(io::Error::other("a listing thread panicked"))]
                    })
                })
                .collect()
        })
    };
    for ((key, _), meta) in files.into_iter().zip(metas) {
        match meta {
            Ok(meta) => out.push((key, meta)),
            // Deleted while we listed: the page goes on.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// How file names map to keys: this store's encoded layout, or plain
/// names (directories imports read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Naming {
    Stored,
    Raw,
}

impl Naming {
    fn dir_text(self, names: &[&str]) -> Option<String> {
        match self {
            Self::Stored => encoding::decode_dir_prefix(names),
            Self::Raw => Some(names.join("/")),
        }
    }

    fn file_key(self, names: &[&str]) -> Option<String> {
        match self {
            Self::Stored => encoding::decode_components(names),
            Self::Raw => Some(names.join("/")),
        }
    }
}

/// A listed file's ETag, size and modification time.
type Listed = (String, u64, std::time::SystemTime);

/// The first `limit` keys (with their metadata) under `start` that begin with
/// `prefix` and sort after `after`, in byte order, reading only the
/// directories that can hold them: a best-first walk by each directory's
/// lower bound, skipping directories whose keys all sort before `after` or
/// outside `prefix`. Memory is the directories read, not the tree.
fn sorted_walk(
    start: &Path,
    dir_text: &str,
    prefix: &str,
    after: Option<&str>,
    limit: usize,
    naming: Naming,
) -> io::Result<Vec<(String, Listed)>> {
    use std::collections::BinaryHeap;
    let mut out = Vec::new();
    // Files of the page whose headers are not read yet.
    let mut pending: Vec<(String, PathBuf)> = Vec::new();
    let mut heap = BinaryHeap::new();
    heap.push(ByOrder(Node::Dir(
        dir_text.to_owned(),
        start.to_path_buf(),
        Vec::new(),
        None,
    )));
    // Every extension of `text` sorts before `after` (so nothing below it
    // is wanted) when `text` is smaller and not a prefix of it.
    let before_after = |text: &str| after.is_some_and(|a| text < a && !a.starts_with(text));
    while let Some(ByOrder(node)) = heap.pop() {
        if out.len() >= limit {
            break;
        }
        match node {
            Node::File(key, path) => {
                if key.starts_with(prefix) && after.is_none_or(|a| key.as_str() > a) {
                    pending.push((key, path));
                    if out.len() + pending.len() >= limit {
                        read_metas(&mut pending, &mut out, naming)?;
                    }
                } else if key.as_str() > prefix && !key.starts_with(prefix) {
                    // Past the prefix: every later key is too.
                    break;
                }
            }
            Node::Dir(text, path, names, resume) => {
                if resume.is_none() && before_after(&text)
                    || !(text.starts_with(prefix) || prefix.starts_with(&text))
                {
                    if text.as_str() > prefix && !text.starts_with(prefix) {
                        break;
                    }
                    continue;
                }
                let entries = match std::fs::read_dir(&path) {
                    Ok(e) => e,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                };
                // Of this directory's files only the smallest `room` that
                // can be listed matter: memory is the page, not the
                // directory.
                let room = limit.saturating_sub(out.len() + pending.len()).max(1);
                let mut files: BinaryHeap<(String, PathBuf)> = BinaryHeap::new();
                let mut truncated = false;
                for entry in entries {
                    let entry = entry?;
                    let Ok(name) = entry.file_name().into_string() else {
                        continue;
                    };
                    let file_type = entry.file_type()?;
                    let mut child: Vec<String> = names.clone();
                    child.push(name);
                    let refs: Vec<&str> = child.iter().map(String::as_str).collect();
                    if file_type.is_dir() {
                        if resume.is_some() {
                            continue;
                        }
                        if let Some(t) = naming.dir_text(&refs) {
                            let text = format!("{dir_text}{t}");
                            let wanted = !before_after(&text)
                                && (text.starts_with(prefix) || prefix.starts_with(&text));
                            if wanted {
                                heap.push(ByOrder(Node::Dir(text, entry.path(), child, None)));
                            }
                        }
                    } else if file_type.is_file() {
                        if let Some(k) = naming.file_key(&refs) {
                            let key = format!("{dir_text}{k}");
                            let wanted = key.starts_with(prefix)
                                && after.is_none_or(|a| key.as_str() > a)
                                && resume.as_ref().is_none_or(|r| key > *r);
                            if wanted
                                && (files.len() < room
                                    || files.peek().is_some_and(|(largest, _)| key < *largest))
                            {
                                files.push((key, entry.path()));
                                if files.len() > room {
                                    files.pop();
                                    truncated = true;
                                }
                            }
                        }
                    }
                }
                // Files past the kept ones are read again, if the page gets
                // there (a file of the kept ones may be gone by then).
                if truncated {
                    if let Some((largest, _)) = files.peek() {
                        let largest = largest.clone();
                        heap.push(ByOrder(Node::Dir(
                            largest.clone(),
                            path.clone(),
                            names.clone(),
                            Some(largest),
                        )));
                    }
                }
                for (key, path) in files {
                    heap.push(ByOrder(Node::File(key, path)));
                }
            }
        }
    }
    read_metas(&mut pending, &mut out, naming)?;
    Ok(out)
}

/// The first and last byte a ranged read serves.
type Served = Option<(u64, u64)>;

/// `(first byte, length, the range served)` of a read of an object of
/// `size` bytes.
fn resolve_range(range: Option<ByteRange>, size: u64) -> PortResult<(u64, u64, Served)> {
    match range {
        None => Ok((0, size, None)),
        Some(r) => {
            let (first, last) = r.resolve(size).ok_or_else(|| range_error(r, size))?;
            Ok((first, last - first + 1, Some((first, last))))
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod listing_tests;
