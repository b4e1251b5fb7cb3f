//! `local`: a directory that mirrors a lakeFS path (lakectl local):
//! `init`, `clone`, `status`, `commit`, `pull`, `checkout`, `list`.
//! Changes are found by size and mtime (and MD5 when only the mtime
//! moved); an interrupted operation is recorded in the index, and a
//! conflict stops the command before any file is touched.

mod changes;
mod index;

use crate::client::{seg, Client};
use crate::cmd::{confirm, presign_mode, summary, CommitFlags, SyncFlags, Yes};
use crate::error::{failed, CliError, CliResult};
use crate::output::{s, Paint};
use crate::progress::Progress;
use crate::uri::LakeFsUri;
use crate::Ctx;
use changes::{Change, Kind, Remote, Source, Step, Sync};
use clap::Subcommand;
use index::{interrupted, Index, INDEX_FILE};
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub(crate) enum LocalCommand {
    /// Link a directory to a lakeFS path without transferring data.
    Init {
        /// lakefs://<repository>/<ref>/<path>
        path: String,
        /// The directory (default: the current one).
        directory: Option<PathBuf>,
        /// Overwrite an existing link.
        #[arg(long)]
        force: bool,
    },
    /// Copy a lakeFS path into a new (or empty) directory.
    Clone {
        /// lakefs://<repository>/<ref>/<path>
        path: String,
        directory: Option<PathBuf>,
        #[command(flatten)]
        sync: SyncFlags,
    },
    /// Local changes, and remote ones since the directory's commit.
    Status {
        directory: Option<PathBuf>,
        /// Do not compare with the remote's changes.
        #[arg(short = 'l', long)]
        local: bool,
    },
    /// Upload the local changes to the branch and commit them.
    Commit {
        directory: Option<PathBuf>,
        #[command(flatten)]
        flags: CommitFlags,
        /// Commit even if the branch has uncommitted changes outside the synced path.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        yes: Yes,
        #[command(flatten)]
        sync: SyncFlags,
    },
    /// Bring the directory to the head of its ref.
    Pull {
        directory: Option<PathBuf>,
        /// Overwrite local changes that conflict with the remote's.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        sync: SyncFlags,
    },
    /// Make the directory exactly a ref's content (reverting local changes).
    Checkout {
        directory: Option<PathBuf>,
        /// lakefs://<repository>/<ref>: switch to this ref.
        #[arg(short = 'r', long = "ref", conflicts_with = "all")]
        reference: Option<String>,
        /// Every linked directory under this one.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        yes: Yes,
        #[command(flatten)]
        sync: SyncFlags,
    },
    /// Linked directories under a directory.
    List { directory: Option<PathBuf> },
}

fn absolute(dir: Option<PathBuf>) -> CliResult<PathBuf> {
    let dir = dir.unwrap_or_else(|| PathBuf::from("."));
    let cwd = std::env::current_dir().map_err(|e| CliError::io("current directory", e))?;
    let joined = cwd.join(dir);
    Ok(std::fs::canonicalize(&joined).unwrap_or(joined))
}

async fn resolve(client: &Client, repo: &str, reference: &str) -> CliResult<String> {
    let c = client
        .get(format!(
            "/repositories/{}/commits/{}",
            seg(repo),
            seg(reference)
        ))
        .value()
        .await?;
    Ok(s(&c, "id").to_owned())
}

/// A linked directory, opened.
struct Linked {
    root: PathBuf,
    index: Index,
    uri: LakeFsUri,
}

fn open(ctx: &Ctx, dir: Option<PathBuf>) -> CliResult<Linked> {
    let root = Index::find_root(&absolute(dir)?)?;
    let index = Index::read(&root)?;
    let uri = LakeFsUri::path_uri(&index.src, None, &format!("{INDEX_FILE} src"))
        .map_err(|e| CliError::Failed(format!("{}: {e}", root.join(INDEX_FILE).display())))?;
    let _ = ctx;
    Ok(Linked { root, index, uri })
}

fn remote<'a>(client: &'a Client, uri: &LakeFsUri) -> Remote<'a> {
    Remote {
        client,
        repo: uri.repository.clone(),
        prefix: uri.path().to_owned(),
    }
}

