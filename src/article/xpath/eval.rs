//! Evaluating a parsed [`Expr`] on scraper's tree, with XPath 1.0's four
//! value types and its conversion and comparison rules.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::HashMap;

use ego_tree::{NodeId, NodeRef};
use scraper::{Html, Node};

use super::parse::{Arith, Axis, Compare, Expr, NodeTest, Path, Start, Step};

mod functions;

/// A node of the XPath data model: a node of the tree, or an element's
/// attribute (by its index among the element's attributes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum XNode {
    Tree(NodeId),
    Attribute(NodeId, usize),
}

#[derive(Debug, Clone)]
pub(super) enum Value {
    Nodes(Vec<XNode>),
    String(String),
    Number(f64),
    Boolean(bool),
}

#[derive(Clone, Copy)]
struct Context {
    node: XNode,
    position: usize,
    size: usize,
}

/// One evaluation on one document; the document order of nodes is worked
/// out once, when a result needs sorting.
pub(super) struct Evaluator<'a> {
    doc: &'a Html,
    order: OnceCell<HashMap<NodeId, usize>>,
}

impl<'a> Evaluator<'a> {
    pub(super) fn new(doc: &'a Html) -> Self {
        Evaluator {
            doc,
            order: OnceCell::new(),
        }
    }

    /// Evaluates `expr` with the document node as context.
    pub(super) fn evaluate(&self, expr: &Expr) -> Value {
        let context = Context {
            node: XNode::Tree(self.doc.tree.root().id()),
            position: 1,
            size: 1,
        };
        self.eval(expr, context)
    }

    /// Evaluates `expr` with `node` as context: a relative path starts
    /// there (a scraped feed's expressions are relative to their item).
    pub(super) fn evaluate_from(&self, expr: &Expr, node: NodeId) -> Value {
        let context = Context {
            node: XNode::Tree(node),
            position: 1,
            size: 1,
        };
        self.eval(expr, context)
    }

