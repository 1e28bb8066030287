//! Interstitials (issue 24): a consent wall, a login wall, a paywall, a bot
//! challenge, a soft 404, a script-only shell or a refusal answered for an
//! article link is no article. The entry keeps its feed's text, the kinds
//! are counted per feed, the page is tried again, and the real article,
//! when it comes, replaces the feed's text in place. Pages written for
//! these tests, in several languages, served on 127.0.0.1 with the same
//! site chrome as the real articles beside them.

mod common;

use std::collections::HashMap;

use common::pages::{article_page, rss_entries, story};
use common::{Gleaner, Route, TestServer, feed_block, free_port, get, sample, wait_for};

/// A page of the site: its header, navigation, cookie note and footer
/// around `main` (the chrome real articles of the site carry too).
fn chrome(title: &str, main: &str) -> String {
    format!(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head><body>
<header class="site-header"><a href="/">Daily Example</a> <a href="/login">Sign in</a>
<nav><a href="/politics">Politics</a> <a href="/sport">Sport</a></nav></header>
<main>{main}</main>
<footer class="site-footer"><p>Copyright 2026 Daily Example.</p><a href="/privacy">Privacy policy</a></footer>
</body></html>"#
    )
}

/// A real article of the site, in the same chrome (with a cookie note).
fn real_article(topic: &str) -> String {
    let paragraphs: String = story(topic).iter().map(|p| format!("<p>{p}</p>")).collect();
    chrome(
        &format!("{topic} | Daily Example"),
        &format!(
            "<article><h1>{topic}</h1>{paragraphs}</article>\
             <div class=\"cookie-note\">We use cookies. <button>Accept all</button></div>"
        ),
    )
}

const CONSENT_EN: &str = "<div class=\"consent-wall\"><h2>We value your privacy</h2>\
<p>We and our 842 partners store and/or access information on a device, such as cookies, and process personal data, such as unique identifiers and standard information sent by a device, for personalised ads and content, ad and content measurement, audience research and services development.</p>\
<p>With your permission we and our partners may use precise geolocation data and identification through device scanning. You may click to consent to our and our 842 partners' processing as described above, or to object to processing based on legitimate interest.</p>\
<button>Accept all</button> <button>Reject all</button> <button>Manage options</button></div>";

const CONSENT_DE: &str = "<div class=\"cmp-container\"><h2>Ihre Privatsphäre ist uns wichtig</h2>\
<p>Wir und unsere 842 Partner speichern und/oder greifen auf Informationen auf einem Gerät zu, beispielsweise auf Cookies, und verarbeiten personenbezogene Daten für personalisierte Anzeigen und Inhalte, Messung von Anzeigen und Inhalten sowie Erkenntnisse über Zielgruppen.</p>\
<p>Einige unserer Partner verarbeiten Ihre Daten auf Grundlage von berechtigtes Interesse. Sie können Ihre Einwilligung jederzeit widerrufen.</p>\
<button>Alle akzeptieren</button> <button>Alle ablehnen</button></div>";

const CONSENT_FR: &str = "<div id=\"gdpr-notice\"><h2>Le respect de votre vie privée</h2>\
<p>Nos 842 partenaires et nous-mêmes utilisons des cookies afin de stocker et/ou accéder à des informations sur un appareil et de traiter des données personnelles pour des publicités personnalisées, la mesure de performance des publicités et du contenu.</p>\
<p>Certains de nos partenaires traitent vos données sur la base de leur intérêt légitime. Vous pouvez retirer votre consentement à tout moment.</p>\
<button>Tout accepter</button> <button>Tout refuser</button></div>";

/// The feed: one entry per `(id, teaser)`, linking `/ID` of the server.
fn feed(server: &TestServer, entries: &[(&str, &str)]) -> Route {
    let entries: Vec<(String, String, String)> = entries
        .iter()
        .map(|(id, teaser)| {
            (
                id.to_string(),
                server.url(&format!("/{id}")),
                teaser.to_string(),
            )
        })
        .collect();
    Route::rss(rss_entries("F", &entries))
}

fn teaser(id: &str) -> String {
    format!("Teaser of {id}: the council decided on the bridge.")
}

/// The exported articles by entry (their title is the entry's id).
fn by_entry(gleaner: &Gleaner) -> HashMap<String, serde_json::Value> {
    gleaner
        .export(&[])
        .into_iter()
        .map(|a| (a["title"].as_str().unwrap().to_owned(), a))
        .collect()
}

fn interstitials(gleaner: &Gleaner) -> serde_json::Value {
    gleaner.feeds()["f"]["interstitials"].clone()
}

