//! The composition root: the only place that picks adapters and wires the
//! server together.

use crate::http;
use crate::http::api::config::ServerInfo;
use crate::http::request_log::RedactedRootSpan;
use crate::http::s3::GatewayConfig;
use crate::http::shared::deadline::{self, BodyLimits};
use crate::http::shared::session::AuthState;
use crate::jobs::gc::{GcHandler, GcTuning, GC_CLI_KIND, GC_KIND};
use crate::jobs::{JobRegistry, JobRunner, Jobs, RunnerSettings};
use crate::settings::{BlockstoreKind, Database, DatabaseKind, Settings};
use actix_web::dev::{Server, ServerHandle};
use actix_web::{web, App, HttpServer};
use anyhow::{bail, Context};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;
use tarn_adapter_local::LocalBlockStore;
use tarn_adapter_memory::{
    MemoryAuthStore, MemoryBlockStore, MemoryJobStore, MemoryMultipartStore, MemoryRefStore,
    MemoryRunStore, MemoryStagingStore, SystemClock, UniqueIds,
};
#[cfg(feature = "s3")]
use tarn_adapter_s3::S3BlockStore;
use tarn_adapter_sql::{Backend, SqlStore};
use tarn_domain::auth::{Auth, AuthSettings};
use tarn_domain::{Engine, EngineSettings, Stores};
use tarn_model::jobs::{JobKind, JobOwner};
use tarn_ports::{
    ActionRunStore, AuthStore, BlockStore, Clock, IdGenerator, JobStore, MultipartStore, RefStore,
    StagingStore,
};
use tracing_actix_web::TracingLogger;

/// How long in-flight requests may take to finish after a shutdown signal.
const SHUTDOWN_GRACE_SECS: u64 = 30;

/// A bound, not yet running server.
pub struct Application {
    server: Server,
    address: SocketAddr,
    gateway: Option<(Server, SocketAddr)>,
    signals: ShutdownSignals,
    admin_ready: bool,
    jobs: JobRunner,
    /// `gc.schedule`: the engine and jobs to start scheduled runs with.
    schedule: Option<(Engine, Jobs, Duration)>,
}

impl Application {
    /// Builds the stores that `settings` name and binds the listener.
    /// `admin`, when given, is the initial user (quickstart) with its key pair.
    pub async fn build(
        settings: &Settings,
        admin: Option<(&str, &str, &str)>,
    ) -> anyhow::Result<Self> {
        let (stores, services) = build_stores(settings).await?;
        let Services {
            auth: auth_store,
            jobs: job_store,
            runs: run_store,
        } = services;
        let jobs_service = web::Data::new(Jobs::new(
            job_store.clone(),
            stores.clock.clone(),
            stores.ids.clone(),
            gc_tuning(settings),
        ));
        let info = web::Data::new(server_info(settings, stores.blocks.supports_presign()));
        let gateway = web::Data::new(GatewayConfig {
            domains: settings.gateways.s3.domain_name.clone(),
            region: settings.gateways.s3.region.clone(),
        });
        let auth = auth_service(settings, auth_store, stores.clock.clone())?;
        let mut admin_ready = false;
        if let Some((user, key, secret)) = admin {
            auth.ensure_setup(user, key, secret)
                .await
                .context("cannot set up the quickstart user")?;
            // A server set up otherwise keeps its own users.
            admin_ready = auth.authenticate_key(key, secret).await?.is_some();
            // Its tokens must not be signed with quickstart's public key.
            if !admin_ready
                && settings.auth.encrypt.secret_key.expose()
                    == crate::settings::QUICKSTART_SECRET_KEY
            {
                bail!(
                    "this data was set up with its own users: set its auth.encrypt.secret_key \
                     (TARN_AUTH__ENCRYPT__SECRET_KEY) instead of quickstart's public default"
                );
            }
        }
        let auth = web::Data::new(AuthState::new(
            auth,
            settings.auth.encrypt.secret_key.expose(),
        ));
        let listener = TcpListener::bind(&settings.listen_address)
            .with_context(|| format!("cannot listen on {}", settings.listen_address))?;
        let address = listener.local_addr()?;
        // Lua hooks call this server's API as the event's user, over
        // loopback when it listens on every address.
        let api_host = match address.ip() {
            ip if ip.is_unspecified() => std::net::IpAddr::from([127, 0, 0, 1]),
            ip => ip,
        };
        let tokens = auth.clone();
        let lua_secs = settings.actions.lua.timeout_secs;
        let api = crate::actions::ApiAccess {
            base: format!(
                "http://{}/api/v1",
                std::net::SocketAddr::new(api_host, address.port())
            ),
            token_for: Arc::new(move |user: &str| {
                let id = tarn_model::auth::UserId::new(user).ok()?;
                // It outlives the hook's run by a little, no more.
                let secs = lua_secs.saturating_add(60);
                tokens.issue_token_for(&id, secs).ok().map(|(t, _)| t)
            }),
        };
        let actions = crate::actions::ActionsService::new(
            run_store.clone(),
            settings.actions.clone(),
            settings.cache.actions_bytes,
        )?
        .with_api(api);
        let engine = Engine::new(stores, engine_settings(settings))
            .with_hooks(Arc::new(actions))
            .with_compactions(Arc::new(crate::jobs::compact::CompactionJobs::new(
                jobs_service.get_ref().clone(),
            )));
        let jobs = job_runner(settings, job_store, engine.clone(), RunnerKinds::Server)?;
        let schedule = crate::jobs::gc_schedule::parse_interval(&settings.gc.schedule)
            .map_err(anyhow::Error::msg)?
            .map(|every| (engine.clone(), jobs_service.get_ref().clone(), every));
        let data = web::Data::new(engine);
        let runs = web::Data::new(crate::actions::ActionRuns(run_store));
        crate::http::metrics::install();
        let metrics_access = web::Data::new(crate::http::metrics::MetricsAccess {
            enabled: settings.metrics.enabled,
            require_auth: settings.metrics.require_auth,
        });
        let shared = (
            data,
            info,
            auth,
            gateway,
            jobs_service,
            runs,
            metrics_access,
        );
        let limits = BodyLimits {
            idle: Duration::from_secs(settings.server.body_idle_timeout_secs.max(1)),
            min_rate: settings.server.body_min_rate_bytes,
        };
        let server = serve(listener, shared.clone(), limits, http::routes)?;
        let gateway = match settings.gateways.s3.listen_address.as_str() {
            "" => None,
            addr => {
                let listener = TcpListener::bind(addr).with_context(|| {
                    format!("cannot listen on {addr} (gateways.s3.listen_address)")
                })?;
                let bound = listener.local_addr()?;
                Some((
                    serve(listener, shared, limits, http::s3::gateway_only)?,
                    bound,
                ))
            }
        };
        let signals = ShutdownSignals::install().context("cannot listen for signals")?;
        Ok(Self {
            server,
            address,
            gateway,
            signals,
            admin_ready,
            jobs,
            schedule,
        })
    }

