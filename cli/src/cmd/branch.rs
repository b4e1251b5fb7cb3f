//! `branch list|create|delete|show|reset|revert`.

use super::{confirm, show_page, Page, Yes};
use crate::client::seg;
use crate::error::{usage, CliResult};
use crate::output::s;
use crate::Ctx;
use clap::{Args, Subcommand};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub(crate) enum BranchCommand {
    /// List a repository's branches.
    List {
        /// lakefs://<repository>
        repository: String,
        #[command(flatten)]
        page: Page,
    },
    /// Create a branch from a source ref.
    Create {
        /// lakefs://<repository>/<branch>
        branch: String,
        /// The source ref: lakefs://<repository>/<ref>.
        #[arg(short = 's', long)]
        source: String,
    },
    /// Delete a branch.
    Delete {
        /// lakefs://<repository>/<branch>
        branch: String,
        #[command(flatten)]
        yes: Yes,
    },
    /// Show a branch's head commit.
    Show {
        /// lakefs://<repository>/<branch>
        branch: String,
    },
    /// Discard a branch's uncommitted changes (all, under a prefix, or one object).
    Reset(ResetArgs),
    /// Revert commits on a branch (each becomes a new commit).
    Revert(RevertArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ResetArgs {
    /// lakefs://<repository>/<branch>
    branch: String,
    /// Reset the uncommitted changes under this path prefix only.
    #[arg(long, conflicts_with = "object")]
    prefix: Option<String>,
    /// Reset this object's uncommitted change only.
    #[arg(long)]
    object: Option<String>,
    #[command(flatten)]
    yes: Yes,
}

#[derive(Debug, Args)]
pub(crate) struct RevertArgs {
    /// lakefs://<repository>/<branch>
    branch: String,
    /// The commits to revert (refs), in order.
    #[arg(required = true, num_args = 1..)]
    commits: Vec<String>,
    /// The parent to diff against when reverting a merge commit (from 1).
    #[arg(short = 'm', long, default_value_t = 0)]
    parent_number: u32,
    /// Allow a revert that changes nothing.
    #[arg(long)]
    allow_empty_commit: bool,
    #[command(flatten)]
    yes: Yes,
}

fn branch_path(repo: &str, branch: &str) -> String {
    format!("/repositories/{}/branches/{}", seg(repo), seg(branch))
}

pub(crate) async fn run(ctx: &Ctx, command: BranchCommand) -> CliResult<()> {
    match command {
        BranchCommand::List { repository, page } => {
            let uri = ctx.repo(&repository)?;
            let client = ctx.client()?;
            let path = format!("/repositories/{}/branches", seg(&uri.repository));
            show_page(ctx, &client, path, &page, &["Branch", "Commit ID"], |b| {
                vec![s(b, "id").into(), s(b, "commit_id").into()]
            })
            .await
        }
        BranchCommand::Create { branch, source } => {
            let uri = ctx.branch(&branch)?;
            let src = ctx.reference(&source)?;
            uri.same_repository(&src, "source branch must be in the same repository")?;
            let client = ctx.client()?;
            let commit = client
                .post(format!("/repositories/{}/branches", seg(&uri.repository)))
                .json(json!({"name": uri.reference(), "source": src.reference()}))
                .text()
                .await?;
            if ctx.out.json {
                ctx.out
                    .json(&json!({"id": uri.reference(), "commit_id": commit.trim()}));
            } else {
                ctx.out.line(format!("Source ref: {src}"));
                ctx.out.line(format!(
                    "created branch '{}' {}",
                    uri.reference(),
                    commit.trim()
                ));
            }
            Ok(())
        }
        BranchCommand::Delete { branch, yes } => {
            let uri = ctx.branch(&branch)?;
            let client = ctx.client()?;
            confirm(
                yes.yes,
                "Are you sure you want to delete branch",
                "Delete branch aborted",
            )?;
            ctx.out.line(format!("Branch: {uri}"));
            client
                .delete(branch_path(&uri.repository, uri.reference()))
                .ok()
                .await
        }
        BranchCommand::Show { branch } => {
            let uri = ctx.branch(&branch)?;
            let client = ctx.client()?;
            let b = client
                .get(branch_path(&uri.repository, uri.reference()))
                .value()
                .await?;
            if ctx.out.json {
                ctx.out.json(&b);
            } else {
                ctx.out.line(format!("Branch: {uri}"));
                ctx.out.line(format!("Commit ID: {}", s(&b, "commit_id")));
            }
            Ok(())
        }
        BranchCommand::Reset(a) => reset(ctx, a).await,
        BranchCommand::Revert(a) => revert(ctx, a).await,
    }
}

async fn reset(ctx: &Ctx, a: ResetArgs) -> CliResult<()> {
    let uri = ctx.branch(&a.branch)?;
    let client = ctx.client()?;
    ctx.out.line(format!("Branch: {uri}"));
    let (body, question) = match (&a.prefix, &a.object) {
        (Some(p), _) => (
            json!({"type": "common_prefix", "path": p}),
            format!("Are you sure you want to reset all uncommitted changes from path: {p}"),
        ),
        (None, Some(o)) => (
            json!({"type": "object", "path": o}),
            format!("Are you sure you want to reset all uncommitted changes for object: {o}"),
        ),
        (None, None) => (
            json!({"type": "reset"}),
            "Are you sure you want to reset all uncommitted changes".to_owned(),
        ),
    };
    confirm(a.yes.yes, &question, "Reset aborted")?;
    client
        .put(branch_path(&uri.repository, uri.reference()))
        .json(body)
        .ok()
        .await
}

async fn revert(ctx: &Ctx, a: RevertArgs) -> CliResult<()> {
    let uri = ctx.branch(&a.branch)?;
    let client = ctx.client()?;
    ctx.out.line(format!("Branch: {uri}"));
    confirm(
        a.yes.yes,
        &format!(
            "Are you sure you want to revert the effect of commits {}",
            a.commits.join(" ")
        ),
        "Revert aborted",
    )?;
    if a.commits.iter().any(String::is_empty) {
        return usage("commit refs must not be empty");
    }
    for commit in &a.commits {
        let body = json!({
            "ref": commit,
            "parent_number": a.parent_number,
            "allow_empty": a.allow_empty_commit,
        });
        client
            .post(format!(
                "{}/revert",
                branch_path(&uri.repository, uri.reference())
            ))
            .json(body)
            .ok()
            .await?;
        ctx.out
            .line(format!("commit {commit} successfully reverted"));
    }
    Ok(())
}