#[test]
fn a_consent_wall_on_several_urls_keeps_each_entrys_feed_text() {
    let server = TestServer::start();
    let ids = ["one", "two", "three", "vier", "cinq"];
    let teasers: Vec<(String, String)> =
        ids.iter().map(|id| (id.to_string(), teaser(id))).collect();
    let entries: Vec<(&str, &str)> = teasers
        .iter()
        .map(|(i, t)| (i.as_str(), t.as_str()))
        .collect();
    server.set("/feed.xml", feed(&server, &entries));
    for id in &ids[..3] {
        server.set(
            &format!("/{id}"),
            Route::html(chrome("Daily Example", CONSENT_EN)),
        );
    }
    server.set("/vier", Route::html(chrome("Daily Example", CONSENT_DE)));
    server.set("/cinq", Route::html(chrome("Daily Example", CONSENT_FR)));
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    let polled = gleaner.ok(&["poll"]);
    // One line for the feed, with what to do.
    let log = String::from_utf8_lossy(&polled.stderr);
    assert_eq!(log.matches("were a consent wall").count(), 1, "{log}");
    assert!(
        log.contains("5 of 5 article pages were a consent wall"),
        "{log}"
    );
    assert!(log.contains("cookies = \"…\""), "{log}");

    let articles = by_entry(&gleaner);
    assert_eq!(articles.len(), 5, "{articles:?}");
    for (id, text) in &teasers {
        let article = &articles[id];
        assert_eq!(article["content_source"], "feed", "{id}: {article}");
        assert_eq!(article["content_text"], text.as_str(), "{id}");
    }
    assert_eq!(interstitials(&gleaner), serde_json::json!({"consent": 5}));
    assert_eq!(gleaner.feeds()["f"]["pages_judged"], 5);
    let table = String::from_utf8(gleaner.ok(&["feeds"]).stdout).unwrap();
    assert!(
        table.contains("5 of 5 pages were a consent wall"),
        "{table}"
    );
}

#[test]
fn real_articles_on_the_host_of_a_wall_are_still_articles() {
    let server = TestServer::start();
    let entries = [
        ("wall-a", "Teaser a."),
        ("wall-b", "Teaser b."),
        ("bridge", "Teaser of the bridge."),
        ("harbour", "Teaser of the harbour."),
    ];
    server.set("/feed.xml", feed(&server, &entries));
    server.set("/wall-a", Route::html(chrome("Daily Example", CONSENT_EN)));
    server.set("/wall-b", Route::html(chrome("Daily Example", CONSENT_EN)));
    server.set("/bridge", Route::html(real_article("the bridge")));
    server.set("/harbour", Route::html(real_article("the harbour")));
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    gleaner.poll();

    let articles = by_entry(&gleaner);
    for id in ["bridge", "harbour"] {
        assert_eq!(articles[id]["content_source"], "article", "{id}");
        assert!(
            articles[id]["content_text"]
                .as_str()
                .unwrap()
                .contains("independent review"),
            "{id}"
        );
    }
    for id in ["wall-a", "wall-b"] {
        assert_eq!(articles[id]["content_source"], "feed", "{id}");
    }
    assert_eq!(interstitials(&gleaner), serde_json::json!({"consent": 2}));
    // Two of four pages: the feed's status does not single it out.
    let table = String::from_utf8(gleaner.ok(&["feeds"]).stdout).unwrap();
    assert!(!table.contains("pages were"), "{table}");
}

#[test]
fn one_page_served_for_many_urls_is_no_article_even_without_telling_words() {
    let server = TestServer::start();
    let wall = chrome(
        "Daily Example",
        "<div class=\"gate\"><h2>One more step</h2><p>Our newsroom is preparing this page for you. \
         It will be ready shortly, and every story on the site will be waiting for you here, \
         with the photographs, the maps and the latest updates from our reporters in the region, \
         as soon as the preparation is complete. Thank you for your patience and for reading us.</p></div>",
    );
    let entries = [
        ("a", "Teaser a."),
        ("b", "Teaser b."),
        ("c", "Teaser c."),
        ("d", "Teaser d."),
        ("bridge", "Teaser of the bridge."),
    ];
    server.set("/feed.xml", feed(&server, &entries));
    for id in ["a", "b", "c", "d"] {
        server.set(&format!("/{id}"), Route::html(wall.clone()));
    }
    server.set("/bridge", Route::html(real_article("the bridge")));
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    gleaner.poll();

    let articles = by_entry(&gleaner);
    for id in ["a", "b", "c", "d"] {
        assert_eq!(
            articles[id]["content_source"], "feed",
            "{id}: {}",
            articles[id]
        );
        assert_eq!(articles[id]["content_text"], format!("Teaser {id}."));
    }
    assert_eq!(articles["bridge"]["content_source"], "article");
    // No words told the kind: the site refuses the pages.
    assert_eq!(interstitials(&gleaner), serde_json::json!({"denied": 4}));
}

