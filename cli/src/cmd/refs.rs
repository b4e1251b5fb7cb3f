//! `diff`, `merge`, `cherry-pick` and `find-merge-base`.

use super::CommitFlags;
use crate::client::{seg, Pager};
use crate::error::{failed, usage, CliResult};
use crate::output::{s, Paint};
use crate::Ctx;
use clap::Args;
use serde_json::{json, Value};

#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    /// lakefs://<repository>/<ref>: alone (a branch), its uncommitted changes.
    left: String,
    /// lakefs://<repository>/<ref>: the changes from the left ref to this one.
    right: Option<String>,
    /// Two-way diff: the difference between the refs, regardless of a common ancestor.
    #[arg(long)]
    two_way: bool,
    /// Show only changes under this prefix.
    #[arg(long, default_value = "")]
    prefix: String,
}

#[derive(Debug, Args)]
pub(crate) struct MergeArgs {
    /// lakefs://<repository>/<source ref>
    source: String,
    /// lakefs://<repository>/<destination branch>
    destination: String,
    /// On conflict, take the destination's version (dest-wins) or the source's (source-wins).
    #[arg(long, value_parser = ["dest-wins", "source-wins"])]
    strategy: Option<String>,
    /// Allow merging into a read-only branch, or one with the same content.
    #[arg(long)]
    force: bool,
    /// Allow a merge that changes nothing.
    #[arg(long)]
    allow_empty: bool,
    /// Squash the source's commits into one commit with a single parent.
    #[arg(long)]
    squash: bool,
    #[command(flatten)]
    flags: CommitFlags,
}

#[derive(Debug, Args)]
pub(crate) struct CherryPickArgs {
    /// lakefs://<repository>/<commit ref>
    commit: String,
    /// lakefs://<repository>/<branch>
    branch: String,
    /// The parent to diff against when picking a merge commit (from 1).
    #[arg(short = 'm', long)]
    parent_number: Option<u32>,
}

#[derive(Debug, Args)]
pub(crate) struct MergeBaseArgs {
    /// lakefs://<repository>/<source ref>
    source: String,
    /// lakefs://<repository>/<destination ref>
    destination: String,
}

/// One change, coloured: `+ added`, `- removed`, `~ modified`, `* conflict`.
fn change_line(ctx: &Ctx, d: &Value) -> String {
    let path = s(d, "path");
    let (sign, paint) = match s(d, "type") {
        "added" => ("+ added", Paint::Green),
        "removed" => ("- removed", Paint::Red),
        "changed" | "modified" => ("~ modified", Paint::Yellow),
        "conflict" => ("* conflict", Paint::HiYellow),
        _ => ("", Paint::Bold),
    };
    ctx.out.paint(format!("{sign} {path}"), paint)
}

pub(crate) async fn diff(ctx: &Ctx, a: DiffArgs) -> CliResult<()> {
    let client = ctx.client()?;
    let mut pager = match &a.right {
        None => {
            let uri = ctx.branch(&a.left)?;
            if !ctx.out.json {
                ctx.out.line(format!("Ref: {uri}"));
            }
            let mut p = Pager::new(
                &client,
                format!(
                    "/repositories/{}/branches/{}/diff",
                    seg(&uri.repository),
                    seg(uri.reference())
                ),
            )
            .amount(1000);
            if !a.prefix.is_empty() {
                p = p.query("prefix", &a.prefix);
            }
            p
        }
        Some(right) => {
            let left = ctx.reference(&a.left)?;
            let right = ctx.reference(right)?;
            left.same_repository(&right, "both references must belong to the same repository")?;
            if !ctx.out.json {
                ctx.out
                    .line(format!("Left ref: {left}\nRight ref: {right}"));
            }
            let mut p = Pager::new(
                &client,
                format!(
                    "/repositories/{}/refs/{}/diff/{}",
                    seg(&left.repository),
                    seg(left.reference()),
                    seg(right.reference())
                ),
            )
            .amount(1000)
            .query("type", if a.two_way { "two_dot" } else { "three_dot" });
            if !a.prefix.is_empty() {
                p = p.query("prefix", &a.prefix);
            }
            p
        }
    };
    let mut all = Vec::new();
    while let Some((items, _)) = pager.page().await? {
        if ctx.out.json {
            all.extend(items);
        } else {
            for d in &items {
                ctx.out.line(change_line(ctx, d));
            }
        }
    }
    if ctx.out.json {
        ctx.out.json(&Value::Array(all));
    }
    Ok(())
}

