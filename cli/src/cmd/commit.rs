//! `commit`, `log` and `show commit`.

use super::CommitFlags;
use crate::client::{seg, Client};
use crate::error::{usage, CliResult};
use crate::output::{date, n, s, Paint};
use crate::Ctx;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

#[derive(Debug, Args)]
pub(crate) struct CommitArgs {
    /// lakefs://<repository>/<branch>
    branch: String,
    #[command(flatten)]
    flags: CommitFlags,
    /// Allow a commit with no changes.
    #[arg(long)]
    allow_empty_commit: bool,
    /// The commit's date, in seconds since the epoch.
    #[arg(long, hide = true)]
    epoch_time_seconds: Option<i64>,
}

#[derive(Debug, Args)]
pub(crate) struct LogArgs {
    /// lakefs://<repository>/<ref>
    reference: String,
    /// How many commits to show (0: the first page of up to 1000).
    #[arg(long, default_value_t = 0)]
    amount: usize,
    /// Show commits after this one (a previous page's next offset).
    #[arg(long, default_value = "")]
    after: String,
    /// Follow only the first parent of merge commits.
    #[arg(long)]
    first_parent: bool,
    /// Leave out merge commits.
    #[arg(long)]
    no_merges: bool,
    /// Show each commit's meta range id.
    #[arg(long)]
    show_meta_range_id: bool,
    /// Only commits that changed one of these paths (comma-separated or repeated).
    #[arg(long, value_delimiter = ',')]
    objects: Vec<String>,
    /// Only commits that changed something under one of these prefixes.
    #[arg(long, value_delimiter = ',')]
    prefixes: Vec<String>,
    /// Stop at commits older than this time (RFC 3339).
    #[arg(long, default_value = "")]
    since: String,
    /// Stop at this ref (inclusive).
    #[arg(long, default_value = "")]
    stop_at: String,
    /// One line per commit: id and message.
    #[arg(long)]
    oneline: bool,
    /// A Graphviz document of the history.
    #[arg(long)]
    dot: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ShowCommand {
    /// Show a commit.
    Commit {
        /// lakefs://<repository>/<ref>
        commit: String,
        /// Show the commit's meta range id.
        #[arg(long)]
        show_meta_range_id: bool,
    },
}

/// The commit as `commit`, `cherry-pick` and `local commit` print it.
pub(crate) fn print_created(ctx: &Ctx, branch: &str, c: &Value) {
    if ctx.out.json {
        ctx.out.json(c);
        return;
    }
    let parents: Vec<&str> = c["parents"]
        .as_array()
        .map(|p| p.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    ctx.out
        .line(format!("Commit for branch \"{branch}\" completed."));
    ctx.out
        .line(format!("ID: {}", ctx.out.paint(s(c, "id"), Paint::Yellow)));
    ctx.out.line(format!("Message: {}", s(c, "message")));
    ctx.out
        .line(format!("Timestamp: {}", date(n(c, "creation_date"))));
    ctx.out.line(format!("Parents: {}", parents.join(", ")));
}

/// Metadata lines of a commit (sorted keys), as lakectl prints them.
fn metadata_lines(meta: &Value) -> Vec<String> {
    let Some(map) = meta.as_object().filter(|m| !m.is_empty()) else {
        return Vec::new();
    };
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    let mut lines = vec![String::new(), "Metadata:".to_owned(), "\t".to_owned()];
    for k in keys {
        lines.push(format!(
            "\t{k:<18} = {}",
            map[k].as_str().unwrap_or_default()
        ));
        lines.push("\t".to_owned());
    }
    lines
}

/// One commit in `log`'s and `show commit`'s long form.
fn print_commit(ctx: &Ctx, c: &Value, meta_range: bool) {
    let out = &ctx.out;
    out.line("");
    out.line(format!(
        "ID:            {}",
        out.paint(s(c, "id"), Paint::Yellow)
    ));
    if !s(c, "committer").is_empty() {
        out.line(format!("Author:        {}", s(c, "committer")));
    }
    out.line(format!("Date:          {}", date(n(c, "creation_date"))));
    if meta_range {
        out.line(format!("Meta Range ID: {}", s(c, "meta_range_id")));
    }
    let parents: Vec<&str> = c["parents"]
        .as_array()
        .map(|p| p.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if parents.len() > 1 {
        out.line(out.paint(
            format!("Merge:         {}", parents.join(", ")),
            Paint::Bold,
        ));
    }
    out.line("");
    out.line(format!("\t{}", s(c, "message")));
    for line in metadata_lines(&c["metadata"]) {
        out.line(line);
    }
}

pub(crate) async fn commit(ctx: &Ctx, a: CommitArgs) -> CliResult<()> {
    let uri = ctx.branch(&a.branch)?;
    let (message, metadata) = a.flags.parts(false)?;
    let client = ctx.client()?;
    let mut body = json!({
        "message": message,
        "metadata": metadata,
        "allow_empty": a.allow_empty_commit,
    });
    if let Some(t) = a.epoch_time_seconds.filter(|t| *t >= 0) {
        body["date"] = json!(t);
    }
    let c = client
        .post(format!(
            "/repositories/{}/branches/{}/commits",
            seg(&uri.repository),
            seg(uri.reference())
        ))
        .json(body)
        .value()
        .await?;
    if !ctx.out.json {
        ctx.out.line(format!("Branch: {uri}"));
    }
    print_created(ctx, uri.reference(), &c);
    Ok(())
}

pub(crate) async fn log(ctx: &Ctx, a: LogArgs) -> CliResult<()> {
    let uri = ctx.reference(&a.reference)?;
    if a.objects.iter().any(String::is_empty) {
        return usage("Objects list contains empty string!");
    }
    if a.prefixes.iter().any(String::is_empty) {
        return usage("Prefixes list contains empty string!");
    }
    if !a.since.is_empty()
        && time::OffsetDateTime::parse(&a.since, &time::format_description::well_known::Rfc3339)
            .is_err()
    {
        return usage(format!(
            "Failed to parse 'since' - {:?} is not an RFC 3339 time",
            a.since
        ));
    }
    let client = ctx.client()?;
    let page_size = if a.amount > 0 { a.amount } else { 1000 };
    let mut call = client
        .get(format!(
            "/repositories/{}/refs/{}/commits",
            seg(&uri.repository),
            seg(uri.reference())
        ))
        .query("amount", page_size)
        .query("after", &a.after)
        .query("first_parent", a.first_parent);
    for o in &a.objects {
        call = call.query("objects", o);
    }
    for p in &a.prefixes {
        call = call.query("prefixes", p);
    }
    if !a.since.is_empty() {
        call = call.query("since", &a.since);
    }
    if !a.stop_at.is_empty() {
        call = call.query("stop_at", &a.stop_at);
    }
    let body = call.value().await?;
    let mut commits = body["results"].as_array().cloned().unwrap_or_default();
    if a.no_merges {
        commits.retain(|c| c["parents"].as_array().is_none_or(|p| p.len() <= 1));
    }
    if ctx.out.json {
        ctx.out.json(&Value::Array(commits));
        return Ok(());
    }
    if a.dot {
        return print_dot(ctx, &client, &uri.repository, &commits);
    }
    for c in &commits {
        if a.oneline {
            let id = s(c, "id");
            let short = &id[..id.len().min(16)];
            let first = s(c, "message").lines().next().unwrap_or_default();
            ctx.out
                .line(format!("{} {first}", ctx.out.paint(short, Paint::Yellow)));
        } else {
            print_commit(ctx, c, a.show_meta_range_id);
        }
    }
    if !a.oneline {
        ctx.out.line("");
    }
    ctx.out.more_hint(&body["pagination"], a.amount);
    Ok(())
}

fn print_dot(ctx: &Ctx, client: &Client, repo: &str, commits: &[Value]) -> CliResult<()> {
    let ui = client
        .base()
        .trim_end_matches('/')
        .trim_end_matches("/api/v1");
    let mut doc = String::from("digraph {\n\trankdir=\"BT\"\n");
    for c in commits {
        let id = s(c, "id");
        let message = s(c, "message")
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        let parents: Vec<&str> = c["parents"]
            .as_array()
            .map(|p| p.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut label = format!("{}<br/> {message}", &id[..id.len().min(8)]);
        if parents.len() > 1 {
            label = format!("<b>{label}</b>");
        }
        doc.push_str(&format!(
            "\n\t\"{id}\" [shape=note target=\"_blank\" href=\"{ui}/repositories/{repo}/commits/{id}\" label=< {label} >]\n"
        ));
        for p in parents {
            doc.push_str(&format!("\t\"{p}\" -> \"{id}\";\n"));
        }
    }
    doc.push_str("\n}");
    ctx.out.line(doc);
    Ok(())
}

pub(crate) async fn show(ctx: &Ctx, command: ShowCommand) -> CliResult<()> {
    let ShowCommand::Commit {
        commit,
        show_meta_range_id,
    } = command;
    let uri = ctx.reference(&commit)?;
    let client = ctx.client()?;
    let c = client
        .get(format!(
            "/repositories/{}/commits/{}",
            seg(&uri.repository),
            seg(uri.reference())
        ))
        .value()
        .await?;
    if ctx.out.json {
        ctx.out.json(&c);
    } else {
        print_commit(ctx, &c, show_meta_range_id);
    }
    Ok(())
}
