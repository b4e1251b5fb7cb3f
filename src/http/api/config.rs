//! Server configuration, version, health and first-run setup.

use super::auth::{AuthState, CredentialsWithSecret};
use super::error::{ApiError, ApiResult};
use crate::http::api::error::ErrorBody;
use crate::http::api::operation::operations;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

operations! {
    tag = "internal";
    getConfig: get "/config" => config,
        Authenticated,
        openapi(tag = "config", responses((status = 200, body = Config)));
    getLakeFSVersion: get "/config/version" => version,
        Authenticated,
        openapi(responses((status = 200, body = VersionConfig)));
    getStorageConfig: get "/config/storage" => storage,
        Requires(Action::ReadConfig, ANY),
        openapi(responses((status = 200, body = StorageConfig)));
    getSetupState: get "/setup_lakefs" => setup_state,
        Public,
        openapi(responses((status = 200, body = SetupState)));
    setup: post "/setup_lakefs" => setup,
        Public,
        openapi(
            request_body = Setup,
            responses((status = 200, body = CredentialsWithSecret), (status = 409, body = ErrorBody)),
        );
    setupCommPrefs: post "/setup_comm_prefs" => comm_prefs,
        Public,
        openapi(responses((status = 200)));
    healthCheck: get "/healthcheck" => health,
        Public,
        openapi(tag = "healthCheck", responses((status = 204)));
    getGarbageCollectionConfig: get "/config/garbage-collection" => gc_config,
        Authenticated,
        openapi(responses((status = 200, body = GarbageCollectionConfig)));
    postStatsEvents: post "/statistics" => stats_events,
        Authenticated,
        openapi(request_body = StatsEventsList, responses((status = 204), (status = 400, body = ErrorBody)));
    getUsageReportSummary: get "/usage-report/summary" => usage_report,
        Authenticated,
        openapi(responses((status = 404, body = ErrorBody)));
}

/// `GET /config/garbage-collection`.
#[derive(Debug, Serialize, ToSchema)]
pub struct GarbageCollectionConfig {
    grace_period: u64,
}

/// The grace period: data younger than it is never collected
/// (`gc.grace_period_secs`).
async fn gc_config(info: web::Data<ServerInfo>) -> web::Json<GarbageCollectionConfig> {
    web::Json(GarbageCollectionConfig {
        grace_period: info.gc_grace_period_secs,
    })
}

/// One client usage event.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StatsEvent {
    class: String,
    name: String,
    count: i64,
}

/// `POST /statistics` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StatsEventsList {
    events: Vec<StatsEvent>,
}

/// Client usage events: checked as lakeFS checks them, then dropped (Tarn
/// collects no telemetry).
async fn stats_events(body: web::Json<StatsEventsList>) -> ApiResult<HttpResponse> {
    for e in &body.events {
        if e.class.is_empty() {
            return Err(ApiError::bad_request("invalid value: class is required"));
        }
        if e.name.is_empty() {
            return Err(ApiError::bad_request("invalid value: name is required"));
        }
        if e.count < 0 {
            return Err(ApiError::bad_request(
                "invalid value: count must be a non-negative integer",
            ));
        }
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The installation's usage report: Tarn reports no usage, so there is no
/// installation to report on (lakeFS's answer without an installation id).
async fn usage_report() -> ApiResult<HttpResponse> {
    Err(ApiError::new(
        actix_web::http::StatusCode::NOT_FOUND,
        "installation not found",
    ))
}

/// What the server tells clients about itself; built at startup.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    /// `local`, `mem` or `s3`.
    pub blockstore_type: String,
    /// An example namespace for new repositories.
    pub namespace_example: String,
    /// The prefix clients build new repositories' namespaces from.
    pub default_namespace_prefix: String,
    /// The namespace schemes the block store accepts, as a regex.
    pub namespace_regex: String,
    /// Whether the block store presigns URLs.
    pub presign: bool,
    /// Lifetime of the presigned URLs handed out, in seconds.
    pub presign_expiry_secs: u64,
    /// Data younger than this is never collected, in seconds.
    pub gc_grace_period_secs: u64,
    /// Whether imports can read sources here (S3; local directories when
    /// allowed).
    pub import_support: bool,
}

impl ServerInfo {
    /// The presigned URL lifetime, when `asked` for one and the block store
    /// presigns; otherwise the client moves data through Tarn.
    pub fn presign_for(&self, asked: Option<bool>) -> Option<u64> {
        (asked == Some(true) && self.presign).then_some(self.presign_expiry_secs)
    }
}

/// Storage configuration (lakeFS's `StorageConfig`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct StorageConfig {
    blockstore_type: String,
    blockstore_namespace_example: String,
    blockstore_namespace_ValidityRegex: String,
    default_namespace_prefix: String,
    pre_sign_support: bool,
    pre_sign_support_ui: bool,
    import_support: bool,
    import_validity_regex: String,
    pre_sign_multipart_upload: bool,
    blockstore_id: String,
    blockstore_description: String,
}

/// Version information.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionConfig {
    version: String,
    version_context: String,
    upgrade_recommended: bool,
}

/// UI settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct UiConfig {
    custom_viewers: Vec<String>,
}

