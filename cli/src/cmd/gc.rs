//! `gc set-config|get-config|delete-config` (lakectl's retention rules)
//! and Tarn's in-server collection: `gc run` (a job, with progress),
//! `gc runs list|show`, `gc cancel`.

use crate::client::seg;
use crate::error::{failed, CliError, CliResult};
use crate::output::{human_bytes, s};
use crate::Ctx;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

#[derive(Debug, Subcommand)]
pub(crate) enum GcCommand {
    /// Set a repository's retention rules from a JSON file ('-': standard input).
    SetConfig {
        /// lakefs://<repository>
        repository: String,
        /// {"default_retention_days": N, "branches": [{"branch_id": "main", "retention_days": N}]}
        #[arg(short = 'f', long)]
        filename: String,
    },
    /// Show a repository's retention rules.
    GetConfig {
        /// lakefs://<repository>
        repository: String,
        /// As JSON.
        #[arg(short = 'p', long)]
        json: bool,
    },
    /// Delete a repository's retention rules.
    DeleteConfig {
        /// lakefs://<repository>
        repository: String,
    },
    /// Collect a repository's garbage in the server (a job), following its progress.
    Run(RunArgs),
    /// Collection runs.
    #[command(subcommand)]
    Runs(RunsCommand),
    /// Ask a running collection to stop.
    Cancel {
        /// lakefs://<repository>
        repository: String,
        run_id: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// lakefs://<repository>
    repository: String,
    /// Report what would be collected; delete nothing.
    #[arg(long, conflicts_with_all = ["mark_only", "sweep"])]
    dry_run: bool,
    /// Write the list of garbage; delete nothing.
    #[arg(long, conflicts_with = "sweep")]
    mark_only: bool,
    /// Delete exactly the list of an earlier --mark-only run.
    #[arg(long, value_name = "RUN")]
    sweep: Option<String>,
    /// Evaluate retention at this instant (RFC 3339) instead of now.
    #[arg(long)]
    as_of: Option<String>,
    /// Start the run and print its id without waiting.
    #[arg(long)]
    no_wait: bool,
    /// No progress bar.
    #[arg(long)]
    no_progress: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RunsCommand {
    /// A repository's collection runs, newest first.
    List {
        /// lakefs://<repository>
        repository: String,
        #[arg(long, default_value_t = 100)]
        amount: usize,
        #[arg(long, default_value = "")]
        after: String,
    },
    /// One run, with its report.
    Show {
        /// lakefs://<repository>
        repository: String,
        run_id: String,
    },
}

fn rules_path(repo: &str) -> String {
    format!("/repositories/{}/settings/gc_rules", seg(repo))
}

fn runs_path(repo: &str) -> String {
    format!("/repositories/{}/gc/runs", seg(repo))
}

pub(crate) async fn run(ctx: &Ctx, command: GcCommand) -> CliResult<()> {
    match command {
        GcCommand::SetConfig {
            repository,
            filename,
        } => {
            let uri = ctx.repo(&repository)?;
            let text = if filename == "-" {
                std::io::read_to_string(std::io::stdin())
                    .map_err(|e| CliError::io("read standard input", e))?
            } else {
                std::fs::read_to_string(&filename)
                    .map_err(|e| CliError::io(format!("read {filename}"), e))?
            };
            let rules: Value = serde_json::from_str(&text).map_err(|e| {
                CliError::Usage(format!("{filename} is not JSON retention rules: {e}"))
            })?;
            ctx.client()?
                .put(rules_path(&uri.repository))
                .json(rules)
                .ok()
                .await
        }
        GcCommand::GetConfig { repository, json } => {
            let uri = ctx.repo(&repository)?;
            let rules = ctx
                .client()?
                .get(rules_path(&uri.repository))
                .value()
                .await?;
            if json || ctx.out.json {
                ctx.out.json(&rules);
                return Ok(());
            }
            let mut text = format!(
                "Default Retention Days: {}\nBranch Rules: ",
                rules["default_retention_days"]
            );
            for b in rules["branches"].as_array().into_iter().flatten() {
                text.push_str(&format!(
                    "\n  - Branch: {}\n    Retention Days: {}",
                    s(b, "branch_id"),
                    b["retention_days"]
                ));
            }
            ctx.out.line(text);
            Ok(())
        }
        GcCommand::DeleteConfig { repository } => {
            let uri = ctx.repo(&repository)?;
            ctx.client()?.delete(rules_path(&uri.repository)).ok().await
        }
        GcCommand::Run(a) => start(ctx, a).await,
        GcCommand::Runs(RunsCommand::List {
            repository,
            amount,
            after,
        }) => {
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
                runs_path(&uri.repository),
                &page,
                &["Run ID", "Mode", "State", "Created", "Progress"],
                |r| {
                    vec![
                        s(r, "id").into(),
                        s(r, "mode").into(),
                        s(r, "state").into(),
                        s(r, "creation_date").into(),
                        s(&r["progress"], "message").into(),
                    ]
                },
            )
            .await
        }
        GcCommand::Runs(RunsCommand::Show { repository, run_id }) => {
            let uri = ctx.repo(&repository)?;
            let client = ctx.client()?;
            let r = client
                .get(format!("{}/{}", runs_path(&uri.repository), seg(&run_id)))
                .value()
                .await?;
            print_run(ctx, &r);
            Ok(())
        }
        GcCommand::Cancel { repository, run_id } => {
            let uri = ctx.repo(&repository)?;
            let r = ctx
                .client()?
                .delete(format!("{}/{}", runs_path(&uri.repository), seg(&run_id)))
                .value()
                .await?;
            print_run(ctx, &r);
            Ok(())
        }
    }
}

fn print_run(ctx: &Ctx, r: &Value) {
    if ctx.out.json {
        ctx.out.json(r);
        return;
    }
    ctx.out.line(format!(
        "Run: {}\nMode: {}\nState: {}",
        s(r, "id"),
        s(r, "mode"),
        s(r, "state")
    ));
    if let Some(e) = r["error"].as_str() {
        ctx.out.line(format!("Error: {e}"));
    }
    let rep = &r["report"];
    if rep.is_object() {
        let tally = |k: &str| {
            format!(
                "{} objects, {}",
                rep[k]["objects"],
                human_bytes(rep[k]["bytes"].as_u64().unwrap_or_default())
            )
        };
        ctx.out.line(format!(
            "Commits: {} ({} kept)\nScanned: {}\nLive: {}\nIn grace period: {}\nGarbage: {}\nDeleted: {}",
            rep["commits"],
            rep["kept_commits"],
            tally("scanned"),
            tally("live"),
            tally("skipped_grace"),
            tally("garbage"),
            tally("deleted"),
        ));
    }
}

async fn start(ctx: &Ctx, a: RunArgs) -> CliResult<()> {
    let uri = ctx.repo(&a.repository)?;
    let client = ctx.client()?;
    let mode = if a.dry_run {
        "dry_run"
    } else if a.mark_only {
        "mark_only"
    } else if a.sweep.is_some() {
        "sweep"
    } else {
        "full"
    };
    let run = client
        .post(runs_path(&uri.repository))
        .json(json!({"mode": mode, "sweep_run": a.sweep, "as_of": a.as_of}))
        .value()
        .await?;
    let id = s(&run, "id").to_owned();
    if a.no_wait {
        if ctx.out.json {
            ctx.out.json(&run);
        } else {
            ctx.out.line(id);
        }
        return Ok(());
    }
    let last = super::follow_job(
        ctx,
        &client,
        &format!("{}/{}", runs_path(&uri.repository), seg(&id)),
        a.no_progress,
        "collecting",
    )
    .await?;
    print_run(ctx, &last);
    match s(&last, "state") {
        "succeeded" => Ok(()),
        state => failed(format!("garbage collection run {id} {state}")),
    }
}
