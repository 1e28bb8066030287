//! Pages written for these tests: each kind in several languages, and
//! articles that merely carry a banner, a login link or a subscribe box.

use super::*;
use crate::article::{SiteRules, extract};
use reqwest::header::{self, HeaderMap};

fn url() -> Url {
    Url::parse("https://news.example/2026/12/story").unwrap()
}

/// The verdict on `html` answered with 200 and no special header.
fn verdict(html: &str) -> Verdict {
    verdict_with(&ResponseFacts::default(), html)
}

fn verdict_with(response: &ResponseFacts, html: &str) -> Verdict {
    let article = extract(html.as_bytes(), None, &url(), SiteRules::default());
    judge_bytes(response, html.as_bytes(), None, &url(), article.as_ref())
}

fn kind(html: &str) -> Option<Kind> {
    verdict(html).interstitial().map(|i| i.kind)
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<html><head><title>{title}</title></head><body><header><a href=\"/\">Home</a> \
         <a href=\"/login\">Sign in</a></header><main>{body}</main>\
         <footer>© News Example · <a href=\"/privacy\">Privacy</a></footer></body></html>"
    )
}

fn story() -> String {
    "<p>The city council met on Thursday to discuss the future of the old bridge, \
     which has been closed to traffic since the spring floods damaged its piers. \
     Engineers told the council that repairs would take at least two years.</p>"
        .repeat(6)
}

#[test]
fn consent_walls_in_seven_languages() {
    let walls = [
        (
            "We value your privacy",
            "<h2>We value your privacy</h2><p>We and our 842 partners store and/or access information on a device, such as cookies, and process personal data, such as unique identifiers, for personalised ads and content, ad and content measurement.</p><p>With your permission we and our partners may use precise geolocation data. You may consent or object to processing based on legitimate interest.</p><button>Accept all</button><button>Manage options</button>",
        ),
        (
            "Datenschutz",
            "<p>Wir und unsere 842 Partner speichern und/oder greifen auf Informationen auf einem Gerät zu, z. B. Cookies, und verarbeiten personenbezogene Daten für personalisierte Anzeigen und Inhalte.</p><p>Einige Partner verarbeiten Ihre Daten auf Grundlage von berechtigtes Interesse. Sie können Ihre Einwilligung jederzeit widerrufen.</p><button>Alle akzeptieren</button>",
        ),
        (
            "Vie privée",
            "<p>Nos partenaires et nous-mêmes utilisons des cookies pour stocker et/ou accéder à des informations sur un appareil, et traiter des données pour des publicités personnalisées.</p><p>Certains partenaires se fondent sur leur intérêt légitime. Vous pouvez retirer votre consentement.</p><button>Tout accepter</button>",
        ),
        (
            "Privacidad",
            "<p>Nosotros y nuestros socios usamos cookies para almacenar y/o acceder a información en un dispositivo y tratar datos para anuncios personalizados.</p><p>Algunos socios se basan en su interés legítimo. Puede retirar su consentimiento.</p><button>Aceptar todo</button>",
        ),
    ];
    let more = [
        (
            "Privacy",
            "<p>Noi e i nostri 842 partner archiviamo e/o accediamo a informazioni su un dispositivo, come i cookie, e trattiamo dati personali per annunci e contenuti personalizzati.</p><p>Alcuni partner si basano sul legittimo interesse.</p><button>Accetta tutto</button>",
        ),
        (
            "Privacidade",
            "<p>Nós e os nossos 842 parceiros armazenamos e/ou acedemos a informações num dispositivo, tais como cookies, para anúncios personalizados.</p><p>Alguns parceiros tratam os seus dados com base no interesse legítimo.</p><button>Aceitar tudo</button>",
        ),
        (
            "Privacy",
            "<p>Wij en onze 842 partners slaan informatie op een apparaat op en/of openen deze, zoals cookies, voor gepersonaliseerde advertenties.</p><p>Sommige partners baseren zich op hun gerechtvaardigd belang.</p><button>Alles accepteren</button>",
        ),
    ];
    for (title, body) in walls.into_iter().chain(more) {
        assert_eq!(kind(&page(title, body)), Some(Kind::Consent), "{title}");
    }
}

