//! Action files and runs beside a server's data: `tarn admin actions runs`,
//! and the check behind the client's `tarn actions validate`.

use tarn_domain::actions::Action;

/// Checks an action file as the server reads `_lakefs_actions/` (for the
/// client's `tarn actions validate`): what it holds, or what is wrong.
pub fn validate(bytes: &[u8]) -> Result<String, String> {
    let action = Action::parse(bytes).map_err(|e| e.to_string())?;
    let events: Vec<String> = action
        .on
        .iter()
        .map(|(event, branches)| {
            if branches.is_empty() {
                event.to_string()
            } else {
                format!("{event} ({})", branches.join(", "))
            }
        })
        .collect();
    Ok(format!(
        "valid action {:?}: {} hook(s) on {}",
        action.name,
        action.hooks.len(),
        events.join(", ")
    ))
}

/// `lakefs://repo` → the repository.
fn repository_of(uri: &str) -> anyhow::Result<tarn_model::RepositoryId> {
    let name = uri
        .strip_prefix("lakefs://")
        .unwrap_or(uri)
        .trim_end_matches('/');
    Ok(tarn_model::RepositoryId::new(name)?)
}

fn status(passed: bool) -> &'static str {
    if passed {
        "completed"
    } else {
        "failed"
    }
}

fn time(t: tarn_model::Timestamp) -> String {
    crate::http::shared::dates::iso8601(t.unix_micros())
}

/// `tarn actions runs list lakefs://repo [--branch B | --commit C]`: the
/// repository's runs, newest first.
#[tokio::main]
pub async fn list_runs(
    settings: crate::settings::Settings,
    repository: &str,
    branch: Option<String>,
    commit: Option<String>,
    amount: usize,
) -> anyhow::Result<()> {
    let repo = repository_of(repository)?;
    let (_stores, services) = crate::startup::build_stores(&settings).await?;
    let filter = match (&branch, &commit) {
        (Some(_), Some(_)) => anyhow::bail!("--branch and --commit cannot be used together"),
        (Some(b), None) => tarn_ports::RunFilter::Branch(b),
        (None, Some(c)) => tarn_ports::RunFilter::Commit(c),
        (None, None) => tarn_ports::RunFilter::All,
    };
    let runs = services.runs.list_runs(&repo, filter, "", amount).await?;
    println!(
        "{:<20}  {:<18}  {:<20}  {:<24}  {:<24}  {:<10}  COMMIT",
        "RUN ID", "EVENT", "BRANCH", "START TIME", "END TIME", "STATUS"
    );
    for r in runs {
        println!(
            "{:<20}  {:<18}  {:<20}  {:<24}  {:<24}  {:<10}  {}",
            r.run_id,
            r.event_type,
            r.branch,
            time(r.start_time),
            time(r.end_time),
            status(r.passed),
            r.commit_id
        );
    }
    Ok(())
}

/// `tarn actions runs describe lakefs://repo RUN_ID`: a run, its hooks and
/// each hook's log.
#[tokio::main]
pub async fn describe_run(
    settings: crate::settings::Settings,
    repository: &str,
    run_id: &str,
) -> anyhow::Result<()> {
    let repo = repository_of(repository)?;
    let (stores, services) = crate::startup::build_stores(&settings).await?;
    let run = services.runs.get_run(&repo, run_id).await?;
    println!(
        "Run ID: {}\nEvent: {}\nBranch: {}\nSource ref: {}\nCommit: {}\nStart time: {}\nEnd time: {}\nStatus: {}\n",
        run.run_id,
        run.event_type,
        run.branch,
        run.source_ref,
        run.commit_id,
        time(run.start_time),
        time(run.end_time),
        status(run.passed)
    );
    let engine = tarn_domain::Engine::new(stores, crate::startup::engine_settings(&settings));
    let ns = engine.get_repository(&repo).await?.storage_namespace;
    let hooks = services
        .runs
        .list_hook_runs(&repo, run_id, "", tarn_domain::MAX_AMOUNT)
        .await?;
    for h in hooks {
        let state = match (h.start_time, h.passed) {
            (None, _) => "skipped",
            (Some(_), p) => status(p),
        };
        println!(
            "Hook run {} (action {:?}, hook {:?}): {state}",
            h.hook_run_id, h.action_name, h.hook_id
        );
        if h.start_time.is_none() {
            continue;
        }
        let key = tarn_model::BlockKey::new(format!(
            "_lakefs/actions/log/{run_id}/{}.log",
            h.hook_run_id
        ))?;
        match engine.stores().blocks.get(&ns, &key, None).await {
            Ok(got) => {
                let log = got.body.collect_bounded(4 << 20).await?;
                println!("{}", String::from_utf8_lossy(&log));
            }
            Err(e) => println!("(no log: {e})\n"),
        }
    }
    Ok(())
}