#[test]
fn each_kind_is_counted_for_its_feed() {
    let server = TestServer::start();
    let pages: Vec<(&str, Route)> = vec![
        // A login wall, in three languages.
        (
            "login-en",
            Route::html(chrome(
                "Daily Example",
                "<h2>Sign in to keep reading</h2><form><input name=\"email\"><input type=\"password\" name=\"pw\"><button>Sign in</button></form><p>No account yet? Create one for free.</p>",
            )),
        ),
        (
            "login-de",
            Route::html(chrome(
                "Anmelden – Daily Example",
                "<h2>Willkommen zurück</h2><form><input name=\"email\"><input type=\"password\" name=\"pw\"><button>Weiter</button></form><p>Bitte geben Sie Ihre E-Mail-Adresse und Ihr Passwort ein.</p>",
            )),
        ),
        (
            "login-nl",
            Route::html(chrome(
                "Daily Example",
                "<h2>Log in om verder te lezen</h2><form><input name=\"email\"><input type=\"password\" name=\"pw\"></form>",
            )),
        ),
        // A soft 404 (status 200), in three languages, and a real one.
        (
            "gone-en",
            Route::html(chrome(
                "Daily Example",
                "<h1>Sorry, we couldn't find that page</h1><p>It may have been moved or deleted. Try the search.</p>",
            )),
        ),
        (
            "gone-es",
            Route::html(chrome(
                "Página no encontrada | Daily Example",
                "<h1>Lo sentimos</h1><p>Vuelva a la portada.</p>",
            )),
        ),
        (
            "gone-it",
            Route::html(chrome(
                "Daily Example",
                "<h1>Pagina non trovata</h1><p>Torna alla home page.</p>",
            )),
        ),
        (
            "gone-404",
            Route::new(404, "text/html", chrome("Not here", "<p>Nothing here.</p>")),
        ),
        // A bot check: a 403 Cloudflare marks as a challenge, and a 200 one.
        ("check-403", {
            let mut route = Route::new(
                403,
                "text/html",
                chrome("Just a moment...", "<p>Checking your browser.</p>"),
            );
            route
                .headers
                .push(("cf-mitigated".into(), "challenge".into()));
            route
        }),
        (
            "check-body",
            Route::new(
                403,
                "text/html",
                "<html><head><title>Just a moment...</title></head><body><p>Enable JavaScript and cookies to continue</p></body></html>",
            ),
        ),
        (
            "check-fr",
            Route::html(
                "<html><head><title>Un instant…</title></head><body><div id=\"challenge-form\"><p>Vérification de votre navigateur avant d'accéder au site.</p></div></body></html>",
            ),
        ),
        // A paywall, in three languages.
        (
            "pay-de",
            Route::html(chrome(
                "Daily Example",
                "<article><h1>Brücke</h1><p>Der Stadtrat hat am Donnerstag über die Brücke beraten.</p><p>Dieser Artikel ist nur für Abonnenten.</p><p>Bereits Abonnent? Hier anmelden.</p></article>",
            )),
        ),
        (
            "pay-fr",
            Route::html(chrome(
                "Daily Example",
                "<article><h1>Pont</h1><p>Le conseil municipal s'est réuni jeudi pour parler du pont.</p><p>Cet article est réservé aux abonnés.</p><p>Déjà abonné ? Connectez-vous.</p></article>",
            )),
        ),
        (
            "pay-pt",
            Route::html(chrome(
                "Daily Example",
                "<article><h1>Ponte</h1><p>A câmara reuniu-se na quinta-feira para discutir a ponte.</p><p>Conteúdo exclusivo para assinantes.</p><p>Já é assinante? Entrar.</p></article>",
            )),
        ),
        // An application shell.
        (
            "app",
            Route::html(
                "<html><head><title>Daily Example</title><script src=\"/app.js\"></script></head><body><noscript>You need to enable JavaScript to run this app.</noscript><div id=\"root\"></div></body></html>",
            ),
        ),
        // A plain refusal.
        ("refused", Route::new(403, "text/html", "<p>Forbidden</p>")),
        // And an article.
        ("bridge", Route::html(real_article("the bridge"))),
    ];
    let ids: Vec<&str> = pages.iter().map(|(id, _)| *id).collect();
    let teasers: Vec<String> = ids.iter().map(|id| teaser(id)).collect();
    let entries: Vec<(&str, &str)> = ids
        .iter()
        .copied()
        .zip(teasers.iter().map(String::as_str))
        .collect();
    server.set("/feed.xml", feed(&server, &entries));
    for (id, route) in pages {
        server.set(&format!("/{id}"), route);
    }
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    gleaner.poll();

    let articles = by_entry(&gleaner);
    for id in &ids {
        let expected = if *id == "bridge" { "article" } else { "feed" };
        assert_eq!(
            articles[*id]["content_source"], expected,
            "{id}: {}",
            articles[*id]
        );
    }
    assert_eq!(
        interstitials(&gleaner),
        serde_json::json!({"challenge": 3, "login": 3, "paywall": 3, "not_found": 4,
                           "script_only": 1, "denied": 1})
    );
    assert_eq!(gleaner.feeds()["f"]["pages_judged"], 16);
}

