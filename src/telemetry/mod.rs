//! Structured logs to stderr (stdout is for the startup banner), and the
//! audit log (target `audit`) as JSON lines to `logging.audit_path`.

use crate::settings::{LogFormat, Logging};
use std::sync::Mutex;
use tracing_subscriber::filter::{filter_fn, EnvFilter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, Layer};

/// Installs the global subscriber. `RUST_LOG` beats `logging.level`; the
/// audit log takes every audit event whatever the level.
pub fn init(logging: &Logging) {
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
        .try_init()
    {
        eprintln!("tarn: logging already initialised: {e}");
    }
}