#[test]
fn an_article_with_a_cookie_banner_is_an_article() {
    let html = page(
        "Bridge closed for two years",
        &format!(
            "<article><h1>Bridge closed for two years</h1>{}</article>\
             <div class=\"cookie-consent\"><p>We use cookies. Accept all to help our partners \
             show personalised ads.</p><button>Accept all</button></div>",
            story()
        ),
    );
    assert_eq!(verdict(&html), Verdict::Article);
}

#[test]
fn a_story_about_consent_managers_is_an_article() {
    let html = page(
        "Regulator fines publisher over cookie banners",
        "<article><h1>Regulator fines publisher over cookie banners</h1>\
         <p>The data protection authority fined a large publisher on Tuesday, saying its cookie banner \
         pushed readers to share data with hundreds of vendors.</p>\
         <p>The publisher had relied on legitimate interest for much of the tracking, which the \
         regulator rejected, and must now ask for consent before any cookies are set.</p>\
         <p>The company said it would appeal the decision and change its banner within three months.</p></article>",
    );
    assert_eq!(verdict(&html), Verdict::Article);
}

#[test]
fn soft_not_found_pages_in_seven_languages() {
    for (title, heading) in [
        ("Page not found – News", "Sorry, we couldn't find that page"),
        ("Seite nicht gefunden", "Die Seite existiert nicht"),
        ("Page introuvable", "Cette page n'existe pas"),
        ("Página no encontrada", "Lo sentimos"),
        ("Pagina non trovata", "Ops"),
        ("Página não encontrada", "Ups"),
        ("Pagina niet gevonden", "Oeps"),
        ("404", "Oops"),
        ("Not Found", "Oops"),
        ("Oups ! Cette page est introuvable", "Oups"),
    ] {
        let html = page(
            title,
            &format!(
                "<h1>{heading}</h1><p>Try the search or go back to the <a href=\"/\">front page</a>.</p>"
            ),
        );
        assert_eq!(kind(&html), Some(Kind::NotFound), "{title}");
    }
    // A blog's name is its first heading; the error's is the second.
    let html = page(
        "Nothing found | My Blog",
        "<h1>My Blog</h1><section><h1>Oops! That page can&rsquo;t be found.</h1><p>Maybe try a search?</p></section>",
    );
    assert_eq!(kind(&html), Some(Kind::NotFound));
    // The heading alone (the site's name as title).
    let html = page(
        "News Example",
        "<h1>Sorry, we couldn't find that page</h1><p>It may have moved.</p>",
    );
    assert_eq!(kind(&html), Some(Kind::NotFound));
}

#[test]
fn an_article_with_not_found_links_in_its_footer_is_an_article() {
    let html = page(
        "Bridge closed",
        &format!(
            "<article>{}</article><aside><a href=\"/404\">Page not found? Report it</a></aside>",
            story()
        ),
    );
    assert_eq!(verdict(&html), Verdict::Article);
}

#[test]
fn login_walls_in_four_languages() {
    let form =
        "<form><input name=\"user\"><input type=\"password\" name=\"p\"><button>Go</button></form>";
    for (title, text) in [
        (
            "News",
            "<h2>Sign in to keep reading</h2><p>Create a free account or sign in.</p>",
        ),
        (
            "Anmelden – Zeitung",
            "<p>Bitte geben Sie E-Mail und Passwort ein.</p>",
        ),
        (
            "Connexion",
            "<p>Connectez-vous pour lire la suite de cet article.</p>",
        ),
        (
            "Iniciar sesión | Diario",
            "<p>Escriba su correo y contraseña.</p>",
        ),
        ("Inloggen", "<p>Log in om verder te lezen.</p>"),
    ] {
        let html = page(title, &format!("{text}{form}"));
        assert_eq!(kind(&html), Some(Kind::Login), "{title}");
    }
}

#[test]
fn an_email_first_sign_in_page_is_a_login_wall() {
    let html = page(
        "Sign in | News",
        "<form><label>Email address</label><input type=\"email\"><button>Continue</button></form>",
    );
    assert_eq!(kind(&html), Some(Kind::Login));
}