/// A sync of `steps` in `root`: downloads read `refs.0`, uploads and
/// deletions go to branch `refs.1`.
async fn syncer<'a>(
    ctx: &Ctx,
    remote: &'a Remote<'a>,
    root: &Path,
    refs: (&str, &str),
    flags: &SyncFlags,
    steps: &[Step],
    label: &str,
) -> CliResult<Sync<'a>> {
    let total = steps.iter().map(Step::size).sum();
    Ok(Sync {
        remote,
        root: root.to_owned(),
        read_ref: refs.0.to_owned(),
        branch: refs.1.to_owned(),
        parallelism: ctx.parallelism(flags.parallelism())?,
        presign: presign_mode(remote.client, flags.presign()).await,
        archives: crate::cmd::archive_mode(remote.client, flags.archive()).await,
        progress: Progress::bytes(&ctx.out, flags.no_progress(), total, label),
    })
}

pub(crate) async fn run(ctx: &Ctx, command: LocalCommand) -> CliResult<()> {
    match command {
        LocalCommand::Init {
            path,
            directory,
            force,
        } => {
            let client = ctx.client()?;
            let dir = absolute(directory)?;
            let (uri, index) = init(ctx, &client, &path, &dir, force).await?;
            if ctx.out.json {
                ctx.out.json(&json!(index));
            } else {
                ctx.out.line(format!(
                    "Successfully linked local directory '{}' with remote '{uri}'",
                    dir.display()
                ));
            }
            Ok(())
        }
        LocalCommand::Clone {
            path,
            directory,
            sync: flags,
        } => clone(ctx, &path, directory, &flags).await,
        LocalCommand::Status { directory, local } => status(ctx, directory, local).await,
        LocalCommand::Commit {
            directory,
            flags,
            force,
            yes,
            sync: sf,
        } => commit(ctx, directory, &flags, force, yes.yes, &sf).await,
        LocalCommand::Pull {
            directory,
            force,
            sync: flags,
        } => pull(ctx, directory, force, &flags).await,
        LocalCommand::Checkout {
            directory,
            reference,
            all,
            yes,
            sync: flags,
        } => {
            if all {
                let dir = absolute(directory)?;
                confirm(yes.yes, "the operation will revert all changes in all directories that are linked with lakeFS. Proceed", "command aborted")?;
                for d in Index::find_all(&dir) {
                    checkout(ctx, Some(d), None, true, &flags).await?;
                }
                return Ok(());
            }
            checkout(ctx, directory, reference, yes.yes, &flags).await
        }
        LocalCommand::List { directory } => {
            let dir = absolute(directory)?;
            let mut rows = Vec::new();
            for d in Index::find_all(&dir) {
                let idx = Index::read(&d)?;
                let shown = d
                    .strip_prefix(&dir)
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                rows.push(vec![
                    if shown.is_empty() { ".".into() } else { shown },
                    idx.src,
                    idx.at_head,
                ]);
            }
            if ctx.out.json {
                let items: Vec<_> = rows
                    .iter()
                    .map(|r| json!({"directory": r[0], "remote_uri": r[1], "synced_commit": r[2]}))
                    .collect();
                ctx.out.json(&json!(items));
            } else {
                ctx.out
                    .table(&["Directory", "Remote URI", "Synced Commit"], &rows);
            }
            Ok(())
        }
    }
}

async fn init(
    ctx: &Ctx,
    client: &Client,
    path: &str,
    dir: &Path,
    force: bool,
) -> CliResult<(LakeFsUri, Index)> {
    let uri = ctx.path(path)?;
    let commit = resolve(client, &uri.repository, uri.reference()).await?;
    let mut prefix = uri.path().to_owned();
    if !prefix.is_empty() && !prefix.ends_with('/') {
        let stat = client
            .get(format!(
                "/repositories/{}/refs/{}/objects/stat",
                seg(&uri.repository),
                seg(uri.reference())
            ))
            .query("path", &prefix)
            .ok()
            .await;
        match stat {
            Ok(()) => {
                return failed(format!(
                "lakeFS path {uri} is an existing object and cannot be used as a reference source"
            ))
            }
            Err(e) if e.status().is_some_and(|s| s.as_u16() == 404) => prefix.push('/'),
            Err(e) => return Err(e),
        }
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::io(format!("create {}", dir.display()), e))?;
    if dir.join(INDEX_FILE).exists() && !force {
        return failed(format!(
            "directory '{}' already linked to a lakeFS path, run command with --force to overwrite",
            dir.display()
        ));
    }
    let uri = uri.with_path(prefix);
    let index = Index {
        src: uri.to_string(),
        at_head: commit,
        active_operation: String::new(),
    };
    index.write(dir)?;
    Ok((uri, index))
}

