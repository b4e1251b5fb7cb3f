//! What differs between a directory and its remote path, and applying
//! changes either way (downloads, uploads, deletions) in parallel.

use crate::client::{seg, Client, Pager};
use crate::cmd::{
    download_to, local_path, upload_file, walk, LocalFile, RemoteObject, Target, UploadMeta,
};
use crate::error::{CliError, CliResult};
use crate::output::s;
use crate::progress::Progress;
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Source {
    Local,
    Remote,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    Added,
    Modified,
    Removed,
    Conflict,
}

/// One changed path, relative to the synced root.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Change {
    pub source: Source,
    pub kind: Kind,
    pub path: String,
}

/// The remote path a directory mirrors.
pub(crate) struct Remote<'a> {
    pub client: &'a Client,
    pub repo: String,
    /// The prefix, '' or ending in '/'.
    pub prefix: String,
}

impl Remote<'_> {
    /// Objects under the prefix at `reference`, by relative path
    /// (directory markers left out).
    pub(crate) async fn list(&self, reference: &str) -> CliResult<BTreeMap<String, Value>> {
        let items = Pager::new(
            self.client,
            format!(
                "/repositories/{}/refs/{}/objects/ls",
                seg(&self.repo),
                seg(reference)
            ),
        )
        .query("prefix", &self.prefix)
        .query("user_metadata", true)
        .amount(1000)
        .all()
        .await?;
        Ok(items
            .into_iter()
            .filter_map(|o| {
                let rel = s(&o, "path").strip_prefix(self.prefix.as_str())?.to_owned();
                (!rel.is_empty() && !rel.ends_with('/')).then_some((rel, o))
            })
            .collect())
    }

    /// What changed under the prefix from commit `from` to `to`.
    pub(crate) async fn diff(&self, from: &str, to: &str) -> CliResult<Vec<Change>> {
        if from == to {
            return Ok(Vec::new());
        }
        let items = Pager::new(
            self.client,
            format!(
                "/repositories/{}/refs/{}/diff/{}",
                seg(&self.repo),
                seg(from),
                seg(to)
            ),
        )
        .query("prefix", &self.prefix)
        .query("type", "two_dot")
        .amount(1000)
        .all()
        .await?;
        let mut out = Vec::new();
        for d in items {
            let Some(rel) = s(&d, "path").strip_prefix(self.prefix.as_str()) else {
                continue;
            };
            if rel.is_empty() || rel.ends_with('/') {
                continue;
            }
            let kind = match s(&d, "type") {
                "added" => Kind::Added,
                "removed" => Kind::Removed,
                _ => Kind::Modified,
            };
            out.push(Change {
                source: Source::Remote,
                kind,
                path: rel.to_owned(),
            });
        }
        Ok(out)
    }

    /// The object's stats at `reference`.
    pub(crate) async fn stat(&self, reference: &str, rel: &str) -> CliResult<Value> {
        self.client
            .get(format!(
                "/repositories/{}/refs/{}/objects/stat",
                seg(&self.repo),
                seg(reference)
            ))
            .query("path", format!("{}{rel}", self.prefix))
            .query("user_metadata", true)
            .value()
            .await
    }
}

