//! Structured logs to stderr (stdout is for the startup banner).

use crate::settings::{LogFormat, Logging};
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `RUST_LOG` beats `logging.level`.
pub fn init(logging: &Logging) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&logging.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match logging.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
    if let Err(e) = result {
        eprintln!("tarn: logging already initialised: {e}");
    }
}