async fn clone(
    ctx: &Ctx,
    path: &str,
    directory: Option<PathBuf>,
    flags: &SyncFlags,
) -> CliResult<()> {
    let client = ctx.client()?;
    let dir = absolute(directory)?;
    if dir.exists() {
        let mut entries = std::fs::read_dir(&dir)
            .map_err(|e| CliError::io(format!("read {}", dir.display()), e))?;
        if entries.next().is_some() {
            return failed(format!(
                "directory '{}' exists and is not empty",
                dir.display()
            ));
        }
    }
    let (uri, mut index) = init(ctx, &client, path, &dir, false).await?;
    index.active_operation = "clone".into();
    index.write(&dir)?;
    let remote = remote(&client, &uri);
    let listing = remote.list(&index.at_head).await?;
    let steps: Vec<Step> = listing
        .iter()
        .map(|(rel, st)| Step::Download(rel.clone(), st["size_bytes"].as_u64().unwrap_or_default()))
        .collect();
    let sync = syncer(
        ctx,
        &remote,
        &dir,
        (&index.at_head, uri.reference()),
        flags,
        &steps,
        "clone",
    )
    .await?;
    let tally = sync.run(&steps).await?;
    index.active_operation.clear();
    index.write(&dir)?;
    if !ctx.out.json {
        ctx.out
            .line(format!("\nSuccessfully cloned {uri} to {}.", dir.display()));
    }
    summary(ctx, "Clone", tally.downloaded, 0, 0);
    Ok(())
}

fn print_changes(ctx: &Ctx, changes: &[Change]) {
    if ctx.out.json {
        ctx.out.json(&json!(changes));
        return;
    }
    if changes.is_empty() {
        ctx.out.line("\nNo diff found.");
        return;
    }
    let rows: Vec<Vec<String>> = changes
        .iter()
        .map(|c| {
            let (kind, paint) = match c.kind {
                Kind::Added => ("added", Paint::Green),
                Kind::Modified => ("modified", Paint::Yellow),
                Kind::Removed => ("removed", Paint::Red),
                Kind::Conflict => ("conflict", Paint::HiYellow),
            };
            let source = match c.source {
                Source::Local => "local",
                Source::Remote => "remote",
            };
            vec![source.into(), ctx.out.paint(kind, paint), c.path.clone()]
        })
        .collect();
    ctx.out.line("");
    ctx.out.table(&["Source", "Change", "Path"], &rows);
}

async fn status(ctx: &Ctx, directory: Option<PathBuf>, local_only: bool) -> CliResult<()> {
    let l = open(ctx, directory)?;
    if !l.index.active_operation.is_empty() {
        return failed(interrupted(&l.index.active_operation));
    }
    let client = ctx.client()?;
    let remote = remote(&client, &l.uri);
    let at_head = remote.list(&l.index.at_head).await?;
    if !ctx.out.json {
        ctx.out.line(format!(
            "\ndiff 'local://{}' <--> 'lakefs://{}/{}/{}'...",
            l.root.display(),
            l.uri.repository,
            l.index.at_head,
            l.uri.path()
        ));
    }
    let mut changes =
        changes::local_changes(&l.root, &at_head, ctx.config()?.skip_non_regular_files)?;
    if !local_only {
        let head = resolve(&client, &l.uri.repository, l.uri.reference()).await?;
        if !ctx.out.json {
            ctx.out.line(format!(
                "diff 'lakefs://{}/{}/{}' <--> '{}'...",
                l.uri.repository,
                l.index.at_head,
                l.uri.path(),
                l.uri
            ));
        }
        let mut theirs = remote.diff(&l.index.at_head, &head).await?;
        changes::drop_settled(&remote, &head, &l.root, &mut changes, &mut theirs).await?;
        changes = changes::merge(changes, theirs);
    }
    print_changes(ctx, &changes);
    Ok(())
}