fn md5_of(path: &Path) -> Option<String> {
    use md5::Digest;
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = md5::Md5::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Some(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The same content: size and mtime as lakectl compares them, and when
/// only the mtime moved, the content's MD5 against the object's ETag.
pub(crate) fn same(file: &LocalFile, stats: &Value) -> bool {
    if stats["size_bytes"].as_u64() != Some(file.size) {
        return false;
    }
    if crate::cmd::unchanged(file, stats) {
        return true;
    }
    let etag = s(stats, "checksum").trim_matches('"');
    etag.len() == 32 && md5_of(&file.abs).is_some_and(|m| m == etag)
}

/// The directory's changes against the remote listing at its commit.
pub(crate) fn local_changes(
    root: &Path,
    remote: &BTreeMap<String, Value>,
    skip_non_regular: bool,
) -> CliResult<Vec<Change>> {
    let files = walk(root, skip_non_regular)?;
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for f in &files {
        seen.insert(f.rel.as_str());
        let kind = match remote.get(&f.rel) {
            None => Some(Kind::Added),
            Some(st) if !same(f, st) => Some(Kind::Modified),
            Some(_) => None,
        };
        if let Some(kind) = kind {
            out.push(Change {
                source: Source::Local,
                kind,
                path: f.rel.clone(),
            });
        }
    }
    for rel in remote.keys() {
        if !seen.contains(rel.as_str()) {
            out.push(Change {
                source: Source::Local,
                kind: Kind::Removed,
                path: rel.clone(),
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Drops the paths both sides changed the same way (the file already is
/// the head's object, or both removed it): nothing to do there. This is
/// what lets an interrupted pull or commit run again.
pub(crate) async fn drop_settled(
    remote: &Remote<'_>,
    head: &str,
    root: &Path,
    mine: &mut Vec<Change>,
    theirs: &mut Vec<Change>,
) -> CliResult<()> {
    let their_kind: BTreeMap<String, Kind> =
        theirs.iter().map(|c| (c.path.clone(), c.kind)).collect();
    let both: Vec<String> = mine
        .iter()
        .filter(|c| their_kind.contains_key(&c.path))
        .map(|c| c.path.clone())
        .collect();
    for path in both {
        let file = local_path(root, &path)?;
        let settled = match (std::fs::metadata(&file).ok(), their_kind[&path]) {
            (None, Kind::Removed) => true,
            (Some(meta), Kind::Added | Kind::Modified) => {
                let stats = remote.stat(head, &path).await?;
                let local = LocalFile {
                    rel: path.clone(),
                    abs: file,
                    size: meta.len(),
                    mtime: crate::cmd::mtime_secs(&meta),
                };
                same(&local, &stats)
            }
            _ => false,
        };
        if settled {
            mine.retain(|c| c.path != path);
            theirs.retain(|c| c.path != path);
        }
    }
    Ok(())
}

/// Local and remote changes together; a path changed on both sides is a
/// conflict.
pub(crate) fn merge(local: Vec<Change>, remote: Vec<Change>) -> Vec<Change> {
    let mut by_path: BTreeMap<String, Change> = BTreeMap::new();
    for c in local {
        by_path.insert(c.path.clone(), c);
    }
    for c in remote {
        match by_path.get_mut(&c.path) {
            Some(existing) => existing.kind = Kind::Conflict,
            None => {
                by_path.insert(c.path.clone(), c);
            }
        }
    }
    by_path.into_values().collect()
}

/// What to do for one path.
#[derive(Debug)]
pub(crate) enum Step {
    /// Fetch the object (of this size) at the read ref into the directory.
    Download(String, u64),
    /// Remove the local file.
    DeleteLocal(String),
    /// Send the local file (of this size) to the branch.
    Upload(String, u64),
    /// Delete the object on the branch.
    DeleteRemote(String),
}

impl Step {
    /// Bytes it moves.
    pub(crate) fn size(&self) -> u64 {
        match self {
            Step::Download(_, n) | Step::Upload(_, n) => *n,
            _ => 0,
        }
    }
}

/// Counts of what a sync did.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub downloaded: usize,
    pub uploaded: usize,
    pub removed: usize,
}

/// Everything a sync needs.
pub(crate) struct Sync<'a> {
    pub remote: &'a Remote<'a>,
    pub root: PathBuf,
    /// The ref downloads read from.
    pub read_ref: String,
    /// The branch uploads and deletions go to.
    pub branch: String,
    pub parallelism: usize,
    pub presign: bool,
    /// Whether small files move in archives (see `cmd::bulk`).
    pub archives: bool,
    pub progress: Progress,
}

impl Sync<'_> {
    async fn step(&self, step: &Step) -> CliResult<Tally> {
        let mut t = Tally::default();
        match step {
            Step::Download(rel, _) => {
                let stats = self.remote.stat(&self.read_ref, rel).await?;
                let dest = local_path(&self.root, rel)?;
                let path = format!("{}{rel}", self.remote.prefix);
                let r = RemoteObject {
                    repo: &self.remote.repo,
                    reference: &self.read_ref,
                    path: &path,
                    stats: &stats,
                };
                download_to(self.remote.client, &r, &dest, self.presign, &self.progress).await?;
                t.downloaded = 1;
            }
            Step::DeleteLocal(rel) => {
                let p = local_path(&self.root, rel)?;
                match std::fs::remove_file(&p) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(CliError::io(format!("delete {}", p.display()), e)),
                }
                t.removed = 1;
            }
            Step::Upload(rel, _) => {
                let p = local_path(&self.root, rel)?;
                let meta = std::fs::metadata(&p)
                    .map_err(|e| CliError::io(format!("stat {}", p.display()), e))?;
                let mut upload = UploadMeta::default();
                upload.metadata.insert(
                    crate::cmd::CLIENT_MTIME.into(),
                    crate::cmd::mtime_secs(&meta).to_string(),
                );
                let path = format!("{}{rel}", self.remote.prefix);
                let to = Target {
                    client: self.remote.client,
                    repo: &self.remote.repo,
                    branch: &self.branch,
                    presign: self.presign,
                };
                upload_file(&to, &path, &p, &upload, &self.progress).await?;
                t.uploaded = 1;
            }
            Step::DeleteRemote(rel) => {
                let result = self
                    .remote
                    .client
                    .delete(format!(
                        "/repositories/{}/branches/{}/objects",
                        seg(&self.remote.repo),
                        seg(&self.branch)
                    ))
                    .query("path", format!("{}{rel}", self.remote.prefix))
                    .ok()
                    .await;
                match result {
                    Err(e) if e.status().is_some_and(|s| s.as_u16() == 404) => {}
                    other => other?,
                }
                t.removed = 1;
            }
        }
        Ok(t)
    }

    /// Runs the steps, `parallelism` at once, small transfers in archives
    /// when the server takes them; the first failure stops it.
    pub(crate) async fn run(&self, steps: &[Step]) -> CliResult<Tally> {
        let result = self.run_all(steps).await;
        self.progress.finish();
        prune_empty_dirs(&self.root);
        result
    }

    async fn run_all(&self, steps: &[Step]) -> CliResult<Tally> {
        let (mut ups, mut downs, mut rest) = (Vec::new(), Vec::new(), Vec::new());
        // Local files go first: a path that was a file may now be a
        // folder of files to download, and one that was a folder a file.
        let mut tally = Tally::default();
        for step in steps.iter().filter(|s| matches!(s, Step::DeleteLocal(_))) {
            tally.removed += self.step(step).await?.removed;
        }
        if tally.removed > 0 {
            prune_empty_dirs(&self.root);
        }
        for step in steps {
            match step {
                Step::DeleteLocal(_) => {}
                Step::Upload(rel, n) if crate::cmd::batched(self.archives, *n) => {
                    ups.push(self.archived_upload(rel, *n)?)
                }
                Step::Download(rel, n) if crate::cmd::batched(self.archives, *n) => {
                    downs.push(crate::cmd::ArchivedDownload {
                        path: format!("{}{rel}", self.remote.prefix),
                        dest: local_path(&self.root, rel)?,
                        size: *n,
                    })
                }
                _ => rest.push(step),
            }
        }
        let to = Target {
            client: self.remote.client,
            repo: &self.remote.repo,
            branch: &self.branch,
            presign: self.presign,
        };
        let uploaded =
            crate::cmd::upload_archives(&to, ups, self.parallelism, &self.progress).await?;
        let source = crate::cmd::ArchiveSource {
            client: self.remote.client,
            repo: &self.remote.repo,
            reference: &self.read_ref,
        };
        let downloaded =
            crate::cmd::download_archives(&source, downs, self.parallelism, &self.progress).await?;
        let tally = futures::stream::iter(rest.into_iter().map(|s| async move {
            self.step(s)
                .await
                .map_err(|e| CliError::Failed(format!("{s:?}: {e}")))
        }))
        .buffer_unordered(self.parallelism)
        .try_fold(tally, |mut acc, t| async move {
            acc.downloaded += t.downloaded;
            acc.uploaded += t.uploaded;
            acc.removed += t.removed;
            Ok(acc)
        })
        .await?;
        Ok(Tally {
            uploaded: tally.uploaded + uploaded,
            downloaded: tally.downloaded + downloaded,
            ..tally
        })
    }

    /// The local file `rel` as an upload, its mtime in lakectl's metadata.
    fn archived_upload(&self, rel: &str, size: u64) -> CliResult<crate::cmd::ArchivedUpload> {
        let local = local_path(&self.root, rel)?;
        let meta = std::fs::metadata(&local)
            .map_err(|e| CliError::io(format!("stat {}", local.display()), e))?;
        let mut upload = UploadMeta::default();
        upload.metadata.insert(
            crate::cmd::CLIENT_MTIME.into(),
            crate::cmd::mtime_secs(&meta).to_string(),
        );
        Ok(crate::cmd::ArchivedUpload {
            path: format!("{}{rel}", self.remote.prefix),
            local,
            size,
            meta: upload,
        })
    }
}

/// Removes directories left empty under `root` (not `root` itself).
fn prune_empty_dirs(root: &Path) {
    let dirs: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .min_depth(1)
        .contents_first(true)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_dir())
        .map(|e| e.path().to_owned())
        .collect();
    for d in dirs {
        let _ = std::fs::remove_dir(d);
    }
}