#[test]
fn a_challenge_that_clears_replaces_the_feed_text_in_place_without_redelivery() {
    let server = TestServer::start();
    server.set(
        "/feed.xml",
        feed(&server, &[("bridge", "Teaser of the bridge.")]),
    );
    let mut challenge = Route::new(
        403,
        "text/html",
        chrome("Just a moment...", "<p>Checking your browser.</p>"),
    );
    challenge
        .headers
        .push(("cf-mitigated".into(), "challenge".into()));
    server.queue("/bridge", vec![challenge]);
    server.set("/bridge", Route::html(real_article("the bridge")));
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    gleaner.poll();

    let first = gleaner.export(&["--consumer", "reader"]);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["content_source"], "feed");
    assert_eq!(first[0]["content_text"], "Teaser of the bridge.");
    assert_eq!(interstitials(&gleaner), serde_json::json!({"challenge": 1}));

    // An operator's poll tries the pending page at once (the daemon waits
    // an hour); the challenge has cleared.
    gleaner.poll();
    assert_eq!(server.requests("/bridge").len(), 2);
    let all = gleaner.export(&[]);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["id"], first[0]["id"], "the same article, in place");
    assert_eq!(all[0]["content_source"], "article");
    assert!(
        all[0]["content_text"]
            .as_str()
            .unwrap()
            .contains("independent review")
    );
    // The consumer that had the feed's text is not sent the article again.
    assert!(gleaner.export(&["--consumer", "reader"]).is_empty());
    assert_eq!(gleaner.feeds()["f"]["interstitials"], serde_json::json!({}));

    // Nothing is pending any more: a third poll fetches nothing.
    gleaner.ok(&["poll", "--force"]);
    assert_eq!(server.requests("/bridge").len(), 2);
}

#[test]
fn a_page_that_stays_a_wall_is_tried_three_times_then_left() {
    let server = TestServer::start();
    server.set(
        "/feed.xml",
        feed(&server, &[("wall", "Teaser of the wall.")]),
    );
    server.set("/wall", Route::html(chrome("Daily Example", CONSENT_EN)));
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    for _ in 0..6 {
        gleaner.poll();
    }
    // The first fetch and three retries, whatever the polls after.
    assert_eq!(server.requests("/wall").len(), 4);
    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 1);
    assert_eq!(articles[0]["content_source"], "feed");
    assert_eq!(articles[0]["content_text"], "Teaser of the wall.");
}

#[test]
fn a_retry_that_fetches_nothing_is_one_of_the_three() {
    let server = TestServer::start();
    server.set(
        "/feed.xml",
        feed(&server, &[("bridge", "Teaser of the bridge.")]),
    );
    let mut challenge = Route::new(403, "text/html", "<p>Checking your browser.</p>");
    challenge
        .headers
        .push(("cf-mitigated".into(), "challenge".into()));
    server.queue("/bridge", vec![challenge]);
    // Then the server fails: no verdict, but a retry spent all the same.
    server.set("/bridge", Route::new(500, "text/html", "<p>Oops</p>"));
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    for _ in 0..6 {
        gleaner.poll();
    }
    assert_eq!(server.requests("/bridge").len(), 4);
    assert_eq!(
        gleaner.export(&[])[0]["content_text"],
        "Teaser of the bridge."
    );
}

