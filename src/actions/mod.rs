//! The actions service: on each event the engine reports, reads the action
//! files of the event's reference (`_lakefs_actions/`), runs the hooks of
//! those that match (the actions side by side, each one's hooks in order),
//! writes each hook's log and the run's manifest under
//! `_lakefs/actions/log/<run>/` in the namespace, and records the run.
//! A failed `pre-*` hook, or an invalid action file, stops the operation.

mod airflow;
mod condition;
mod env;
mod event_info;
mod lua;
mod lua_hook;
mod manifest;
mod network;
mod run_id;
mod webhook;

use crate::settings::ActionsSettings;
use event_info::EventInfo;
use futures::future::BoxFuture;
use std::sync::Arc;
use tarn_domain::actions::{
    aborted, check_unique_names, Action, HookEvent, HookKind, HookRecord, Hooks, ACTIONS_PREFIX,
};
use tarn_domain::{Engine, ListRequest, Listing};
use tarn_model::runs::{ActionRun, HookRun};
use tarn_model::{BlockKey, RepositoryId, StorageNamespace, Timestamp};
use tarn_ports::{ActionRunStore, ByteStream};

/// What identifies an action file's content: repository, path, stored
/// address, checksum.
type ParsedKey = (String, String, String, String);

/// `tarn lua-hook`: a Lua hook's child process.
pub use lua::child_main as lua_child_main;

/// The run records, for the API.
pub struct ActionRuns(pub Arc<dyn ActionRunStore>);

/// The largest action file read.
const MAX_ACTION_FILE: usize = 1 << 20;
/// Post-event runs at once; more wait their turn (a burst of commits does
/// not start a burst of hook runs).
const POST_RUNS_AT_ONCE: usize = 16;

/// Makes a token for a user (by id).
pub type TokenFor = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// How Lua hooks reach this server's API: its address, and a token for a
/// user (by id), made when a hook needs one and never shown to it.
#[derive(Clone)]
pub struct ApiAccess {
    /// `http://127.0.0.1:<port>/api/v1`.
    pub base: String,
    pub token_for: TokenFor,
}

/// Runs hooks and records their runs.
#[derive(Clone)]
pub struct ActionsService {
    runs: Arc<dyn ActionRunStore>,
    settings: ActionsSettings,
    http: reqwest::Client,
    /// Where webhook and Airflow hooks may not connect.
    blocked: network::Blocked,
    api: Option<ApiAccess>,
    /// The client for the API: never through a proxy (the requests carry a
    /// user's token), never redirected.
    api_http: reqwest::Client,
    post_slots: Arc<tokio::sync::Semaphore>,
    /// Lua hooks' child processes, started ahead.
    lua_children: Arc<lua::ChildPool>,
    /// Parsed action files by repository, path, stored address and
    /// checksum: a file is read and parsed once, whatever references hold
    /// it.
    parsed: moka::sync::Cache<ParsedKey, Arc<Result<Action, String>>>,
}

/// A run that happened: its id and its hooks' errors.
struct Ran {
    id: String,
    errors: Vec<String>,
}

/// One hook's outcome.
struct HookOutcome {
    record: HookRun,
    error: Option<String>,
}

