//! The tree builder's element sets that [`super::nesting`] needs, by name
//! as the HTML standard's parsing section gives them.

/// Elements that never hold anything (`<image>` is read as `<img>`).
#[rustfmt::skip]
pub(super) const VOID: &[&[u8]] = &[
    b"area", b"base", b"basefont", b"bgsound", b"br", b"col", b"embed", b"frame", b"hr", b"image",
    b"img", b"input", b"keygen", b"link", b"meta", b"param", b"source", b"track", b"wbr",
];

/// Elements whose content is text to the tokenizer (when in the HTML
/// namespace); `noscript` too, as scraper and ammonia parse with scripting on.
#[rustfmt::skip]
pub(super) const RAW_TEXT: &[&[u8]] = &[
    b"script", b"style", b"xmp", b"iframe", b"noembed", b"noframes", b"noscript", b"textarea",
    b"title",
];

/// The formatting elements: reopened by the parser when closed by others.
#[rustfmt::skip]
pub(super) const FORMATTING: &[&[u8]] = &[
    b"a", b"b", b"big", b"code", b"em", b"font", b"i", b"nobr", b"s", b"small", b"strike",
    b"strong", b"tt", b"u",
];

/// Elements that put a marker in the list of formatting elements: those
/// opened inside them are not reopened outside.
#[rustfmt::skip]
pub(super) const MARKERS: &[&[u8]] = &[
    b"applet", b"caption", b"marquee", b"object", b"td", b"template", b"th",
];

/// The tree builder's "special" elements: an end tag for another element
/// does not close them.
#[rustfmt::skip]
pub(super) const SPECIAL: &[&[u8]] = &[
    b"address", b"applet", b"area", b"article", b"aside", b"base", b"basefont", b"bgsound",
    b"blockquote", b"body", b"br", b"button", b"caption", b"center", b"col", b"colgroup", b"dd",
    b"details", b"dir", b"div", b"dl", b"dt", b"embed", b"fieldset", b"figcaption", b"figure",
    b"footer", b"form", b"frame", b"frameset", b"h1", b"h2", b"h3", b"h4", b"h5", b"h6", b"head",
    b"header", b"hgroup", b"hr", b"html", b"iframe", b"img", b"input", b"keygen", b"li", b"link",
    b"listing", b"main", b"marquee", b"menu", b"meta", b"nav", b"noembed", b"noframes",
    b"noscript", b"object", b"ol", b"p", b"param", b"plaintext", b"pre", b"script", b"search",
    b"section", b"select", b"source", b"style", b"summary", b"table", b"tbody", b"td", b"template",
    b"textarea", b"tfoot", b"th", b"thead", b"title", b"tr", b"track", b"ul", b"wbr", b"xmp",
];

/// Start tags that close an open `<p>` (in button scope).
#[rustfmt::skip]
pub(super) const CLOSES_P: &[&[u8]] = &[
    b"address", b"article", b"aside", b"blockquote", b"center", b"details", b"dialog", b"dir",
    b"div", b"dl", b"fieldset", b"figcaption", b"figure", b"footer", b"header", b"hgroup", b"main",
    b"menu", b"nav", b"ol", b"p", b"search", b"section", b"summary", b"ul", b"h1", b"h2", b"h3",
    b"h4", b"h5", b"h6", b"pre", b"listing", b"form", b"li", b"dd", b"dt", b"hr", b"xmp",
];

/// Start tags before which the parser does not reopen formatting elements.
#[rustfmt::skip]
pub(super) const NO_REOPEN: &[&[u8]] = &[
    b"address", b"article", b"aside", b"blockquote", b"center", b"details", b"dialog", b"dir",
    b"div", b"dl", b"fieldset", b"figcaption", b"figure", b"footer", b"header", b"hgroup", b"main",
    b"menu", b"nav", b"ol", b"p", b"search", b"section", b"summary", b"ul", b"h1", b"h2", b"h3",
    b"h4", b"h5", b"h6", b"pre", b"listing", b"form", b"li", b"dd", b"dt", b"plaintext", b"table",
    b"hr", b"param", b"source", b"track", b"textarea", b"iframe", b"noembed", b"caption", b"col",
    b"colgroup", b"frame", b"head", b"tbody", b"td", b"tfoot", b"th", b"thead", b"tr", b"html",
    b"body", b"frameset", b"base", b"basefont", b"bgsound", b"link", b"meta", b"noframes",
    b"script", b"style", b"template", b"title", b"rb", b"rtc", b"rp", b"rt",
];

/// Foreign-content start tags that leave `<svg>`/`<math>` for HTML.
#[rustfmt::skip]
pub(super) const BREAKOUT: &[&[u8]] = &[
    b"b", b"big", b"blockquote", b"body", b"br", b"center", b"code", b"dd", b"div", b"dl", b"dt",
    b"em", b"embed", b"font", b"h1", b"h2", b"h3", b"h4", b"h5", b"h6", b"head", b"hr", b"i",
    b"img", b"li", b"listing", b"menu", b"meta", b"nobr", b"ol", b"p", b"pre", b"ruby", b"s",
    b"small", b"span", b"strong", b"strike", b"sub", b"sup", b"table", b"tt", b"u", b"ul", b"var",
];

/// MathML elements whose content is HTML again (and `annotation-xml` with
/// an HTML `encoding`, opened as "annotation-xml html").
pub(super) const MATH_INTEGRATION_POINTS: &[&[u8]] =
    &[b"mi", b"mo", b"mn", b"ms", b"mtext", b"annotation-xml html"];

/// SVG elements whose content is HTML again.
pub(super) const SVG_INTEGRATION_POINTS: &[&[u8]] = &[b"foreignobject", b"desc", b"title"];

/// Elements that bound the default scope of an end tag's search.
#[rustfmt::skip]
pub(super) const SCOPE: &[&[u8]] = &[
    b"applet", b"caption", b"html", b"table", b"td", b"th", b"marquee", b"object", b"template",
];

#[rustfmt::skip]
pub(super) const TABLE_PARTS: &[&[u8]] = &[
    b"caption", b"col", b"colgroup", b"tbody", b"td", b"tfoot", b"th", b"thead", b"tr",
];

pub(super) const TABLE_SCOPE: &[&[u8]] = &[b"html", b"table", b"template"];
