//! Engine operations as metrics. The domain opens a span for each commit and
//! merge (target `tarn_domain`) and records on it `outcome = "ok"` and the
//! paths it changed (`entries`) when it succeeds; this layer times each such
//! span from creation to close and publishes:
//! - `tarn_engine_operations_total{operation, outcome="ok"|"failed"}`;
//! - `tarn_engine_operation_duration_seconds{operation}` (every outcome);
//! - `tarn_engine_operation_entries{operation}` (successes that know it).

use std::fmt::Debug;
use std::time::Instant;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Metadata, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// The engine's spans that become metrics, by name.
const OPERATIONS: &[&str] = &["commit", "merge"];

/// Whether the layer wants `meta` (its per-layer filter: this layer sees
/// these spans whatever the log level).
pub(super) fn wanted(meta: &Metadata<'_>) -> bool {
    meta.is_span() && meta.target().starts_with("tarn_domain") && OPERATIONS.contains(&meta.name())
}

/// What a span carried so far.
struct Timing {
    started: Instant,
    ok: bool,
    entries: Option<u64>,
}

impl Visit for Timing {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "entries" {
            self.entries = Some(value);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "outcome" {
            self.ok = value == "ok";
        }
    }

    fn record_debug(&mut self, _: &Field, _: &dyn Debug) {}
}

/// The layer; see the module's documentation.
pub(super) struct OperationMetrics;

impl<S> Layer<S> for OperationMetrics
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            let mut timing = Timing {
                started: Instant::now(),
                ok: false,
                entries: None,
            };
            attrs.record(&mut timing);
            span.extensions_mut().insert(timing);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            if let Some(timing) = span.extensions_mut().get_mut::<Timing>() {
                values.record(timing);
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let Some(timing) = span.extensions_mut().remove::<Timing>() else {
            return;
        };
        let operation = span.name();
        let outcome = if timing.ok { "ok" } else { "failed" };
        metrics::counter!(
            "tarn_engine_operations_total",
            "operation" => operation,
            "outcome" => outcome
        )
        .increment(1);
        metrics::histogram!("tarn_engine_operation_duration_seconds", "operation" => operation)
            .record(timing.started.elapsed().as_secs_f64());
        if let (true, Some(n)) = (timing.ok, timing.entries) {
            metrics::histogram!("tarn_engine_operation_entries", "operation" => operation)
                .record(n as f64);
        }
    }
}
