//! The words that name an interstitial, in English, German, French,
//! Spanish, Italian, Portuguese and Dutch.
//!
//! Every entry is lower case with straight apostrophes, matched against
//! text that [`normalize`] made the same way. Phrases are chosen to be what
//! the wall itself says ("sign in to keep reading"), not what an article
//! about the subject would (a story about sign-in pages says "sign in" but
//! rarely "sign in to keep reading"); a single word is never enough.

/// A page's title or first heading that says the page does not exist.
pub(super) const NOT_FOUND: &[&str] = &[
    // English
    "page not found",
    "page cannot be found",
    "page can't be found",
    "page could not be found",
    "page was not found",
    "couldn't find that page",
    "could not find that page",
    "couldn't find the page",
    "can't find that page",
    "can't find the page",
    "cannot find the page",
    "page you requested",
    "page you are looking for",
    "page you're looking for",
    "page you were looking for",
    "page you're trying to reach",
    "page you are trying to reach",
    "page isn't available",
    "page is not available",
    "page does not exist",
    "page doesn't exist",
    "page no longer exists",
    "404 not found",
    "error 404",
    "404 error",
    "file not found",
    "nothing was found at this location",
    // German
    "seite nicht gefunden",
    "seite wurde nicht gefunden",
    "seite konnte nicht gefunden",
    "seite existiert nicht",
    "seite gibt es nicht",
    "fehler 404",
    "die angeforderte seite",
    // French
    "page introuvable",
    "page est introuvable",
    "page n'a pas été trouvée",
    "page n'a pas pu être trouvée",
    "page non trouvée",
    "page non trouvee",
    "page demandée n'existe",
    "cette page n'existe pas",
    "page n'existe plus",
    "page que vous recherchez",
    "erreur 404",
    // Spanish
    "página no encontrada",
    "pagina no encontrada",
    "no se encontró la página",
    "no hemos encontrado la página",
    "no se ha encontrado la página",
    "no se pudo encontrar la página",
    "página no existe",
    "la página que buscas",
    "la página no existe",
    "página que estás buscando",
    "página que busca",
    // Italian
    "pagina non trovata",
    "pagina non esiste",
    "pagina non è stata trovata",
    "la pagina che stai cercando",
    "pagina non disponibile",
    "pagina non è disponibile",
    "pagina richiesta non",
    "errore 404",
    // Portuguese
    "página não encontrada",
    "pagina nao encontrada",
    "página não existe",
    "a página que procura",
    "página não foi encontrada",
    "não foi possível encontrar a página",
    "a página que você procura",
    "página que você está procurando",
    "erro 404",
    // Dutch
    "pagina niet gevonden",
    "pagina bestaat niet",
    "pagina kan niet worden gevonden",
    "pagina kon niet worden gevonden",
    "deze pagina bestaat niet meer",
    "de pagina die je zoekt",
    "de pagina die u zoekt",
    "fout 404",
];

/// A whole title segment that says the page does not exist (too short to
/// be looked for inside a title: "Not found" is a headline's word too).
pub(super) const NOT_FOUND_TITLE: &[&str] = &[
    "404",
    "not found",
    "page not found",
    "nicht gefunden",
    "introuvable",
    "non trouvée",
    "no encontrado",
    "no encontrada",
    "non trovato",
    "non trovata",
    "não encontrado",
    "não encontrada",
    "niet gevonden",
];

/// A title or heading that is the sign-in form's own (a segment of the
/// title equal to one of these).
pub(super) const SIGN_IN_TITLE: &[&str] = &[
    "sign in",
    "sign-in",
    "log in",
    "login",
    "log on",
    "sign in to continue",
    "anmelden",
    "einloggen",
    "anmeldung",
    "connexion",
    "se connecter",
    "identifiez-vous",
    "identification",
    "iniciar sesión",
    "inicia sesión",
    "iniciar sessão",
    "acceder",
    "accedi",
    "accesso",
    "entrar",
    "fazer login",
    "inloggen",
    "aanmelden",
];

