//! `gleaner export`: stored articles as JSON, JSON lines, a JSON Feed or Atom.

use std::process::ExitCode;

use super::{UsageError, find_feed, open_store};
use crate::config::Config;
use crate::export::{self, ExportError, ExportRequest, Format};
use crate::store::Access;

/// `gleaner export`: `request` as the options gave it, its feeds still
/// the names or URLs `--feed` gave (`feeds`).
pub(super) fn export(
    config: &Config,
    mut request: ExportRequest,
    feeds: &[String],
    follow: bool,
) -> anyhow::Result<ExitCode> {
    if follow && request.format != Format::Jsonl {
        return Err(UsageError("--follow streams JSON lines: add --format jsonl".into()).into());
    }
    request.feed_urls = export_feed_urls(config, feeds)?;
    let access = match (&request.consumer, request.peek) {
        (Some(_), false) => Access::Update,
        _ => Access::Read,
    };
    let mut store = open_store(config, access)?;
    let run = if follow {
        export::follow
    } else {
        export::export
    };
    match run(&mut store, &request) {
        Ok(_) => {}
        Err(ExportError::Write { source, .. })
            if request.output.is_none() && source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            return Ok(stdout_closed_export(&request));
        }
        Err(error @ ExportError::Store(_)) => {
            return Err(anyhow::Error::new(error).context(format!(
                "cannot export from the database {}",
                store.path().display()
            )));
        }
        Err(other) => return Err(other.into()),
    }
    Ok(ExitCode::SUCCESS)
}

/// How an export to stdout ends when its reader closed the pipe before the
/// end: exit 0 when no cursor would have moved (the reader had what it
/// wanted); for a consumer, whose cursor stays where it was, exit 1 (an I/O
/// failure, as SPEC's exit codes have it), because a consumer takes only an
/// export that exited 0 as delivered.
pub(super) fn stdout_closed_export(request: &ExportRequest) -> ExitCode {
    match (&request.consumer, request.peek) {
        (Some(consumer), false) => {
            eprintln!(
                "error: stdout was closed before the export was complete; the cursor of consumer {consumer:?} did not move, so the next export gives these articles again"
            );
            ExitCode::FAILURE
        }
        _ => ExitCode::SUCCESS,
    }
}

/// The feeds `--feed` names: configured ones by name or URL, and, since a
/// removed feed's articles are kept, any other http(s) URL as given.
pub(super) fn export_feed_urls(config: &Config, names: &[String]) -> anyhow::Result<Vec<String>> {
    let mut urls: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let url = match find_feed(config, name) {
            Ok(feed) => feed.url.to_string(),
            Err(error) => match url::Url::parse(name) {
                Ok(url) if matches!(url.scheme(), "http" | "https") => url.to_string(),
                _ => return Err(error),
            },
        };
        if !urls.contains(&url) {
            urls.push(url);
        }
    }
    Ok(urls)
}
