//! `--scaling URL`: the same three passes on SQLite (one instance) and on
//! PostgreSQL with 1, 2 and 3 instances sharing one database, each set-up on
//! a fresh database and a fresh server. URL names a PostgreSQL role that may
//! create databases (as `GLEANER_TEST_POSTGRES` does for the tests); the
//! bench makes one database per set-up and drops it after.
//!
//! The instances run in this process, each as `gleaner run` would hold it:
//! its own database connection (and thread), its own HTTP client and
//! extraction threads, its own lease holder name. Each pass polls every feed
//! from every instance at once, as the daemon's tick does (a feed claimed in
//! the pass by one instance is skipped by the others). On one machine the
//! instances share its cores, so what this shows is what sharing the work
//! through one database costs, not what more machines would add.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use gleaner::config::Config;
use gleaner::poll::{Pipeline, PollMode};
use gleaner::store::StoreHandle;
use gleaner::store::handle::StoreThread;
use url::Url;

use super::{Server, config_text, machine_busy, process_cpu, start_instance};

/// One pass of one set-up.
struct Row {
    setup: String,
    pass: &'static str,
    wall: Duration,
    cpu: Duration,
    others_cpu: Duration,
    /// The database threads' busy time, summed over instances.
    store_busy: Duration,
    new_articles: usize,
    /// Feeds answered 200, 304, pages served.
    served: [u64; 3],
}

/// An instance as `gleaner run` holds it.
struct Instance {
    pipeline: Pipeline,
    store: StoreHandle,
    thread: StoreThread,
}

/// A database made for one set-up, dropped after it.
struct Scratch {
    admin: Url,
    name: String,
}