fn conflicts(changes: &[Change]) -> Vec<&str> {
    changes
        .iter()
        .filter(|c| c.kind == Kind::Conflict)
        .map(|c| c.path.as_str())
        .collect()
}

/// Steps that bring remote changes into the directory.
fn remote_steps(changes: &[Change], sizes: &impl Fn(&str) -> u64) -> Vec<Step> {
    changes
        .iter()
        .filter(|c| c.source == Source::Remote)
        .map(|c| match c.kind {
            Kind::Removed => Step::DeleteLocal(c.path.clone()),
            _ => Step::Download(c.path.clone(), sizes(&c.path)),
        })
        .collect()
}

async fn commit(
    ctx: &Ctx,
    directory: Option<PathBuf>,
    flags: &CommitFlags,
    force: bool,
    yes: bool,
    sf: &SyncFlags,
) -> CliResult<()> {
    let (message, metadata) = flags.parts(false)?;
    let l = open(ctx, directory)?;
    let mut index = l.index.clone();
    if !index.active_operation.is_empty() {
        eprintln!(
            "Latest 'local {}' operation was interrupted, running 'local commit' operation now might lead to data loss.",
            index.active_operation
        );
        confirm(yes, "Proceed", "command aborted")?;
    }
    let client = ctx.client()?;
    let branch = l.uri.reference().to_owned();
    if !ctx.out.json {
        ctx.out.line(format!("\nGetting branch: {branch}"));
    }
    let b = client
        .get(format!(
            "/repositories/{}/branches/{}",
            seg(&l.uri.repository),
            seg(&branch)
        ))
        .value()
        .await?;
    let head = s(&b, "commit_id").to_owned();
    let remote = remote(&client, &l.uri);
    let listing = remote.list(&index.at_head).await?;
    let mut mine = changes::local_changes(&l.root, &listing, ctx.config()?.skip_non_regular_files)?;
    let mut theirs = remote.diff(&index.at_head, &head).await?;
    changes::drop_settled(&remote, &head, &l.root, &mut mine, &mut theirs).await?;
    let all = changes::merge(mine.clone(), theirs.clone());
    let clashing = conflicts(&all);
    if !clashing.is_empty() {
        return failed(format!(
            "Conflicts found between local directory and remote in the following files:\n{}\nNothing was changed. Keep your version: copy it aside, run `tarn local pull --force`, and copy it back; or discard it with `tarn local checkout`.",
            clashing.join("\n")
        ));
    }
    if mine.is_empty() {
        if theirs.is_empty() {
            if ctx.out.json {
                ctx.out
                    .json(&json!({"uploaded": 0, "downloaded": 0, "removed": 0, "commit": null}));
            } else {
                ctx.out.line("\nNo changes");
            }
            return Ok(());
        }
        if !ctx.out.json {
            ctx.out
                .line("\nNo local changes to commit; pulling the branch's changes");
        }
    }
    if !force && !mine.is_empty() {
        outside_changes_guard(&client, &l.uri, &branch, &l.root).await?;
    }
    index.active_operation = "commit".into();
    index.write(&l.root)?;
    let mut steps: Vec<Step> = mine
        .iter()
        .map(|c| match c.kind {
            Kind::Removed => Step::DeleteRemote(c.path.clone()),
            _ => Step::Upload(
                c.path.clone(),
                std::fs::metadata(l.root.join(&c.path))
                    .map(|m| m.len())
                    .unwrap_or_default(),
            ),
        })
        .collect();
    steps.extend(remote_steps(&theirs, &|_| 0));
    let sync = syncer(ctx, &remote, &l.root, (&head, &branch), sf, &steps, "sync").await?;
    let mut tally = sync.run(&steps).await?;
    if !ctx.out.json {
        summary(ctx, "Sync", tally.downloaded, tally.uploaded, tally.removed);
    }
    if mine.is_empty() {
        index.at_head = head;
    } else {
        if !ctx.out.json {
            ctx.out
                .line("Finished syncing changes. Perform commit on branch...");
        }
        let c = client
            .post(format!(
                "/repositories/{}/branches/{}/commits",
                seg(&l.uri.repository),
                seg(&branch)
            ))
            .json(json!({"message": message, "metadata": metadata}))
            .value()
            .await?;
        let new_head = s(&c, "id").to_owned();
        // The commit may hold more than this directory sent (changes others
        // staged under the path, or committed in between): bring those
        // here too, so the directory is the commit it now points at.
        let ours: std::collections::HashSet<&str> = mine.iter().map(|c| c.path.as_str()).collect();
        let foreign: Vec<Change> = remote
            .diff(&head, &new_head)
            .await?
            .into_iter()
            .filter(|c| !ours.contains(c.path.as_str()))
            .collect();
        if !foreign.is_empty() {
            let steps = remote_steps(&foreign, &|_| 0);
            let more = syncer(
                ctx,
                &remote,
                &l.root,
                (&new_head, &branch),
                sf,
                &steps,
                "sync",
            )
            .await?;
            let extra = more.run(&steps).await?;
            tally.downloaded += extra.downloaded;
            tally.removed += extra.removed;
        }
        if ctx.out.json {
            ctx.out.json(&json!({
                "uploaded": tally.uploaded,
                "downloaded": tally.downloaded,
                "removed": tally.removed,
                "commit": c,
            }));
        } else {
            ctx.out
                .line(format!("Branch: lakefs://{}/{branch}", l.uri.repository));
            crate::cmd::print_created(ctx, &branch, &c);
        }
        index.at_head = new_head;
    }
    if mine.is_empty() && ctx.out.json {
        ctx.out.json(&json!({
            "uploaded": 0,
            "downloaded": tally.downloaded,
            "removed": tally.removed,
            "commit": null,
        }));
    }
    index.active_operation.clear();
    index.write(&l.root)
}

