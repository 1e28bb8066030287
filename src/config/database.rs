//! `[storage] database`: a SQLite file, or a PostgreSQL server by URL.
//!
//! The URL's form is checked here without connecting. Its password (from the
//! URL, `[storage] password_file` or `PGPASSWORD`) is kept apart from the
//! URL, which is shown only through [`crate::redact`]: no message, log line
//! or `Debug` output carries it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

/// Where the articles live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file (the embedded default).
    Sqlite(PathBuf),
    /// A PostgreSQL database shared by any number of instances.
    Postgres(PostgresTarget),
}

impl Database {
    /// The database as shown in messages and logs: the file, or the URL
    /// without credentials.
    pub fn display(&self) -> impl fmt::Display + '_ {
        DisplayDatabase(self)
    }

    /// The SQLite file, when that is what this is.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Database::Sqlite(path) => Some(path),
            Database::Postgres(_) => None,
        }
    }
}

struct DisplayDatabase<'a>(&'a Database);

impl fmt::Display for DisplayDatabase<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(target) => write!(f, "{}", target.shown),
        }
    }
}

/// A checked PostgreSQL URL, where its password comes from, and how the
/// connection is protected.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresTarget {
    /// The URL without its password (the user name stays: the client needs it).
    url: Url,
    /// The URL as shown: no userinfo at all.
    shown: String,
    password: Password,
    tls: Tls,
    /// Where the URL was given, for the advice of a failed connection.
    given_in: &'static str,
    /// `[storage] lease_secs`: what the connections' lock and idle
    /// timeouts and keepalives are derived from.
    lease: Duration,
}

/// Whether the connection to PostgreSQL is encrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tls {
    /// No TLS: `sslmode=disable`, or `prefer` (the default), which this
    /// client reads as disable rather than trying TLS it would not verify.
    Off,
    /// `sslmode=require`: TLS, the server's certificate checked against
    /// `ca_file` (`[storage] ca_file`) or else the system's trusted roots,
    /// and its name against the URL's host.
    Verified { ca_file: Option<PathBuf> },
}

#[derive(Clone, PartialEq, Eq)]
enum Password {
    /// Written in the URL.
    InUrl(String),
    /// `[storage] password_file`, read when connecting.
    File(PathBuf),
    /// `PGPASSWORD` when connecting, else none (trust or peer authentication).
    FromEnvironment,
}

impl fmt::Debug for PostgresTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.password {
            Password::InUrl(_) => "in the URL".to_owned(),
            Password::File(path) => format!("file {}", path.display()),
            Password::FromEnvironment => "PGPASSWORD or none".to_owned(),
        };
        f.debug_struct("PostgresTarget")
            .field("url", &self.shown)
            .field("password", &source)
            .field("tls", &self.tls)
            .finish()
    }
}

/// Why a password could not be had when connecting.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot read the PostgreSQL password file {path}: {source} (check [storage] password_file)"
)]
pub struct PasswordError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

impl PostgresTarget {
    /// The URL as shown in messages: without credentials.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// This URL given in `setting` (`--to`) rather than `[storage] database`:
    /// what a failed connection tells the operator to check.
    pub fn given_in(mut self, setting: &'static str) -> PostgresTarget {
        self.given_in = setting;
        self
    }

    /// This URL for instances whose feed leases run `lease`
    /// (`[storage] lease_secs`): its connections bound their waits by it.
    pub fn with_lease(mut self, lease: Duration) -> PostgresTarget {
        self.lease = lease;
        self
    }

