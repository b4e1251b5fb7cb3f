//! `GET /metrics`: Prometheus's text format, rendered from the `metrics`
//! facade's recorder (installed once per process). With
//! `metrics.require_auth` a scrape authenticates as API requests do; with
//! `metrics.enabled = false` the path is not found.

use super::api::auth::AuthState;
use actix_web::{web, HttpRequest, HttpResponse};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use tarn_domain::{CacheStats, Engine};

/// Latency buckets, in seconds: 1 ms to 60 s.
const SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// Size buckets for counts of paths (`_entries`): 1 to 10 million.
const ENTRIES: &[f64] = &[
    1.0,
    10.0,
    100.0,
    1_000.0,
    10_000.0,
    100_000.0,
    1_000_000.0,
    10_000_000.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's recorder (once); the handle that renders it.
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)
                .ok()?
                .set_buckets_for_metric(Matcher::Suffix("_entries".into()), ENTRIES)
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
    engine: web::Data<Engine>,
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
    publish_caches(
        engine
            .cache_stats()
            .into_iter()
            .chain(auth.auth.cache_stats()),
    );
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(handle.render())
}

/// The caches' counts, as kept by the domain, published at each scrape:
/// `tarn_cache_lookups_total{cache, result}`, `tarn_cache_entries{cache}`
/// and, for caches bounded in bytes, `tarn_cache_bytes{cache}`.
fn publish_caches(stats: impl Iterator<Item = CacheStats>) {
    for s in stats {
        let lookups = |result: &'static str| metrics::counter!("tarn_cache_lookups_total", "cache" => s.cache, "result" => result);
        lookups("hit").absolute(s.hits);
        lookups("miss").absolute(s.misses);
        metrics::gauge!("tarn_cache_entries", "cache" => s.cache).set(s.entries as f64);
        if let Some(bytes) = s.bytes {
            metrics::gauge!("tarn_cache_bytes", "cache" => s.cache).set(bytes as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    //! The documented metrics are the recorded ones: every metric the
    //! Grafana dashboard queries is in docs/operating.md's table, and every name
    //! in the table is recorded somewhere in the code.

    use std::collections::BTreeSet;
    use std::path::Path;

    /// `tarn_…` names in `text`, without histogram suffixes.
    fn names(text: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut rest = text;
        while let Some(at) = rest.find("tarn_") {
            let tail = &rest[at..];
            let end = tail
                .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
                .unwrap_or(tail.len());
            let mut name = &tail[..end];
            for suffix in ["_bucket", "_sum", "_count"] {
                name = name.strip_suffix(suffix).unwrap_or(name);
            }
            out.insert(name.to_owned());
            rest = &tail[end..];
        }
        out
    }

    fn recorded(dir: &Path, into: &mut String) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                recorded(&path, into);
            } else if path.extension().is_some_and(|e| e == "rs") {
                into.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }

    #[test]
    fn the_dashboard_and_the_docs_name_only_recorded_metrics() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dashboard = include_str!("../../docs/grafana-dashboard.json");
        let parsed: serde_json::Value = serde_json::from_str(dashboard).unwrap();
        let panels = parsed["panels"].as_array().unwrap();
        let readme = include_str!("../../docs/operating.md");
        let table: String = readme
            .lines()
            .filter(|l| l.trim_start().starts_with("| `tarn_"))
            .collect();
        let documented = names(&table);
        for name in names(dashboard) {
            assert!(
                documented.contains(&name),
                "{name} is not in docs/operating.md"
            );
        }
        let mut code = String::new();
        for dir in ["src", "adapters", "domain"] {
            recorded(&root.join(dir), &mut code);
        }
        for name in &documented {
            assert!(
                code.contains(&format!("\"{name}\"")),
                "{name} is recorded nowhere"
            );
        }
        // Every query is by instance, so the dashboard's selector works.
        for panel in panels.iter().filter(|p| p["type"] == "timeseries") {
            for target in panel["targets"].as_array().unwrap() {
                let expr = target["expr"].as_str().unwrap();
                assert!(expr.contains("instance=~\"$instance\""), "{expr}");
            }
        }
        assert!(documented.len() >= 20, "{documented:?}");
    }
}