    /// Whether the initial user given to `build` can log in with its key
    /// (false when the server had been set up with other users).
    pub fn admin_ready(&self) -> bool {
        self.admin_ready
    }

    /// The address actually bound (useful with port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The dedicated gateway address, when configured.
    pub fn gateway_address(&self) -> Option<SocketAddr> {
        self.gateway.as_ref().map(|(_, a)| *a)
    }

    /// Serves (and runs background jobs) until SIGINT or SIGTERM, then
    /// stops gracefully: no new connections, in-flight requests get time to
    /// finish; jobs in hand are left to be taken over (see `RunningJobs::stop`).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let jobs = self.jobs.start();
        let schedule = self
            .schedule
            .map(|(engine, jobs, every)| crate::jobs::gc_schedule::start(engine, jobs, every));
        let mut handles = vec![self.server.handle()];
        handles.extend(self.gateway.as_ref().map(|(s, _)| s.handle()));
        tokio::spawn(self.signals.stop_servers_on_signal(handles));
        let served = match self.gateway {
            Some((gateway, _)) => {
                let (main, gw) = futures::join!(self.server, gateway);
                main.context("server failed")
                    .and(gw.context("gateway server failed"))
            }
            None => self.server.await.context("server failed"),
        };
        if let Some(s) = schedule {
            s.stop().await;
        }
        jobs.stop().await;
        served
    }
}

/// What every request handler reads: the engine, server facts, auth state
/// and gateway settings.
type Shared = (
    web::Data<Engine>,
    web::Data<ServerInfo>,
    web::Data<AuthState>,
    web::Data<GatewayConfig>,
    web::Data<Jobs>,
    web::Data<crate::actions::ActionRuns>,
    web::Data<crate::http::metrics::MetricsAccess>,
);

