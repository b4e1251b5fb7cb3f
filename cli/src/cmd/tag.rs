//! `tag list|create|delete|show`.

use super::{confirm, show_page, Page, Yes};
use crate::client::seg;
use crate::error::CliResult;
use crate::output::s;
use crate::Ctx;
use clap::Subcommand;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub(crate) enum TagCommand {
    /// List a repository's tags.
    List {
        /// lakefs://<repository>
        repository: String,
        #[command(flatten)]
        page: Page,
    },
    /// Tag a commit.
    Create {
        /// lakefs://<repository>/<tag>
        tag: String,
        /// lakefs://<repository>/<ref>: the commit to tag.
        commit: String,
        /// Replace the tag if it exists.
        #[arg(short = 'f', long)]
        force: bool,
    },
    /// Delete a tag.
    Delete {
        /// lakefs://<repository>/<tag>
        tag: String,
        #[command(flatten)]
        yes: Yes,
    },
    /// Show a tag's commit.
    Show {
        /// lakefs://<repository>/<tag>
        tag: String,
    },
}

fn tag_path(repo: &str, tag: &str) -> String {
    format!("/repositories/{}/tags/{}", seg(repo), seg(tag))
}

pub(crate) async fn run(ctx: &Ctx, command: TagCommand) -> CliResult<()> {
    match command {
        TagCommand::List { repository, page } => {
            let uri = ctx.repo(&repository)?;
            let client = ctx.client()?;
            let path = format!("/repositories/{}/tags", seg(&uri.repository));
            show_page(ctx, &client, path, &page, &["Tag", "Commit ID"], |t| {
                vec![s(t, "id").into(), s(t, "commit_id").into()]
            })
            .await
        }
        TagCommand::Create { tag, commit, force } => {
            let uri = ctx.reference(&tag)?;
            let target = ctx.reference(&commit)?;
            uri.same_repository(
                &target,
                "both references must belong to the same repository",
            )?;
            let client = ctx.client()?;
            if force {
                // Check the target first, so a bad one does not cost the old tag.
                client
                    .get(format!(
                        "/repositories/{}/commits/{}",
                        seg(&target.repository),
                        seg(target.reference())
                    ))
                    .ok()
                    .await?;
                match client
                    .delete(tag_path(&uri.repository, uri.reference()))
                    .ok()
                    .await
                {
                    Err(e) if e.status().is_some_and(|s| s.as_u16() == 404) => {}
                    other => other?,
                }
            }
            let created = client
                .post(format!("/repositories/{}/tags", seg(&uri.repository)))
                .json(json!({"id": uri.reference(), "ref": target.reference()}))
                .value()
                .await?;
            if ctx.out.json {
                ctx.out.json(&created);
            } else {
                ctx.out.line(format!(
                    "Created tag '{}' ({{{} {}}})",
                    uri.reference(),
                    s(&created, "commit_id"),
                    s(&created, "id")
                ));
            }
            Ok(())
        }
        TagCommand::Delete { tag, yes } => {
            let uri = ctx.reference(&tag)?;
            let client = ctx.client()?;
            confirm(
                yes.yes,
                "Are you sure you want to delete tag",
                "Delete tag aborted",
            )?;
            client
                .delete(tag_path(&uri.repository, uri.reference()))
                .ok()
                .await
        }
        TagCommand::Show { tag } => {
            let uri = ctx.reference(&tag)?;
            let client = ctx.client()?;
            let t = client
                .get(tag_path(&uri.repository, uri.reference()))
                .value()
                .await?;
            if ctx.out.json {
                ctx.out.json(&t);
            } else {
                ctx.out
                    .line(format!("{} {}", s(&t, "id"), s(&t, "commit_id")));
            }
            Ok(())
        }
    }
}
