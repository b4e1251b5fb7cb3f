//! Configuration: built-in defaults (`config/default.toml`), then an optional
//! file, then `TARN_…` environment variables, then command-line flags.

use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

const DEFAULTS: &str = include_str!("../config/default.toml");

/// Everything `tarn run` can be told.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// `host:port` to listen on.
    pub listen_address: String,
    /// Log output.
    pub logging: Logging,
    /// Metadata backend.
    pub database: Database,
    /// Object data backend.
    pub blockstore: Blockstore,
    /// Protocol gateways.
    pub gateways: Gateways,
    /// Authentication.
    pub auth: Auth,
    /// The background job runner.
    pub jobs: Jobs,
    /// Actions and hooks.
    pub actions: ActionsSettings,
    /// Garbage collection.
    pub gc: GcSettings,
    /// In-memory caches of immutable data.
    pub cache: CacheSettings,
    /// Committed trees: when commits write layers.
    pub trees: TreeSettings,
    /// Limits on what clients may hold open.
    pub server: ServerLimits,
    /// The Prometheus endpoint.
    pub metrics: MetricsSettings,
    /// Span export (OpenTelemetry).
    pub tracing: TracingSettings,
}

/// Spans exported over OTLP.
#[derive(Debug, Clone, Deserialize)]
pub struct TracingSettings {
    /// Where an OTLP/HTTP collector takes traces (`http://host:4318`, to
    /// which `/v1/traces` is added, or a full URL ending in a path). Empty:
    /// no export.
    pub otlp_endpoint: String,
    /// Which spans are exported: a tracing filter, as `logging.level`.
    pub filter: String,
    /// The `service.name` the spans are exported under.
    pub service_name: String,
}

/// `GET /metrics`.
#[derive(Debug, Clone, Deserialize)]
pub struct MetricsSettings {
    /// Whether `/metrics` answers at all.
    pub enabled: bool,
    /// Whether a scrape must authenticate (as any API request does).
    pub require_auth: bool,
}

/// Log settings.
#[derive(Debug, Clone, Deserialize)]
pub struct Logging {
    /// `text` or `json`.
    pub format: LogFormat,
    /// A tracing filter directive.
    pub level: String,
    /// Where the audit log goes: a file of JSON lines ("": nowhere).
    pub audit_path: String,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Metadata settings.
#[derive(Debug, Clone, Deserialize)]
pub struct Database {
    /// Which backend.
    #[serde(rename = "type")]
    pub kind: DatabaseKind,
    /// SQLite settings.
    pub sqlite: SqliteSettings,
    /// PostgreSQL settings.
    pub postgres: PostgresSettings,
}

/// Metadata backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseKind {
    /// In process memory; lost on exit.
    Memory,
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// SQLite settings.
#[derive(Debug, Clone, Deserialize)]
pub struct SqliteSettings {
    /// Database file.
    pub path: PathBuf,
    /// Connections in the pool (readers run in parallel, writers take turns).
    pub max_open_connections: usize,
    /// Memory for SQLite's page caches, all connections together.
    pub cache_bytes: u64,
}

/// PostgreSQL settings.
#[derive(Debug, Clone, Deserialize)]
pub struct PostgresSettings {
    /// `postgres://…` URL; may hold a password.
    pub connection_string: Secret,
    /// Connections in the pool of each instance.
    pub max_open_connections: usize,
    /// A PEM file of CA certificates to trust for TLS besides the system's.
    pub ca_file: Option<PathBuf>,
}

/// Object data settings.
#[derive(Debug, Clone, Deserialize)]
pub struct Blockstore {
    /// Which backend.
    #[serde(rename = "type")]
    pub kind: BlockstoreKind,
    /// The namespace prefix clients suggest for new repositories (`/config`'s
    /// `default_namespace_prefix`); empty: `local://` for the local store,
    /// `mem://` in memory, none (`""`) for S3.
    #[serde(default)]
    pub default_namespace_prefix: String,
    /// Local directory settings.
    pub local: LocalSettings,
    /// S3 settings.
    pub s3: S3Settings,
}

/// Object data backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlockstoreKind {
    /// A local directory (`local://` namespaces).
    Local,
    /// Process memory (`mem://` namespaces); lost on exit.
    Mem,
    /// An S3-compatible store (`s3://` namespaces).
    S3,
}