/// Refuses to commit when the branch holds uncommitted changes outside the
/// synced prefix (they would land in this commit too).
async fn outside_changes_guard(
    client: &Client,
    uri: &LakeFsUri,
    branch: &str,
    root: &Path,
) -> CliResult<()> {
    let prefix = uri.path();
    if prefix.is_empty() {
        return Ok(());
    }
    let path = format!(
        "/repositories/{}/branches/{}/diff",
        seg(&uri.repository),
        seg(branch)
    );
    let first = client.get(path.clone()).query("amount", 1).value().await?;
    let before = first["results"][0]["path"]
        .as_str()
        .is_some_and(|p| !p.starts_with(prefix));
    // Keys after every key under "<prefix>" start past "<prefix without '/'>0".
    let past = format!("{}0", prefix.trim_end_matches('/'));
    let next = client
        .get(path)
        .query("amount", 1)
        .query("after", &past)
        .value()
        .await?;
    let after = next["results"][0]["path"]
        .as_str()
        .is_some_and(|p| !p.starts_with(prefix));
    let at_past = client
        .get(format!(
            "/repositories/{}/branches/{}/diff",
            seg(&uri.repository),
            seg(branch)
        ))
        .query("amount", 1)
        .query("prefix", &past)
        .value()
        .await?;
    let exactly = at_past["results"][0]["path"].as_str() == Some(past.as_str());
    if before || after || exactly {
        return failed(format!(
            "Branch {branch} contains uncommitted changes outside of local path '{}'.\nTo proceed, use the --force flag.",
            root.display()
        ));
    }
    Ok(())
}

