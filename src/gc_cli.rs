//! `tarn gc run`: starts a garbage collection run as a job in the
//! configured database, runs a job runner of its own beside any live
//! servers (whichever instance claims the job runs it), shows its progress
//! and prints the report. Ctrl-C asks the run to stop.

use crate::http::shared::dates::parse_rfc3339;
use crate::jobs::gc::{GcMode, GcParameters, GC_CLI_KIND};
use crate::jobs::Jobs;
use crate::settings::{DatabaseKind, Settings};
use crate::startup;
use anyhow::{bail, Context};
use tarn_domain::{Engine, GcReport};
use tarn_model::jobs::{JobKind, JobState};
use tarn_model::RepositoryId;

/// What `tarn gc run` was asked.
pub struct GcRunArgs {
    pub repository: String,
    pub dry_run: bool,
    pub mark_only: bool,
    pub sweep: Option<String>,
    pub as_of: Option<String>,
}

fn mode(args: &GcRunArgs) -> anyhow::Result<GcMode> {
    Ok(match (args.dry_run, args.mark_only, &args.sweep) {
        (false, false, None) => GcMode::Full,
        (true, false, None) => GcMode::DryRun,
        (false, true, None) => GcMode::MarkOnly,
        (false, false, Some(_)) => GcMode::Sweep,
        _ => bail!("--dry-run, --mark-only and --sweep exclude each other"),
    })
}

#[tokio::main]
pub async fn run(settings: Settings, args: GcRunArgs) -> anyhow::Result<()> {
    if settings.database.kind == DatabaseKind::Memory {
        bail!("database.type = \"memory\" holds no repositories: configure the server's database");
    }
    let repo = RepositoryId::new(&args.repository).context("--repository")?;
    let mode = mode(&args)?;
    let as_of_micros = match &args.as_of {
        None => None,
        Some(t) => Some(
            parse_rfc3339(t)
                .with_context(|| {
                    format!("--as-of {t:?}: expected RFC 3339, e.g. 2026-01-31T00:00:00Z")
                })?
                .unix_micros(),
        ),
    };
    let (stores, services) = startup::build_stores(&settings).await?;
    let job_store = services.jobs;
    if as_of_micros.is_some_and(|t| t > stores.clock.now().unix_micros()) && mode != GcMode::DryRun
    {
        bail!("--as-of in the future goes with --dry-run only: a collection never deletes what today's rules keep");
    }
    let jobs = Jobs::new(
        job_store.clone(),
        stores.clock.clone(),
        stores.ids.clone(),
        startup::gc_tuning(&settings),
    );
    let engine = Engine::new(stores, startup::engine_settings(&settings));
    engine
        .get_repository(&repo)
        .await
        .with_context(|| format!("repository {repo}"))?;
    if let Some(run) = &args.sweep {
        let report = engine
            .gc_report(&repo, run)
            .await
            .with_context(|| format!("run {run}"))?;
        if !report.marked || report.dry_run {
            bail!("run {run} has no garbage list to sweep: it was a dry run or did not finish marking");
        }
    }
    let mut params = GcParameters::new(repo.to_string(), mode, jobs.gc_tuning());
    params.sweep_run = args.sweep.clone();
    params.as_of_micros = as_of_micros;
    let job = jobs
        .create(
            &JobKind::new(GC_CLI_KIND)?,
            serde_json::to_string(&params)?,
            Some(repo.clone()),
        )
        .await?;
    println!("gc run {} of {repo} ({mode:?}) started", job.id);
    let finished =
        crate::cli_jobs::follow(&settings, job_store.clone(), engine.clone(), &job.id).await?;
    match finished.state {
        JobState::Succeeded => {
            let report: GcReport = serde_json::from_str(finished.result.as_deref().unwrap_or(""))
                .context("the run's report")?;
            print_report(&report, mode);
            Ok(())
        }
        JobState::Canceled => bail!("gc run {} was canceled", finished.id),
        _ => bail!(
            "gc run {} failed: {}",
            finished.id,
            finished.error.unwrap_or_default()
        ),
    }
}

fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

fn print_report(r: &GcReport, mode: GcMode) {
    let line = |name: &str, t: tarn_domain::Tally| {
        println!(
            "  {name:<14} {:>12} objects {:>12}",
            t.objects,
            human(t.bytes)
        );
    };
    println!("gc run {} of {}:", r.run_id, r.repository);
    if mode != GcMode::Sweep {
        println!(
            "  commits        {:>12} ({} kept by retention)",
            r.commits, r.kept_commits
        );
        line("scanned", r.scanned);
        line("live", r.live);
        line("too young", r.skipped_grace);
        line("garbage", r.garbage);
    }
    if r.swept {
        line("deleted", r.deleted);
        println!("  uploads aborted {:>11}", r.uploads_aborted);
    } else if mode == GcMode::MarkOnly {
        println!(
            "  the list is in _tarn/gc/{}/; delete it with: tarn gc run --repository {} --sweep {}",
            r.run_id, r.repository, r.run_id
        );
    } else {
        println!("  dry run: nothing was deleted");
    }
    for b in &r.branches {
        if b.exclusive.objects > 0 {
            println!(
                "  only {} keeps {} objects, {}",
                b.branch,
                b.exclusive.objects,
                human(b.exclusive.bytes)
            );
        }
    }
}