#[test]
fn the_daemon_counts_interstitials_in_its_metrics() {
    let server = TestServer::start();
    server.set(
        "/feed.xml",
        feed(
            &server,
            &[
                ("wall", "Teaser of the wall."),
                ("bridge", "Teaser of the bridge."),
            ],
        ),
    );
    server.set("/wall", Route::html(chrome("Daily Example", CONSENT_DE)));
    server.set("/bridge", Route::html(real_article("the bridge")));
    let port = free_port();
    let gleaner = Gleaner::new(&format!(
        "[metrics]\nlisten = \"127.0.0.1:{port}\"\n\n{}",
        feed_block("f", &server.url("/feed.xml"), "schedule = \"0 0 0 1 1 *\"")
    ));
    let mut daemon = gleaner.daemon();
    let consent = "gleaner_interstitials_total{kind=\"consent\"}";
    wait_for(
        std::time::Duration::from_secs(30),
        "the start-up poll",
        // Polls are counted once they are stored.
        || {
            get(port, "/metrics").is_some_and(|(_, text)| {
                sample(&text, "gleaner_polls_total{outcome=\"ok\"}") >= 1.0
            })
        },
    );
    let (_, text) = get(port, "/metrics").unwrap();
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    assert_eq!(sample(&text, consent), 1.0, "{text}");
    assert_eq!(
        sample(&text, "gleaner_interstitials_total{kind=\"login\"}"),
        0.0
    );
    let articles = by_entry(&gleaner);
    assert_eq!(articles["wall"]["content_source"], "feed");
    assert_eq!(articles["bridge"]["content_source"], "article");
}

#[test]
fn extract_says_the_verdict() {
    let gleaner = Gleaner::new("");
    let run = |page: &str| {
        let path = gleaner.dir.path().join("page.html");
        std::fs::write(&path, page).unwrap();
        let output = gleaner
            .command()
            .args(["extract", "--format", "json"])
            .arg(&path)
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        (
            output.status.code(),
            json,
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, json, stderr) = run(&chrome("Daily Example", CONSENT_DE));
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(json["verdict"]["kind"], "consent");
    assert!(
        json["verdict"]["evidence"]
            .as_str()
            .unwrap()
            .contains("berechtigtes interesse")
    );
    assert!(stderr.contains("a consent wall"), "{stderr}");

    let (code, json, _) = run(&article_page("Bridge", &story("the bridge"), ""));
    assert_eq!(code, Some(0));
    assert_eq!(
        json["verdict"],
        serde_json::json!({"kind": "article", "evidence": null})
    );

    // The text format prints no wall's text.
    let path = gleaner.dir.path().join("wall.html");
    std::fs::write(&path, chrome("Daily Example", CONSENT_FR)).unwrap();
    let output = gleaner
        .command()
        .args(["extract"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
}

#[test]
fn a_further_page_that_is_a_wall_ends_a_multi_page_article() {
    let server = TestServer::start();
    let page = |story: &str, next: &str| {
        format!(
            "<html><head><title>Story</title></head><body><nav><a href=\"/\">Home</a></nav>\
             <div id=\"story\">{story}</div><div class=\"pager\"><a href=\"{next}\">Next page</a></div>\
             </body></html>"
        )
    };
    let first: String = story("the bridge")
        .iter()
        .map(|p| format!("<p>{p}</p>"))
        .collect();
    server.set("/bridge", Route::html(page(&first, "/bridge?page=2")));
    server.set(
        "/bridge?page=2",
        Route::html(page(
            "<h2>Sign in to keep reading</h2><form><input type=\"password\"></form>",
            "/bridge?page=3",
        )),
    );
    let third: String = story("the harbour")
        .iter()
        .map(|p| format!("<p>{p}</p>"))
        .collect();
    server.set(
        "/bridge?page=3",
        Route::html(page(&third, "/bridge?page=4")),
    );
    server.set(
        "/feed.xml",
        feed(&server, &[("bridge", "Teaser of the bridge.")]),
    );
    let gleaner = Gleaner::new(&format!(
        "[extraction]\nsite_config_dir = \"rules\"\n\n{}",
        feed_block("f", &server.url("/feed.xml"), "")
    ));
    let rules = gleaner.dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("127.0.0.1.txt"),
        "body: //div[@id='story']\nnext_page_link: //div[@class='pager']/a\n",
    )
    .unwrap();
    gleaner.poll();

    let articles = by_entry(&gleaner);
    let text = articles["bridge"]["content_text"].as_str().unwrap();
    assert_eq!(articles["bridge"]["content_source"], "article");
    assert!(text.contains("the bridge"), "{text}");
    assert!(!text.contains("Sign in"), "{text}");
    assert!(!text.contains("the harbour"), "{text}");
    assert_eq!(server.requests("/bridge?page=2").len(), 1);
    assert!(server.requests("/bridge?page=3").is_empty());
}