/// What a login wall says in its body.
pub(super) const SIGN_IN_GATE: &[&str] = &[
    "sign in to keep reading",
    "sign in to continue reading",
    "sign in to read",
    "sign in to continue",
    "log in to keep reading",
    "log in to continue reading",
    "log in to read",
    "log in to continue",
    "please sign in",
    "please log in",
    "you must be logged in",
    "you need to be logged in",
    "you must sign in",
    "register to continue reading",
    "create a free account to continue",
    "melden sie sich an, um weiterzulesen",
    "anmelden, um weiterzulesen",
    "einloggen, um weiterzulesen",
    "anmelden und weiterlesen",
    "einloggen und weiterlesen",
    "registrieren und weiterlesen",
    "bitte melden sie sich an",
    "bitte loggen sie sich ein",
    "zum weiterlesen anmelden",
    "zum weiterlesen einloggen",
    "connectez-vous pour lire",
    "connectez-vous pour continuer",
    "veuillez vous connecter",
    "identifiez-vous pour",
    "inicia sesión para seguir leyendo",
    "inicia sesión para continuar",
    "inicie sesión para continuar",
    "regístrate para seguir leyendo",
    "por favor, inicia sesión",
    "accedi per continuare",
    "accedi per leggere",
    "effettua l'accesso per",
    "registrati per continuare",
    "faça login para continuar",
    "faça login para ler",
    "inicie sessão para continuar",
    "entre para continuar lendo",
    "log in om verder te lezen",
    "log in om door te lezen",
    "log in om dit artikel te lezen",
    "meld je aan om verder te lezen",
    "meld u aan om verder te lezen",
];

/// What a sign-in form says of itself, inside a longer sentence ("Sign in
/// to your account"): read only beside a password field.
pub(super) const SIGN_IN_WORDS: &[&str] = &[
    "sign in",
    "sign-in",
    "log in",
    "login",
    "anmelden",
    "einloggen",
    "se connecter",
    "connectez-vous",
    "iniciar sesión",
    "inicia sesión",
    "accedi",
    "iniciar sessão",
    "inicie sessão",
    "faça login",
    "inloggen",
];

/// Words for the secret a sign-in form asks for.
pub(super) const PASSWORD: &[&str] = &[
    "password",
    "passwort",
    "kennwort",
    "mot de passe",
    "contraseña",
    "senha",
    "wachtwoord",
];

/// What a paywall says under its teaser.
pub(super) const PAYWALL: &[&str] = &[
    "subscribe to continue reading",
    "subscribe to keep reading",
    "subscribe to read the full",
    "subscribe to read more",
    "this article is for subscribers",
    "this article is exclusive to subscribers",
    "this content is for subscribers",
    "exclusive to subscribers",
    "for subscribers only",
    "available to subscribers only",
    "already a subscriber",
    "already have a subscription",
    "become a subscriber",
    "subscription required",
    "unlock this article",
    "nur für abonnenten",
    "exklusiv für abonnenten",
    "bereits abonnent",
    "schon abonnent",
    "jetzt abonnieren und weiterlesen",
    "abonnieren sie, um weiterzulesen",
    "dieser artikel ist nur für",
    "réservé aux abonnés",
    "reserve aux abonnes",
    "déjà abonné",
    "abonnez-vous pour lire",
    "pour lire la suite, abonnez-vous",
    "cet article est réservé",
    "exclusivo para suscriptores",
    "solo para suscriptores",
    "ya eres suscriptor",
    "suscríbete para seguir leyendo",
    "suscríbete para continuar",
    "contenido exclusivo para suscriptores",
    "riservato agli abbonati",
    "esclusivo per gli abbonati",
    "sei già abbonato",
    "abbonati per continuare",
    "abbonati per leggere",
    "exclusivo para assinantes",
    "já é assinante",
    "assine para continuar",
    "assine para ler",
    "alleen voor abonnees",
    "exclusief voor abonnees",
    "al abonnee",
    "word abonnee",
    "neem een abonnement om verder te lezen",
];