    fn node(&self, id: NodeId) -> Option<NodeRef<'a, Node>> {
        self.doc.tree.get(id)
    }

    fn eval(&self, expr: &Expr, cx: Context) -> Value {
        match expr {
            Expr::Or(a, b) => {
                Value::Boolean(self.boolean(self.eval(a, cx)) || self.boolean(self.eval(b, cx)))
            }
            Expr::And(a, b) => {
                Value::Boolean(self.boolean(self.eval(a, cx)) && self.boolean(self.eval(b, cx)))
            }
            Expr::Compare(op, a, b) => {
                Value::Boolean(self.compare(*op, self.eval(a, cx), self.eval(b, cx)))
            }
            Expr::Arith(op, a, b) => {
                let (a, b) = (self.number(self.eval(a, cx)), self.number(self.eval(b, cx)));
                Value::Number(match op {
                    Arith::Add => a + b,
                    Arith::Sub => a - b,
                    Arith::Mul => a * b,
                    Arith::Div => a / b,
                    Arith::Mod => a % b,
                })
            }
            Expr::Negate(a) => Value::Number(-self.number(self.eval(a, cx))),
            Expr::Union(a, b) => {
                let mut nodes = self.nodes(self.eval(a, cx));
                nodes.extend(self.nodes(self.eval(b, cx)));
                Value::Nodes(self.in_document_order(nodes))
            }
            Expr::Literal(text) => Value::String(text.clone()),
            Expr::Number(n) => Value::Number(*n),
            Expr::Call(function, args) => self.call(*function, args, cx),
            Expr::Path(path) => Value::Nodes(self.path(path, cx)),
        }
    }

    fn path(&self, path: &Path, cx: Context) -> Vec<XNode> {
        let mut nodes = match &path.start {
            Start::Root => vec![XNode::Tree(self.doc.tree.root().id())],
            Start::Context => vec![cx.node],
            Start::Filter(expr, predicates) => {
                let mut nodes = self.nodes(self.eval(expr, cx));
                for predicate in predicates {
                    nodes = self.filter(nodes, predicate);
                }
                nodes
            }
        };
        for step in &path.steps {
            nodes = self.step(&nodes, step);
            if nodes.is_empty() {
                break;
            }
        }
        nodes
    }

    fn step(&self, input: &[XNode], step: &Step) -> Vec<XNode> {
        let mut out = Vec::new();
        for &node in input {
            let mut found: Vec<XNode> = self
                .axis(node, step.axis)
                .into_iter()
                .filter(|n| self.test(*n, step.axis, &step.test))
                .collect();
            for predicate in &step.predicates {
                found = self.filter(found, predicate);
            }
            out.extend(found);
        }
        // One context on a forward axis gives document order already.
        let forward = !matches!(
            step.axis,
            Axis::Parent
                | Axis::Ancestor
                | Axis::AncestorOrSelf
                | Axis::PrecedingSibling
                | Axis::Preceding
        );
        if input.len() == 1 && forward {
            out
        } else {
            self.in_document_order(out)
        }
    }

    /// The nodes of `predicate`'s truth, positions counted in `nodes`' order.
    fn filter(&self, nodes: Vec<XNode>, predicate: &Expr) -> Vec<XNode> {
        let size = nodes.len();
        nodes
            .into_iter()
            .enumerate()
            .filter(|(i, node)| {
                let cx = Context {
                    node: *node,
                    position: i + 1,
                    size,
                };
                match self.eval(predicate, cx) {
                    Value::Number(n) => n == (i + 1) as f64,
                    other => self.boolean(other),
                }
            })
            .map(|(_, node)| node)
            .collect()
    }

    /// The nodes on `axis` from `node`, in proximity order (reverse axes
    /// nearest first).
    fn axis(&self, node: XNode, axis: Axis) -> Vec<XNode> {
        let tree = |n: NodeRef<'_, Node>| XNode::Tree(n.id());
        let (id, is_attribute) = match node {
            XNode::Tree(id) => (id, false),
            XNode::Attribute(owner, _) => (owner, true),
        };
        let Some(n) = self.node(id) else {
            return Vec::new();
        };
        match axis {
            Axis::SelfNode => vec![node],
            Axis::Attribute if is_attribute => Vec::new(),
            Axis::Attribute => n
                .value()
                .as_element()
                .map(|e| {
                    (0..e.attrs().count())
                        .map(|i| XNode::Attribute(id, i))
                        .collect()
                })
                .unwrap_or_default(),
            Axis::Namespace => Vec::new(),
            Axis::Parent if is_attribute => vec![XNode::Tree(id)],
            Axis::Parent => n.parent().map(tree).into_iter().collect(),
            Axis::Ancestor | Axis::AncestorOrSelf => {
                let mut out = Vec::new();
                if axis == Axis::AncestorOrSelf {
                    out.push(node);
                }
                if is_attribute {
                    out.push(XNode::Tree(id));
                }
                out.extend(n.ancestors().map(tree));
                out
            }
            // An attribute has no children, descendants or siblings.
            _ if is_attribute => match axis {
                Axis::DescendantOrSelf => vec![node],
                Axis::Following => self.following(n, true),
                Axis::Preceding => self.preceding(n),
                _ => Vec::new(),
            },
            Axis::Child => n.children().map(tree).collect(),
            Axis::Descendant => n.descendants().skip(1).map(tree).collect(),
            Axis::DescendantOrSelf => n.descendants().map(tree).collect(),
            Axis::FollowingSibling => n.next_siblings().map(tree).collect(),
            Axis::PrecedingSibling => n.prev_siblings().map(tree).collect(),
            Axis::Following => self.following(n, false),
            Axis::Preceding => self.preceding(n),
        }
    }

    /// Everything after `n` in document order, `n`'s descendants excluded
    /// (included when `n` stands for one of its attributes).
    fn following(&self, n: NodeRef<'a, Node>, with_descendants: bool) -> Vec<XNode> {
        let mut out = Vec::new();
        if with_descendants {
            out.extend(n.descendants().skip(1).map(|d| XNode::Tree(d.id())));
        }
        let mut current = Some(n);
        while let Some(c) = current {
            for sibling in c.next_siblings() {
                out.extend(sibling.descendants().map(|d| XNode::Tree(d.id())));
            }
            current = c.parent();
        }
        out
    }

    /// Everything before `n` in document order except its ancestors, nearest first.
    fn preceding(&self, n: NodeRef<'a, Node>) -> Vec<XNode> {
        let mut out = Vec::new();
        let mut current = Some(n);
        while let Some(c) = current {
            for sibling in c.prev_siblings() {
                let mut subtree: Vec<XNode> =
                    sibling.descendants().map(|d| XNode::Tree(d.id())).collect();
                subtree.reverse();
                out.extend(subtree);
            }
            current = c.parent();
        }
        out
    }

    fn test(&self, node: XNode, axis: Axis, test: &NodeTest) -> bool {
        match node {
            XNode::Attribute(owner, index) => match test {
                NodeTest::Node => true,
                NodeTest::Any => axis == Axis::Attribute,
                NodeTest::Name(name) => {
                    axis == Axis::Attribute
                        && self.attribute(owner, index).is_some_and(|(n, _)| n == name)
                }
                _ => false,
            },
            XNode::Tree(id) => {
                let Some(n) = self.node(id) else { return false };
                match (test, n.value()) {
                    (NodeTest::Node, _) => true,
                    (NodeTest::Text, Node::Text(_)) => true,
                    (NodeTest::Comment, Node::Comment(_)) => true,
                    (NodeTest::ProcessingInstruction, Node::ProcessingInstruction(_)) => true,
                    (NodeTest::Any, Node::Element(_)) => axis != Axis::Attribute,
                    (NodeTest::Name(name), Node::Element(e)) => {
                        axis != Axis::Attribute && e.name() == name
                    }
                    _ => false,
                }
            }
        }
    }

    fn attribute(&self, owner: NodeId, index: usize) -> Option<(&'a str, &'a str)> {
        let element = self.node(owner)?.value().as_element()?;
        element.attrs().nth(index)
    }

    fn in_document_order(&self, mut nodes: Vec<XNode>) -> Vec<XNode> {
        let order = self.order.get_or_init(|| {
            self.doc
                .tree
                .root()
                .descendants()
                .enumerate()
                .map(|(i, n)| (n.id(), i))
                .collect()
        });
        let key = |n: &XNode| match n {
            XNode::Tree(id) => (order.get(id).copied().unwrap_or(usize::MAX), 0),
            XNode::Attribute(id, i) => (order.get(id).copied().unwrap_or(usize::MAX), i + 1),
        };
        nodes.sort_by_key(key);
        nodes.dedup();
        nodes
    }

    /// The XPath string-value of a node.
    pub(super) fn string_value(&self, node: XNode) -> String {
        match node {
            XNode::Attribute(owner, index) => self
                .attribute(owner, index)
                .map(|(_, v)| v.to_owned())
                .unwrap_or_default(),
            XNode::Tree(id) => {
                let Some(n) = self.node(id) else {
                    return String::new();
                };
                match n.value() {
                    Node::Text(text) => text.to_string(),
                    Node::Comment(comment) => comment.to_string(),
                    _ => n
                        .descendants()
                        .filter_map(|d| d.value().as_text().map(|t| &**t))
                        .collect(),
                }
            }
        }
    }

    fn nodes(&self, value: Value) -> Vec<XNode> {
        match value {
            Value::Nodes(nodes) => nodes,
            _ => Vec::new(),
        }
    }

    pub(super) fn string(&self, value: Value) -> String {
        match value {
            Value::Nodes(nodes) => nodes
                .first()
                .map(|n| self.string_value(*n))
                .unwrap_or_default(),
            Value::String(s) => s,
            Value::Number(n) => number_to_string(n),
            Value::Boolean(b) => b.to_string(),
        }
    }

    fn number(&self, value: Value) -> f64 {
        match value {
            Value::Number(n) => n,
            Value::Boolean(b) => f64::from(u8::from(b)),
            other => string_to_number(&self.string(other)),
        }
    }

    fn boolean(&self, value: Value) -> bool {
        match value {
            Value::Nodes(nodes) => !nodes.is_empty(),
            Value::String(s) => !s.is_empty(),
            Value::Number(n) => n != 0.0 && !n.is_nan(),
            Value::Boolean(b) => b,
        }
    }

    fn compare(&self, op: Compare, a: Value, b: Value) -> bool {
        match (a, b) {
            (Value::Nodes(a), Value::Nodes(b)) => {
                let b: Vec<String> = b.iter().map(|n| self.string_value(*n)).collect();
                a.iter().any(|x| {
                    let x = self.string_value(*x);
                    b.iter().any(|y| compare_strings(op, &x, y))
                })
            }
            (Value::Nodes(nodes), other) => self.compare_nodes(op, &nodes, other, false),
            (other, Value::Nodes(nodes)) => self.compare_nodes(op, &nodes, other, true),
            (a, b) => self.compare_atoms(op, a, b),
        }
    }

    /// A node-set against a single value; `flipped` when the value was on the left.
    fn compare_nodes(&self, op: Compare, nodes: &[XNode], other: Value, flipped: bool) -> bool {
        if let Value::Boolean(b) = other {
            let n = !nodes.is_empty();
            let (x, y) = if flipped { (b, n) } else { (n, b) };
            return self.compare_atoms(op, Value::Boolean(x), Value::Boolean(y));
        }
        nodes.iter().any(|node| {
            let s = Value::String(self.string_value(*node));
            let s = match other {
                Value::Number(_) => Value::Number(self.number(s)),
                _ => s,
            };
            if flipped {
                self.compare_atoms(op, other.clone(), s)
            } else {
                self.compare_atoms(op, s, other.clone())
            }
        })
    }

    fn compare_atoms(&self, op: Compare, a: Value, b: Value) -> bool {
        match op {
            Compare::Eq | Compare::Ne => {
                let equal = match (&a, &b) {
                    (Value::Boolean(_), _) | (_, Value::Boolean(_)) => {
                        self.boolean(a.clone()) == self.boolean(b.clone())
                    }
                    (Value::Number(_), _) | (_, Value::Number(_)) => {
                        self.number(a.clone()) == self.number(b.clone())
                    }
                    _ => self.string(a.clone()) == self.string(b.clone()),
                };
                equal == (op == Compare::Eq)
            }
            _ => {
                let (x, y) = (self.number(a), self.number(b));
                match op {
                    Compare::Lt => x < y,
                    Compare::Le => x <= y,
                    Compare::Gt => x > y,
                    _ => x >= y,
                }
            }
        }
    }

    /// `string(expr)` without allocating for the two forms site rules test
    /// on every element: a literal and the context node's `@name`.
    fn string_of<'e>(&'e self, expr: &'e Expr, cx: Context) -> Cow<'e, str> {
        match expr {
            Expr::Literal(text) => Cow::Borrowed(text.as_str()),
            Expr::Path(Path {
                start: Start::Context,
                steps,
            }) if matches!(
                steps.as_slice(),
                [Step { axis: Axis::Attribute, test: NodeTest::Name(_), predicates }]
                    if predicates.is_empty()
            ) =>
            {
                let NodeTest::Name(name) = &steps[0].test else {
                    unreachable!("matched above")
                };
                let XNode::Tree(id) = cx.node else {
                    return Cow::Borrowed("");
                };
                let value = self
                    .node(id)
                    .and_then(|n| n.value().as_element())
                    .and_then(|e| e.attrs().find(|(n, _)| n == name))
                    .map_or("", |(_, v)| v);
                Cow::Borrowed(value)
            }
            other => Cow::Owned(self.string(self.eval(other, cx))),
        }
    }
}

fn compare_strings(op: Compare, a: &str, b: &str) -> bool {
    match op {
        Compare::Eq => a == b,
        Compare::Ne => a != b,
        _ => {
            let (x, y) = (string_to_number(a), string_to_number(b));
            match op {
                Compare::Lt => x < y,
                Compare::Le => x <= y,
                Compare::Gt => x > y,
                _ => x >= y,
            }
        }
    }
}

/// XPath's `number()` of a string: optional minus, digits, optional
/// fraction, surrounding whitespace; anything else is NaN.
fn string_to_number(s: &str) -> f64 {
    let s = s.trim();
    let digits = s.strip_prefix('-').unwrap_or(s);
    let valid = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.matches('.').count() <= 1
        && digits != ".";
    if valid {
        s.parse().unwrap_or(f64::NAN)
    } else {
        f64::NAN
    }
}

fn number_to_string(n: f64) -> String {
    if n.is_nan() {
        "NaN".to_owned()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else if n == n.trunc() && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}
