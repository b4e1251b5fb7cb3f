//! `GET /metrics`: Prometheus's text format, rendered from the `metrics`
//! facade's recorder (installed once per process). With
//! `metrics.require_auth` a scrape authenticates as API requests do; with
//! `metrics.enabled = false` the path is not found.

use super::api::auth::AuthState;
use actix_web::{web, HttpRequest, HttpResponse};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

/// Latency buckets, in seconds: 1 ms to 60 s.
const SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's recorder (once); the handle that renders it.
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            metrics::gauge!("tarn_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            Some(handle)
        })
        .clone()
}

/// Whether `/metrics` answers, and to whom.
#[derive(Debug, Clone, Copy)]
pub struct MetricsAccess {
    pub enabled: bool,
    pub require_auth: bool,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(scrape));
}

async fn scrape(
    req: HttpRequest,
    access: web::Data<MetricsAccess>,
    auth: web::Data<AuthState>,
) -> HttpResponse {
    let handle = match install() {
        Some(h) if access.enabled => h,
        _ => return super::not_found().await,
    };
    if access.require_auth {
        match auth.authenticate(&req).await {
            Ok(Some(_)) => {}
            _ => {
                return HttpResponse::Unauthorized().json(super::ErrorBody {
                    message: "metrics need credentials (metrics.require_auth)",
                    request_id: super::observe::current_id(),
                })
            }
        }
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(handle.render())
}