/// A consent manager's vocabulary, by concept: a consent wall speaks of
/// several of them, an article rarely of more than one.
pub(super) const CONSENT: &[&[&str]] = &[
    // The partners or vendors the data goes to.
    &[
        "our partners",
        "our vendors",
        "unsere partner",
        "unserer partner",
        "nos partenaires",
        "nuestros socios",
        "nuestros partners",
        "i nostri partner",
        "nossos parceiros",
        "onze partners",
        "vendors",
    ],
    // TCF purpose 1: store and/or access information on a device.
    &[
        "store and/or access information",
        "access information on a device",
        "information on a device",
        "informationen auf einem gerät",
        "informationen auf ihrem gerät",
        "stocker et/ou accéder",
        "informations sur un appareil",
        "almacenar o acceder",
        "almacenar y/o acceder",
        "información en un dispositivo",
        "archiviare e/o accedere",
        "memorizzare e/o accedere",
        "informazioni su un dispositivo",
        "armazenar e/ou aceder",
        "armazenar e/ou acessar",
        "informações num dispositivo",
        "informações em um dispositivo",
        "opslaan en/of openen",
        "informatie op een apparaat",
    ],
    // The legal ground besides consent.
    &[
        "legitimate interest",
        "berechtigtes interesse",
        "berechtigten interesse",
        "intérêt légitime",
        "interés legítimo",
        "legittimo interesse",
        "interesse legittimo",
        "interesse legítimo",
        "gerechtvaardigd belang",
    ],
    // Its buttons.
    &[
        "accept all",
        "accept cookies",
        "agree and continue",
        "reject all",
        "manage options",
        "manage preferences",
        "alle akzeptieren",
        "akzeptieren und weiter",
        "alle ablehnen",
        "einstellungen verwalten",
        "tout accepter",
        "accepter et continuer",
        "tout refuser",
        "gérer les options",
        "aceptar todo",
        "aceptar y continuar",
        "rechazar todo",
        "gestionar opciones",
        "accetta tutto",
        "accetta e continua",
        "rifiuta tutto",
        "gestisci opzioni",
        "aceitar tudo",
        "aceitar e continuar",
        "rejeitar tudo",
        "gerir opções",
        "gerenciar opções",
        "alles accepteren",
        "accepteren en doorgaan",
        "alles weigeren",
        "opties beheren",
    ],
    // What the data is for.
    &[
        "personalised ads",
        "personalized ads",
        "personalised advertising",
        "personalized advertising",
        "content measurement",
        "personalisierte anzeigen",
        "personalisierte werbung",
        "publicités personnalisées",
        "publicité personnalisée",
        "anuncios personalizados",
        "publicidad personalizada",
        "annunci personalizzati",
        "pubblicità personalizzata",
        "anúncios personalizados",
        "publicidade personalizada",
        "gepersonaliseerde advertenties",
    ],
    // The thing itself.
    &[
        "cookies",
        "consent",
        "einwilligung",
        "zustimmung",
        "consentement",
        "consentimiento",
        "consenso",
        "consentimento",
        "toestemming",
    ],
];

/// A consent button's whole text.
pub(super) const CONSENT_BUTTON: &[&str] = &[
    "accept",
    "accept all",
    "accept cookies",
    "agree",
    "i agree",
    "agree and continue",
    "reject all",
    "akzeptieren",
    "alle akzeptieren",
    "zustimmen",
    "alle ablehnen",
    "accepter",
    "tout accepter",
    "j'accepte",
    "tout refuser",
    "aceptar",
    "aceptar todo",
    "acepto",
    "rechazar todo",
    "accetta",
    "accetta tutto",
    "accetto",
    "rifiuta tutto",
    "aceitar",
    "aceitar tudo",
    "aceito",
    "rejeitar tudo",
    "accepteren",
    "alles accepteren",
    "akkoord",
    "alles weigeren",
];

/// A bot check's title or words.
pub(super) const CHALLENGE: &[&str] = &[
    "just a moment",
    "attention required",
    "checking your browser",
    "checking if the site connection is secure",
    "verify you are human",
    "verifying you are human",
    "verify that you are human",
    "are you a robot",
    "are you a human",
    "human verification",
    "press & hold",
    "press and hold",
    "security check",
    "ddos protection",
    "please complete the security check",
    "einen moment",
    "überprüfung ihres browsers",
    "bestätigen sie, dass sie ein mensch sind",
    "sind sie ein roboter",
    "sicherheitsüberprüfung",
    "un instant",
    "vérification de votre navigateur",
    "vérifiez que vous êtes humain",
    "vérifions que vous êtes humain",
    "êtes-vous un robot",
    "vérification de sécurité",
    "un momento",
    "verificando su navegador",
    "verifica que eres humano",
    "verifique que es humano",
    "eres un robot",
    "verificación de seguridad",
    "solo un momento",
    "verifica del browser",
    "verifica di essere umano",
    "sei un robot",
    "controllo di sicurezza",
    "um momento",
    "verificando seu navegador",
    "verifique que você é humano",
    "você é um robô",
    "verificação de segurança",
    "een ogenblik",
    "even geduld",
    "uw browser wordt gecontroleerd",
    "bent u een robot",
    "bevestig dat u een mens bent",
    "beveiligingscontrole",
];

