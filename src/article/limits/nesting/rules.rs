//! What each tag does to the stack of open elements: the tree builder's
//! rules for start tags, end tags and text, as far as they change depth.

use super::super::name::TagName;
use super::super::sets::*;
use super::super::tokens;
use super::{Builder, Entry, Placed, Scope, is};

impl<'a> Builder<'a> {
    /// A start tag: what it closes, and where its element goes.
    pub(super) fn start(
        &mut self,
        name: TagName,
        attributes: &'a [u8],
        self_closing: bool,
    ) -> Placed {
        let f = flags(&name);
        if self.in_foreign() {
            if !BREAKOUT.holds(f) {
                let html_inside = name == b"annotation-xml"
                    && tokens::attribute(attributes, b"encoding").is_some_and(|e| {
                        e.eq_ignore_ascii_case(b"text/html")
                            || e.eq_ignore_ascii_case(b"application/xhtml+xml")
                    });
                let name = match html_inside {
                    true => TagName::lowercase(b"annotation-xml html"),
                    false => name,
                };
                return self.place(name, true, self_closing);
            }
            while self.in_foreign() {
                self.pop();
            }
        }
        let name_ref: &[u8] = &name;
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
        if self.in_select() || self.in_template() || self.in_frameset() {
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
        } else if let Some(table_part) = self.close_implied(name_ref, f) {
            let Some(weight) = table_part else {
                return Placed::Nothing;
            };
            if MARKERS.holds(f) {
                self.active.push(Entry::Marker);
            }
            self.push(name, false, weight);
            return Placed::Open;
        }
        if !NO_REOPEN.holds(f) {
            self.reopen();
        }
        if FORMATTING.holds(f) {
            self.push_formatting(name, attributes);
            return Placed::Open;
        }
        if name_ref == b"svg" || name_ref == b"math" {
            return self.place(name, true, self_closing);
        }
        if MARKERS.holds(f) {
            self.active.push(Entry::Marker);
        }
        if VOID.holds(f) {
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
        if RAW_TEXT.holds(f) && !unusual {
            return Placed::RawText(name);
        }
        self.push(name, false, 1);
        Placed::Open
    }

    /// Closes what a start tag `name` (in the sets `f`) closes. A table
    /// part is placed here: `Some(Some(weight))` to open it, `Some(None)`
    /// when it is ignored.
    pub(super) fn close_implied(&mut self, name: &[u8], f: u32) -> Option<Option<usize>> {
        // Table parts outside a table (or template) are ignored.
        if TABLE_PARTS.holds(f)
            && self
                .in_scope(&[b"table", b"template"], Scope::Table)
                .is_none()
        {
            return Some(None);
        }
        if CLOSES_P.holds(f) {
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

    pub(super) fn place(&mut self, name: TagName, foreign: bool, self_closing: bool) -> Placed {
        if self_closing {
            return Placed::Leaf;
        }
        self.push(name, foreign, 1);
        Placed::Open
    }

    /// `<li>` (`<dd>`, `<dt>`): an open one closes unless a special element
    /// other than address, div or p is open inside it.
    pub(super) fn close_list_item(&mut self, names: &[&[u8]]) {
        for i in (0..self.stack.len()).rev() {
            let open = &self.stack[i];
            if !open.foreign && is(&open.name, names) {
                self.pop_to(i);
                break;
            }
            if open.integration_point()
                || (!open.foreign
                    && SPECIAL.holds(open.flags)
                    && !is(&open.name, &[b"address", b"div", b"p"]))
            {
                break;
            }
        }
        self.close_in_scope(&[b"p"], Scope::Button);
    }

    /// An end tag: what it closes, if anything.
    pub(super) fn end(&mut self, name: &[u8]) {
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
        if self.in_frameset() && name != b"frameset" {
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
            _ if FORMATTING.holds(flags(name)) => self.end_formatting(name),
            _ if SPECIAL.holds(flags(name)) || name == b"dialog" => {
                self.close_in_scope(&[name], Scope::Default)
            }
            _ => self.end_other(name),
        }
    }

    /// A formatting end tag, by the adoption agency's first steps.
    pub(super) fn end_formatting(&mut self, name: &[u8]) {
        let Some(id) = self.formatting_since_marker(name) else {
            return self.end_other(name);
        };
        let Some(index) = self.stack_index(id) else {
            return self.forget(id);
        };
        // Out of scope: ignored.
        let bounded = self.stack[index + 1..]
            .iter()
            .any(|o| o.integration_point() || (!o.foreign && SCOPE.holds(o.flags)));
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
    pub(super) fn end_other(&mut self, name: &[u8]) {
        for i in (0..self.stack.len()).rev() {
            let open = &self.stack[i];
            if !open.foreign && open.name == name {
                self.close_at(i);
                return;
            }
            if open.integration_point() || (!open.foreign && SPECIAL.holds(open.flags)) {
                return;
            }
        }
    }

    /// Text reopens the closed formatting elements (blank text directly in
    /// a table does not).
    pub(super) fn text(&mut self, blank: bool) {
        let in_table_structure = self.top_is(&[b"table", b"tbody", b"thead", b"tfoot", b"tr"]);
        if !blank || !in_table_structure {
            self.reopen();
        }
    }
}
