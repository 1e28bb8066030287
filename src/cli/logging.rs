//! Where and how the commands log: tracing to stderr, shaped for a
//! terminal, journald or a file.

use super::args::{Cli, Command};
use super::progress::AboveBar;
use super::stderr::{self, Stderr};

pub(super) fn init_logging(cli: &Cli) {
    use tracing_subscriber::EnvFilter;
    let default = match cli.command {
        Command::Run => "info,tokio_cron_scheduler=warn",
        _ => "warn",
    };
    let filter = cli.log_level.as_deref().unwrap_or(default);
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|e| {
        eprintln!("warning: ignoring the log filter {filter:?}: {e}");
        EnvFilter::new(default)
    });
    // The PostgreSQL client logs every statement with its parameters at
    // debug level, feed URLs with their credentials among them: never shown.
    // The TLS verifier logs a refused certificate that the connection
    // error reports again, with what to do: once is enough.
    let filter = ["tokio_postgres=info", "rustls_platform_verifier=off"]
        .into_iter()
        .fold(filter, |filter, directive| match directive.parse() {
            Ok(quiet) => filter.add_directive(quiet),
            Err(_) => filter,
        });
    let stderr = Stderr::detect();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| AboveBar)
        .with_ansi(stderr == Stderr::Terminal)
        .with_timer(stderr::UtcTime);
    match stderr {
        Stderr::Terminal => builder.init(),
        // journald adds its own timestamps; one plain line per event.
        Stderr::Journal => builder.without_time().with_target(false).init(),
        // A file or a pipe: each line says when (UTC, RFC 3339).
        Stderr::Elsewhere => builder.with_target(false).init(),
    }
}