impl ActionsService {
    /// A service recording runs in `runs`.
    pub fn new(
        runs: Arc<dyn ActionRunStore>,
        settings: ActionsSettings,
        cache_bytes: u64,
    ) -> anyhow::Result<Self> {
        // No redirects: a hook's headers go to the host it names, and no
        // other.
        let blocked = network::Blocked::parse(&settings.network.blocked_addresses)?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("tarn/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(blocked.clone()))
            .build()?;
        // A parsed action takes a few times its text: its weight, times
        // four, plus the key.
        let parsed = moka::sync::Cache::builder()
            .max_capacity(cache_bytes)
            .weigher(|k: &ParsedKey, v: &Arc<Result<Action, String>>| {
                let body = match v.as_ref() {
                    Ok(a) => a.weight(),
                    Err(e) => e.len(),
                };
                let key = k.0.len() + k.1.len() + k.2.len() + k.3.len();
                u32::try_from(key + body * 4 + 256).unwrap_or(u32::MAX)
            })
            .build();
        Ok(Self {
            runs,
            settings,
            http,
            blocked,
            api: None,
            api_http: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            post_slots: Arc::new(tokio::sync::Semaphore::new(POST_RUNS_AT_ONCE)),
            lua_children: Arc::new(lua::ChildPool::new()),
            parsed,
        })
    }

    /// Lua hooks call the API at `api` (without it, their `lakefs`
    /// module refuses every call).
    pub fn with_api(mut self, api: ApiAccess) -> Self {
        self.api = Some(api);
        self
    }

    /// The actions on the event's reference, parsed (each file once per
    /// content), or the first file's problem; `None` without action files.
    async fn actions(
        &self,
        engine: &Engine,
        repo: &RepositoryId,
        reference: &str,
    ) -> tarn_domain::Result<Option<Result<Vec<Action>, String>>> {
        let mut files = Vec::new();
        let mut after = None;
        loop {
            let req = ListRequest {
                prefix: ACTIONS_PREFIX.to_owned(),
                after: after.clone(),
                amount: 1000,
                delimiter: Some("/".to_owned()),
            };
            let page = engine.list_objects(repo, reference, &req).await?;
            for item in page.items {
                let Listing::Object(path, entry) = item else {
                    continue;
                };
                let key = (
                    repo.to_string(),
                    path.to_string(),
                    format!("{:?}", entry.address),
                    entry.checksum.clone(),
                );
                let parsed = match self.parsed.get(&key) {
                    Some(p) => p,
                    None => {
                        let read = engine.read_object(repo, reference, &path, None).await?;
                        let same = read.entry.address == entry.address
                            && read.entry.checksum == entry.checksum;
                        let bytes = read
                            .data
                            .body
                            .collect_bounded(MAX_ACTION_FILE)
                            .await
                            .map_err(|e| aborted(format!("reading action file {path}: {e}")))?;
                        let p = Arc::new(
                            Action::parse(&bytes).map_err(|e| format!("parsing file {path}: {e}")),
                        );
                        // Changed since it was listed: used, not kept.
                        if same {
                            self.parsed.insert(key, p.clone());
                        }
                        p
                    }
                };
                files.push((path.to_string(), parsed));
            }
            if !page.has_more {
                break;
            }
            after = Some(page.next_offset);
        }
        if files.is_empty() {
            return Ok(None);
        }
        let mut actions: Vec<(&str, &Action)> = Vec::with_capacity(files.len());
        for (path, parsed) in &files {
            match parsed.as_ref() {
                Err(e) => return Ok(Some(Err(e.clone()))),
                Ok(a) => actions.push((path, a)),
            }
        }
        if let Err(e) = check_unique_names(actions.iter().copied()) {
            return Ok(Some(Err(e.to_string())));
        }
        Ok(Some(Ok(actions
            .into_iter()
            .map(|(_, a)| a.clone())
            .collect())))
    }

    /// Runs the event's hooks; `None` when no hook matched.
    async fn execute(
        &self,
        engine: &Engine,
        record: &HookRecord,
    ) -> tarn_domain::Result<Option<Ran>> {
        if !self.settings.enabled {
            return Ok(None);
        }
        let repo = RepositoryId::new(&record.repository).map_err(tarn_domain::Error::from)?;
        let Some(parsed) = self.actions(engine, &repo, &record.source_ref).await? else {
            return Ok(None);
        };
        let now = engine.now();
        let run_id = run_id::new_run_id(now.unix_seconds());
        let actions = match parsed {
            Ok(a) => a,
            Err(e) => {
                // The run fails, and says which file is wrong.
                self.record(engine, record, &repo, &run_id, now, now, Vec::new(), false)
                    .await?;
                return Ok(Some(Ran {
                    id: run_id,
                    errors: vec![e],
                }));
            }
        };
        let matched: Vec<&Action> = actions
            .iter()
            .filter(|a| a.matches(record.event, &record.branch))
            .collect();
        if matched.iter().all(|a| a.hooks.is_empty()) {
            return Ok(None);
        }
        let ns =
            StorageNamespace::new(&record.storage_namespace).map_err(tarn_domain::Error::from)?;
        let per_action = matched
            .iter()
            .enumerate()
            .map(|(i, action)| self.run_action(engine, record, &ns, &run_id, i, action));
        let outcomes: Vec<HookOutcome> = futures::future::join_all(per_action)
            .await
            .into_iter()
            .flatten()
            .collect();
        let errors: Vec<String> = outcomes.iter().filter_map(|o| o.error.clone()).collect();
        let start = outcomes
            .iter()
            .filter_map(|o| o.record.start_time)
            .min()
            .unwrap_or(now);
        let end = outcomes
            .iter()
            .filter_map(|o| o.record.end_time)
            .max()
            .unwrap_or(now);
        let hooks: Vec<HookRun> = outcomes.into_iter().map(|o| o.record).collect();
        self.record(
            engine,
            record,
            &repo,
            &run_id,
            start,
            end,
            hooks,
            errors.is_empty(),
        )
        .await?;
        Ok(Some(Ran { id: run_id, errors }))
    }

    /// Runs one action's hooks in order.
    async fn run_action(
        &self,
        engine: &Engine,
        record: &HookRecord,
        ns: &StorageNamespace,
        run_id: &str,
        index: usize,
        action: &Action,
    ) -> Vec<HookOutcome> {
        let mut out = Vec::with_capacity(action.hooks.len());
        let mut failed = false;
        for (h, hook) in action.hooks.iter().enumerate() {
            let hook_run_id = format!("{index:04}_{h:04}");
            let mut run = HookRun {
                run_id: run_id.to_owned(),
                hook_run_id: hook_run_id.clone(),
                hook_id: hook.id.clone(),
                action_name: action.name.clone(),
                start_time: None,
                end_time: None,
                passed: false,
            };
            let go = match &hook.condition {
                None => Ok(!failed),
                Some(expr) => condition::evaluate(expr, failed),
            };
            let started = engine.now();
            // lakeFS says "action failed" of a hook that ran, not of a
            // condition it could not evaluate.
            let ran = matches!(go, Ok(true));
            let (result, log) = match go {
                Ok(false) => {
                    out.push(HookOutcome {
                        record: run,
                        error: None,
                    });
                    continue;
                }
                Ok(true) => self.run_hook(record, run_id, action, hook, started).await,
                Err(e) => (Err(e), String::new()),
            };
            let ended = engine.now();
            run.start_time = Some(started);
            run.end_time = Some(ended);
            run.passed = result.is_ok();
            let mut log = log;
            if let Err(e) = &result {
                log.push_str(&format!("Error: {e}\n"));
            }
            let key = format!("_lakefs/actions/log/{run_id}/{hook_run_id}.log");
            if let Err(e) = write(engine, ns, &key, log.into_bytes()).await {
                tracing::warn!(error = %e, %key, "cannot write a hook's log");
            }
            let error = result.err().map(|e| {
                failed = true;
                let what = if ran { "action failed: " } else { "" };
                format!(
                    "hook run id '{hook_run_id}' failed on action '{}' hook '{}': {what}{e}",
                    action.name, hook.id
                )
            });
            out.push(HookOutcome { record: run, error });
        }
        out
    }

    /// Runs one hook: its outcome and its log.
    async fn run_hook(
        &self,
        record: &HookRecord,
        run_id: &str,
        action: &Action,
        hook: &tarn_domain::actions::HookSpec,
        now: Timestamp,
    ) -> (Result<(), String>, String) {
        let info = EventInfo::new(record, &action.name, &hook.id, now.unix_seconds());
        let body = match serde_json::to_string(&info) {
            Ok(b) => b,
            Err(e) => return (Err(e.to_string()), String::new()),
        };
        if matches!(hook.kind, HookKind::Webhook | HookKind::Airflow) {
            if let Some(serde_json::Value::String(url)) = hook.properties.get("url") {
                if let Err(e) = self.blocked.check_url(url) {
                    return (Err(e), String::new());
                }
            }
        }
        match hook.kind {
            HookKind::Webhook => {
                webhook::run(&self.http, &hook.properties, &body, &self.settings.env).await
            }
            HookKind::Lua => {
                let api = self.api.as_ref().map(|a| (a, &self.api_http));
                lua_hook::run(
                    &self.lua_children,
                    api,
                    record,
                    action,
                    hook,
                    run_id,
                    &self.settings,
                )
                .await
            }
            HookKind::Airflow => {
                let event = match serde_json::to_value(&info) {
                    Ok(v) => v,
                    Err(e) => return (Err(e.to_string()), String::new()),
                };
                airflow::run(
                    &self.http,
                    &hook.properties,
                    event,
                    &hook.id,
                    run_id,
                    &self.settings.env,
                )
                .await
            }
        }
    }

    /// Stores the run and writes its manifest.
    #[allow(clippy::too_many_arguments)]
    async fn record(
        &self,
        engine: &Engine,
        record: &HookRecord,
        repo: &RepositoryId,
        run_id: &str,
        start: Timestamp,
        end: Timestamp,
        hooks: Vec<HookRun>,
        passed: bool,
    ) -> tarn_domain::Result<()> {
        let run = ActionRun {
            repository: repo.clone(),
            run_id: run_id.to_owned(),
            event_type: record.event.as_str().to_owned(),
            branch: record.branch.clone(),
            source_ref: record.source_ref.clone(),
            commit_id: record.commit_id.clone(),
            start_time: start,
            end_time: end,
            passed,
        };
        // The record and the manifest are independent: written together.
        let (recorded, ()) = tokio::join!(
            self.runs.record(&run, &hooks),
            write_manifest(engine, &run, &hooks, &record.storage_namespace)
        );
        recorded.map_err(tarn_domain::Error::from)?;
        Ok(())
    }

    /// Rewrites the manifest of the pre run of `record` (its commit is known).
    async fn rewrite_manifest(&self, engine: &Engine, repo: &RepositoryId, record: &HookRecord) {
        let Ok(run) = self.runs.get_run(repo, &record.pre_run_id).await else {
            return;
        };
        let Ok(hooks) = self
            .runs
            .list_hook_runs(repo, &record.pre_run_id, "", tarn_domain::MAX_AMOUNT)
            .await
        else {
            return;
        };
        write_manifest(engine, &run, &hooks, &record.storage_namespace).await;
    }

    /// The post event's work: the pre run learns its commit, then the hooks run.
    async fn post_run(&self, engine: Engine, record: HookRecord) {
        let pre_learns_commit =
            matches!(record.event, HookEvent::PostCommit | HookEvent::PostRevert);
        if pre_learns_commit && !record.pre_run_id.is_empty() {
            if let Ok(repo) = RepositoryId::new(&record.repository) {
                if let Err(e) = self
                    .runs
                    .set_commit(&repo, &record.pre_run_id, &record.commit_id)
                    .await
                {
                    tracing::warn!(error = %e, run = %record.pre_run_id, "cannot set the commit of a pre run");
                } else {
                    self.rewrite_manifest(&engine, &repo, &record).await;
                }
            }
        }
        match self.execute(&engine, &record).await {
            Ok(Some(ran)) if !ran.errors.is_empty() => {
                tracing::warn!(run = %ran.id, event = %record.event, errors = ?ran.errors, "post hooks failed");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, event = %record.event, "post hooks did not run"),
        }
    }
}

/// Writes a run's manifest; a failure is logged (the run is recorded).
async fn write_manifest(engine: &Engine, run: &ActionRun, hooks: &[HookRun], ns: &str) {
    let Ok(ns) = StorageNamespace::new(ns) else {
        return;
    };
    let key = manifest::manifest_key(&run.run_id);
    if let Err(e) = write(engine, &ns, &key, manifest::manifest(run, hooks)).await {
        tracing::warn!(error = %e, %key, "cannot write a run's manifest");
    }
}

async fn write(
    engine: &Engine,
    ns: &StorageNamespace,
    key: &str,
    bytes: Vec<u8>,
) -> tarn_domain::Result<()> {
    let key = BlockKey::new(key).map_err(tarn_domain::Error::from)?;
    let size = bytes.len() as u64;
    engine
        .stores()
        .blocks
        .put(ns, &key, ByteStream::from_bytes(bytes), Some(size))
        .await
        .map_err(tarn_domain::Error::from)?;
    Ok(())
}

/// lakeFS's multi-error text.
fn errors_text(errors: &[String]) -> String {
    let head = if errors.len() == 1 {
        "1 error occurred:".to_owned()
    } else {
        format!("{} errors occurred:", errors.len())
    };
    let mut out = head;
    for e in errors {
        out.push_str("\n\t* ");
        out.push_str(e);
    }
    out.push_str("\n\n");
    out
}

impl Hooks for ActionsService {
    fn pre<'a>(
        &'a self,
        engine: &'a Engine,
        record: HookRecord,
    ) -> BoxFuture<'a, tarn_domain::Result<String>> {
        Box::pin(async move {
            match self.execute(engine, &record).await? {
                None => Ok(String::new()),
                Some(ran) if ran.errors.is_empty() => Ok(ran.id),
                Some(ran) => Err(aborted(format!(
                    "{} hook aborted, run id '{}': {}",
                    record.event,
                    ran.id,
                    errors_text(&ran.errors)
                ))),
            }
        })
    }

    fn post(&self, engine: &Engine, record: HookRecord) {
        let this = self.clone();
        let engine = engine.without_hooks();
        tokio::spawn(async move {
            let Ok(_slot) = this.post_slots.clone().acquire_owned().await else {
                return;
            };
            this.post_run(engine, record).await
        });
    }
}
