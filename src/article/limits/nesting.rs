//! How deep the HTML parser (html5ever, under `scraper` and ammonia) will
//! nest a document's elements, worked out from its tags without building a
//! tree: a stack of open elements kept by the tree builder's rules that
//! change depth.
//!
//! - Void elements (`<br>`, `<img>` …) never hold anything; a self-closing
//!   `/>` closes only `<svg>`, `<math>` and elements inside them (HTML
//!   ignores it on `<span/>`).
//! - An end tag closes the element it names and everything opened inside it,
//!   within the scope the tree builder searches; an end tag that matches no
//!   open element changes nothing.
//! - Implied ends: `<p>`, `<li>`, `<dd>`/`<dt>`, `<option>`, ruby text and
//!   table cells and rows close when the tree builder closes them.
//! - Formatting elements (`<b>`, `<font>` …) that another end tag closed are
//!   reopened by the parser in front of the next text: they count as open
//!   until their own end tag, a table cell or the three-of-a-kind rule drops
//!   them. A misnested formatting end tag with a block inside keeps the
//!   depth (the adoption agency moves elements, it does not close them).
//! - A table adds the `<tbody>` and `<tr>` the parser inserts when they are
//!   missing.
//!
//! Where it cannot tell, the count errs high. The tests compare it with
//! scraper's own trees on random tag soup and repeated patterns: it is at
//! most one level short (odd mixes of templates, selects and tables), and
//! no pattern gains on it as it repeats.

use super::sets::*;
use super::tokens::{self, Token, Tokens};

/// The outcome of measuring a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nesting {
    /// The deepest element, counting `<html>` and `<body>` (at most one
    /// past the limit: the measure stops there).
    pub deepest: usize,
    /// The byte offset of the first tag that goes deeper than the limit.
    pub too_deep_at: Option<usize>,
}

fn is(name: &[u8], set: &[&[u8]]) -> bool {
    set.contains(&name)
}

#[derive(Clone, Copy, PartialEq)]
enum Scope {
    Default,
    ListItem,
    Button,
    Table,
    /// Only options and option groups may be open inside.
    Select,
}

struct Open {
    name: Vec<u8>,
    foreign: bool,
    /// For a foreign element: SVG rather than MathML.
    svg: bool,
    /// A template that took a column: the rest of its content is read as
    /// a column group's.
    columns: bool,
    /// Elements it stands for: a table cell or row may bring the row and
    /// body the parser inserts.
    weight: usize,
    /// Its entry in the formatting list, for formatting elements.
    formatting: Option<u32>,
}

enum Entry {
    Marker,
    Formatting {
        id: u32,
        name: Vec<u8>,
        attributes: Vec<u8>,
        open: bool,
    },
}

/// The html element and the body the parser always builds.
const IMPLIED: usize = 2;

struct Builder {
    stack: Vec<Open>,
    weight: usize,
    /// The list of active formatting elements.
    active: Vec<Entry>,
    /// Entries of `active` that are not open (to be reopened).
    closed: usize,
    next_id: u32,
}

impl Open {
    /// A foreign element whose content is HTML.
    fn integration_point(&self) -> bool {
        self.foreign
            && is(
                &self.name,
                match self.svg {
                    true => SVG_INTEGRATION_POINTS,
                    false => MATH_INTEGRATION_POINTS,
                },
            )
    }
}

impl Builder {
    fn depth(&self) -> usize {
        IMPLIED + self.weight + self.closed
    }

    fn top(&self) -> Option<&Open> {
        self.stack.last()
    }

    fn top_is(&self, names: &[&[u8]]) -> bool {
        self.top().is_some_and(|o| !o.foreign && is(&o.name, names))
    }

    fn push(&mut self, name: Vec<u8>, foreign: bool, weight: usize) {
        self.weight += weight;
        let svg = match name.as_slice() {
            b"svg" => true,
            b"math" => false,
            _ => self.top().is_some_and(|o| o.svg),
        };
        self.stack.push(Open {
            name,
            foreign,
            svg,
            columns: false,
            weight,
            formatting: None,
        });
    }