/// A server on `listener` with the routes `configure` adds, not yet running.
fn serve(
    listener: TcpListener,
    shared: Shared,
    limits: BodyLimits,
    configure: fn(&mut web::ServiceConfig),
) -> std::io::Result<Server> {
    Ok(HttpServer::new(move || {
        let (data, info, auth, gateway, jobs, runs, metrics) = shared.clone();
        App::new()
            .app_data(metrics)
            .app_data(data)
            .app_data(runs)
            .app_data(jobs)
            .app_data(info)
            .app_data(auth)
            .app_data(gateway)
            .wrap(actix_web::middleware::from_fn(move |req, next| {
                deadline::limit_bodies(limits, req, next)
            }))
            .wrap(actix_web::middleware::from_fn(
                crate::http::observe::observe,
            ))
            .wrap(TracingLogger::<RedactedRootSpan>::new())
            .configure(configure)
    })
    // Without it a response's head and a small body, written separately,
    // wait out the client's delayed ACK (~40 ms) on a kept-alive connection.
    .tcp_nodelay(true)
    .listen(listener)?
    .shutdown_timeout(SHUTDOWN_GRACE_SECS)
    .disable_signals()
    .run())
}

/// SIGTERM and SIGINT listeners, registered before the server announces
/// itself so that a signal sent right after startup is never missed.
struct ShutdownSignals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    async fn stop_servers_on_signal(mut self, handles: Vec<ServerHandle>) {
        let name = tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "shutting down gracefully");
        futures::future::join_all(handles.iter().map(|h| h.stop(true))).await;
    }
}

fn server_info(settings: &Settings, presign: bool) -> ServerInfo {
    let (kind, example, regex, prefix) = match settings.blockstore.kind {
        BlockstoreKind::Local => ("local", "local://my-repository", "^local://", "local://"),
        BlockstoreKind::Mem => ("mem", "mem://my-repository", "^mem://", "mem://"),
        BlockstoreKind::S3 => ("s3", "s3://bucket/prefix", "^s3://", ""),
    };
    let configured = &settings.blockstore.default_namespace_prefix;
    ServerInfo {
        blockstore_type: kind.to_owned(),
        default_namespace_prefix: if configured.is_empty() {
            prefix.to_owned()
        } else {
            configured.clone()
        },
        namespace_example: example.to_owned(),
        namespace_regex: regex.to_owned(),
        presign,
        presign_expiry_secs: settings.blockstore.s3.pre_signed_expiry_secs,
        gc_grace_period_secs: settings.gc.grace_period_secs,
        import_support: match settings.blockstore.kind {
            BlockstoreKind::S3 => true,
            BlockstoreKind::Local => settings.blockstore.local.import_enabled,
            BlockstoreKind::Mem => false,
        },
    }
}

/// Without the S3 block store compiled in (`make run`'s build), a clear
/// refusal.
#[cfg(not(feature = "s3"))]
async fn s3_block_store(
    _: &crate::settings::S3Settings,
) -> anyhow::Result<tarn_adapter_memory::MemoryBlockStore> {
    bail!(
        "blockstore.type = \"s3\" needs the S3 block store, which this build leaves out \
         (make run's quickstart build): build with default features, e.g. `cargo build --release`"
    )
}

#[cfg(feature = "s3")]
async fn s3_block_store(s: &crate::settings::S3Settings) -> anyhow::Result<S3BlockStore> {
    // SigV4 presigned URLs live at most 7 days.
    if !(1..=604_800).contains(&s.pre_signed_expiry_secs) {
        bail!(
            "blockstore.s3.pre_signed_expiry_secs must be 1 to 604800 (7 days), not {}",
            s.pre_signed_expiry_secs
        );
    }
    let non_empty = |v: &str| (!v.is_empty()).then(|| v.to_owned());
    let ca_pem = match &s.ca_file {
        Some(path) => Some(
            std::fs::read(path)
                .with_context(|| format!("cannot read blockstore.s3.ca_file {}", path.display()))?,
        ),
        None => None,
    };
    let adapter = tarn_adapter_s3::S3Settings {
        endpoint: non_empty(&s.endpoint),
        region: s.region.clone(),
        force_path_style: s.force_path_style,
        access_key_id: non_empty(&s.credentials.access_key_id),
        secret_access_key: non_empty(s.credentials.secret_access_key.expose()),
        session_token: non_empty(s.credentials.session_token.expose()),
        ca_pem,
        max_attempts: s.max_retries.saturating_add(1),
        part_size: s.part_size,
        disable_presign: s.disable_pre_signed,
    };
    let store = S3BlockStore::connect(&adapter)
        .await
        .context("cannot set up the S3 block store")?;
    tracing::info!(
        endpoint = if s.endpoint.is_empty() { "AWS" } else { s.endpoint.as_str() },
        region = %s.region,
        "object data in S3"
    );
    Ok(store)
}