/// `GET /config`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Config {
    version_config: VersionConfig,
    /// Only for callers allowed `fs:ReadConfig` (as lakeFS).
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_config: Option<StorageConfig>,
    storage_config_list: Vec<StorageConfig>,
    ui_config: UiConfig,
    capabilities_config: serde_json::Value,
}

fn storage_config(info: &ServerInfo) -> StorageConfig {
    StorageConfig {
        blockstore_type: info.blockstore_type.clone(),
        blockstore_namespace_example: info.namespace_example.clone(),
        blockstore_namespace_ValidityRegex: info.namespace_regex.clone(),
        default_namespace_prefix: info.default_namespace_prefix.clone(),
        pre_sign_support: info.presign,
        // As lakeFS's default: a browser would need CORS on the bucket.
        pre_sign_support_ui: false,
        // Imports read the source through the block store: S3 buckets its
        // credentials can list (the local store's import of outside
        // directories is not built yet).
        import_support: info.import_support,
        import_validity_regex: info.namespace_regex.clone(),
        // Presigned multipart uploads need presigned part URLs: S3 only.
        pre_sign_multipart_upload: info.presign,
        blockstore_id: String::new(),
        blockstore_description: String::new(),
    }
}

/// The lakeFS release whose API Tarn speaks: clients compare it with the
/// minimum versions of features (lakefs-spec parses it as integers).
const LAKEFS_COMPATIBLE_VERSION: &str = "1.88.0";

fn version_config() -> VersionConfig {
    VersionConfig {
        version: LAKEFS_COMPATIBLE_VERSION.to_owned(),
        version_context: concat!("tarn ", env!("CARGO_PKG_VERSION")).into(),
        upgrade_recommended: false,
    }
}

async fn config(req: HttpRequest, info: web::Data<ServerInfo>) -> ApiResult<web::Json<Config>> {
    let read_config = tarn_model::auth::Permission::new(tarn_model::auth::Action::ReadConfig, "*");
    let storage = super::auth::allowed(&req, &[read_config])
        .await?
        .then(|| storage_config(&info));
    Ok(web::Json(Config {
        version_config: version_config(),
        // As lakeFS with one block store: the list is for several.
        storage_config_list: Vec::new(),
        storage_config: storage,
        ui_config: UiConfig {
            custom_viewers: Vec::new(),
        },
        capabilities_config: serde_json::json!({}),
    }))
}

async fn version() -> web::Json<VersionConfig> {
    web::Json(version_config())
}

async fn storage(info: web::Data<ServerInfo>) -> web::Json<StorageConfig> {
    web::Json(storage_config(&info))
}

async fn health() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

/// Whether setup has run.
#[derive(Debug, Serialize, ToSchema)]
pub struct SetupState {
    state: &'static str,
    comm_prefs_missing: bool,
    login_config: LoginConfig,
}

/// How the UI logs in: every field of lakeFS 1.84's `LoginConfig` (1.88 keeps
/// only `login_failed_message`; 1.84's clients require the URLs and cookies).
#[derive(Debug, Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct LoginConfig {
    RBAC: &'static str,
    login_url: &'static str,
    login_url_method: &'static str,
    login_failed_message: &'static str,
    login_cookie_names: Vec<&'static str>,
    logout_url: &'static str,
}

async fn setup_state(auth: web::Data<AuthState>) -> ApiResult<web::Json<SetupState>> {
    let state = if auth.auth.is_initialized().await? {
        "initialized"
    } else {
        "not_initialized"
    };
    Ok(web::Json(SetupState {
        state,
        comm_prefs_missing: false,
        login_config: LoginConfig {
            RBAC: "internal",
            login_url: "/auth/login",
            login_url_method: "none",
            login_failed_message: "The credentials don't match.",
            login_cookie_names: vec![super::auth::SESSION_COOKIE],
            logout_url: "/logout",
        },
    }))
}

/// An access key pair given at setup (no `Debug`: it holds a secret).
#[derive(Deserialize, ToSchema)]
pub struct AccessKeyCredentials {
    access_key_id: String,
    secret_access_key: String,
}

/// `POST /setup_lakefs` body.
#[derive(Deserialize, ToSchema)]
pub struct Setup {
    username: String,
    #[serde(default)]
    key: Option<AccessKeyCredentials>,
}

async fn setup(
    auth: web::Data<AuthState>,
    body: web::Json<Setup>,
) -> ApiResult<web::Json<CredentialsWithSecret>> {
    let body = body.into_inner();
    if body.username.is_empty() || body.username.contains('/') {
        return Err(ApiError::bad_request(
            "username must be non-empty and contain no '/'",
        ));
    }
    let key = match body.key {
        Some(k) if k.access_key_id.len() < 3 || k.secret_access_key.len() < 3 => {
            return Err(ApiError::bad_request(
                "access key id and secret must be at least 3 characters",
            ))
        }
        Some(k) => Some((k.access_key_id, k.secret_access_key)),
        None => None,
    };
    let created = auth.auth.setup(&body.username, key).await?;
    Ok(web::Json(created.into()))
}

async fn comm_prefs() -> HttpResponse {
    HttpResponse::Ok().finish()
}
