//! The command line's contract: config errors with positions and exit code 2,
//! atomic private `--output`, the database created private, `extract` offline.

mod common;

use std::process::Stdio;

use common::pages::{BOILERPLATE, Item, article_page, rss, story};
use common::{Gleaner, Route, TestServer, extract_stdin, feed_block, file_mode};

#[test]
fn check_config_reports_every_problem_with_its_line_and_column() {
    let gleaner = Gleaner::new(
        r#"[[feeds]]
url = "https://a.example/feed"
name = "a"

[[feeds]]
url = "https://a.example/feed"
schedule = "every hour"

[[feeds]]
url = "ftp://b.example/feed"
remove_selectors = ["div[["]
"#,
    );
    let output = gleaner.command().arg("check-config").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let path = gleaner.config_path().display().to_string();
    // The harness puts 6 lines of [storage]/[fetch] before the feeds.
    for expected in [
        format!("{path}:12:7: duplicate feed URL https://a.example/feed (first used on line 8)"),
        format!("{path}:13:12: schedule of feed https://a.example/feed: invalid cron expression"),
        format!("{path}:16:7: invalid feed URL \"ftp://b.example/feed\": scheme \"ftp\""),
        format!("{path}:17:21: invalid CSS selector \"div[[\""),
    ] {
        assert!(
            stderr.contains(&expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    assert!(
        !gleaner.db_path().exists(),
        "check-config must not create the database"
    );
}

#[test]
fn check_config_reports_unknown_keys_and_syntax_errors_and_says_ok_otherwise() {
    let gleaner = Gleaner::new("[[feeds]]\nurl = \"https://a.example/f\"\nfull_txt = true\n");
    let output = gleaner.command().arg("check-config").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let path = gleaner.config_path().display().to_string();
    assert!(stderr.starts_with(&format!("{path}:9:1: ")), "{stderr}");
    assert!(stderr.contains("full_txt"), "{stderr}");

    gleaner.write_config("[[feeds]\nurl = 1\n");
    let output = gleaner.command().arg("check-config").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).starts_with(&format!("{path}:7:")));

    gleaner.write_config(&feed_block("ok", "https://a.example/f", ""));
    let output = gleaner.ok(&["check-config"]);
    assert_eq!(String::from_utf8_lossy(&output.stdout), "ok: 1 feed\n");
}

#[test]
fn every_command_refuses_an_invalid_config_and_a_missing_one() {
    let gleaner = Gleaner::new("[[feeds]]\nurl = \"nope\"\n");
    for command in [&["poll"][..], &["export"], &["feeds"], &["run"]] {
        let output = gleaner.command().args(command).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{command:?}");
    }
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_gleaner"))
        .args(["--config", "/nonexistent/gleaner.toml", "feeds"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/gleaner.toml"));
}

fn polled_gleaner(server: &TestServer) -> Gleaner {
    let feed = common::pages::serve_one_article(server);
    let gleaner = Gleaner::new(&feed_block("f", &feed, ""));
    gleaner.poll();
    gleaner
}

#[test]
fn output_is_written_atomically_private_and_moves_the_cursor_only_when_complete() {
    let server = TestServer::start();
    let gleaner = polled_gleaner(&server);
    assert_eq!(file_mode(&gleaner.db_path()), 0o600);

    let out_dir = gleaner.dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let target = out_dir.join("articles.json");
    std::fs::write(&target, "old content").unwrap();

    // A failing output (its folder does not exist) is exit 1 and keeps the cursor.
    let missing = gleaner.dir.path().join("missing/articles.json");
    let output = gleaner
        .command()
        .args(["export", "--consumer", "c", "--output"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing/articles.json"));

    gleaner.ok(&[
        "export",
        "--consumer",
        "c",
        "--output",
        target.to_str().unwrap(),
    ]);
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
    assert_eq!(written.as_array().unwrap().len(), 1);
    assert_eq!(file_mode(&target), 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        [std::ffi::OsString::from("articles.json")],
        "no temporary file is left behind"
    );
    assert!(gleaner.export(&["--consumer", "c"]).is_empty());
}

#[test]
fn a_broken_stdout_does_not_move_the_cursor() {
    let server = TestServer::start();
    let gleaner = polled_gleaner(&server);
    // A pipe whose reader is gone before gleaner starts: every write fails.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let status = gleaner
        .command()
        .args(["export", "--consumer", "c"])
        .stdout(writer)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success());
    assert_eq!(gleaner.export(&["--consumer", "c"]).len(), 1);
}

#[test]
fn extract_reads_a_saved_page_from_stdin_without_network() {
    let page = article_page(
        "Bridge",
        &story("the new bridge"),
        "<meta property=\"og:image\" content=\"/img/bridge.jpg\">",
    );
    let run = |format: &str| {
        extract_stdin(
            &[
                "--url",
                "https://news.example/2026/bridge",
                "--format",
                format,
            ],
            &page,
        )
    };
    let text = run("text");
    assert!(text.starts_with(&story("the new bridge")[0]), "{text}");
    for boilerplate in BOILERPLATE {
        assert!(!text.contains(boilerplate), "{boilerplate}");
    }
    let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    assert_eq!(json["image"], "https://news.example/img/bridge.jpg");
    assert!(json["content_html"].as_str().unwrap().starts_with("<p>"));
    assert!(run("html").contains("<p>The city council"));
}

#[test]
fn without_a_declared_image_the_articles_first_picture_is_its_image() {
    let mut paragraphs = story("the lighthouse");
    paragraphs.insert(
        1,
        "<figure><img src=\"/px.gif\" width=\"1\" height=\"1\"><img src=\"/pics/light.jpg\" alt=\"The lighthouse\">\
         <figcaption>The lighthouse at dusk.</figcaption></figure>"
            .into(),
    );
    let page = article_page("Lighthouse", &paragraphs, "");
    let json: serde_json::Value = serde_json::from_str(&extract_stdin(
        &[
            "--url",
            "https://news.example/2026/light",
            "--format",
            "json",
        ],
        &page,
    ))
    .unwrap();
    assert_eq!(
        json["image"], "https://news.example/pics/light.jpg",
        "{json:#}"
    );
    let html = json["content_html"].as_str().unwrap();
    assert!(
        html.contains("<figure>"),
        "the figure is in the body: {html}"
    );
}

#[test]
fn pathological_pages_give_a_clear_error_fast() {
    let dir = tempfile::tempdir().unwrap();
    let nested = format!(
        "<html><body>{}deep{}</body></html>",
        "<div>".repeat(100_000),
        "</div>".repeat(100_000)
    );
    let garbage: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("nested.html", nested.into_bytes(), "nested"),
        ("garbage.bin", garbage, "binary"),
        (
            "scripts.html",
            format!(
                "<html><head><script>{}</script></head></html>",
                "var a = 1;".repeat(100_000)
            )
            .into_bytes(),
            "no article body",
        ),
        ("empty.html", Vec::new(), "no article body"),
    ];
    for (name, bytes, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let started = std::time::Instant::now();
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_gleaner"))
            .args([
                "--config",
                "/nonexistent/g.toml",
                "extract",
                "--url",
                "https://x.example/a",
            ])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{name} took {:?}",
            started.elapsed()
        );
        assert_eq!(output.status.code(), Some(1), "{name}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{name}: {stderr}");
        assert!(output.stdout.is_empty(), "{name}");
    }
}

#[test]
fn completions_and_the_man_page_come_from_the_command_definitions() {
    let gleaner = Gleaner::new("");
    for shell in ["bash", "zsh", "fish"] {
        let script = String::from_utf8(gleaner.ok(&["completions", shell]).stdout).unwrap();
        for command in ["import-opml", "export", "search", "check-config"] {
            assert!(script.contains(command), "{shell} lacks {command}");
        }
    }
    let man = String::from_utf8(gleaner.ok(&["man"]).stdout).unwrap();
    assert!(man.contains(".TH gleaner 1"), "{man}");
    assert!(man.contains("export\\-opml"), "{man}");
}

/// The help text of `gleaner COMMAND --help` on the line that starts with
/// `start` (after indentation), without `start`; None when there is none.
fn help_line(gleaner: &Gleaner, command: &str, start: &str) -> Option<String> {
    let help = String::from_utf8(gleaner.ok(&[command, "--help"]).stdout).unwrap();
    help.lines()
        .map(str::trim_start)
        .find_map(|line| line.strip_prefix(start))
        .map(|rest| rest.trim().to_owned())
}

#[test]
fn help_describes_every_argument_and_format() {
    let gleaner = Gleaner::new("");
    for (command, argument) in [("remove", "<NAME_OR_URL>"), ("import-opml", "<FILE>")] {
        let text = help_line(&gleaner, command, argument);
        assert!(
            text.as_ref().is_some_and(|t| !t.is_empty()),
            "{command} --help describes {argument}: {text:?}"
        );
    }
    for value in ["text", "html", "json"] {
        let text = help_line(&gleaner, "extract", &format!("- {value}:"));
        assert!(
            text.as_ref().is_some_and(|t| !t.is_empty()),
            "extract --help describes --format {value}: {text:?}"
        );
    }
    let export = String::from_utf8(gleaner.ok(&["export", "--help"]).stdout).unwrap();
    let about = export.lines().next().unwrap_or_default();
    assert!(about.contains("Atom"), "export --help names Atom: {about}");
}

/// Ids in a JSONL export.
fn jsonl_ids(stdout: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|line| {
            let article: serde_json::Value = serde_json::from_str(line).unwrap();
            article["id"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn two_exports_of_one_consumer_at_once_deliver_each_article_once() {
    let server = TestServer::start();
    // Distinct texts: identical ones would be one article.
    let texts: Vec<String> = (0..300)
        .map(|i| format!("Story {i}: a long paragraph of the feed's own text. ").repeat(20))
        .collect();
    let (guids, links): (Vec<String>, Vec<String>) = (0..300)
        .map(|i| (format!("id-{i}"), server.url(&format!("/s/{i}"))))
        .unzip();
    let items: Vec<Item<'_>> = guids
        .iter()
        .zip(&links)
        .zip(&texts)
        .map(|((guid, link), text)| Item {
            guid,
            title: guid,
            link,
            description: text,
            pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
        })
        .collect();
    server.set("/feed.xml", Route::rss(rss("F", &items)));
    let gleaner = Gleaner::new(&feed_block(
        "f",
        &server.url("/feed.xml"),
        "full_text = false",
    ));
    gleaner.poll();

    let export = || {
        gleaner
            .command()
            .args(["export", "--consumer", "c", "--format", "jsonl"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // The first export fills its pipe (~300 KB of output) and blocks in
    // the middle of its batch, cursor not yet moved.
    let first = export();
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let mut second = export();
    let second_out = second.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut { second_out }, &mut bytes).unwrap();
        bytes
    });
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let first = first.wait_with_output().unwrap();
    let second_stdout = reader.join().unwrap();
    let second = second.wait_with_output().unwrap();
    assert!(first.status.success() && second.status.success());

    let (a, b) = (jsonl_ids(&first.stdout), jsonl_ids(&second_stdout));
    assert_eq!(
        a.len() + b.len(),
        300,
        "{} + {} articles given",
        a.len(),
        b.len()
    );
    let mut all: Vec<&String> = a.iter().chain(&b).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 300, "an article was given twice");
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("another export for consumer \"c\""),
        "the second export says why it waits"
    );
}

#[test]
fn check_config_checks_the_range_of_every_number_at_its_position() {
    let gleaner = Gleaner::new("");
    // Each of these passed check-config and then crashed or misbehaved.
    let config = "[storage]\nkeep_days = 4000000000\nmax_articles_per_feed = 0\n\
        [fetch]\nconcurrency = 9000000000000000000\nper_host_concurrency = 100000\n\
        timeout_secs = -5\nmax_feed_bytes = 0\nmax_article_bytes = 99999999999999\n\
        per_host_interval_ms = -1\nmax_retry_after = \"30d\"\n";
    std::fs::write(gleaner.config_path(), config).unwrap();
    let output = gleaner.command().arg("check-config").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let path = gleaner.config_path();
    let expect = [
        "2:13: [storage].keep_days = 4000000000 is out of range",
        "3:25: [storage].max_articles_per_feed = 0 is out of range",
        "5:15: [fetch].concurrency = 9000000000000000000 is out of range: write a number from 1 to 1024",
        "6:24: [fetch].per_host_concurrency = 100000",
        "7:16: [fetch].timeout_secs = -5",
        "8:18: [fetch].max_feed_bytes = 0",
        "9:21: [fetch].max_article_bytes = 99999999999999",
        "10:24: [fetch].per_host_interval_ms = -1",
        "11:19: [fetch].max_retry_after must be between 1m and 7d",
    ];
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), expect.len(), "{stderr}");
    for (line, wanted) in lines.iter().zip(expect) {
        assert!(
            line.starts_with(&format!("{}:{wanted}", path.display())),
            "{line}\nshould start with {wanted}"
        );
    }
}

#[test]
fn lease_secs_has_a_range_and_is_only_for_postgresql() {
    let gleaner = Gleaner::new("");
    // check-config does not connect: nothing needs to listen on port 9.
    let postgres = "[storage]\ndatabase = \"postgres://g@127.0.0.1:9/news\"\n";
    for (lease, ok) in [("1", false), ("2", true), ("86400", true), ("86401", false)] {
        std::fs::write(
            gleaner.config_path(),
            format!("{postgres}lease_secs = {lease}\n"),
        )
        .unwrap();
        if ok {
            gleaner.ok(&["check-config"]);
        } else {
            gleaner.config_problems(&[&format!(
                "3:14: [storage].lease_secs = {lease} is out of range: write a number from 2 to 86400"
            )]);
        }
    }
    std::fs::write(gleaner.config_path(), "[storage]\nlease_secs = 60\n").unwrap();
    gleaner.config_problems(&["2:14: [storage].lease_secs is only for a PostgreSQL database"]);
}

#[test]
fn commands_that_do_not_poll_refuse_a_database_that_does_not_exist() {
    let gleaner = Gleaner::new(&feed_block("f", "http://127.0.0.1:9/feed.xml", ""));
    for args in [
        &["feeds"][..],
        &["feeds", "--json"],
        &["search", "harbour"],
        &["export"],
        &["export", "--consumer", "c"],
        &["export", "--consumer", "c", "--peek"],
        &["gc"],
        &["gc", "--vacuum"],
        &["reextract"],
    ] {
        let output = gleaner.command().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!(
                "the database {} does not exist yet: run `gleaner poll` or `gleaner run`",
                gleaner.db_path().display()
            )),
            "{args:?}: {stderr}"
        );
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(!gleaner.db_path().exists(), "{args:?} created the database");
    }
}

