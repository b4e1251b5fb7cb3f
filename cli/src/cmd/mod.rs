//! lakectl's command tree. One file per command family.

mod abuse;
mod actions;
mod auth;
mod branch;
mod bulk;
mod commit;
mod compact;
mod dump;
mod fs;
mod gc;
mod import;
mod misc;
mod protect;
mod refs;
mod repo;
mod tag;
mod transfer;
mod tree;

pub(crate) use bulk::{
    archive_mode, batched, download_archives, upload_archives, Download as ArchivedDownload,
    Source as ArchiveSource, Upload as ArchivedUpload,
};
pub(crate) use commit::print_created;
pub(crate) use fs::{summary, SyncFlags};
pub(crate) use transfer::{
    download_to, mtime_secs, presign_mode, upload_file, Remote as RemoteObject, Target, UploadMeta,
    CLIENT_MTIME,
};
pub(crate) use tree::{local_path, unchanged, walk, LocalFile};

use crate::error::CliResult;
use crate::Ctx;
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Write the configuration file (access key, secret, endpoint).
    Config(misc::ConfigArgs),
    /// Check the endpoint, credentials, clock and TLS, and say what is wrong.
    Doctor,
    /// The user the credentials belong to.
    Identity,
    /// A shell completion script.
    Completion(misc::CompletionArgs),
    /// Manage and explore repositories.
    #[command(subcommand)]
    Repo(repo::RepoCommand),
    /// Create and manage branches within a repository.
    #[command(subcommand)]
    Branch(branch::BranchCommand),
    /// Create and manage branch protection rules.
    #[command(subcommand, name = "branch-protect")]
    BranchProtect(protect::ProtectCommand),
    /// Create and manage tags within a repository.
    #[command(subcommand)]
    Tag(tag::TagCommand),
    /// Commit the changes on a branch.
    Commit(commit::CommitArgs),
    /// Show a ref's history.
    Log(commit::LogArgs),
    /// Show details of an entity.
    #[command(subcommand)]
    Show(commit::ShowCommand),
    /// Changes between two refs, or a branch's uncommitted changes.
    Diff(refs::DiffArgs),
    /// Merge a source ref into a destination branch.
    Merge(refs::MergeArgs),
    /// Apply a commit's changes to a branch.
    CherryPick(refs::CherryPickArgs),
    /// The merge base of two refs.
    FindMergeBase(refs::MergeBaseArgs),
    /// View and manipulate objects.
    #[command(subcommand)]
    Fs(fs::FsCommand),
    /// Import objects from the object store into a branch (zero copy).
    Import(import::ImportArgs),
    /// Tree compactions: fold a repository's large layers into plain trees (a job).
    #[command(subcommand)]
    Compact(compact::CompactCommand),
    /// Garbage collection: retention rules and runs.
    #[command(subcommand)]
    Gc(gc::GcCommand),
    /// Action files and the runs of their hooks.
    #[command(subcommand)]
    Actions(actions::ActionsCommand),
    /// Users, groups, policies and credentials.
    #[command(subcommand)]
    Auth(auth::AuthCommand),
    /// Dump a repository's refs (commits, branches, tags) to its namespace; prints the manifest.
    RefsDump(dump::DumpArgs),
    /// Restore a refs dump's manifest into a bare repository.
    RefsRestore(dump::RestoreArgs),
    /// Sync a local directory with a lakeFS path.
    #[command(subcommand)]
    Local(crate::local::LocalCommand),
    /// Load a running server and report rate and latency percentiles.
    #[command(subcommand)]
    Abuse(abuse::AbuseCommand),
}

/// `--amount`, `--after`, `--prefix` of listings.
#[derive(Debug, Args)]
pub(crate) struct Page {
    /// How many results to return.
    #[arg(long, default_value_t = 100)]
    amount: usize,
    /// Show results after this value (the previous page's next offset).
    #[arg(long, default_value = "")]
    after: String,
    /// Show only results starting with this prefix.
    #[arg(long, default_value = "")]
    prefix: String,
}

/// `-y/--yes`.
#[derive(Debug, Args)]
pub(crate) struct Yes {
    /// Automatically say yes to all confirmations.
    #[arg(short = 'y', long)]
    pub(crate) yes: bool,
}

/// `-m`, `--allow-empty-message`, `--meta` of commits and merges.
#[derive(Debug, Args)]
pub(crate) struct CommitFlags {
    /// Commit message.
    #[arg(short = 'm', long, default_value = "")]
    message: String,
    /// Allow an empty commit message.
    #[arg(long)]
    allow_empty_message: bool,
    /// key=value metadata (repeatable, or comma-separated).
    #[arg(long, value_name = "KEY=VALUE", value_delimiter = ',')]
    meta: Vec<String>,
}