/// Local block store settings.
#[derive(Debug, Clone, Deserialize)]
pub struct LocalSettings {
    /// Root directory of `local://` namespaces.
    pub path: PathBuf,
    /// Whether imports may read local directories (`local:///abs/path/`).
    #[serde(default)]
    pub import_enabled: bool,
    /// The directories imports may read (with `import_enabled`); nothing
    /// outside them is ever read.
    #[serde(default)]
    pub allowed_external_prefixes: Vec<PathBuf>,
}

/// S3 block store settings (the names of lakeFS's `blockstore.s3` keys).
#[derive(Debug, Clone, Deserialize)]
// Read only by the S3 block store, which a build may leave out.
#[cfg_attr(not(feature = "s3"), allow(dead_code))]
pub struct S3Settings {
    /// Endpoint URL of an S3-compatible store; empty for AWS.
    pub endpoint: String,
    /// Region to sign requests for.
    pub region: String,
    /// Buckets in the path rather than the host name.
    pub force_path_style: bool,
    /// A static key pair; empty for the standard AWS credential chain.
    pub credentials: S3Credentials,
    /// A PEM file of CA certificates to trust besides the system's.
    pub ca_file: Option<PathBuf>,
    /// Retries of a failed request (throttling, 5xx, connection failures).
    pub max_retries: u32,
    /// Part size (bytes) of uploads of unknown length.
    pub part_size: u64,
    /// Lifetime of presigned URLs, in seconds.
    pub pre_signed_expiry_secs: u64,
    /// Never hand out presigned URLs (clients then move data through Tarn).
    pub disable_pre_signed: bool,
}

/// An S3 key pair.
#[derive(Debug, Clone, Deserialize)]
// Read only by the S3 block store, which a build may leave out.
#[cfg_attr(not(feature = "s3"), allow(dead_code))]
pub struct S3Credentials {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: Secret,
    /// Session token of temporary credentials.
    pub session_token: Secret,
}

/// Gateway settings.
#[derive(Debug, Clone, Deserialize)]
pub struct Gateways {
    /// The S3 gateway.
    pub s3: S3Gateway,
}

/// S3 gateway settings.
#[derive(Debug, Clone, Deserialize)]
pub struct S3Gateway {
    /// Host names of the gateway.
    pub domain_name: Vec<String>,
    /// Region reported to clients.
    pub region: String,
    /// A dedicated `host:port` for the gateway alone (besides the main
    /// listener, where it is chosen by Host or AWS signature); empty: none.
    #[serde(default)]
    pub listen_address: String,
}

/// Authentication settings.
#[derive(Debug, Clone, Deserialize)]
pub struct Auth {
    /// Encryption of secrets at rest.
    pub encrypt: Encrypt,
    /// Caching of auth lookups.
    pub cache: AuthCache,
}

/// Caching of access keys, users and effective policies.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthCache {
    /// Whether to cache at all.
    pub enabled: bool,
    /// How long an entry lives, in seconds.
    pub ttl_secs: u64,
    /// Entries per cache.
    pub size: u64,
}

/// Encryption settings.
#[derive(Debug, Clone, Deserialize)]
pub struct Encrypt {
    /// Key material.
    pub secret_key: Secret,
}

/// The background job runner of each instance.
#[derive(Debug, Clone, Deserialize)]
pub struct Jobs {
    /// How long to wait between looks for work when there was none, in ms.
    pub poll_interval_ms: u64,
    /// How long a runner holds a job between heartbeats (sent every third
    /// of it), in ms: a dead instance's jobs are taken over this late.
    pub lease_ms: u64,
    /// Jobs one instance runs at once.
    pub max_concurrent: usize,
}

