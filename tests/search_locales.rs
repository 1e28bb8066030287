//! `gleaner search` answers the same whatever the database: SQLite, and
//! PostgreSQL databases whose locale is `C` (no case folding past ASCII in
//! the server) or `C.UTF-8` (a character class that knows no `½`). gleaner
//! cuts and folds words itself, so the locale does not matter; a query of
//! too many words is a usage error, not a server failure. Skipped, loudly,
//! without a PostgreSQL server outside CI.

mod common;

use common::pages::{Item, rss};
use common::postgres::{TestDatabase, server};
use common::{Gleaner, Route, TestServer, feed_block};

/// The articles every set-up stores: (title, text).
const ARTICLES: &[(&str, &str)] = &[
    ("Москва встречает весну", "Снег сошёл, на улицах тепло."),
    ("Recipe of the week", "Add water ½ cup at a time and stir."),
    ("Water levels", "The water is high after the rain."),
    ("Café culture", "Straße and café life in ÉTÉ."),
    ("Weather", "Rain, then sun."),
];

/// What each query finds, as titles in any order.
const ANSWERS: &[(&[&str], &[&str])] = &[
    (&["москва"], &["Москва встречает весну"]),
    (&["МОСКВА"], &["Москва встречает весну"]),
    (&["снег"], &["Москва встречает весну"]),
    (&["water", "½"], &["Recipe of the week"]),
    (&["½"], &["Recipe of the week"]),
    (&["water"], &["Recipe of the week", "Water levels"]),
    (&["cafe"], &["Café culture"]),
    (&["été"], &["Café culture"]),
    (&["strasse"], &[]),
    (&["straße"], &["Café culture"]),
    (&["мос*"], &["Москва встречает весну"]),
];

fn feed() -> String {
    let links: Vec<String> = (0..ARTICLES.len())
        .map(|i| format!("https://news.example/{i}"))
        .collect();
    let items: Vec<Item<'_>> = ARTICLES
        .iter()
        .zip(&links)
        .map(|((title, text), link)| Item {
            guid: link,
            title,
            link,
            description: text,
            pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
        })
        .collect();
    rss("F", &items)
}

/// The titles `gleaner search WORDS` finds, sorted.
fn found(gleaner: &Gleaner, words: &[&str]) -> Vec<String> {
    let mut args = vec!["search", "--format", "json", "--"];
    args.extend_from_slice(words);
    let output = gleaner.ok(&args);
    let hits: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    let mut titles: Vec<String> = hits
        .iter()
        .map(|h| h["title"].as_str().unwrap().to_owned())
        .collect();
    titles.sort();
    titles
}

fn set_up(server: &TestServer, database: Option<TestDatabase>) -> Gleaner {
    let gleaner = Gleaner::with(
        database,
        &feed_block("local", &server.url("/a.xml"), "full_text = false"),
    );
    gleaner.poll();
    gleaner
}

#[test]
fn search_answers_alike_on_sqlite_and_on_postgresql_in_c_and_c_utf8_locales() {
    let Some(postgres) = server("search in every locale") else {
        return;
    };
    let site = TestServer::start();
    site.set("/a.xml", Route::rss(feed()));
    let set_ups = [
        ("SQLite", set_up(&site, None)),
        (
            "PostgreSQL C",
            set_up(&site, Some(TestDatabase::with_locale(&postgres, "C"))),
        ),
        (
            "PostgreSQL C.UTF-8",
            set_up(&site, Some(TestDatabase::with_locale(&postgres, "C.UTF-8"))),
        ),
    ];
    for (words, expected) in ANSWERS {
        let mut expected: Vec<String> = expected.iter().map(|t| t.to_string()).collect();
        expected.sort();
        for (name, gleaner) in &set_ups {
            assert_eq!(found(gleaner, words), expected, "{words:?} on {name}");
        }
    }
}

#[test]
fn a_query_of_too_many_words_is_a_usage_error_and_one_of_no_word_says_so() {
    let site = TestServer::start();
    site.set("/a.xml", Route::rss(feed()));
    let mut set_ups = vec![("SQLite", set_up(&site, None))];
    if let Some(postgres) = server("search limits") {
        set_ups.push((
            "PostgreSQL",
            set_up(&site, Some(TestDatabase::create(&postgres))),
        ));
    }
    let many: Vec<String> = (0..20_000).map(|i| format!("word{i}")).collect();
    for (name, gleaner) in &set_ups {
        let mut args = vec!["search".to_owned()];
        args.extend(many.iter().cloned());
        let output = gleaner.command().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains("has 20000 words, more than the 64 a search takes"),
            "{name}: {stderr}"
        );
        // Typed text with no word in it: nothing matches, and it is said.
        let output = gleaner.ok(&["search", "--", "--", "—"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("nothing to search for (no letter or digit in -- —)"),
            "{name}: {stderr}"
        );
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("no article matches"),
            "{name}"
        );
    }
}

#[test]
fn articles_indexed_by_postgresql_before_are_indexed_again_by_gleaner() {
    let Some(postgres) = server("search index migration") else {
        return;
    };
    let site = TestServer::start();
    site.set("/a.xml", Route::rss(feed()));
    let gleaner = set_up(&site, Some(TestDatabase::with_locale(&postgres, "C")));
    // The database as the version before left it: the index made by
    // PostgreSQL's parser and lower() (which fold no `М` in a C database),
    // and the schema's version the one before the search migration (16;
    // the near-duplicate index's 17, which runs again after it, finds the
    // band table it drops).
    let database = gleaner.postgres.as_ref().unwrap();
    database.batch(
        r##"DROP TRIGGER articles_search_stale ON articles;
            DROP FUNCTION gleaner_search_stale();
            ALTER TABLE articles DROP COLUMN search;
            ALTER TABLE articles ADD COLUMN search tsvector GENERATED ALWAYS AS
                (setweight(to_tsvector('simple', translate(coalesce(title, ''),
                     '!"#$%&''()*+,-./:;<=>?@[\]^_`{|}~', '                                ')), 'A')
                 || to_tsvector('simple', translate(coalesce(content_text, ''),
                     '!"#$%&''()*+,-./:;<=>?@[\]^_`{|}~', '                                '))) STORED;
            CREATE INDEX articles_search ON articles USING gin (search);
            CREATE TABLE near_dup_bands (
                band_key BIGINT NOT NULL,
                article_seq BIGINT NOT NULL REFERENCES articles (seq),
                stored_at BIGINT NOT NULL,
                PRIMARY KEY (band_key, article_seq));
            UPDATE gleaner_schema SET version = 16"##,
    );
    assert_eq!(
        database.query("SELECT count(*) FROM articles WHERE search @@ 'москва'::tsquery")[0]
            .get::<_, i64>(0),
        0,
        "the old index misses it"
    );
    // The next command migrates, and indexes every article again.
    assert_eq!(found(&gleaner, &["москва"]), ["Москва встречает весну"]);
    assert_eq!(found(&gleaner, &["½"]), ["Recipe of the week"]);
}