/// A bot check's own sentences, specific enough to be read in a body
/// ("un momento" is also how a Spanish story begins a sentence).
pub(super) const CHALLENGE_TEXT: &[&str] = &[
    "checking your browser",
    "checking if the site connection is secure",
    "verify you are human",
    "verifying you are human",
    "verify that you are human",
    "are you a robot",
    "please complete the security check",
    "enable javascript and cookies to continue",
    "press & hold",
    "überprüfung ihres browsers",
    "bestätigen sie, dass sie ein mensch sind",
    "sind sie ein roboter",
    "vérification de votre navigateur",
    "vérifiez que vous êtes humain",
    "vérifions que vous êtes humain",
    "êtes-vous un robot",
    "verificando su navegador",
    "verifica que eres humano",
    "verifique que es humano",
    "verifica del browser",
    "verifica di essere umano",
    "verificando seu navegador",
    "verifique que você é humano",
    "uw browser wordt gecontroleerd",
    "bevestig dat u een mens bent",
];

/// A refusal's title.
pub(super) const DENIED: &[&str] = &[
    "access denied",
    "access forbidden",
    "403 forbidden",
    "forbidden",
    "request blocked",
    "you have been blocked",
    "access to this page has been denied",
    "request unsuccessful",
    "sorry, you have been blocked",
    "zugriff verweigert",
    "zugang verweigert",
    "accès refusé",
    "accès interdit",
    "acceso denegado",
    "acceso prohibido",
    "accesso negato",
    "accesso vietato",
    "acesso negado",
    "acesso proibido",
    "toegang geweigerd",
];

/// Lower case, typographic apostrophes straight, whitespace collapsed.
pub(super) fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    normalize_into(text, &mut out);
    out
}

/// [`normalize`] into `out` (cleared first), whose room is reused.
pub(super) fn normalize_into(text: &str, out: &mut String) {
    out.clear();
    if text.is_ascii() {
        // Most text: its words found by their bytes (ASCII's whitespace is
        // what `split_whitespace` splits on there), no character decoded.
        let is_space = |b: u8| matches!(b, b'\t'..=b'\r' | b' ');
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            while i < bytes.len() && is_space(bytes[i]) {
                i += 1;
            }
            let start = i;
            while i < bytes.len() && !is_space(bytes[i]) {
                i += 1;
            }
            if start < i {
                if !out.is_empty() {
                    out.push(' ');
                }
                let from = out.len();
                out.push_str(&text[start..i]);
                out[from..].make_ascii_lowercase();
            }
        }
        return;
    }
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        if word.is_ascii() {
            // Most words: lower-cased byte by byte (what `to_lowercase` gives ASCII).
            let from = out.len();
            out.push_str(word);
            out[from..].make_ascii_lowercase();
            continue;
        }
        for c in word.chars() {
            match c {
                '\u{2019}' | '\u{2018}' | '\u{02bc}' => out.push('\''),
                c => out.extend(c.to_lowercase()),
            }
        }
    }
}

/// The first of `phrases` that `text` (normalized) contains.
pub(super) fn find<'a>(text: &str, phrases: &[&'a str]) -> Option<&'a str> {
    phrases.iter().copied().find(|p| text.contains(p))
}

/// The first of `phrases` that a whole segment of `title` (normalized) is:
/// titles are "What | Site" or "What – Site", and a wall's title is the
/// wall's name ("Just a moment...", "Anmelden – Zeitung").
pub(super) fn title_segment<'a>(title: &str, phrases: &[&'a str]) -> Option<&'a str> {
    title
        .split(['|', '–', '—', '·', ':', '«', '»'])
        .flat_map(|s| s.split(" - "))
        .map(|s| s.trim_matches(|c: char| c.is_whitespace() || ".…!?¡¿,".contains(c)))
        .find_map(|segment| phrases.iter().copied().find(|p| *p == segment))
}
