//! `fs ls|stat|cat|upload|download|rm|presign|stage|update-metadata`.

use super::key_values;
use super::transfer::{
    self, download_to, mtime_secs, upload_file, Remote, Target, UploadMeta, CLIENT_MTIME,
};
use super::tree::{local_path, unchanged, walk, LocalFile};
use crate::client::{seg, Client, Pager};
use crate::error::{failed, usage, CliError, CliResult};
use crate::output::{date, human_bytes, n, s, Paint};
use crate::progress::Progress;
use crate::uri::LakeFsUri;
use crate::Ctx;
use clap::{Args, Subcommand};
use futures::{StreamExt, TryStreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub(crate) enum FsCommand {
    /// List objects and common prefixes under a path.
    Ls {
        /// lakefs://<repository>/<ref>/<path>
        path: String,
        /// List every object under the path (no common prefixes).
        #[arg(short = 'r', long)]
        recursive: bool,
    },
    /// An object's metadata.
    Stat {
        /// lakefs://<repository>/<ref>/<path>
        path: String,
        #[command(flatten)]
        presign: PresignFlag,
    },
    /// Write an object's content to standard output.
    Cat {
        /// lakefs://<repository>/<ref>/<path>
        path: String,
        #[command(flatten)]
        presign: PresignFlag,
    },
    /// Upload a file, standard input, or (with -r) a directory.
    Upload(UploadArgs),
    /// Download an object, or (with -r) every object under a path.
    Download(DownloadArgs),
    /// Delete an object, or (with -r) every object under a path.
    Rm {
        /// lakefs://<repository>/<branch>/<path>
        path: String,
        /// Delete every object under the path.
        #[arg(short = 'r', long)]
        recursive: bool,
        /// Delete requests in flight at once.
        #[arg(short = 'C', long, default_value_t = 50)]
        concurrency: usize,
    },
    /// Print a presigned URL of an object (when the server offers them).
    Presign {
        /// lakefs://<repository>/<ref>/<path>
        path: String,
    },
    /// Link data already in the object store as an object of a branch.
    #[command(hide = true)]
    Stage(StageArgs),
    /// Set user metadata of an uncommitted object.
    #[command(hide = true)]
    UpdateMetadata {
        /// lakefs://<repository>/<branch>/<path>
        path: String,
        /// key=value pairs (comma-separated or repeated).
        #[arg(long, value_delimiter = ',', required = true)]
        metadata: Vec<String>,
    },
}

#[derive(Debug, Args)]
pub(crate) struct PresignFlag {
    /// Move data by presigned URL when the server offers it.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pre_sign: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SyncFlags {
    /// Transfers at once (default: options.parallelism, else 25).
    #[arg(short = 'p', long)]
    parallelism: Option<usize>,
    #[command(flatten)]
    presign: PresignFlag,
    /// No progress bars.
    #[arg(long)]
    no_progress: bool,
    /// Move small files many to a request when the server offers it
    /// (Tarn's archive extension); false: one request a file, as lakectl.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    archive: bool,
}

impl SyncFlags {
    pub(crate) fn parallelism(&self) -> Option<usize> {
        self.parallelism
    }
    pub(crate) fn presign(&self) -> bool {
        self.presign.pre_sign
    }
    pub(crate) fn no_progress(&self) -> bool {
        self.no_progress
    }
    pub(crate) fn archive(&self) -> bool {
        self.archive
    }
}

#[derive(Debug, Args)]
pub(crate) struct UploadArgs {
    /// lakefs://<repository>/<branch>/<path> (with -r: the prefix to upload under)
    path: String,
    /// A local file, a directory with -r, or '-' for standard input.
    #[arg(short = 's', long)]
    source: String,
    /// The objects' content type.
    #[arg(long)]
    content_type: Option<String>,
    /// Upload every file under the source directory (only what changed).
    #[arg(short = 'r', long)]
    recursive: bool,
    #[command(flatten)]
    sync: SyncFlags,
}

#[derive(Debug, Args)]
pub(crate) struct DownloadArgs {
    /// lakefs://<repository>/<ref>/<path>
    path: String,
    /// Where to (default: the current directory).
    destination: Option<PathBuf>,
    /// Download every object under the path.
    #[arg(short = 'r', long)]
    recursive: bool,
    #[command(flatten)]
    sync: SyncFlags,
    /// Accepted for lakectl compatibility (downloads stream whole objects).
    #[arg(long, default_value_t = 8 << 20, hide = true)]
    part_size: u64,
}

#[derive(Debug, Args)]
pub(crate) struct StageArgs {
    /// lakefs://<repository>/<branch>/<path>
    path: String,
    /// The data's address in the object store.
    #[arg(long)]
    location: String,
    /// Its size in bytes.
    #[arg(long)]
    size: i64,
    /// Its checksum (ETag).
    #[arg(long)]
    checksum: String,
    /// Its modification time in seconds since the epoch (0: now).
    #[arg(long, default_value_t = 0)]
    mtime: i64,
    #[arg(long)]
    content_type: Option<String>,
    /// key=value user metadata.
    #[arg(long, value_delimiter = ',')]
    meta: Vec<String>,
}

fn objects_path(uri: &LakeFsUri, what: &str) -> String {
    format!(
        "/repositories/{}/{what}/{}/objects",
        seg(&uri.repository),
        seg(uri.reference())
    )
}

/// An object's metadata as lakectl's `fs stat` prints it.
pub(crate) fn print_stats(ctx: &Ctx, st: &Value) {
    if ctx.out.json {
        ctx.out.json(st);
        return;
    }
    let size = st["size_bytes"].as_u64().unwrap_or_default();
    let mut text = format!(
        "Path: {}\nModified Time: {}\nSize: {size} bytes\nHuman Size: {}\nPhysical Address: {}\n",
        s(st, "path"),
        date(n(st, "mtime")),
        human_bytes(size),
        s(st, "physical_address"),
    );
    if let Some(exp) = st["physical_address_expiry"].as_i64() {
        text.push_str(&format!("Physical Address Expires: {}\n", date(exp)));
    }
    text.push_str(&format!(
        "Checksum: {}\nContent-Type: {}",
        s(st, "checksum"),
        s(st, "content_type")
    ));
    if let Some(meta) = st["metadata"].as_object().filter(|m| !m.is_empty()) {
        let mut keys: Vec<&String> = meta.keys().collect();
        keys.sort();
        text.push_str("\nMetadata:\n\t");
        for k in keys {
            text.push_str(&format!(
                "\n\t{k:<18} = {}",
                meta[k].as_str().unwrap_or_default()
            ));
        }
    }
    ctx.out.line(text);
}

/// Every object under `prefix` at a ref, with user metadata.
pub(crate) async fn list_objects(
    client: &Client,
    uri: &LakeFsUri,
    prefix: &str,
) -> CliResult<Vec<Value>> {
    Pager::new(client, format!("{}/ls", objects_path(uri, "refs")))
        .query("prefix", prefix)
        .query("user_metadata", true)
        .amount(1000)
        .all()
        .await
}

/// `<Operation> Summary:` as lakectl prints it.
pub(crate) fn summary(
    ctx: &Ctx,
    operation: &str,
    downloaded: usize,
    uploaded: usize,
    removed: usize,
) {
    if ctx.out.json {
        ctx.out.json(&json!({
            "operation": operation.to_lowercase(),
            "downloaded": downloaded,
            "uploaded": uploaded,
            "removed": removed,
        }));
        return;
    }
    ctx.out.line(format!("\n{operation} Summary:\n"));
    if downloaded + uploaded + removed == 0 {
        ctx.out.line("No changes");
    } else {
        if downloaded > 0 {
            ctx.out.line(
                ctx.out
                    .paint(format!("Downloaded: {downloaded}"), Paint::Green),
            );
        }
        if uploaded > 0 {
            ctx.out.line(
                ctx.out
                    .paint(format!("Uploaded: {uploaded}"), Paint::Yellow),
            );
        }
        if removed > 0 {
            ctx.out
                .line(ctx.out.paint(format!("Removed: {removed}"), Paint::Red));
        }
    }
}

pub(crate) async fn run(ctx: &Ctx, command: FsCommand) -> CliResult<()> {
    match command {
        FsCommand::Ls { path, recursive } => ls(ctx, &path, recursive).await,
        FsCommand::Stat { path, presign } => {
            let uri = ctx.path(&path)?;
            let client = ctx.client()?;
            let presign = transfer::presign_mode(&client, presign.pre_sign).await;
            let st = client
                .get(format!("{}/stat", objects_path(&uri, "refs")))
                .query("path", uri.path())
                .query("user_metadata", true)
                .query("presign", presign)
                .value()
                .await?;
            print_stats(ctx, &st);
            Ok(())
        }
        FsCommand::Cat { path, presign } => cat(ctx, &path, presign.pre_sign).await,
        FsCommand::Upload(a) => upload(ctx, a).await,
        FsCommand::Download(a) => download(ctx, a).await,
        FsCommand::Rm {
            path,
            recursive,
            concurrency,
        } => rm(ctx, &path, recursive, concurrency).await,
        FsCommand::Presign { path } => {
            let uri = ctx.path(&path)?;
            let client = ctx.client()?;
            if !transfer::presign_mode(&client, true).await {
                return failed(
                    "Pre-signed URL support is currently disabled for this lakeFS server",
                );
            }
            let st = client
                .get(format!("{}/stat", objects_path(&uri, "refs")))
                .query("path", uri.path())
                .query("presign", true)
                .value()
                .await?;
            ctx.out.line(s(&st, "physical_address"));
            Ok(())
        }
        FsCommand::Stage(a) => stage(ctx, a).await,
        FsCommand::UpdateMetadata { path, metadata } => {
            let uri = ctx.path(&path)?;
            let set = key_values(&metadata)?;
            let client = ctx.client()?;
            client
                .put(format!(
                    "{}/stat/user_metadata",
                    objects_path(&uri, "branches")
                ))
                .query("path", uri.path())
                .json(json!({ "set": set }))
                .ok()
                .await
        }
    }
}

async fn ls(ctx: &Ctx, path: &str, recursive: bool) -> CliResult<()> {
    let uri = ctx.path(path)?;
    let client = ctx.client()?;
    let prefix = uri.path().to_owned();
    let mut pager = Pager::new(&client, format!("{}/ls", objects_path(&uri, "refs")))
        .query("prefix", &prefix)
        .amount(1000);
    if !recursive {
        pager = pager.query("delimiter", "/");
    }
    let trim = if recursive {
        0
    } else {
        prefix.rfind('/').map(|i| i + 1).unwrap_or(0)
    };
    let mut all = Vec::new();
    while let Some((items, _)) = pager.page().await? {
        if ctx.out.json {
            all.extend(items);
            continue;
        }
        for e in &items {
            let p = s(e, "path");
            let shown = ctx.out.paint(p.get(trim..).unwrap_or(p), Paint::Yellow);
            let kind = s(e, "path_type");
            if kind == "object" {
                let size = human_bytes(e["size_bytes"].as_u64().unwrap_or_default());
                ctx.out.line(format!(
                    "{kind:<12}    {:<29}    {size:<12}    {shown}",
                    date(n(e, "mtime"))
                ));
            } else {
                ctx.out.line(format!("{kind:<12}    {:44}    {shown}", ""));
            }
        }
    }
    if ctx.out.json {
        ctx.out.json(&Value::Array(all));
    }
    Ok(())
}

async fn cat(ctx: &Ctx, path: &str, presign: bool) -> CliResult<()> {
    use tokio::io::AsyncWriteExt;
    let uri = ctx.path(path)?;
    let client = ctx.client()?;
    let presign = transfer::presign_mode(&client, presign).await;
    let response = if presign {
        let st = client
            .get(format!("{}/stat", objects_path(&uri, "refs")))
            .query("path", uri.path())
            .query("presign", true)
            .value()
            .await?;
        let response = client
            .http()
            .get(s(&st, "physical_address"))
            .send()
            .await
            .map_err(|e| CliError::Unreachable {
                endpoint: "the object store".into(),
                cause: e.to_string(),
            })?;
        crate::client::check(response).await?
    } else {
        client
            .get(objects_path(&uri, "refs"))
            .query("path", uri.path())
            .send()
            .await?
    };
    let mut stdout = tokio::io::stdout();
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| CliError::Failed(format!("reading the object: {e}")))?;
        if let Err(e) = stdout.write_all(&chunk).await {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            return Err(CliError::io("write to standard output", e));
        }
    }
    stdout
        .flush()
        .await
        .map_err(|e| CliError::io("write to standard output", e))
}