    /// `[storage] lease_secs` (its default unless [`Self::with_lease`]).
    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// Where the URL was given (`[storage] database` unless [`Self::given_in`]).
    pub fn setting(&self) -> &'static str {
        self.given_in
    }

    /// The URL without its password, for the client library.
    pub fn url_without_password(&self) -> &Url {
        &self.url
    }

    /// How the connection is protected.
    pub fn tls(&self) -> &Tls {
        &self.tls
    }

    /// Checks the server's certificate against the CA certificates in
    /// `ca_file` (PEM) instead of the system's roots. Only for a URL with
    /// `sslmode=require`; the message follows `[storage].ca_file: `.
    pub fn with_ca_file(mut self, ca_file: PathBuf) -> Result<PostgresTarget, String> {
        match &mut self.tls {
            Tls::Verified { ca_file: file } => {
                *file = Some(ca_file);
                Ok(self)
            }
            Tls::Off => Err(format!(
                "the connection to {} is not encrypted, so there is no certificate to check: \
                 add ?sslmode=require to [storage].database, or remove ca_file",
                self.shown
            )),
        }
    }

    /// The password to log in with, if any: read now from the file or the
    /// environment, so that a rotated secret is picked up by the next start.
    pub fn password(&self) -> Result<Option<String>, PasswordError> {
        match &self.password {
            Password::InUrl(password) => Ok(Some(password.clone())),
            Password::File(path) => std::fs::read_to_string(path)
                .map(|text| Some(text.trim_end_matches(['\n', '\r']).to_owned()))
                .map_err(|source| PasswordError {
                    path: path.clone(),
                    source,
                }),
            Password::FromEnvironment => Ok(std::env::var("PGPASSWORD").ok()),
        }
    }
}

/// Whether `text` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(text: &str) -> bool {
    let lower = text.trim_start().to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// The scheme of a `scheme://…` value that is not PostgreSQL's
/// (`postgress://`, `mysql://`, `sqlite://`): a mistyped or unsupported URL,
/// refused where it is written rather than opened as a SQLite file of that
/// name. A SQLite path never looks like one.
pub fn unknown_scheme(text: &str) -> Option<&str> {
    let text = text.trim_start();
    let (scheme, _) = text.split_once("://")?;
    let mut chars = scheme.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (well_formed && !is_postgres_url(text)).then_some(scheme)
}

/// What to say of a value with [`unknown_scheme`]: the accepted forms.
pub fn unknown_scheme_message(scheme: &str) -> String {
    format!(
        "{scheme:?} is not a database gleaner can use: give a SQLite file path (e.g. /var/lib/gleaner/gleaner.db) or a postgres:// (or postgresql://) URL"
    )
}

