//! `repo list|create|create-bare|delete`.

use super::{confirm, show_page, Page, Yes};
use crate::client::seg;
use crate::error::CliResult;
use crate::output::{date, n, s};
use crate::Ctx;
use clap::{Args, Subcommand};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub(crate) enum RepoCommand {
    /// List repositories.
    List(#[command(flatten)] Page),
    /// Create a repository with a storage namespace.
    Create(CreateArgs),
    /// Create a repository with no initial commit (to restore refs into).
    CreateBare(BareArgs),
    /// Delete a repository (its objects stay in the namespace).
    Delete {
        /// lakefs://<repository>
        repository: String,
        #[command(flatten)]
        yes: Yes,
    },
}

#[derive(Debug, Args)]
pub(crate) struct BareArgs {
    /// lakefs://<repository>
    repository: String,
    /// Where its objects go: s3://bucket/prefix, local://path ...
    storage_namespace: String,
    /// The default branch.
    #[arg(short = 'd', long, default_value = "main")]
    default_branch: String,
}

#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    #[command(flatten)]
    repo: BareArgs,
    /// Add sample data to the repository.
    #[arg(long)]
    sample_data: bool,
}

pub(crate) async fn run(ctx: &Ctx, command: RepoCommand) -> CliResult<()> {
    match command {
        RepoCommand::List(page) => {
            let client = ctx.client()?;
            show_page(
                ctx,
                &client,
                "/repositories".into(),
                &page,
                &[
                    "Repository",
                    "Creation Date",
                    "Default Ref Name",
                    "Storage Namespace",
                ],
                |r| {
                    vec![
                        s(r, "id").into(),
                        date(n(r, "creation_date")),
                        s(r, "default_branch").into(),
                        s(r, "storage_namespace").into(),
                    ]
                },
            )
            .await
        }
        RepoCommand::Create(a) => create(ctx, a.repo, false, a.sample_data).await,
        RepoCommand::CreateBare(a) => create(ctx, a, true, false).await,
        RepoCommand::Delete { repository, yes } => {
            let uri = ctx.repo(&repository)?;
            let client = ctx.client()?;
            ctx.out.line(format!("Repository: {uri}"));
            confirm(
                yes.yes,
                &format!(
                    "Are you sure you want to delete repository: {}",
                    uri.repository
                ),
                &format!("Delete Repository '{}' aborted", uri.repository),
            )?;
            client
                .delete(format!("/repositories/{}", seg(&uri.repository)))
                .ok()
                .await?;
            ctx.out
                .line(format!("Repository '{}' deleted", uri.repository));
            Ok(())
        }
    }
}

async fn create(ctx: &Ctx, a: BareArgs, bare: bool, sample_data: bool) -> CliResult<()> {
    let uri = ctx.repo(&a.repository)?;
    let client = ctx.client()?;
    let mut call = client.post("/repositories").json(json!({
        "name": uri.repository,
        "storage_namespace": a.storage_namespace,
        "default_branch": a.default_branch,
        "sample_data": sample_data,
    }));
    if bare {
        call = call.query("bare", true);
    }
    let repo = call.value().await?;
    if ctx.out.json {
        ctx.out.json(&repo);
        return Ok(());
    }
    ctx.out.line(format!("Repository: {uri}"));
    ctx.out.line(format!(
        "Repository '{}' created:\nstorage namespace: {}\ndefault branch: {}\ntimestamp: {}",
        s(&repo, "id"),
        s(&repo, "storage_namespace"),
        s(&repo, "default_branch"),
        n(&repo, "creation_date"),
    ));
    if sample_data {
        ctx.out.line("sample data included");
    }
    Ok(())
}