/// The auth service over `store`, as `settings.auth` configure it.
pub fn auth_service(
    settings: &Settings,
    store: Arc<dyn AuthStore>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Arc<Auth>> {
    let cache = &settings.auth.cache;
    let tuning = AuthSettings {
        cache_ttl: Duration::from_secs(if cache.enabled { cache.ttl_secs } else { 0 }),
        cache_size: cache.size,
    };
    let auth = Auth::new(
        store,
        clock,
        settings.auth.encrypt.secret_key.expose(),
        &tuning,
    )
    .context("cannot start authentication (TARN_AUTH__ENCRYPT__SECRET_KEY)")?;
    Ok(Arc::new(auth))
}

/// The engine's settings from the configuration.
pub(crate) fn engine_settings(settings: &Settings) -> EngineSettings {
    // Addresses given out for direct writes must link on every instance.
    EngineSettings {
        link_key: tarn_domain::LinkKey::derive(
            settings.auth.encrypt.secret_key.expose().as_bytes(),
        ),
        cache_bytes: settings.cache.trees_bytes,
        commit_cache_entries: settings.cache.commits_entries,
        layering: tarn_domain::TreeLayering {
            min_base_records: settings.trees.layer_min_records,
            max_overlay_records: settings.trees.layer_max_records,
            compact_records: settings.trees.layer_compact_records,
        },
        ..EngineSettings::default()
    }
}

/// The job runner of this instance over `store`, as `settings.jobs`
/// configure it, not yet started.
/// This instance's garbage collection settings.
pub(crate) fn gc_tuning(settings: &Settings) -> GcTuning {
    GcTuning {
        grace_period_secs: settings.gc.grace_period_secs,
        abandoned_upload_secs: settings.gc.abandoned_upload_secs,
        sort_budget_bytes: usize::try_from(settings.gc.sort_budget_bytes).unwrap_or(usize::MAX),
    }
}

/// Which job kinds a runner runs: a server every kind, a command (`tarn gc
/// run`, `tarn import`) only the kinds commands start, so that it never
/// takes a server's jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunnerKinds {
    Server,
    Command,
}

pub(crate) fn job_runner(
    settings: &Settings,
    store: Arc<dyn JobStore>,
    engine: Engine,
    kinds: RunnerKinds,
) -> anyhow::Result<JobRunner> {
    let clock = engine.stores().clock.clone();
    let s = &settings.jobs;
    if s.poll_interval_ms == 0 || s.lease_ms < 30 || s.max_concurrent == 0 {
        bail!(
            "jobs: poll_interval_ms must be positive, lease_ms at least 30 and \
             max_concurrent positive (have {s:?})"
        );
    }
    let runner_settings = RunnerSettings {
        poll_interval: Duration::from_millis(s.poll_interval_ms),
        lease: Duration::from_millis(s.lease_ms),
        max_concurrent: s.max_concurrent,
    };
    // Unique per process: leases must tell instances (and restarts) apart.
    let owner = JobOwner::new(format!("tarn-{}", UniqueIds::new().new_id()))?;
    let mut registry = JobRegistry::new();
    let gc = Arc::new(GcHandler::new(
        engine.clone(),
        store.clone(),
        clock.clone(),
        gc_tuning(settings),
    ));
    registry.register(JobKind::new(GC_CLI_KIND)?, gc.clone());
    let import = Arc::new(crate::jobs::import::ImportHandler(engine.clone()));
    registry.register(
        JobKind::new(crate::jobs::import::IMPORT_CLI_KIND)?,
        import.clone(),
    );
    if kinds == RunnerKinds::Server {
        registry.register(JobKind::new(GC_KIND)?, gc);
        registry.register(
            JobKind::new(crate::jobs::refs::DUMP_KIND)?,
            Arc::new(crate::jobs::refs::DumpHandler(engine.clone())),
        );
        registry.register(
            JobKind::new(crate::jobs::refs::RESTORE_KIND)?,
            Arc::new(crate::jobs::refs::RestoreHandler(engine.clone())),
        );
        registry.register(JobKind::new(crate::jobs::import::IMPORT_KIND)?, import);
        registry.register(
            JobKind::new(crate::jobs::compact::COMPACT_KIND)?,
            Arc::new(crate::jobs::compact::CompactHandler(engine.clone())),
        );
    }
    Ok(JobRunner::new(
        store,
        clock,
        registry,
        owner,
        runner_settings,
    ))
}

