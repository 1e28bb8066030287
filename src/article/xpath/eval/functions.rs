//! The XPath 1.0 core function library (all but `lang`), called by the
//! evaluator with its arguments unevaluated, so that each function converts
//! them as the spec says.

use super::super::parse::{Expr, Function};
use super::{Context, Evaluator, Value, XNode, string_to_number};

impl<'a> Evaluator<'a> {
    pub(super) fn call(&self, function: Function, args: &[Expr], cx: Context) -> Value {
        let arg = |i: usize| self.eval(&args[i], cx);
        let string_arg = |i: usize| {
            if args.len() > i {
                self.string_of(&args[i], cx).into_owned()
            } else {
                self.string_value(cx.node)
            }
        };
        match function {
            Function::Last => Value::Number(cx.size as f64),
            Function::Position => Value::Number(cx.position as f64),
            Function::Count => Value::Number(self.nodes(arg(0)).len() as f64),
            Function::Id => {
                let wanted: Vec<String> = match arg(0) {
                    Value::Nodes(nodes) => nodes.iter().map(|n| self.string_value(*n)).collect(),
                    other => vec![self.string(other)],
                };
                let wanted: Vec<&str> = wanted.iter().flat_map(|s| s.split_whitespace()).collect();
                let found = self
                    .doc
                    .tree
                    .root()
                    .descendants()
                    .filter(|n| {
                        n.value()
                            .as_element()
                            .and_then(|e| e.id())
                            .is_some_and(|id| wanted.contains(&id))
                    })
                    .map(|n| XNode::Tree(n.id()))
                    .collect();
                Value::Nodes(found)
            }
            Function::LocalName | Function::Name => {
                let node = if args.is_empty() {
                    Some(cx.node)
                } else {
                    self.nodes(arg(0)).first().copied()
                };
                let name = match node {
                    Some(XNode::Attribute(owner, i)) => self
                        .attribute(owner, i)
                        .map(|(n, _)| n.to_owned())
                        .unwrap_or_default(),
                    Some(XNode::Tree(id)) => self
                        .node(id)
                        .and_then(|n| n.value().as_element().map(|e| e.name().to_owned()))
                        .unwrap_or_default(),
                    None => String::new(),
                };
                Value::String(name)
            }
            Function::String => Value::String(string_arg(0)),
            Function::Concat => {
                Value::String((0..args.len()).map(|i| self.string(arg(i))).collect())
            }
            Function::StartsWith => Value::Boolean(
                self.string_of(&args[0], cx)
                    .starts_with(&*self.string_of(&args[1], cx)),
            ),
            Function::Contains => Value::Boolean(
                self.string_of(&args[0], cx)
                    .contains(&*self.string_of(&args[1], cx)),
            ),
            Function::SubstringBefore => {
                let (s, pattern) = (string_arg(0), string_arg(1));
                Value::String(
                    s.find(&pattern)
                        .map(|i| s[..i].to_owned())
                        .unwrap_or_default(),
                )
            }
            Function::SubstringAfter => {
                let (s, pattern) = (string_arg(0), string_arg(1));
                Value::String(
                    s.find(&pattern)
                        .map(|i| s[i + pattern.len()..].to_owned())
                        .unwrap_or_default(),
                )
            }
            Function::Substring => {
                let s = string_arg(0);
                let start = self.number(arg(1)).round();
                let end = if args.len() > 2 {
                    start + self.number(arg(2)).round()
                } else {
                    f64::INFINITY
                };
                Value::String(
                    s.chars()
                        .enumerate()
                        .filter(|(i, _)| {
                            let p = (*i + 1) as f64;
                            p >= start && p < end
                        })
                        .map(|(_, c)| c)
                        .collect(),
                )
            }
            Function::StringLength => Value::Number(string_arg(0).chars().count() as f64),
            Function::NormalizeSpace => Value::String(
                string_arg(0)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            Function::Translate => {
                let (s, from, to) = (string_arg(0), string_arg(1), string_arg(2));
                let (from, to): (Vec<char>, Vec<char>) =
                    (from.chars().collect(), to.chars().collect());
                Value::String(
                    s.chars()
                        .filter_map(|c| match from.iter().position(|f| *f == c) {
                            Some(i) => to.get(i).copied(),
                            None => Some(c),
                        })
                        .collect(),
                )
            }
            Function::Not => Value::Boolean(!self.boolean(arg(0))),
            Function::True => Value::Boolean(true),
            Function::False => Value::Boolean(false),
            Function::Boolean => Value::Boolean(self.boolean(arg(0))),
            Function::Number => Value::Number(if args.is_empty() {
                string_to_number(&self.string_value(cx.node))
            } else {
                self.number(arg(0))
            }),
            Function::Sum => Value::Number(
                self.nodes(arg(0))
                    .iter()
                    .map(|n| string_to_number(&self.string_value(*n)))
                    .sum(),
            ),
            Function::Floor => Value::Number(self.number(arg(0)).floor()),
            Function::Ceiling => Value::Number(self.number(arg(0)).ceil()),
            Function::Round => Value::Number((self.number(arg(0)) + 0.5).floor()),
        }
    }
}