    /// Pops the top element; a formatting element stays in the list, closed.
    /// A table cell or caption takes the formatting elements opened in it
    /// along (the parser only ever closes them whole).
    fn pop(&mut self) {
        let Some(open) = self.stack.pop() else { return };
        self.weight -= open.weight;
        if !open.foreign && is(&open.name, &[b"td", b"th", b"caption"]) {
            self.clear_to_marker();
        }
        if let Some(id) = open.formatting
            && let Some(Entry::Formatting { open, .. }) = self
                .active
                .iter_mut()
                .rfind(|e| matches!(e, Entry::Formatting { id: i, .. } if *i == id))
        {
            *open = false;
            self.closed += 1;
        }
    }

    /// Pops until the element at `index` is popped.
    fn pop_to(&mut self, index: usize) {
        while self.stack.len() > index {
            self.pop();
        }
    }

    fn clear_to_marker(&mut self) {
        while let Some(entry) = self.active.pop() {
            match entry {
                Entry::Marker => break,
                Entry::Formatting { open: false, .. } => self.closed -= 1,
                Entry::Formatting { .. } => {}
            }
        }
    }

    /// Where an HTML element named one of `names` is open within `scope`.
    fn in_scope(&self, names: &[&[u8]], scope: Scope) -> Option<usize> {
        for (i, open) in self.stack.iter().enumerate().rev() {
            if !open.foreign && is(&open.name, names) {
                return Some(i);
            }
            let bounds = match scope {
                Scope::Table => !open.foreign && is(&open.name, TABLE_SCOPE),
                Scope::Select => open.foreign || !is(&open.name, &[b"option", b"optgroup"]),
                _ => {
                    open.integration_point()
                        || (!open.foreign
                            && (is(&open.name, SCOPE)
                                || (scope == Scope::ListItem && is(&open.name, &[b"ol", b"ul"]))
                                || (scope == Scope::Button && open.name == b"button")))
                }
            };
            if bounds {
                return None;
            }
        }
        None
    }

    fn close_in_scope(&mut self, names: &[&[u8]], scope: Scope) {
        if let Some(i) = self.in_scope(names, scope) {
            self.close_at(i);
        }
    }

    /// Closes the element at `index` (and all inside it). Only closing a
    /// marker element itself drops the formatting elements opened inside
    /// it: popped as a bystander (`</table>` over a `<marquee>`), its
    /// marker stays and so do they.
    fn close_at(&mut self, index: usize) {
        let marker = self.stack.get(index).is_some_and(|o| {
            !o.foreign && is(&o.name, &[b"applet", b"marquee", b"object", b"template"])
        });
        self.pop_to(index);
        if marker {
            self.clear_to_marker();
        }
    }

    /// Reopens the closed formatting elements after the last marker.
    fn reopen(&mut self) {
        if self.closed == 0 {
            return;
        }
        let first = self
            .active
            .iter()
            .rposition(|e| matches!(e, Entry::Marker))
            .map_or(0, |m| m + 1);
        let mut reopened = Vec::new();
        for entry in &mut self.active[first..] {
            if let Entry::Formatting { id, name, open, .. } = entry
                && !*open
            {
                *open = true;
                reopened.push((*id, name.clone()));
            }
        }
        self.closed -= reopened.len();
        for (id, name) in reopened {
            self.weight += 1;
            self.stack.push(Open {
                name,
                foreign: false,
                svg: false,
                columns: false,
                weight: 1,
                formatting: Some(id),
            });
        }
    }

