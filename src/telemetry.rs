//! Tracing set-up: pretty or JSON logs as configured, filtered by
//! `log.level` (or `RUST_LOG`). Every request runs in a span that carries its
//! request id (see `tracing-actix-web`), so every log line of a request names
//! it; closing a request's span writes its access-log line (with timings).

use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::{fmt, EnvFilter};

use crate::configuration::{LogFormat, LogSettings};

/// Installs the global subscriber once; later calls (tests) are no-ops.
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let result = match settings.format {
        LogFormat::Json => fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_span_events(FmtSpan::CLOSE)
            .with_env_filter(filter)
            .try_init(),
        LogFormat::Pretty => fmt()
            .with_span_events(FmtSpan::CLOSE)
            .with_env_filter(filter)
            .compact()
            .try_init(),
    };
    // Already installed (several apps in one test process): keep the first.
    let _ = result;
}