async fn upload(ctx: &Ctx, a: UploadArgs) -> CliResult<()> {
    let uri = ctx.path(&a.path)?;
    let client = ctx.client()?;
    let presign = transfer::presign_mode(&client, a.sync.presign()).await;
    let source = PathBuf::from(&a.source);
    let is_dir = a.source != "-" && source.is_dir();
    if a.recursive && is_dir {
        return upload_dir(ctx, &client, &uri, &source, &a, presign).await;
    }
    if is_dir {
        return usage(format!(
            "{} is a directory: use -r to upload its files",
            a.source
        ));
    }
    let meta = UploadMeta {
        content_type: a.content_type.clone(),
        ..Default::default()
    };
    // Standard input is spooled to a temporary file: uploads need a length
    // and retries need to read it again.
    let spooled;
    let local: &Path = if a.source == "-" {
        let file =
            tempfile::NamedTempFile::new().map_err(|e| CliError::io("spool standard input", e))?;
        let mut out = tokio::fs::File::from_std(
            file.reopen()
                .map_err(|e| CliError::io("spool standard input", e))?,
        );
        tokio::io::copy(&mut tokio::io::stdin(), &mut out)
            .await
            .map_err(|e| CliError::io("spool standard input", e))?;
        spooled = file;
        spooled.path()
    } else {
        std::fs::metadata(&source)
            .map_err(|e| CliError::io(format!("failed to stat source {}", a.source), e))?;
        &source
    };
    let size = std::fs::metadata(local).map(|m| m.len()).unwrap_or(0);
    let progress = Progress::bytes(&ctx.out, a.sync.no_progress(), size, "Uploading");
    let to = Target {
        client: &client,
        repo: &uri.repository,
        branch: uri.reference(),
        presign,
    };
    let result = upload_file(&to, uri.path(), local, &meta, &progress).await;
    progress.finish();
    print_stats(ctx, &result?);
    Ok(())
}

