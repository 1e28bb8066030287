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

mod rules;

use super::name::TagName;
use super::sets::*;
use super::tokens::{Token, Tokens};

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
    name: TagName,
    /// The sets its name is in ([`flags`]).
    flags: u32,
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

enum Entry<'a> {
    Marker,
    Formatting {
        id: u32,
        name: TagName,
        /// Borrowed from the document (equal bytes, equal attributes).
        attributes: &'a [u8],
        open: bool,
    },
}

/// The html element and the body the parser always builds.
const IMPLIED: usize = 2;

struct Builder<'a> {
    stack: Vec<Open>,
    weight: usize,
    /// The list of active formatting elements.
    active: Vec<Entry<'a>>,
    /// Entries of `active` that are not open (to be reopened).
    closed: usize,
    next_id: u32,
    /// HTML `<select>`, `<template>` and `<frameset>` elements open: asked
    /// of every tag, so counted as they open and close.
    selects: usize,
    templates: usize,
    framesets: usize,
}

impl Open {
    /// A foreign element whose content is HTML.
    fn integration_point(&self) -> bool {
        self.foreign
            && match self.svg {
                true => SVG_INTEGRATION_POINTS,
                false => MATH_INTEGRATION_POINTS,
            }
            .holds(self.flags)
    }
}

impl<'a> Builder<'a> {
    fn depth(&self) -> usize {
        IMPLIED + self.weight + self.closed
    }

    fn top(&self) -> Option<&Open> {
        self.stack.last()
    }

    fn top_is(&self, names: &[&[u8]]) -> bool {
        self.top().is_some_and(|o| !o.foreign && is(&o.name, names))
    }

    fn push(&mut self, name: TagName, foreign: bool, weight: usize) {
        self.weight += weight;
        let svg = match &*name {
            b"svg" => true,
            b"math" => false,
            _ => self.top().is_some_and(|o| o.svg),
        };
        self.count(&name, foreign, true);
        self.stack.push(Open {
            flags: flags(&name),
            name,
            foreign,
            svg,
            columns: false,
            weight,
            formatting: None,
        });
    }

    /// Keeps [`Builder::selects`] and its kind as `name` opens (`up`) or closes.
    fn count(&mut self, name: &[u8], foreign: bool, up: bool) {
        let counter = match name {
            _ if foreign => return,
            b"select" => &mut self.selects,
            b"template" => &mut self.templates,
            b"frameset" => &mut self.framesets,
            _ => return,
        };
        match up {
            true => *counter += 1,
            false => *counter -= 1,
        }
    }

    /// Pops the top element; a formatting element stays in the list, closed.
    /// A table cell or caption takes the formatting elements opened in it
    /// along (the parser only ever closes them whole).
    fn pop(&mut self) {
        let Some(open) = self.stack.pop() else { return };
        self.count(&open.name, open.foreign, false);
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
                Scope::Table => !open.foreign && TABLE_SCOPE.holds(open.flags),
                Scope::Select => open.foreign || !is(&open.name, &[b"option", b"optgroup"]),
                _ => {
                    open.integration_point()
                        || (!open.foreign
                            && (SCOPE.holds(open.flags)
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
            self.push_formatting_open(name, id);
        }
    }

    fn push_formatting(&mut self, name: TagName, attributes: &'a [u8]) {
        // Three of a kind since the last marker: the earliest one goes.
        let first = self
            .active
            .iter()
            .rposition(|e| matches!(e, Entry::Marker))
            .map_or(0, |m| m + 1);
        let (earliest, same) = {
            let mut same = (first..self.active.len()).filter(|&i| {
                matches!(&self.active[i], Entry::Formatting { name: n, attributes: a, .. }
                    if *n == name && *a == attributes)
            });
            (same.next(), same.count() + 1)
        };
        if same >= 3
            && let Some(earliest) = earliest
            && let Entry::Formatting { open, .. } = self.active.remove(earliest)
            && !open
        {
            self.closed -= 1;
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.active.push(Entry::Formatting {
            id,
            name: name.clone(),
            attributes,
            open: true,
        });
        self.push_formatting_open(name, id);
    }

    /// Opens the HTML formatting element of list entry `id`.
    fn push_formatting_open(&mut self, name: TagName, id: u32) {
        self.weight += 1;
        self.count(&name, false, true);
        self.stack.push(Open {
            flags: flags(&name),
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

    fn in_frameset(&self) -> bool {
        self.framesets > 0
    }

    fn in_template(&self) -> bool {
        self.templates > 0
    }

    fn in_select(&self) -> bool {
        self.selects > 0
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
            .any(|o| o.integration_point() || (!o.foreign && SPECIAL.holds(o.flags)))
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
}

/// Where a start tag put its element.
enum Placed {
    Nothing,
    Open,
    /// An element that holds nothing.
    Leaf,
    /// An element whose content is text up to its end tag.
    RawText(TagName),
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
        selects: 0,
        templates: 0,
        framesets: 0,
    };
    let mut tokens = Tokens::new(html);
    let mut deepest = IMPLIED;
    while let Some(token) = tokens.next_token() {
        match token {
            Token::Text { blank } => builder.text(blank),
            Token::End { name } => {
                // A `</p>` or `</br>` that closes nothing makes an empty element.
                if *name == *b"p" || *name == *b"br" {
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