async fn pull(
    ctx: &Ctx,
    directory: Option<PathBuf>,
    force: bool,
    flags: &SyncFlags,
) -> CliResult<()> {
    let l = open(ctx, directory)?;
    let mut index = l.index.clone();
    // An interrupted pull resumes, an interrupted commit gives way to
    // --force; after an interrupted clone or checkout, files never brought
    // would pass for deletions: only checkout repairs that.
    match index.active_operation.as_str() {
        "" | "pull" => {}
        "commit" if force => {}
        op => return failed(interrupted(op)),
    }
    let client = ctx.client()?;
    let remote = remote(&client, &l.uri);
    let listing = remote.list(&index.at_head).await?;
    let mut mine = changes::local_changes(&l.root, &listing, ctx.config()?.skip_non_regular_files)?;
    let head = resolve(&client, &l.uri.repository, l.uri.reference()).await?;
    let mut theirs = remote.diff(&index.at_head, &head).await?;
    changes::drop_settled(&remote, &head, &l.root, &mut mine, &mut theirs).await?;
    let all = changes::merge(mine, theirs.clone());
    let clashing = conflicts(&all);
    if !clashing.is_empty() && !force {
        return failed(format!(
            "local changes conflict with the remote's in the following files:\n{}\nNothing was changed. Commit them first (`tarn local commit`), or overwrite them with `tarn local pull --force`.",
            clashing.join("\n")
        ));
    }
    // The index moves to the new head only once every file is there: run
    // again, an interrupted pull finds what it already brought settled.
    index.active_operation = "pull".into();
    index.write(&l.root)?;
    let steps = remote_steps(&theirs, &|_| 0);
    let sync = syncer(
        ctx,
        &remote,
        &l.root,
        (&head, l.uri.reference()),
        flags,
        &steps,
        "pull",
    )
    .await?;
    let tally = sync.run(&steps).await?;
    index.at_head = head;
    index.active_operation.clear();
    index.write(&l.root)?;
    if !ctx.out.json {
        ctx.out.line("\nSuccessfully synced changes!");
    }
    summary(ctx, "Pull", tally.downloaded, 0, tally.removed);
    Ok(())
}

async fn checkout(
    ctx: &Ctx,
    directory: Option<PathBuf>,
    reference: Option<String>,
    yes: bool,
    flags: &SyncFlags,
) -> CliResult<()> {
    let l = open(ctx, directory)?;
    let mut index = l.index.clone();
    let client = ctx.client()?;
    let target = match &reference {
        Some(r) => {
            let r = ctx.reference(r)?;
            if r.repository != l.uri.repository {
                return crate::error::usage("invalid uri, ref repository doesn't match");
            }
            r
        }
        None => l.uri.clone(),
    };
    let commit = resolve(&client, &target.repository, target.reference()).await?;
    let remote = remote(&client, &l.uri);
    let skip = ctx.config()?.skip_non_regular_files;
    // Ask before reverting local edits. After an interrupted operation,
    // files it never brought look removed: those are no one's edits.
    let at_head = remote.list(&index.at_head).await?;
    let interrupted_op = !index.active_operation.is_empty();
    let edits = changes::local_changes(&l.root, &at_head, skip)?
        .into_iter()
        .filter(|c| !(interrupted_op && c.kind == Kind::Removed))
        .count();
    if edits > 0 {
        eprintln!(
            "Uncommitted changes exist, the operation will revert all changes on local directory."
        );
        confirm(yes, "Proceed", "command aborted")?;
    }
    let wanted = remote.list(&commit).await?;
    let steps: Vec<Step> = changes::local_changes(&l.root, &wanted, skip)?
        .into_iter()
        .map(|c| match c.kind {
            Kind::Added => Step::DeleteLocal(c.path),
            _ => {
                let size = wanted
                    .get(&c.path)
                    .and_then(|st| st["size_bytes"].as_u64())
                    .unwrap_or(0);
                Step::Download(c.path, size)
            }
        })
        .collect();
    index.src = LakeFsUri {
        reference: target.reference.clone(),
        ..l.uri.clone()
    }
    .to_string();
    index.at_head = commit.clone();
    index.active_operation = "checkout".into();
    index.write(&l.root)?;
    let sync = syncer(
        ctx,
        &remote,
        &l.root,
        (&commit, target.reference()),
        flags,
        &steps,
        "checkout",
    )
    .await?;
    let tally = sync.run(&steps).await?;
    index.active_operation.clear();
    index.write(&l.root)?;
    summary(ctx, "Checkout", tally.downloaded, 0, tally.removed);
    Ok(())
}