async fn upload_dir(
    ctx: &Ctx,
    client: &Client,
    uri: &LakeFsUri,
    source: &Path,
    a: &UploadArgs,
    presign: bool,
) -> CliResult<()> {
    let mut prefix = uri.path().to_owned();
    if !prefix.is_empty() && !prefix.ends_with('/') {
        prefix.push('/');
    }
    if !ctx.out.json {
        ctx.out.line(format!(
            "\ndiff 'local://{}/' <--> '{}'...",
            source.display(),
            uri.with_path(prefix.clone())
        ));
    }
    let files = walk(source, ctx.config()?.skip_non_regular_files)?;
    let remote: HashMap<String, Value> = list_objects(client, uri, &prefix)
        .await?
        .into_iter()
        .map(|o| {
            (
                s(&o, "path")
                    .strip_prefix(prefix.as_str())
                    .unwrap_or_default()
                    .to_owned(),
                o,
            )
        })
        .collect();
    let todo: Vec<&LocalFile> = files
        .iter()
        .filter(|f| remote.get(&f.rel).is_none_or(|st| !unchanged(f, st)))
        .collect();
    let total: u64 = todo.iter().map(|f| f.size).sum();
    let progress = Progress::bytes(
        &ctx.out,
        a.sync.no_progress(),
        total,
        &format!("upload {} files", todo.len()),
    );
    let parallelism = ctx.parallelism(a.sync.parallelism())?;
    let to = Target {
        client,
        repo: &uri.repository,
        branch: uri.reference(),
        presign,
    };
    let to = &to;
    let meta_of = |f: &LocalFile| {
        let mut meta = UploadMeta {
            content_type: a.content_type.clone(),
            ..Default::default()
        };
        meta.metadata
            .insert(CLIENT_MTIME.into(), f.mtime.to_string());
        meta
    };
    // Small files many to a request where the server takes archives.
    let archives = super::archive_mode(client, a.sync.archive()).await;
    let (small, large): (Vec<&LocalFile>, Vec<&LocalFile>) = todo
        .into_iter()
        .partition(|f| super::batched(archives, f.size));
    let small = small
        .into_iter()
        .map(|f| super::ArchivedUpload {
            path: format!("{prefix}{}", f.rel),
            local: f.abs.clone(),
            size: f.size,
            meta: meta_of(f),
        })
        .collect();
    let archived = super::upload_archives(to, small, parallelism, &progress);
    let single = futures::stream::iter(large.into_iter().map(|f| {
        let progress = progress.clone();
        let prefix = prefix.clone();
        let meta = meta_of(f);
        async move {
            let path = format!("{prefix}{}", f.rel);
            upload_file(to, &path, &f.abs, &meta, &progress)
                .await
                .map_err(|e| CliError::Failed(format!("upload {}: {e}", f.rel)))
        }
    }))
    .buffer_unordered(parallelism)
    .try_fold(0usize, |n, _| async move { Ok(n + 1) });
    let uploaded = futures::try_join!(archived, single);
    progress.finish();
    let (archived, single) = uploaded?;
    summary(ctx, "Upload", 0, archived + single, 0);
    Ok(())
}