/// Checks a `postgres://` URL's form (never connecting). `password_file`
/// is already resolved against the config's folder. The message is meant to
/// follow `[storage].database: `; it never repeats the password.
pub fn check_postgres_url(
    text: &str,
    password_file: Option<PathBuf>,
) -> Result<PostgresTarget, String> {
    let mut url = Url::parse(text.trim()).map_err(|e| {
        format!("not a valid URL ({e}); write postgres://USER@HOST[:PORT]/DATABASE, or postgres:///DATABASE?host=/socket/folder&user=USER for a Unix socket")
    })?;
    let mut shown = url.clone();
    crate::redact::redact_in_place(&mut shown);
    let shown = shown.to_string();
    let in_url = url
        .password()
        .map(|p| {
            percent_decode(p).ok_or_else(|| {
                format!("{shown}: the password in the URL is not valid percent-encoded UTF-8")
            })
        })
        .transpose()?;
    let _ = url.set_password(None);
    if url.host_str().is_none_or(str::is_empty) && !url.query_pairs().any(|(k, _)| k == "host") {
        return Err(format!(
            "{shown} names no server: write postgres://USER@HOST[:PORT]/DATABASE (or ?host=/socket/folder)"
        ));
    }
    if let Some((_, mode)) = url.query_pairs().find(|(k, _)| k == "sslmode")
        && !matches!(mode.as_ref(), "disable" | "prefer" | "require")
    {
        return Err(format!(
            "{shown}: sslmode={mode} is not supported: write sslmode=disable, sslmode=prefer (the default: no TLS) or sslmode=require (TLS, the server's certificate checked)"
        ));
    }
    // The client's own parser decides what it accepts (parameters, ports),
    // so check-config agrees with what connecting will do.
    let parsed: postgres::Config = url
        .as_str()
        .parse()
        .map_err(|e| format!("{shown}: {e} (see the README's [storage] database)"))?;
    let tls = match parsed.get_ssl_mode() {
        postgres::config::SslMode::Require => Tls::Verified { ca_file: None },
        _ => Tls::Off,
    };
    let password = match (in_url, password_file) {
        (Some(_), Some(_)) => {
            return Err(format!(
                "{shown} has a password and [storage] password_file is set too: keep one"
            ));
        }
        (Some(password), None) => Password::InUrl(password),
        (None, Some(path)) => Password::File(path),
        (None, None) => Password::FromEnvironment,
    };
    Ok(PostgresTarget {
        url,
        shown,
        password,
        tls,
        given_in: "[storage] database",
        lease: crate::config::DEFAULT_LEASE,
    })
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_are_recognised_case_insensitively() {
        assert!(is_postgres_url("postgres://db.internal/gleaner"));
        assert!(is_postgres_url("PostgreSQL://db.internal/gleaner"));
        assert!(!is_postgres_url("gleaner.db"));
        assert!(!is_postgres_url("/var/lib/gleaner/postgres.db"));
    }

    #[test]
    fn the_password_leaves_the_url_and_is_never_shown() {
        let target =
            check_postgres_url("postgres://reader:s%40cret@db.internal:6543/news", None).unwrap();
        assert_eq!(target.password().unwrap().as_deref(), Some("s@cret"));
        assert_eq!(target.shown(), "postgres://***@db.internal:6543/news");
        assert_eq!(
            target.url_without_password().as_str(),
            "postgres://reader@db.internal:6543/news"
        );
        let debug = format!("{target:?}");
        assert!(!debug.contains("cret"), "{debug}");
        let shown = Database::Postgres(target).display().to_string();
        assert!(!shown.contains("cret"), "{shown}");
    }

    #[test]
    fn a_password_file_is_read_when_connecting() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        let target =
            check_postgres_url("postgresql://reader@db.internal/news", Some(file.clone())).unwrap();
        let error = target.password().unwrap_err().to_string();
        assert!(error.contains(&file.display().to_string()), "{error}");
        std::fs::write(&file, "hunter2\n").unwrap();
        assert_eq!(target.password().unwrap().as_deref(), Some("hunter2"));
    }

    #[test]
    fn malformed_urls_are_refused_without_echoing_the_password() {
        for (url, expect) in [
            ("postgres://", "names no server"),
            ("postgres://u:pw1@db.internal:notaport/x", "not a valid URL"),
            ("postgres://u:pw1@db.internal/x?colour=blue", "colour"),
            (
                "postgres://u:pw1@db.internal/x?sslmode=verify-full",
                "sslmode",
            ),
        ] {
            let error = check_postgres_url(url, None).unwrap_err();
            assert!(error.contains(expect), "{url}: {error}");
            assert!(!error.contains("pw1"), "{url}: {error}");
        }
        let both = check_postgres_url("postgres://u:pw1@db.internal/x", Some("/pw".into()));
        assert!(both.unwrap_err().contains("keep one"));
    }

    #[test]
    fn sslmode_require_is_a_verified_connection_and_only_it_takes_a_ca_file() {
        let url = "postgres://u@db.internal/x";
        let plain = check_postgres_url(url, None).unwrap();
        assert_eq!(plain.tls(), &Tls::Off);
        let error = plain.with_ca_file("/ca.pem".into()).unwrap_err();
        assert!(error.contains("sslmode=require"), "{error}");
        let tls = check_postgres_url(&format!("{url}?sslmode=require"), None).unwrap();
        assert_eq!(tls.tls(), &Tls::Verified { ca_file: None });
        let tls = tls.with_ca_file("/ca.pem".into()).unwrap();
        assert_eq!(
            tls.tls(),
            &Tls::Verified {
                ca_file: Some("/ca.pem".into())
            }
        );
    }

    #[test]
    fn a_unix_socket_folder_is_a_server() {
        let target = check_postgres_url("postgres:///news?host=/run/postgresql&user=gleaner", None);
        assert!(target.is_ok(), "{target:?}");
    }
}