/// Actions and hooks (lakeFS's `actions.*`).
#[derive(Debug, Clone, Deserialize)]
pub struct ActionsSettings {
    /// Whether hooks run at all.
    pub enabled: bool,
    /// What hooks may read from the environment.
    pub env: ActionsEnv,
    /// Limits of Lua hooks.
    pub lua: LuaSettings,
    /// Where webhook and Airflow hooks may connect.
    pub network: ActionsNetwork,
}

/// Where webhook and Airflow hooks may connect.
#[derive(Debug, Clone, Deserialize)]
pub struct ActionsNetwork {
    /// Addresses and ranges (`169.254.0.0/16`, `10.1.2.3`) hooks may not
    /// reach, whatever name leads there.
    pub blocked_addresses: Vec<String>,
}

/// What one Lua hook run may use.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct LuaSettings {
    /// Memory of its Lua state, in bytes (objects it reads count).
    pub memory_bytes: u64,
    /// Lua instructions it may run.
    pub max_instructions: u64,
    /// Wall-clock time it may take, API calls included, in seconds.
    pub timeout_secs: u64,
}

/// Environment variables hooks may read (`{{ ENV.NAME }}`).
#[derive(Debug, Clone, Deserialize)]
pub struct ActionsEnv {
    /// Whether any may be read.
    pub enabled: bool,
    /// Only names starting with this (empty: any).
    pub prefix: String,
}

/// Garbage collection settings.
#[derive(Debug, Clone, Deserialize)]
pub struct GcSettings {
    /// Data younger than this is never collected (a write in flight
    /// uploads before it stages), in seconds; reported by
    /// `GET /config/garbage-collection`.
    pub grace_period_secs: u64,
    /// Multipart uploads started longer ago than this are abandoned, in
    /// seconds: a collection aborts them.
    pub abandoned_upload_secs: u64,
    /// Memory for sorting addresses before a sorted run is spilled, in bytes.
    pub sort_budget_bytes: u64,
    /// How often every repository is collected: empty (off) or e.g. `24h`.
    #[serde(default)]
    pub schedule: String,
}

/// Memory budgets of the caches of immutable data.
#[derive(Debug, Clone, Deserialize)]
pub struct CacheSettings {
    /// Memory for decoded committed-tree files, as the allocator counts it.
    pub trees_bytes: u64,
    /// Commit records kept.
    pub commits_entries: u64,
    /// Memory for parsed action files, in bytes.
    pub actions_bytes: u64,
}

/// When commits onto large trees write layers (see `docs/trees.md`).
#[derive(Debug, Clone, Deserialize)]
pub struct TreeSettings {
    /// Trees of at least this many records take commits as layers.
    pub layer_min_records: u64,
    /// A layer of more records than this is folded into a plain tree.
    pub layer_max_records: usize,
    /// A layer of at least this many records starts a `trees.compact` job
    /// that folds it off the commit path (0: never).
    pub layer_compact_records: usize,
}

/// Limits on requests that hold a connection without making progress.
#[derive(Debug, Clone, Deserialize)]
pub struct ServerLimits {
    /// A request body that sends nothing for this long is cut off (S3's
    /// `RequestTimeout`), in seconds.
    pub body_idle_timeout_secs: u64,
    /// A request body slower than this on average, once
    /// `body_idle_timeout_secs` have passed, is cut off (bytes per second;
    /// 0: no minimum).
    pub body_min_rate_bytes: u64,
}

/// A string that never shows in `Debug` or `Display` output.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "Secret(<empty>)"
        } else {
            "Secret(<redacted>)"
        })
    }
}

/// What the command line says about settings.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--config FILE`.
    pub config_file: Option<PathBuf>,
    /// `--quickstart`.
    pub quickstart: bool,
    /// `--listen ADDR`.
    pub listen: Option<String>,
    /// `--data-dir DIR`.
    pub data_dir: Option<PathBuf>,
}

/// The key `--quickstart` encrypts secrets with unless configured (lakeFS's
/// quickstart also uses a fixed one): fine on a laptop, never in production.
pub const QUICKSTART_SECRET_KEY: &str = "THIS_MUST_BE_CHANGED_IN_PRODUCTION";