    fn push_formatting(&mut self, name: Vec<u8>, attributes: &[u8]) {
        // Three of a kind since the last marker: the earliest one goes.
        let first = self
            .active
            .iter()
            .rposition(|e| matches!(e, Entry::Marker))
            .map_or(0, |m| m + 1);
        let same: Vec<usize> = (first..self.active.len())
            .filter(|&i| {
                matches!(&self.active[i], Entry::Formatting { name: n, attributes: a, .. }
                    if *n == name && a == attributes)
            })
            .collect();
        if same.len() >= 3
            && let Entry::Formatting { open, .. } = self.active.remove(same[0])
            && !open
        {
            self.closed -= 1;
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.active.push(Entry::Formatting {
            id,
            name: name.clone(),
            attributes: attributes.to_vec(),
            open: true,
        });
        self.weight += 1;
        self.stack.push(Open {
            name,
            foreign: false,
            svg: false,
            columns: false,
            weight: 1,
            formatting: Some(id),
        });
    }

    /// Whether a start tag is handled by the foreign-content rules.
    fn in_foreign(&self) -> bool {
        self.top()
            .is_some_and(|o| o.foreign && !o.integration_point())
    }

    fn start(&mut self, name: Vec<u8>, attributes: &[u8], self_closing: bool) -> Placed {
        if self.in_foreign() {
            if !is(&name, BREAKOUT) {
                let html_inside = name == b"annotation-xml"
                    && tokens::attribute(attributes, b"encoding").is_some_and(|e| {
                        e.eq_ignore_ascii_case(b"text/html")
                            || e.eq_ignore_ascii_case(b"application/xhtml+xml")
                    });
                let name = match html_inside {
                    true => b"annotation-xml html".to_vec(),
                    false => name,
                };
                return self.place(name, true, self_closing);
            }
            while self.in_foreign() {
                self.pop();
            }
        }
        let name_ref = name.as_slice();
        if is(name_ref, &[b"col", b"colgroup"])
            && let Some(top) = self.stack.last_mut()
            && !top.foreign
            && top.name == b"template"
        {
            top.columns = true;
        }
        if is(name_ref, &[b"html", b"head", b"body"]) {
            return Placed::Nothing;
        }
        if name_ref == b"a" {
            // An open `<a>` is closed by the next one, unless a block opened
            // inside it (then the parser moves it, keeping the depth); the
            // formatting elements are reopened after that.
            if let Some(a) = self.formatting_since_marker(b"a") {
                match self.stack_index(a) {
                    Some(i) if !self.special_above(i) => self.close_formatting_at(i),
                    Some(_) => {}
                    None => self.forget(a),
                }
            }
        }
        if self.in_select() || self.in_template() || self.is_open(b"frameset") {
            // Inside a select (and a template, whose content the parser
            // handles in ways of its own) nothing is taken to close
            // implicitly; these close a select.
            if is(name_ref, &[b"input", b"keygen", b"select"]) {
                self.close_in_scope(&[b"select"], Scope::Select);
            }
            // With the row and body the parser may insert.
            let weight = match name_ref {
                b"td" | b"th" => 3,
                b"tr" => 2,
                _ => 0,
            };
            if weight > 0 {
                self.active.push(Entry::Marker);
                self.push(name, false, weight);
                return Placed::Open;
            }
        } else if let Some(table_part) = self.close_implied(name_ref) {
            let Some(weight) = table_part else {
                return Placed::Nothing;
            };
            if is(name_ref, MARKERS) {
                self.active.push(Entry::Marker);
            }
            self.push(name, false, weight);
            return Placed::Open;
        }
        if !is(name_ref, NO_REOPEN) {
            self.reopen();
        }
        if is(name_ref, FORMATTING) {
            self.push_formatting(name, attributes);
            return Placed::Open;
        }
        if name_ref == b"svg" || name_ref == b"math" {
            return self.place(name, true, self_closing);
        }
        if is(name_ref, MARKERS) {
            self.active.push(Entry::Marker);
        }
        if is(name_ref, VOID) {
            return Placed::Leaf;
        }
        if name_ref == b"plaintext" {
            return Placed::Plaintext;
        }
        // Where the parser may ignore the tag (templates, selects, column
        // groups, framesets), its content is scanned as markup.
        let unusual = self.in_select()
            || self.top_is(&[b"colgroup", b"frameset"])
            || self.top().is_some_and(|o| o.columns);
        if is(name_ref, RAW_TEXT) && !unusual {
            return Placed::RawText(name);
        }
        self.push(name, false, 1);
        Placed::Open
    }

    /// Closes what a start tag `name` closes. A table part is placed here:
    /// `Some(Some(weight))` to open it, `Some(None)` when it is ignored.
    fn close_implied(&mut self, name: &[u8]) -> Option<Option<usize>> {
        // Table parts outside a table (or template) are ignored.
        if is(name, TABLE_PARTS)
            && self
                .in_scope(&[b"table", b"template"], Scope::Table)
                .is_none()
        {
            return Some(None);
        }
        if is(name, CLOSES_P) {
            self.close_in_scope(&[b"p"], Scope::Button);
        }
        match name {
            b"table" => {
                // A table directly in a table (not in a cell) ends it.
                let innermost = self.stack.iter().rev().find(|o| {
                    !o.foreign && is(&o.name, &[b"td", b"th", b"caption", b"template", b"table"])
                });
                if innermost.is_some_and(|o| o.name == b"table")
                    && let Some(table) = self.in_scope(&[b"table"], Scope::Table)
                {
                    self.pop_to(table);
                }
            }
            b"h1" | b"h2" | b"h3" | b"h4" | b"h5" | b"h6"
                if self.top_is(&[b"h1", b"h2", b"h3", b"h4", b"h5", b"h6"]) =>
            {
                self.pop()
            }
            b"li" => self.close_list_item(&[b"li"]),
            b"dd" | b"dt" => self.close_list_item(&[b"dd", b"dt"]),
            b"option" if self.top_is(&[b"option"]) => self.pop(),
            b"optgroup" => {
                if self.top_is(&[b"option"]) {
                    self.pop();
                }
                if self.top_is(&[b"optgroup"]) {
                    self.pop();
                }
            }
            b"rb" | b"rtc" | b"rp" | b"rt"
                if self.in_scope(&[b"ruby"], Scope::Default).is_some() =>
            {
                let keep: &[&[u8]] = if name == b"rp" || name == b"rt" {
                    &[b"rb", b"rp", b"rt"]
                } else {
                    &[b"rb", b"rp", b"rt", b"rtc"]
                };
                while self.top_is(keep) {
                    self.pop();
                }
            }
            b"button" => self.close_in_scope(&[b"button"], Scope::Default),
            b"td" | b"th" => {
                self.close_in_scope(&[b"td", b"th"], Scope::Table);
                // The row (and body) the parser inserts when they are missing.
                let weight = match self.in_scope(&[b"tr"], Scope::Table) {
                    Some(row) => {
                        self.pop_to(row + 1);
                        1
                    }
                    None if self
                        .in_scope(&[b"tbody", b"thead", b"tfoot"], Scope::Table)
                        .is_some() =>
                    {
                        2
                    }
                    None => 3,
                };
                return Some(Some(weight));
            }
            b"tr" => {
                self.close_in_scope(&[b"td", b"th"], Scope::Table);
                self.close_in_scope(&[b"tr"], Scope::Table);
                let weight = match self.in_scope(&[b"tbody", b"thead", b"tfoot"], Scope::Table) {
                    Some(_) => 1,
                    None => 2,
                };
                return Some(Some(weight));
            }
            b"tbody" | b"thead" | b"tfoot" | b"caption" | b"colgroup" => {
                if let Some(table) = self.in_scope(&[b"table"], Scope::Table) {
                    self.pop_to(table + 1);
                }
                return Some(Some(1));
            }
            _ => {}
        }
        None
    }

    /// Whether an HTML element `name` is open.
    fn is_open(&self, name: &[u8]) -> bool {
        self.stack.iter().any(|o| !o.foreign && o.name == name)
    }

    fn in_template(&self) -> bool {
        self.stack
            .iter()
            .any(|o| !o.foreign && o.name == b"template")
    }

    fn in_select(&self) -> bool {
        self.stack.iter().any(|o| !o.foreign && o.name == b"select")
    }

    fn place(&mut self, name: Vec<u8>, foreign: bool, self_closing: bool) -> Placed {
        if self_closing {
            return Placed::Leaf;
        }
        self.push(name, foreign, 1);
        Placed::Open
    }

    /// `<li>` (`<dd>`, `<dt>`): an open one closes unless a special element
    /// other than address, div or p is open inside it.
    fn close_list_item(&mut self, names: &[&[u8]]) {
        for i in (0..self.stack.len()).rev() {
            let open = &self.stack[i];
            if !open.foreign && is(&open.name, names) {
                self.pop_to(i);
                break;
            }
            if open.integration_point()
                || (!open.foreign
                    && is(&open.name, SPECIAL)
                    && !is(&open.name, &[b"address", b"div", b"p"]))
            {
                break;
            }
        }
        self.close_in_scope(&[b"p"], Scope::Button);
    }

    /// The id of the last formatting element named `name` since the last marker.
    fn formatting_since_marker(&self, name: &[u8]) -> Option<u32> {
        for entry in self.active.iter().rev() {
            match entry {
                Entry::Marker => return None,
                Entry::Formatting { id, name: n, .. } if n == name => return Some(*id),
                Entry::Formatting { .. } => {}
            }
        }
        None
    }

    fn stack_index(&self, id: u32) -> Option<usize> {
        self.stack.iter().rposition(|o| o.formatting == Some(id))
    }

    fn special_above(&self, index: usize) -> bool {
        self.stack[index + 1..]
            .iter()
            .any(|o| o.integration_point() || (!o.foreign && is(&o.name, SPECIAL)))
    }

    /// Drops a formatting element from the list.
    fn forget(&mut self, id: u32) {
        if let Some(i) = self
            .active
            .iter()
            .rposition(|e| matches!(e, Entry::Formatting { id: x, .. } if *x == id))
            && let Entry::Formatting { open, .. } = self.active.remove(i)
            && !open
        {
            self.closed -= 1;
        }
    }

    /// Closes the formatting element at `index`: it leaves the list, the
    /// elements above it close (formatting ones to be reopened).
    fn close_formatting_at(&mut self, index: usize) {
        let id = self.stack[index].formatting;
        self.pop_to(index);
        if let Some(id) = id {
            self.forget(id);
        }
    }

    fn end(&mut self, name: &[u8]) {
        // Foreign content: the element it names, above the first HTML one.
        for i in (0..self.stack.len()).rev() {
            let open = &self.stack[i];
            if !open.foreign {
                break;
            }
            if open.name == name {
                self.pop_to(i);
                return;
            }
        }
        // In a select only its own end tags (and its options') count.
        if self.in_select() && !is(name, &[b"select", b"option", b"optgroup"]) {
            return;
        }
        if self.is_open(b"frameset") && name != b"frameset" {
            return;
        }
        if self.in_template() && name != b"template" {
            if self.top_is(&[name]) {
                self.pop();
            }
            return;
        }
        match name {
            b"html" | b"body" | b"br" | b"head" => {}
            // The form leaves the stack but stays the parent of what is
            // open inside it.
            b"form" => {
                if self.top_is(&[b"form"]) {
                    self.pop();
                }
            }
            b"p" => self.close_in_scope(&[b"p"], Scope::Button),
            b"select" => self.close_in_scope(&[b"select"], Scope::Select),
            b"template" => {
                if let Some(i) = self
                    .stack
                    .iter()
                    .rposition(|o| !o.foreign && o.name == b"template")
                {
                    self.close_at(i);
                }
            }
            b"li" => self.close_in_scope(&[b"li"], Scope::ListItem),
            b"h1" | b"h2" | b"h3" | b"h4" | b"h5" | b"h6" => {
                self.close_in_scope(&[b"h1", b"h2", b"h3", b"h4", b"h5", b"h6"], Scope::Default)
            }
            b"td" | b"th" | b"tr" | b"tbody" | b"thead" | b"tfoot" | b"table" => {
                self.close_in_scope(&[name], Scope::Table)
            }
            _ if is(name, FORMATTING) => self.end_formatting(name),
            _ if is(name, SPECIAL) || name == b"dialog" => {
                self.close_in_scope(&[name], Scope::Default)
            }
            _ => self.end_other(name),
        }
    }

    /// A formatting end tag, by the adoption agency's first steps.
    fn end_formatting(&mut self, name: &[u8]) {
        let Some(id) = self.formatting_since_marker(name) else {
            return self.end_other(name);
        };
        let Some(index) = self.stack_index(id) else {
            return self.forget(id);
        };
        // Out of scope: ignored.
        let bounded = self.stack[index + 1..]
            .iter()
            .any(|o| o.integration_point() || (!o.foreign && is(&o.name, SCOPE)));
        if bounded {
            return;
        }
        if !self.special_above(index) {
            self.close_formatting_at(index);
        }
        // Else the parser moves the block out and a copy of the formatting
        // element into it: no element closes, the depth stays.
    }

    /// Any other end tag: closes the element it names unless a special
    /// element is open inside it.
    fn end_other(&mut self, name: &[u8]) {
        for i in (0..self.stack.len()).rev() {
            let open = &self.stack[i];
            if !open.foreign && open.name == name {
                self.close_at(i);
                return;
            }
            if open.integration_point() || (!open.foreign && is(&open.name, SPECIAL)) {
                return;
            }
        }
    }

    fn text(&mut self, blank: bool) {
        let in_table_structure = self.top_is(&[b"table", b"tbody", b"thead", b"tfoot", b"tr"]);
        if !blank || !in_table_structure {
            self.reopen();
        }
    }
}

/// Where a start tag put its element.
enum Placed {
    Nothing,
    Open,
    /// An element that holds nothing.
    Leaf,
    /// An element whose content is text up to its end tag.
    RawText(Vec<u8>),
    /// The rest of the document is text.
    Plaintext,
}

/// Measures `html` up to the first tag that goes deeper than `limit`.
pub fn measure(html: &[u8], limit: usize) -> Nesting {
    let mut builder = Builder {
        stack: Vec::new(),
        weight: 0,
        active: Vec::new(),
        closed: 0,
        next_id: 0,
    };
    let mut tokens = Tokens::new(html);
    let mut deepest = IMPLIED;
    while let Some(token) = tokens.next_token() {
        match token {
            Token::Text { blank } => builder.text(blank),
            Token::End { name } => {
                // A `</p>` or `</br>` that closes nothing makes an empty element.
                if name == b"p" || name == b"br" {
                    deepest = deepest.max(builder.depth() + 1);
                }
                builder.end(&name)
            }
            Token::Start {
                at,
                name,
                attributes,
                self_closing,
            } => {
                let placed = builder.start(name, attributes, self_closing);
                let depth = match placed {
                    Placed::Nothing => builder.depth(),
                    Placed::Open => builder.depth(),
                    _ => builder.depth() + 1,
                };
                if depth > limit {
                    return Nesting {
                        deepest: limit + 1,
                        too_deep_at: Some(at),
                    };
                }
                deepest = deepest.max(depth);
                match placed {
                    // Without its end tag the rest is text; scanning it
                    // as markup anyway can only count more.
                    Placed::RawText(name) => {
                        let _ = tokens.skip_raw_text(&name);
                    }
                    Placed::Plaintext => break,
                    _ => {}
                }
            }
        }
    }
    Nesting {
        deepest,
        too_deep_at: None,
    }
}