/// The stores of `settings`, with the auth and job stores apart (only the
/// auth service and the job runner use them).
pub(crate) async fn build_stores(settings: &Settings) -> anyhow::Result<(Stores, Services)> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    let blocks: Arc<dyn BlockStore> = match settings.blockstore.kind {
        BlockstoreKind::Local => {
            let path = &settings.blockstore.local.path;
            let mut store = LocalBlockStore::open(path).await.with_context(|| {
                format!("cannot open the local block store at {}", path.display())
            })?;
            let local = &settings.blockstore.local;
            if local.import_enabled {
                if local.allowed_external_prefixes.is_empty() {
                    bail!(
                        "blockstore.local.import_enabled needs blockstore.local.allowed_external_prefixes \
                         (TARN_BLOCKSTORE__LOCAL__ALLOWED_EXTERNAL_PREFIXES=/data/a,/data/b)"
                    );
                }
                store = store
                    .with_import_prefixes(&local.allowed_external_prefixes)
                    .context("blockstore.local.allowed_external_prefixes: each must exist")?;
            }
            tracing::info!(path = %path.display(), "object data in a local directory");
            Arc::new(store)
        }
        BlockstoreKind::Mem => {
            tracing::warn!("object data is kept in memory and lost on exit");
            Arc::new(MemoryBlockStore::new(clock.clone()))
        }
        BlockstoreKind::S3 => Arc::new(s3_block_store(&settings.blockstore.s3).await?),
    };
    let blocks: Arc<dyn BlockStore> = Arc::new(crate::metered::MeteredBlockStore(blocks));
    let metadata = metadata_stores(settings).await?;
    let stores = Stores {
        blocks,
        refs: metadata.refs,
        staging: metadata.staging,
        multipart: metadata.multipart,
        clock,
        ids: Arc::new(UniqueIds::new()),
    };
    let services = Services {
        auth: metadata.auth,
        jobs: metadata.jobs,
        runs: metadata.runs,
    };
    Ok((stores, services))
}

/// The stores beside the engine's, on the configured metadata database.
pub struct Services {
    /// Users, groups, policies and credentials.
    pub auth: Arc<dyn AuthStore>,
    /// Background jobs.
    pub jobs: Arc<dyn JobStore>,
    /// Action runs.
    pub runs: Arc<dyn ActionRunStore>,
}

/// Every store on the configured metadata database.
pub struct MetadataStores {
    /// Repositories, branches, tags and commits.
    pub refs: Arc<dyn RefStore>,
    /// Uncommitted changes.
    pub staging: Arc<dyn StagingStore>,
    /// Gateway multipart uploads.
    pub multipart: Arc<dyn MultipartStore>,
    /// Users, groups, policies and credentials.
    pub auth: Arc<dyn AuthStore>,
    /// Background jobs.
    pub jobs: Arc<dyn JobStore>,
    /// Action runs.
    pub runs: Arc<dyn ActionRunStore>,
}

/// The backend that `database` names, migrated to this version.
pub fn sql_backend(database: &Database) -> anyhow::Result<Option<Backend>> {
    Ok(match database.kind {
        DatabaseKind::Memory => None,
        DatabaseKind::Sqlite => Some(Backend::Sqlite {
            path: database.sqlite.path.clone(),
            max_connections: database.sqlite.max_open_connections,
            cache_bytes: database.sqlite.cache_bytes,
        }),
        DatabaseKind::Postgres => {
            let url = database.postgres.connection_string.expose();
            if url.is_empty() {
                bail!(
                    "database.type = \"postgres\" needs database.postgres.connection_string \
                     (TARN_DATABASE__POSTGRES__CONNECTION_STRING)"
                );
            }
            Some(Backend::Postgres {
                connection_string: url.to_owned(),
                max_connections: database.postgres.max_open_connections,
                ca_file: database.postgres.ca_file.clone(),
            })
        }
    })
}

pub async fn metadata_stores(settings: &Settings) -> anyhow::Result<MetadataStores> {
    let Some(backend) = sql_backend(&settings.database)? else {
        tracing::warn!("metadata is kept in memory and lost on exit (database.type = \"memory\")");
        return Ok(MetadataStores {
            refs: Arc::new(MemoryRefStore::new()),
            staging: Arc::new(MemoryStagingStore::new()),
            multipart: Arc::new(MemoryMultipartStore::new()),
            auth: Arc::new(MemoryAuthStore::new()),
            jobs: Arc::new(MemoryJobStore::new()),
            runs: Arc::new(MemoryRunStore::new()),
        });
    };
    let store = Arc::new(
        SqlStore::open(&backend)
            .await
            .with_context(|| format!("cannot open the metadata database ({backend:?})"))?,
    );
    tracing::info!(database = ?backend, "metadata in a database");
    Ok(MetadataStores {
        refs: store.clone(),
        staging: store.clone(),
        multipart: store.clone(),
        auth: store.clone(),
        jobs: store.clone(),
        runs: store,
    })
}