#[test]
fn a_sign_in_form_under_the_sites_own_title_is_a_login_wall() {
    let html = page(
        "Daily Example",
        "<h2>Sign in to your account</h2><form><input type=\"email\"><input type=\"password\"><button>Go</button></form>",
    );
    assert_eq!(kind(&html), Some(Kind::Login));
}

#[test]
fn a_bare_check_page_is_a_challenge() {
    let html = "<html><head><title>example.com</title></head><body><p>Checking your browser before accessing example.com.</p><p>This process is automatic.</p></body></html>";
    assert_eq!(kind(html), Some(Kind::Challenge));
}

#[test]
fn a_refusal_titled_as_a_bot_check_is_a_challenge() {
    let response = ResponseFacts {
        status: 403,
        ..Default::default()
    }
    .with_body(b"<html><head><TITLE>Just a moment...</TITLE></head><body>x</body></html>");
    assert_eq!(
        judge(&response, None, None).interstitial().map(|i| i.kind),
        Some(Kind::Challenge)
    );
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SERVER,
        header::HeaderValue::from_static("cloudflare"),
    );
    let response = ResponseFacts::of(503, &headers, &url());
    assert_eq!(
        judge(&response, None, None).interstitial().map(|i| i.kind),
        Some(Kind::Challenge)
    );
    // A plain outage is no interstitial.
    let response = ResponseFacts::of(503, &HeaderMap::new(), &url());
    assert_eq!(judge(&response, None, None), Verdict::Article);
}

#[test]
fn an_article_with_a_hidden_login_form_is_an_article() {
    let html = page(
        "Bridge closed",
        &format!(
            "<article>{}</article><div hidden><h2>Log in</h2><form><input type=\"password\"></form></div>",
            story()
        ),
    );
    assert_eq!(verdict(&html), Verdict::Article);
}

#[test]
fn paywalls_in_three_languages() {
    for (teaser, offer) in [
        (
            "The council met on Thursday to discuss the bridge.",
            "<p>This article is for subscribers only.</p><p>Already a subscriber? <a href=\"/login\">Log in</a></p>",
        ),
        (
            "Der Stadtrat hat am Donnerstag über die Brücke beraten.",
            "<p>Dieser Artikel ist nur für Abonnenten.</p><p>Bereits Abonnent? Anmelden</p>",
        ),
        (
            "Le conseil s'est réuni jeudi.",
            "<p>Cet article est réservé aux abonnés.</p><p>Déjà abonné ? Connectez-vous</p>",
        ),
        (
            "O conselho reuniu-se na quinta-feira.",
            "<p>Conteúdo exclusivo para assinantes.</p><p>Já é assinante? Entrar</p>",
        ),
    ] {
        let html = page(
            "Bridge",
            &format!("<article><h1>Bridge</h1><p>{teaser}</p>{offer}</article>"),
        );
        assert_eq!(kind(&html), Some(Kind::Paywall), "{teaser}");
    }
}

#[test]
fn an_article_with_a_subscribe_box_is_an_article() {
    let html = page(
        "Bridge",
        &format!(
            "<article>{}<p>Already a subscriber? Subscribe to continue reading our newsletter.</p></article>",
            story()
        ),
    );
    assert_eq!(verdict(&html), Verdict::Article);
}

#[test]
fn bot_challenges_by_header_title_and_refresh() {
    let response = ResponseFacts {
        cf_mitigated: Some("challenge".into()),
        ..Default::default()
    };
    let shell = "<html><head><title>Just a moment...</title></head><body><p>Checking your browser</p></body></html>";
    assert_eq!(
        verdict_with(&response, shell)
            .interstitial()
            .map(|i| i.kind),
        Some(Kind::Challenge)
    );
    for title in [
        "Just a moment...",
        "Einen Moment…",
        "Un instant…",
        "Un momento…",
        "Een ogenblik...",
    ] {
        let html = format!(
            "<html><head><title>{title}</title></head><body><div id=\"challenge-form\"><p>Please wait while we check your connection.</p></div></body></html>"
        );
        assert_eq!(kind(&html), Some(Kind::Challenge), "{title}");
    }
    let refresh = "<html><head><meta http-equiv=\"refresh\" content=\"5\"><title>News</title></head><body><p>Please wait.</p></body></html>";
    assert_eq!(kind(refresh), Some(Kind::Challenge));
    // A live blog that reloads every five minutes is an article.
    let live = format!(
        "<html><head><meta http-equiv=\"refresh\" content=\"300\"><title>Live</title></head><body><article>{}</article></body></html>",
        story()
    );
    assert_eq!(verdict(&live), Verdict::Article);
}