async fn download(ctx: &Ctx, a: DownloadArgs) -> CliResult<()> {
    let uri = ctx.path(&a.path)?;
    if a.part_size < 65536 {
        return usage("part size must be at least 65536 bytes");
    }
    let client = ctx.client()?;
    let presign = transfer::presign_mode(&client, a.sync.presign()).await;
    let dest_root = a.destination.clone().unwrap_or_else(|| PathBuf::from("."));
    if !a.recursive {
        let st = client
            .get(format!("{}/stat", objects_path(&uri, "refs")))
            .query("path", uri.path())
            .query("user_metadata", true)
            .value()
            .await?;
        let name = uri.path().rsplit('/').next().unwrap_or_default();
        let dest = if dest_root.is_dir()
            || a.destination
                .as_ref()
                .is_some_and(|d| d.to_string_lossy().ends_with('/'))
        {
            dest_root.join(name)
        } else {
            dest_root.clone()
        };
        let size = st["size_bytes"].as_u64().unwrap_or_default();
        let progress = Progress::bytes(&ctx.out, a.sync.no_progress(), size, "Downloading");
        let remote = Remote {
            repo: &uri.repository,
            reference: uri.reference(),
            path: uri.path(),
            stats: &st,
        };
        let result = download_to(&client, &remote, &dest, presign, &progress).await;
        progress.finish();
        result?;
        if !ctx.out.json {
            ctx.out
                .line(format!("download: {uri} to {}", dest.display()));
        }
        return Ok(());
    }
    let mut prefix = uri.path().to_owned();
    if !prefix.is_empty() && !prefix.ends_with('/') {
        prefix.push('/');
    }
    let objects = list_objects(&client, &uri, &prefix).await?;
    if objects.is_empty() {
        return failed(format!("No objects in path: {}", uri.with_path(prefix)));
    }
    let mut todo = Vec::new();
    for o in &objects {
        let rel = s(o, "path")
            .strip_prefix(prefix.as_str())
            .unwrap_or_default();
        if rel.is_empty() || rel.ends_with('/') {
            continue;
        }
        let dest = local_path(&dest_root, rel)?;
        let same = std::fs::metadata(&dest).ok().is_some_and(|m| {
            let f = LocalFile {
                rel: rel.to_owned(),
                abs: dest.clone(),
                size: m.len(),
                mtime: mtime_secs(&m),
            };
            unchanged(&f, o)
        });
        if !same {
            todo.push((o, dest));
        }
    }
    let total: u64 = todo
        .iter()
        .map(|(o, _)| o["size_bytes"].as_u64().unwrap_or_default())
        .sum();
    let progress = Progress::bytes(
        &ctx.out,
        a.sync.no_progress(),
        total,
        &format!("download {} files", todo.len()),
    );
    let parallelism = ctx.parallelism(a.sync.parallelism())?;
    let archives = super::archive_mode(&client, a.sync.archive()).await;
    let (small, large): (Vec<_>, Vec<_>) = todo
        .into_iter()
        .partition(|(o, _)| super::batched(archives, o["size_bytes"].as_u64().unwrap_or_default()));
    let small = small
        .into_iter()
        .map(|(o, dest)| super::ArchivedDownload {
            path: s(o, "path").to_owned(),
            dest,
            size: o["size_bytes"].as_u64().unwrap_or_default(),
        })
        .collect();
    let source = super::ArchiveSource {
        client: &client,
        repo: &uri.repository,
        reference: uri.reference(),
    };
    let archived = super::download_archives(&source, small, parallelism, &progress);
    let client = &client;
    let uri = &uri;
    let single = futures::stream::iter(large.into_iter().map(|(o, dest)| {
        let progress = progress.clone();
        async move {
            let remote = Remote {
                repo: &uri.repository,
                reference: uri.reference(),
                path: s(o, "path"),
                stats: o,
            };
            download_to(client, &remote, &dest, presign, &progress)
                .await
                .map_err(|e| CliError::Failed(format!("download {}: {e}", s(o, "path"))))
        }
    }))
    .buffer_unordered(parallelism)
    .try_fold(0usize, |n, _| async move { Ok(n + 1) });
    let downloaded = futures::try_join!(archived, single);
    progress.finish();
    let (archived, single) = downloaded?;
    summary(ctx, "Download", archived + single, 0, 0);
    Ok(())
}

