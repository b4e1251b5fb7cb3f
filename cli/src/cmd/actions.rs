//! `actions validate FILE` and `actions runs list|describe`.

use crate::client::{seg, Client};
use crate::error::{failed, CliError, CliResult};
use crate::output::{s, Paint};
use crate::Ctx;
use clap::Subcommand;
use serde_json::{json, Value};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub(crate) enum ActionsCommand {
    /// Check an action file ('-': standard input) as the server reads it.
    Validate { file: PathBuf },
    /// The runs of a repository's hooks.
    #[command(subcommand)]
    Runs(RunsCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum RunsCommand {
    /// A repository's runs, newest first.
    List {
        /// lakefs://<repository>
        repository: String,
        /// Only runs on this branch.
        #[arg(long, conflicts_with = "commit")]
        branch: Option<String>,
        /// Only runs of this commit.
        #[arg(long)]
        commit: Option<String>,
        #[arg(long, default_value_t = 100)]
        amount: usize,
        #[arg(long, default_value = "")]
        after: String,
    },
    /// One run: its hooks and each hook's output.
    Describe {
        /// lakefs://<repository>
        repository: String,
        run_id: String,
    },
}

pub(crate) async fn run(ctx: &Ctx, command: ActionsCommand) -> CliResult<()> {
    match command {
        ActionsCommand::Validate { file } => {
            let bytes = if file.as_os_str() == "-" {
                let mut buf = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
                    .map_err(|e| CliError::io("read standard input", e))?;
                buf
            } else {
                std::fs::read(&file)
                    .map_err(|e| CliError::io(format!("cannot read {}", file.display()), e))?
            };
            match (ctx.local.validate_action)(&bytes) {
                Ok(summary) => {
                    ctx.out
                        .line(format!("File validated successfully: '{}'", file.display()));
                    ctx.out.line(format!("{}: {summary}", file.display()));
                    Ok(())
                }
                Err(e) => failed(format!("{}: {e}", file.display())),
            }
        }
        ActionsCommand::Runs(RunsCommand::List {
            repository,
            branch,
            commit,
            amount,
            after,
        }) => {
            let uri = ctx.repo(&repository)?;
            let client = ctx.client()?;
            let mut call = client
                .get(format!(
                    "/repositories/{}/actions/runs",
                    seg(&uri.repository)
                ))
                .query("amount", amount)
                .query("after", &after);
            call = call
                .query_opt("branch", branch.as_deref())
                .query_opt("commit", commit.as_deref());
            let body = call.value().await?;
            let runs = body["results"].as_array().cloned().unwrap_or_default();
            if ctx.out.json {
                ctx.out.json(&Value::Array(runs));
                return Ok(());
            }
            let rows: Vec<Vec<String>> = runs.iter().map(run_row).collect();
            ctx.out.table(
                &[
                    "Run ID",
                    "Event",
                    "Start Time",
                    "End Time",
                    "Branch",
                    "Commit ID",
                    "Status",
                ],
                &rows,
            );
            ctx.out.more_hint(&body["pagination"], amount);
            Ok(())
        }
        ActionsCommand::Runs(RunsCommand::Describe { repository, run_id }) => {
            let uri = ctx.repo(&repository)?;
            let client = ctx.client()?;
            describe(ctx, &client, &uri.repository, &run_id).await
        }
    }
}

fn run_row(r: &Value) -> Vec<String> {
    vec![
        s(r, "run_id").into(),
        s(r, "event_type").into(),
        s(r, "start_time").into(),
        s(r, "end_time").into(),
        s(r, "branch").into(),
        s(r, "commit_id").into(),
        s(r, "status").into(),
    ]
}

async fn describe(ctx: &Ctx, client: &Client, repo: &str, run_id: &str) -> CliResult<()> {
    let base = format!("/repositories/{}/actions/runs/{}", seg(repo), seg(run_id));
    let run = client.get(base.clone()).value().await?;
    let hooks = crate::client::Pager::new(client, format!("{base}/hooks"))
        .amount(1000)
        .all()
        .await?;
    let mut outputs = Vec::new();
    for h in &hooks {
        let out = client
            .get(format!("{base}/hooks/{}/output", seg(s(h, "hook_run_id"))))
            .text()
            .await?;
        outputs.push(out);
    }
    if ctx.out.json {
        let hooks: Vec<Value> = hooks
            .into_iter()
            .zip(outputs)
            .map(|(mut h, o)| {
                h["output"] = json!(o);
                h
            })
            .collect();
        ctx.out.json(&json!({"run": run, "hooks": hooks}));
        return Ok(());
    }
    ctx.out.line(format!("Repository: lakefs://{repo}"));
    ctx.out.table(
        &[
            "Run ID",
            "Event",
            "Start Time",
            "End Time",
            "Branch",
            "Commit ID",
            "Status",
        ],
        &[run_row(&run)],
    );
    for (h, output) in hooks.iter().zip(outputs) {
        let status = s(h, "status");
        let painted = ctx.out.paint(
            status,
            if status == "completed" {
                Paint::Green
            } else {
                Paint::Red
            },
        );
        ctx.out.table(
            &[
                "Hook Run ID",
                "Hook ID",
                "Start Time",
                "End Time",
                "Action",
                "Status",
            ],
            &[vec![
                s(h, "hook_run_id").into(),
                s(h, "hook_id").into(),
                s(h, "start_time").into(),
                s(h, "end_time").into(),
                s(h, "action").into(),
                painted,
            ]],
        );
        ctx.out.line(output);
    }
    Ok(())
}