#[test]
fn statuses_and_bot_managers() {
    let of = |status: u16, headers: &[(&str, &str)]| {
        let mut map = HeaderMap::new();
        for (n, v) in headers {
            map.append(
                header::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                header::HeaderValue::from_str(v).unwrap(),
            );
        }
        judge(&ResponseFacts::of(status, &map, &url()), None, None)
            .interstitial()
            .map(|i| i.kind)
    };
    assert_eq!(
        of(403, &[("cf-mitigated", "challenge")]),
        Some(Kind::Challenge)
    );
    assert_eq!(
        of(403, &[("set-cookie", "datadome=abc; Path=/")]),
        Some(Kind::Challenge)
    );
    assert_eq!(of(403, &[]), Some(Kind::Denied));
    assert_eq!(of(401, &[]), Some(Kind::Login));
    assert_eq!(of(404, &[]), Some(Kind::NotFound));
    assert_eq!(of(410, &[]), Some(Kind::NotFound));
    assert_eq!(of(500, &[]), None);
    assert_eq!(
        of(200, &[("refresh", "3; url=/2026/12/story")]),
        None,
        "no page: nothing to weigh"
    );
}

#[test]
fn script_only_shells() {
    for noscript in [
        "You need to enable JavaScript to run this app.",
        "Bitte aktivieren Sie JavaScript.",
        "Veuillez activer JavaScript.",
    ] {
        let html = format!(
            "<html><head><title>News</title><script src=\"/app.js\"></script></head><body><noscript>{noscript}</noscript><div id=\"root\"></div></body></html>"
        );
        assert_eq!(kind(&html), Some(Kind::ScriptOnly), "{noscript}");
    }
}

#[test]
fn a_brief_beside_a_hidden_sign_in_dialog_is_an_article() {
    let html = "<html><head><title>Puente cerrado | Diario</title></head><body>\
         <div class=\"modal\" hidden><h1>Log in</h1><form><input type=\"password\"></form></div>\
         <article><h1>Puente cerrado</h1><p>Un momento de tensión vivió el pleno el jueves: el \
         ayuntamiento cerró el puente viejo hasta nuevo aviso por los daños de las riadas.</p></article>\
         <noscript>Please enable JavaScript to view the comments.</noscript></body></html>";
    assert_eq!(verdict(html), Verdict::Article);
}

#[test]
fn a_short_article_is_an_article() {
    let html = page(
        "Bridge closed",
        "<article><p>The old bridge is closed until further notice, the city said on Thursday.</p></article>",
    );
    assert_eq!(verdict(&html), Verdict::Article);
}

#[test]
fn tallies_round_trip_through_their_column() {
    let mut tally = Tally::default();
    tally.add(Some(Kind::Consent));
    tally.add(Some(Kind::Consent));
    tally.add(Some(Kind::NotFound));
    tally.add(None);
    assert_eq!(tally.to_column(), "pages=4 consent=2 not_found=1");
    assert_eq!(Tally::from_column(&tally.to_column()), tally);
    assert!(tally.mostly_interstitials());
    assert_eq!(tally.main_kind(), Some(Kind::Consent));
    assert_eq!(Tally::from_column("bogus=3 consent=x"), Tally::default());
}

#[test]
fn normalize_reads_ascii_text_as_it_reads_any_text() {
    // Every ASCII whitespace `split_whitespace` knows, vertical tab included.
    let ascii = " Sign\u{b}IN\tto\u{c}keep\r\nREADING  ";
    assert_eq!(normalize(ascii), "sign in to keep reading");
    // The same words beside one non-ASCII character take the other path.
    assert_eq!(
        normalize(&format!("{ascii}\u{2019}")),
        "sign in to keep reading '"
    );
    assert_eq!(normalize(" \t "), "");
}
