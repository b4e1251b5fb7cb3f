//! Structured logs to stderr (stdout is for the startup banner), and the
//! audit log (target `audit`) as JSON lines to `logging.audit_path`; the
//! engine's operation spans as metrics ([`operations`]); spans exported
//! over OTLP when `tracing.otlp_endpoint` is set ([`otlp`]).

mod operations;
mod otlp;

use crate::settings::{LogFormat, Logging, TracingSettings};
use std::sync::Mutex;
use tracing_subscriber::filter::{filter_fn, EnvFilter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, Layer};

/// What must outlive the process's work: the span exporter, flushed when
/// this is dropped.
#[must_use = "dropping it stops the span export"]
pub struct Telemetry {
    spans: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.spans.take() {
            // Sends what is still batched; a collector that is down only
            // costs the spans.
            let _ = provider.shutdown();
        }
    }
}

/// Installs the global subscriber. `RUST_LOG` beats `logging.level`; the
/// audit log takes every audit event whatever the level. An OTLP endpoint
/// that cannot be used is an error (the operator asked for the export).
pub fn init(logging: &Logging, tracing: &TracingSettings) -> Result<Telemetry, String> {
    let (spans, export) = if tracing.otlp_endpoint.is_empty() {
        (None, None)
    } else {
        let filter = EnvFilter::try_new(&tracing.filter)
            .map_err(|e| format!("tracing.filter {:?}: {e}", tracing.filter))?;
        let provider = otlp::provider(&tracing.otlp_endpoint, &tracing.service_name)?;
        let layer = tracing_opentelemetry::layer()
            .with_tracer(otlp::tracer(&provider))
            .with_filter(filter);
        (Some(provider), Some(layer))
    };
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&logging.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let main = match logging.format {
        LogFormat::Json => fmt::layer().json().with_writer(std::io::stderr).boxed(),
        LogFormat::Text => fmt::layer().with_writer(std::io::stderr).boxed(),
    }
    .with_filter(filter);
    let audit = if logging.audit_path.is_empty() {
        None
    } else {
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&logging.audit_path)
        {
            Ok(file) => Some(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_span_list(false)
                    .with_writer(Mutex::new(file))
                    .with_filter(filter_fn(|m| m.target() == crate::http::audit::TARGET)),
            ),
            Err(e) => {
                eprintln!(
                    "tarn: cannot open logging.audit_path {}: {e}",
                    logging.audit_path
                );
                None
            }
        }
    };
    if let Err(e) = tracing_subscriber::registry()
        .with(main)
        .with(audit)
        .with(operations::OperationMetrics.with_filter(filter_fn(operations::wanted)))
        .with(export)
        .try_init()
    {
        eprintln!("tarn: logging already initialised: {e}");
    }
    Ok(Telemetry { spans })
}