async fn rm(ctx: &Ctx, path: &str, recursive: bool, concurrency: usize) -> CliResult<()> {
    let uri = ctx.path(path)?;
    let client = ctx.client()?;
    if !recursive {
        return client
            .delete(objects_path(&uri, "branches"))
            .query("path", uri.path())
            .ok()
            .await;
    }
    let objects = list_objects(&client, &uri, uri.path()).await?;
    let paths: Vec<String> = objects.iter().map(|o| s(o, "path").to_owned()).collect();
    let delete_path = format!("{}/delete", objects_path(&uri, "branches"));
    let client = &client;
    let failures: Vec<String> = futures::stream::iter(paths.chunks(1000).map(|batch| {
        let delete_path = delete_path.clone();
        async move {
            match client
                .post(delete_path)
                .json(json!({ "paths": batch }))
                .value()
                .await
            {
                Err(e) => vec![format!("rm objects - {e}")],
                Ok(answer) => answer["errors"]
                    .as_array()
                    .map(|errors| {
                        errors
                            .iter()
                            .map(|e| {
                                format!(
                                    "rm {}: [{}] {}",
                                    s(e, "path"),
                                    n(e, "status_code"),
                                    s(e, "message")
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        }
    }))
    .buffer_unordered(concurrency.max(1))
    .concat()
    .await;
    for f in &failures {
        eprintln!("{f}");
    }
    if !failures.is_empty() {
        return failed(format!("{} objects could not be deleted", failures.len()));
    }
    Ok(())
}

async fn stage(ctx: &Ctx, a: StageArgs) -> CliResult<()> {
    let uri = ctx.path(&a.path)?;
    let metadata = key_values(&a.meta)?;
    let client = ctx.client()?;
    let mut body = json!({
        "physical_address": a.location,
        "checksum": a.checksum,
        "size_bytes": a.size,
        "metadata": metadata,
    });
    if a.mtime > 0 {
        body["mtime"] = json!(a.mtime);
    }
    if let Some(ct) = &a.content_type {
        body["content_type"] = json!(ct);
    }
    let st = client
        .put(objects_path(&uri, "branches"))
        .query("path", uri.path())
        .json(body)
        .value()
        .await?;
    print_stats(ctx, &st);
    Ok(())
}