pub(crate) async fn merge(ctx: &Ctx, a: MergeArgs) -> CliResult<()> {
    let source = ctx.reference(&a.source)?;
    let destination = ctx.branch(&a.destination)?;
    source.same_repository(
        &destination,
        "both references must belong to the same repository",
    )?;
    let (message, metadata) = a.flags.parts(true)?;
    let client = ctx.client()?;
    if !ctx.out.json {
        ctx.out
            .line(format!("Source: {source}\nDestination: {destination}"));
    }
    let mut body = json!({
        "message": message,
        "metadata": metadata,
        "force": a.force,
        "allow_empty": a.allow_empty,
        "squash_merge": a.squash,
    });
    if let Some(strategy) = &a.strategy {
        body["strategy"] = json!(strategy);
    }
    let result = client
        .post(format!(
            "/repositories/{}/refs/{}/merge/{}",
            seg(&source.repository),
            seg(source.reference()),
            seg(destination.reference())
        ))
        .json(body)
        .value()
        .await;
    let result = match result {
        Err(e) if e.status().is_some_and(|s| s.as_u16() == 409) => {
            return failed(format!(
                "Conflict found.\n{e}\n(resolve it with --strategy dest-wins or --strategy source-wins, or change the branches)"
            ));
        }
        other => other?,
    };
    if ctx.out.json {
        ctx.out.json(&result);
    } else {
        ctx.out.line(format!(
            "Merged \"{}\" into \"{}\" to get \"{}\".",
            source.reference(),
            destination.reference(),
            s(&result, "reference")
        ));
    }
    Ok(())
}

pub(crate) async fn cherry_pick(ctx: &Ctx, a: CherryPickArgs) -> CliResult<()> {
    let commit = ctx.reference(&a.commit)?;
    let branch = ctx.branch(&a.branch)?;
    commit.same_repository(
        &branch,
        "Repository mismatch for destination branch and cherry-pick ref",
    )?;
    if a.parent_number == Some(0) {
        return usage("parent number must be positive, if specified");
    }
    let client = ctx.client()?;
    let c = client
        .post(format!(
            "/repositories/{}/branches/{}/cherry-pick",
            seg(&branch.repository),
            seg(branch.reference())
        ))
        .json(json!({"ref": commit.reference(), "parent_number": a.parent_number.unwrap_or(1)}))
        .value()
        .await?;
    if !ctx.out.json {
        ctx.out.line(format!("Branch: {branch}"));
    }
    super::commit::print_created(ctx, branch.reference(), &c);
    Ok(())
}

pub(crate) async fn merge_base(ctx: &Ctx, a: MergeBaseArgs) -> CliResult<()> {
    let source = ctx.reference(&a.source)?;
    let destination = ctx.reference(&a.destination)?;
    source.same_repository(
        &destination,
        "both references must belong to the same repository",
    )?;
    let client = ctx.client()?;
    let base = client
        .get(format!(
            "/repositories/{}/refs/{}/merge/{}",
            seg(&source.repository),
            seg(source.reference()),
            seg(destination.reference())
        ))
        .value()
        .await?;
    if ctx.out.json {
        ctx.out.json(&base);
    } else {
        ctx.out
            .line(format!("Source: {source}\nDestination: {destination}"));
        ctx.out.line(format!(
            "Found base \"{}\" when merging \"{}\" into \"{}\".",
            s(&base, "base_commit_id"),
            s(&base, "source_commit_id"),
            s(&base, "destination_commit_id")
        ));
    }
    Ok(())
}
