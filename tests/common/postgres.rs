//! The PostgreSQL server the tests use, found through environment variables:
//!
//! - `GLEANER_TEST_POSTGRES`: a URL of a role that may create databases
//!   (`.ci/run` starts a throwaway cluster and sets it, see
//!   `scripts/postgres-test-cluster.sh`). Each test gets a database of its
//!   own, dropped when the test ends.
//! - `GLEANER_TEST_BACKEND=postgres`: every [`super::Gleaner`] stores in
//!   PostgreSQL instead of SQLite, so the same test files run against both.
//!
//! Without the server a PostgreSQL test is skipped with a loud message, but
//! in CI (`CI` set) or with `GLEANER_TEST_BACKEND=postgres` its absence
//! fails the test: CI never passes by skipping.

use std::sync::atomic::{AtomicU32, Ordering};

use url::Url;

/// The server's URL; `None` (after saying so on stderr) when the tests run
/// without one outside CI. `test` names the test that skips.
pub fn server(test: &str) -> Option<Url> {
    match std::env::var("GLEANER_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => {
            Some(Url::parse(&url).expect("GLEANER_TEST_POSTGRES is a URL"))
        }
        _ => {
            let required =
                std::env::var_os("CI").is_some_and(|v| !v.is_empty()) || backend_is_postgres();
            assert!(
                !required,
                "GLEANER_TEST_POSTGRES is not set, but CI or GLEANER_TEST_BACKEND=postgres is: \
                 start a server with `eval \"$(scripts/postgres-test-cluster.sh start)\"`"
            );
            skipped(
                test,
                "no PostgreSQL (set GLEANER_TEST_POSTGRES, e.g. \
                 `eval \"$(scripts/postgres-test-cluster.sh start)\"`)",
            )
        }
    }
}

/// The test cluster's CA certificate (`GLEANER_TEST_POSTGRES_CA`), whose
/// database `gleaner_tls` takes TLS connections only; `None` (said on
/// stderr) to skip, as [`server`] does, and never in CI.
pub fn tls_ca(test: &str) -> Option<String> {
    server(test)?;
    match std::env::var("GLEANER_TEST_POSTGRES_CA") {
        Ok(ca) if !ca.is_empty() => Some(ca),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "GLEANER_TEST_POSTGRES_CA is not set in CI: start the cluster with \
                 scripts/postgres-test-cluster.sh"
            );
            skipped(
                test,
                "the PostgreSQL cluster has no TLS (restart it with \
                 scripts/postgres-test-cluster.sh)",
            )
        }
    }
}

/// Says loudly that `test` is skipped, and why.
fn skipped<T>(test: &str, why: &str) -> Option<T> {
    // Straight to stderr: the test harness would swallow eprintln!.
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "\n!!! SKIPPED {test}: {why} !!!\n");
    None
}

/// Whether the test set-ups store in PostgreSQL (`GLEANER_TEST_BACKEND`).
pub fn backend_is_postgres() -> bool {
    std::env::var("GLEANER_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// A database of its own for one test, dropped with this value.
pub struct TestDatabase {
    admin: Url,
    name: String,
}

impl TestDatabase {
    /// A fresh, empty database on `server`.
    pub fn create(server: &Url) -> TestDatabase {
        TestDatabase::create_with(server, None)
    }

    /// A fresh, empty database on `server` whose collation and character
    /// classes are `locale`'s (`C`, `C.UTF-8`), UTF-8 encoded.
    pub fn with_locale(server: &Url, locale: &str) -> TestDatabase {
        TestDatabase::create_with(server, Some(locale))
    }

    fn create_with(server: &Url, locale: Option<&str>) -> TestDatabase {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "gleaner_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            fastrand::u32(..)
        );
        let database = TestDatabase {
            admin: server.clone(),
            name,
        };
        let options = locale.map_or(String::new(), |locale| {
            format!(" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE '{locale}' LC_CTYPE '{locale}'")
        });
        database.admin(&format!("CREATE DATABASE {}{options}", database.name));
        database
    }

    /// The URL of this database (password included: it is a test's).
    pub fn url(&self) -> Url {
        let mut url = self.admin.clone();
        url.set_path(&self.name);
        url
    }

    /// The URL without its password, and the password.
    pub fn url_and_password(&self) -> (Url, String) {
        let mut url = self.url();
        let password = url.password().unwrap_or_default().to_owned();
        url.set_password(None).unwrap();
        (url, password)
    }

    /// Runs `sql` (statements separated by `;`) on this database, for a
    /// state the commands cannot make (an older version's schema).
    pub fn batch(&self, sql: &str) {
        let url = self.url();
        let sql = sql.to_owned();
        std::thread::spawn(move || {
            let mut client = postgres::Client::connect(url.as_str(), postgres::NoTls).unwrap();
            client.batch_execute(&sql).unwrap()
        })
        .join()
        .unwrap()
    }

    /// A client of this database, for checks the commands do not show.
    pub fn query(&self, sql: &str) -> Vec<postgres::Row> {
        let url = self.url();
        let sql = sql.to_owned();
        // The sync client runs its own runtime: keep it off any test's.
        std::thread::spawn(move || {
            let mut client = postgres::Client::connect(url.as_str(), postgres::NoTls).unwrap();
            client.query(&sql, &[]).unwrap()
        })
        .join()
        .unwrap()
    }

    /// Ends the server's connections to this database that `filter` (SQL
    /// on `pg_stat_activity`, e.g. `application_name LIKE 'x%'`) picks, as
    /// an administrator, a restart or an idle timeout would; how many.
    pub fn end_connections(&self, filter: &str) -> usize {
        self.query(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() AND ({filter})"
        ))
        .len()
    }

    /// Runs `sql` as the server's role. A busy machine may refuse a
    /// connection or, for `DROP DATABASE … WITH (FORCE)`, see a terminated
    /// session linger past the server's 5 s wait: both are tried again.
    fn admin(&self, sql: &str) {
        let url = self.admin.clone();
        let sql = sql.to_owned();
        std::thread::spawn(move || {
            let mut attempt = 0;
            loop {
                let done = postgres::Client::connect(url.as_str(), postgres::NoTls)
                    .and_then(|mut client| client.batch_execute(&sql));
                match done {
                    Ok(()) => return,
                    Err(e) if attempt >= 5 => {
                        let detail = e
                            .as_db_error()
                            .map_or(e.to_string(), |d| d.message().to_owned());
                        panic!("{sql}: {detail}")
                    }
                    Err(_) => attempt += 1,
                }
                std::thread::sleep(std::time::Duration::from_millis(500));
            }
        })
        .join()
        .unwrap()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.admin(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}
