//! Tarn's tree compactions (`trees.compact` jobs, see docs/trees.md):
//! `compact run` (a job, with progress), `compact list|show`,
//! `compact cancel`.

use crate::client::seg;
use crate::error::{failed, CliResult};
use crate::output::s;
use crate::Ctx;
use clap::Subcommand;
use serde_json::Value;

#[derive(Debug, Subcommand)]
pub(crate) enum CompactCommand {
    /// Fold the repository's large layers into plain trees now (commits start this on their own), following its progress.
    Run {
        /// lakefs://<repository>
        repository: String,
        /// Start the compaction and print its id without waiting.
        #[arg(long)]
        no_wait: bool,
        /// No progress bar.
        #[arg(long)]
        no_progress: bool,
    },
    /// A repository's compactions, oldest first.
    List {
        /// lakefs://<repository>
        repository: String,
        #[arg(long, default_value_t = 100)]
        amount: usize,
        #[arg(long, default_value = "")]
        after: String,
    },
    /// One compaction, with what it did.
    Show {
        /// lakefs://<repository>
        repository: String,
        compaction_id: String,
    },
    /// Ask a waiting or running compaction to stop.
    Cancel {
        /// lakefs://<repository>
        repository: String,
        compaction_id: String,
    },
}

fn compactions_path(repo: &str) -> String {
    format!("/repositories/{}/trees/compactions", seg(repo))
}

fn compaction_path(repo: &str, id: &str) -> String {
    format!("{}/{}", compactions_path(repo), seg(id))
}

pub(crate) async fn run(ctx: &Ctx, command: CompactCommand) -> CliResult<()> {
    match command {
        CompactCommand::Run {
            repository,
            no_wait,
            no_progress,
        } => {
            let uri = ctx.repo(&repository)?;
            let client = ctx.client()?;
            let path = compactions_path(&uri.repository);
            let started = client.post(path.clone()).value().await?;
            let id = s(&started, "id").to_owned();
            if no_wait {
                if ctx.out.json {
                    ctx.out.json(&started);
                } else {
                    ctx.out.line(id);
                }
                return Ok(());
            }
            let path = compaction_path(&uri.repository, &id);
            let last = super::follow_job(ctx, &client, &path, no_progress, "compacting").await?;
            print_compaction(ctx, &last);
            match s(&last, "state") {
                "succeeded" => Ok(()),
                state => failed(format!("compaction {id} {state}")),
            }
        }
        CompactCommand::List {
            repository,
            amount,
            after,
        } => {
            let uri = ctx.repo(&repository)?;
            let client = ctx.client()?;
            let page = super::Page {
                amount,
                after,
                prefix: String::new(),
            };
            super::show_page(
                ctx,
                &client,
                compactions_path(&uri.repository),
                &page,
                &["Compaction ID", "State", "Created", "Progress"],
                |r| {
                    vec![
                        s(r, "id").into(),
                        s(r, "state").into(),
                        s(r, "creation_date").into(),
                        s(&r["progress"], "message").into(),
                    ]
                },
            )
            .await
        }
        CompactCommand::Show {
            repository,
            compaction_id,
        } => {
            let uri = ctx.repo(&repository)?;
            let path = compaction_path(&uri.repository, &compaction_id);
            let r = ctx.client()?.get(path).value().await?;
            print_compaction(ctx, &r);
            Ok(())
        }
        CompactCommand::Cancel {
            repository,
            compaction_id,
        } => {
            let uri = ctx.repo(&repository)?;
            let path = compaction_path(&uri.repository, &compaction_id);
            let r = ctx.client()?.delete(path).value().await?;
            print_compaction(ctx, &r);
            Ok(())
        }
    }
}

fn print_compaction(ctx: &Ctx, r: &Value) {
    if ctx.out.json {
        ctx.out.json(r);
        return;
    }
    ctx.out.line(format!(
        "Compaction: {}\nState: {}",
        s(r, "id"),
        s(r, "state")
    ));
    if let Some(e) = r["error"].as_str() {
        ctx.out.line(format!("Error: {e}"));
    }
    let rep = &r["report"];
    if rep.is_object() {
        ctx.out.line(format!(
            "Branches looked at: {}\nLayers folded: {} ({} records)\nAlready folded: {}",
            rep["branches"], rep["folded"], rep["records"], rep["already"]
        ));
    }
}