/// The data directory `--quickstart` uses when `--data-dir` is not given.
pub const DEFAULT_DATA_DIR: &str = "tarn-data";

impl Settings {
    /// Loads settings from the layers, the process environment included.
    pub fn load(overrides: &Overrides) -> Result<Self, config::ConfigError> {
        Self::load_with_env(overrides, Environment::with_prefix("TARN"))
    }

    fn load_with_env(o: &Overrides, env: Environment) -> Result<Self, config::ConfigError> {
        let mut builder = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml));
        let data_dir = o
            .data_dir
            .clone()
            .or_else(|| o.quickstart.then(|| PathBuf::from(DEFAULT_DATA_DIR)));
        // Quickstart and --data-dir choose defaults: a file or the environment
        // may still change them.
        let mut chosen = Config::builder();
        if o.quickstart {
            chosen = chosen
                .set_override("database.type", "sqlite")?
                .set_override("blockstore.type", "local")?
                .set_override("auth.encrypt.secret_key", QUICKSTART_SECRET_KEY)?;
        }
        if let Some(dir) = &data_dir {
            chosen = chosen
                .set_override("blockstore.local.path", path_str(&dir.join("block")))?
                .set_override("database.sqlite.path", path_str(&dir.join("tarn.db")))?;
        }
        builder = builder.add_source(chosen.build()?);
        if let Some(file) = &o.config_file {
            builder = builder.add_source(File::from(file.as_path()).required(true));
        }
        builder = builder.add_source(
            env.prefix_separator("_")
                .separator("__")
                .list_separator(",")
                .with_list_parse_key("gateways.s3.domain_name")
                .with_list_parse_key("blockstore.local.allowed_external_prefixes")
                .with_list_parse_key("actions.network.blocked_addresses")
                .try_parsing(true),
        );
        if let Some(listen) = &o.listen {
            builder = builder.set_override("listen_address", listen.as_str())?;
        }
        builder.build()?.try_deserialize()
    }
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> Environment {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Environment::with_prefix("TARN").source(Some(map))
    }

    #[test]
    fn defaults_load_without_any_file_or_environment() {
        let s = Settings::load_with_env(&Overrides::default(), env(&[])).unwrap();
        assert_eq!(s.listen_address, "127.0.0.1:8000");
        assert_eq!(s.database.kind, DatabaseKind::Sqlite);
        assert_eq!(s.blockstore.kind, BlockstoreKind::Local);
        assert_eq!(s.logging.format, LogFormat::Text);
        assert_eq!(s.gateways.s3.domain_name, ["s3.local.lakefs.io"]);
        assert_eq!(
            (
                s.jobs.poll_interval_ms,
                s.jobs.lease_ms,
                s.jobs.max_concurrent
            ),
            (1_000, 30_000, 2)
        );
    }

    #[test]
    fn environment_overrides_nested_keys_and_ignores_unknown_ones() {
        let s = Settings::load_with_env(
            &Overrides::default(),
            env(&[
                ("TARN_LISTEN_ADDRESS", "127.0.0.1:9999"),
                ("TARN_DATABASE__TYPE", "postgres"),
                (
                    "TARN_DATABASE__POSTGRES__CONNECTION_STRING",
                    "postgres://u:pw@h/db",
                ),
                ("TARN_GATEWAYS__S3__DOMAIN_NAME", "a.example,b.example"),
                ("TARN_SOMETHING__UNKNOWN", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(s.listen_address, "127.0.0.1:9999");
        assert_eq!(s.database.kind, DatabaseKind::Postgres);
        assert_eq!(
            s.database.postgres.connection_string.expose(),
            "postgres://u:pw@h/db"
        );
        assert_eq!(s.gateways.s3.domain_name, ["a.example", "b.example"]);
    }

    #[test]
    fn layers_apply_in_order_file_env_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tarn.toml");
        std::fs::write(
            &file,
            "listen_address = \"127.0.0.1:1111\"\n[logging]\nformat = \"json\"\n",
        )
        .unwrap();
        let o = Overrides {
            config_file: Some(file),
            ..Overrides::default()
        };
        let s = Settings::load_with_env(&o, env(&[("TARN_LOGGING__FORMAT", "text")])).unwrap();
        assert_eq!(s.listen_address, "127.0.0.1:1111", "file over defaults");
        assert_eq!(s.logging.format, LogFormat::Text, "environment over file");
        let o = Overrides {
            listen: Some("127.0.0.1:2222".into()),
            ..o
        };
        let s =
            Settings::load_with_env(&o, env(&[("TARN_LISTEN_ADDRESS", "127.0.0.1:3333")])).unwrap();
        assert_eq!(s.listen_address, "127.0.0.1:2222", "flag over environment");
    }

    #[test]
    fn the_example_configurations_load() {
        let example = |name: &str| Overrides {
            config_file: Some(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("config")
                    .join(name),
            ),
            ..Overrides::default()
        };
        let s = Settings::load_with_env(&example("production.example.toml"), env(&[])).unwrap();
        assert_eq!(s.database.kind, DatabaseKind::Postgres);
        assert_eq!(s.blockstore.kind, BlockstoreKind::S3);
        assert_eq!(s.blockstore.s3.region, "us-east-1");
        assert_eq!(s.blockstore.s3.max_retries, 5);
        assert_eq!(s.blockstore.s3.credentials.access_key_id, "");
        let s = Settings::load_with_env(
            &example("production.example.toml"),
            env(&[
                ("TARN_BLOCKSTORE__S3__ENDPOINT", "http://127.0.0.1:9000"),
                ("TARN_BLOCKSTORE__S3__FORCE_PATH_STYLE", "true"),
                (
                    "TARN_BLOCKSTORE__S3__CREDENTIALS__SECRET_ACCESS_KEY",
                    "s3cr3t",
                ),
            ]),
        )
        .unwrap();
        assert_eq!(s.blockstore.s3.endpoint, "http://127.0.0.1:9000");
        assert!(s.blockstore.s3.force_path_style);
        assert_eq!(
            s.blockstore.s3.credentials.secret_access_key.expose(),
            "s3cr3t"
        );
        assert!(!format!("{s:?}").contains("s3cr3t"), "secrets never print");
        let s = Settings::load_with_env(&example("local.example.toml"), env(&[])).unwrap();
        assert_eq!(s.blockstore.kind, BlockstoreKind::Local);
    }

    #[test]
    fn quickstart_keeps_everything_under_the_data_dir() {
        let o = Overrides {
            quickstart: true,
            ..Overrides::default()
        };
        let s = Settings::load_with_env(&o, env(&[])).unwrap();
        assert_eq!(s.blockstore.local.path, Path::new("tarn-data/block"));
        assert_eq!(s.database.kind, DatabaseKind::Sqlite);
        assert_eq!(s.database.sqlite.path, Path::new("tarn-data/tarn.db"));
        let o = Overrides {
            quickstart: true,
            data_dir: Some("/tmp/x".into()),
            ..Overrides::default()
        };
        let s = Settings::load_with_env(&o, env(&[])).unwrap();
        assert_eq!(s.blockstore.local.path, Path::new("/tmp/x/block"));
        assert_eq!(s.database.sqlite.path, Path::new("/tmp/x/tarn.db"));
    }

    #[test]
    fn bad_values_and_missing_files_are_errors() {
        let err = Settings::load_with_env(
            &Overrides::default(),
            env(&[("TARN_DATABASE__TYPE", "oracle")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("oracle"), "{err}");
        let o = Overrides {
            config_file: Some("/nonexistent/tarn.toml".into()),
            ..Overrides::default()
        };
        assert!(Settings::load_with_env(&o, env(&[])).is_err());
    }

    #[test]
    fn secrets_never_print() {
        let s = Settings::load_with_env(
            &Overrides::default(),
            env(&[("TARN_AUTH__ENCRYPT__SECRET_KEY", "hunter2")]),
        )
        .unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(s.auth.encrypt.secret_key.expose(), "hunter2");
    }
}