impl CommitFlags {
    /// The message, checked, and the metadata as a JSON object.
    pub(crate) fn parts(
        &self,
        allow_empty_default: bool,
    ) -> CliResult<(String, serde_json::Value)> {
        if self.message.is_empty() && !(self.allow_empty_message || allow_empty_default) {
            return crate::error::usage(
                "commit with no message without specifying the \"--allow-empty-message\" flag",
            );
        }
        Ok((self.message.clone(), key_values(&self.meta)?))
    }
}

/// `k=v` pairs as a JSON object.
pub(crate) fn key_values(pairs: &[String]) -> CliResult<serde_json::Value> {
    let mut map = serde_json::Map::new();
    for pair in pairs.iter().filter(|p| !p.is_empty()) {
        let Some((k, v)) = pair.split_once('=') else {
            return crate::error::usage(format!(
                "invalid key/value pair {pair:?} - should be separated by \"=\""
            ));
        };
        map.insert(k.to_owned(), serde_json::Value::String(v.to_owned()));
    }
    Ok(serde_json::Value::Object(map))
}

/// Asks `question` on the terminal unless `yes`; anything but y/yes (or
/// no terminal to ask on) aborts with `aborted`.
pub(crate) fn confirm(yes: bool, question: &str, aborted: &str) -> CliResult<()> {
    use std::io::{BufRead, IsTerminal, Write};
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return crate::error::failed(format!("{aborted} (no terminal to confirm on: pass --yes)"));
    }
    eprint!("{question} [y/N]: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => crate::error::failed(aborted),
    }
}

pub(crate) async fn run(ctx: &Ctx, command: Command) -> CliResult<()> {
    match command {
        Command::Config(a) => misc::config(ctx, a),
        Command::Doctor => misc::doctor(ctx).await,
        Command::Identity => misc::identity(ctx).await,
        Command::Completion(a) => misc::completion(ctx, a),
        Command::Repo(c) => repo::run(ctx, c).await,
        Command::Branch(c) => branch::run(ctx, c).await,
        Command::BranchProtect(c) => protect::run(ctx, c).await,
        Command::Tag(c) => tag::run(ctx, c).await,
        Command::Commit(a) => commit::commit(ctx, a).await,
        Command::Log(a) => commit::log(ctx, a).await,
        Command::Show(c) => commit::show(ctx, c).await,
        Command::Diff(a) => refs::diff(ctx, a).await,
        Command::Merge(a) => refs::merge(ctx, a).await,
        Command::CherryPick(a) => refs::cherry_pick(ctx, a).await,
        Command::FindMergeBase(a) => refs::merge_base(ctx, a).await,
        Command::Fs(c) => fs::run(ctx, c).await,
        Command::Import(a) => import::run(ctx, a).await,
        Command::Compact(c) => compact::run(ctx, c).await,
        Command::Gc(c) => gc::run(ctx, c).await,
        Command::Actions(c) => actions::run(ctx, c).await,
        Command::Auth(c) => auth::run(ctx, c).await,
        Command::RefsDump(a) => dump::dump(ctx, a).await,
        Command::RefsRestore(a) => dump::restore(ctx, a).await,
        Command::Local(c) => crate::local::run(ctx, c).await,
        Command::Abuse(c) => abuse::run(ctx, c).await,
    }
}

/// One page of a listing (lakectl makes one request and hints at the
/// next): a table, or the results as a JSON array.
pub(crate) async fn show_page(
    ctx: &Ctx,
    client: &crate::client::Client,
    path: String,
    page: &Page,
    headers: &[&str],
    row: impl Fn(&serde_json::Value) -> Vec<String>,
) -> CliResult<()> {
    let mut call = client
        .get(path)
        .query("amount", page.amount)
        .query("after", &page.after);
    if !page.prefix.is_empty() {
        call = call.query("prefix", &page.prefix);
    }
    let body = call.value().await?;
    let results = body["results"].as_array().cloned().unwrap_or_default();
    if ctx.out.json {
        ctx.out.json(&serde_json::Value::Array(results));
        return Ok(());
    }
    let rows: Vec<Vec<String>> = results.iter().map(row).collect();
    ctx.out.table(headers, &rows);
    ctx.out.more_hint(&body["pagination"], page.amount);
    Ok(())
}

/// Polls a job resource until it ends, drawing its progress.
pub(crate) async fn follow_job(
    ctx: &Ctx,
    client: &crate::client::Client,
    path: &str,
    no_progress: bool,
    label: &str,
) -> CliResult<serde_json::Value> {
    let bar = crate::progress::Progress::items(&ctx.out, no_progress, None, label);
    loop {
        let r = client.get(path.to_owned()).value().await?;
        let p = &r["progress"];
        if let Some(total) = p["total"].as_u64() {
            bar.set_length(total);
        }
        bar.set_position(p["done"].as_u64().unwrap_or_default());
        bar.set_message(crate::output::s(p, "message").to_owned());
        if matches!(
            crate::output::s(&r, "state"),
            "succeeded" | "failed" | "canceled"
        ) {
            bar.finish();
            return Ok(r);
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}