#[test]
fn extract_without_url_drops_relative_images_and_links() {
    let mut paragraphs = story("the old mill");
    paragraphs[1].push_str(
        " <img src=\"/pics/p.jpg\" alt=\"The mill\"> See <a href=\"/more\">more</a> and <img src=\"https://cdn.example/mill.jpg\" alt=\"x\">.",
    );
    let page = article_page(
        "Mill",
        &paragraphs,
        "<meta property=\"og:image\" content=\"/pics/p.jpg\">",
    );
    let json: serde_json::Value =
        serde_json::from_str(&extract_stdin(&["--format", "json"], &page)).unwrap();
    // The relative og:image is dropped; the article's first absolute picture stands in.
    assert_eq!(json["image"], "https://cdn.example/mill.jpg", "{json:#}");
    let html = json["content_html"].as_str().unwrap();
    assert!(!html.contains("file:"), "{html}");
    assert!(!html.contains("/pics/p.jpg"), "{html}");
    assert!(html.contains("https://cdn.example/mill.jpg"), "{html}");
}

#[test]
fn check_config_reports_every_unknown_key_beside_the_other_problems() {
    let gleaner = Gleaner::new("");
    let config = "[storage]\ndatabse = \"g.db\"\n[fetch]\ntimeout = 5\nuser_agnet = \"x\"\n\
        [[feeds]]\nurl = \"ftp://files.example/feed\"\ntag = [\"a\"]\n\
        [[feeds]]\nurl = \"https://b.example/feed\"\nfulltext = false\n";
    std::fs::write(gleaner.config_path(), config).unwrap();
    let output = gleaner.command().arg("check-config").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expect = [
        "2:1: unknown key `databse` in [storage]",
        "4:1: unknown key `timeout` in [fetch]",
        "5:1: unknown key `user_agnet` in [fetch]",
        "7:7: invalid feed URL \"ftp://files.example/feed\"",
        "8:1: unknown key `tag` in [feeds]",
        "11:1: unknown key `fulltext` in [feeds]",
    ];
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), expect.len(), "{stderr}");
    let path = gleaner.config_path();
    for (line, wanted) in lines.iter().zip(expect) {
        assert!(
            line.starts_with(&format!("{}:{wanted}", path.display())),
            "{line}\nshould start with {wanted}"
        );
    }
}

#[test]
fn migrate_db_names_the_to_url_in_its_errors() {
    let gleaner = Gleaner::new("");
    if gleaner.postgres.is_some() {
        return; // migrate-db copies from SQLite
    }
    drop(gleaner.db());
    // Not a PostgreSQL URL: a usage error.
    let output = gleaner
        .command()
        .args(["migrate-db", "--to", "mysql://x/y"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");

    // A server that is not there: the advice is about --to, and nothing started.
    let to = format!("postgres://gleaner@127.0.0.1:{}/g", common::free_port());
    let output = gleaner
        .command()
        .args(["migrate-db", "--to", &to])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("check --to"), "{stderr}");
    assert!(stderr.contains("nothing was copied"), "{stderr}");
    assert!(!stderr.contains("[storage] database"), "{stderr}");
    assert!(!stderr.contains("run it again"), "{stderr}");
}