impl Scratch {
    fn create(admin: &Url, n: usize) -> Scratch {
        let name = format!("gleaner_bench_{}_{n}", std::process::id());
        let mut client = postgres::Client::connect(admin.as_str(), postgres::NoTls)
            .expect("connecting to the --scaling server");
        for sql in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            client
                .batch_execute(&sql)
                .expect("creating a bench database");
        }
        Scratch {
            admin: admin.clone(),
            name,
        }
    }

    fn url(&self) -> Url {
        let mut url = self.admin.clone();
        url.set_path(&self.name);
        url
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(self.admin.as_str(), postgres::NoTls) {
            let _ = client.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

pub async fn run(admin: &str, feeds: usize, entries: usize, concurrency: usize) {
    let admin = Url::parse(admin).expect("--scaling takes a postgres:// URL");
    println!(
        "scaling bench: {feeds} feeds x {entries} entries, concurrency {concurrency} per instance, \
         one host (per_host_concurrency = {concurrency}, per_host_interval_ms = 0), {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let setups = [
        ("SQLite", 1),
        ("PostgreSQL", 1),
        ("PostgreSQL", 2),
        ("PostgreSQL", 3),
    ];
    let mut rows = Vec::new();
    for (n, (backend, instances)) in setups.into_iter().enumerate() {
        // The postgres client blocks (on a runtime of its own): off the reactor.
        let scratch = (backend == "PostgreSQL")
            .then(|| tokio::task::block_in_place(|| Scratch::create(&admin, n)));
        let dir = tempfile::tempdir().expect("a temporary folder");
        let database = match &scratch {
            Some(s) => s.url().to_string(),
            None => dir.path().join("bench.db").display().to_string(),
        };
        let server = Server::start(feeds, entries);
        let config_path = dir.path().join("bench.toml");
        std::fs::write(
            &config_path,
            config_text(&server, feeds, concurrency, &database),
        )
        .expect("writing the config");
        let config = Config::load(&config_path).expect("a valid config");
        let setup = format!("{backend} x{instances}");
        eprintln!("{setup}…");
        let mut running = Vec::new();
        for _ in 0..instances {
            let (pipeline, store, thread) = start_instance(&config);
            running.push(Instance {
                pipeline,
                store,
                thread,
            });
        }
        for pass in ["first", "idle (all 304)", "10 % new"] {
            // A daemon's ticks are at least a second apart, and a scheduled
            // poll yields to an instance that claimed the feed since its
            // tick began less that (poll::TICK_SLACK).
            tokio::time::sleep(Duration::from_millis(1100)).await;
            if pass == "10 % new" {
                server.add_new_entries();
            }
            rows.push(one_pass(&setup, pass, &running, &config, &server).await);
        }
        for instance in running {
            drop(instance.pipeline);
            drop(instance.store);
            let thread = instance.thread;
            tokio::task::spawn_blocking(move || thread.join())
                .await
                .expect("joining a database thread");
        }
        tokio::task::block_in_place(|| drop(scratch));
    }
    report(&rows, feeds);
}

async fn one_pass(
    setup: &str,
    pass: &'static str,
    instances: &[Instance],
    config: &Config,
    server: &Server,
) -> Row {
    let before = server.counts();
    let busy = || -> Duration { instances.iter().map(|i| i.store.busy()).sum() };
    let busy_before = busy();
    let (cpu_before, machine_before) = (process_cpu(), machine_busy());
    let started = Instant::now();
    let summaries = join_all(instances.iter().map(|i| {
        i.pipeline
            .poll_all(&config.feeds, PollMode::Scheduled, |_| {})
    }))
    .await;
    let wall = started.elapsed();
    let cpu = process_cpu().saturating_sub(cpu_before);
    let after = server.counts();
    let row = Row {
        setup: setup.to_owned(),
        pass,
        wall,
        cpu,
        others_cpu: machine_busy()
            .saturating_sub(machine_before)
            .saturating_sub(cpu),
        store_busy: busy().saturating_sub(busy_before),
        new_articles: summaries.iter().map(|s| s.new_articles).sum(),
        served: [0, 1, 2].map(|i| after[i] - before[i]),
    };
    let failed: usize = summaries.iter().map(|s| s.failed).sum();
    eprintln!(
        "  {pass}: {} new articles in {:.2} s, {failed} feeds failed",
        row.new_articles,
        wall.as_secs_f64()
    );
    row
}

fn report(rows: &[Row], feeds: usize) {
    println!();
    println!(
        "{:<15} {:<15} {:>8} {:>8} {:>8} {:>9} {:>8} {:>7} {:>7} {:>8} {:>8} {:>14}",
        "set-up",
        "pass",
        "wall s",
        "feeds/s",
        "ms/feed",
        "articles",
        "ms/art",
        "CPU s",
        "others",
        "DB busy",
        "x SQLite",
        "200/304/pages"
    );
    for row in rows {
        let wall = row.wall.as_secs_f64();
        let baseline = rows
            .iter()
            .find(|r| r.setup.starts_with("SQLite") && r.pass == row.pass)
            .map(|r| r.wall.as_secs_f64());
        let per_article = if row.new_articles > 0 {
            format!("{:.2}", 1000.0 * wall / row.new_articles as f64)
        } else {
            "-".to_owned()
        };
        println!(
            "{:<15} {:<15} {:>8.2} {:>8.0} {:>8.2} {:>9} {:>8} {:>7.1} {:>7.1} {:>7.0}% {:>8} {:>14}",
            row.setup,
            row.pass,
            wall,
            feeds as f64 / wall,
            1000.0 * wall / feeds as f64,
            row.new_articles,
            per_article,
            row.cpu.as_secs_f64(),
            row.others_cpu.as_secs_f64(),
            100.0 * row.store_busy.as_secs_f64() / wall,
            baseline.map_or("-".to_owned(), |b| format!("{:.2}", wall / b)),
            format!("{}/{}/{}", row.served[0], row.served[1], row.served[2]),
        );
    }
    println!(
        "  ms/feed, ms/art: wall time per configured feed and per new article; CPU s: this process \
         (every instance and the server); others: CPU of other processes meanwhile (the PostgreSQL \
         server's among them);\n  DB busy: the instances' database threads, summed, over wall; \
         x SQLite: wall against SQLite's same pass in this run; 200/304/pages: what the server \
         answered (a feed polled twice in a pass shows here)."
    );
}
