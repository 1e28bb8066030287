//! XPath 1.0 text into an [`Expr`]: a tokenizer (with the spec's rules for
//! telling `*`, `and`, `div` … operators from names) and a recursive-descent
//! parser that follows the grammar's precedence levels.

use super::XPathError;
pub(super) use super::ast::{Arith, Axis, Compare, Expr, Function, NodeTest, Path, Start, Step};
use super::tokens::{Token, tokenize};

/// Parses a whole expression.
pub(super) fn parse(source: &str) -> Result<Expr, XPathError> {
    let tokens = tokenize(source)?;
    let mut parser = Parser {
        tokens,
        at: 0,
        depth: 0,
    };
    if parser.tokens.is_empty() {
        return Err(XPathError::new(0, "empty expression"));
    }
    let expr = parser.or()?;
    match parser.tokens.get(parser.at) {
        None => Ok(expr),
        Some(token) => Err(parser.error(format!("unexpected {token:?} after the expression"))),
    }
}

/// How deep an expression may nest (parentheses, predicates, arguments,
/// and chains of operators, each of which makes the tree one deeper): the
/// parser, the evaluator and dropping the tree all recurse once per level.
/// Real site rules stay under ten.
pub(super) const MAX_NESTING: usize = 100;

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    /// Levels of nesting open at this point of the parse.
    depth: usize,
}

/// A binary operator of the comparison and arithmetic levels.
#[derive(Clone, Copy)]
enum Operator {
    Compare(Compare),
    Arith(Arith),
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn peek_at(&self, ahead: usize) -> Option<&Token> {
        self.tokens.get(self.at + ahead)
    }

    fn eat(&mut self, token: &Token) -> bool {
        if self.peek() == Some(token) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &Token, what: &str) -> Result<(), XPathError> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(self.error(format!("expected {what}")))
        }
    }

    fn error(&self, message: impl Into<String>) -> XPathError {
        // Positions are in tokens; good enough to find the spot in a one-line rule.
        XPathError::new(self.at, message)
    }

    /// One level deeper; an error past [`MAX_NESTING`].
    fn enter(&mut self) -> Result<(), XPathError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.error(format!(
                "the expression nests more than {MAX_NESTING} levels deep"
            )));
        }
        Ok(())
    }

    /// A whole (sub)expression: one level of nesting.
    fn or(&mut self) -> Result<Expr, XPathError> {
        let depth = self.depth;
        self.enter()?;
        let expr = self.or_chain();
        self.depth = depth;
        expr
    }

    fn or_chain(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.and()?;
        while self.eat(&Token::Operator("or")) {
            self.enter()?;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, XPathError> {
        let depth = self.depth;
        let mut left = self.equality()?;
        while self.eat(&Token::Operator("and")) {
            self.enter()?;
            left = Expr::And(Box::new(left), Box::new(self.equality()?));
        }
        self.depth = depth;
        Ok(left)
    }

    fn equality(&mut self) -> Result<Expr, XPathError> {
        self.left_associative(Parser::relational, |token| match token {
            Token::Eq => Some(Operator::Compare(Compare::Eq)),
            Token::Ne => Some(Operator::Compare(Compare::Ne)),
            _ => None,
        })
    }

    fn relational(&mut self) -> Result<Expr, XPathError> {
        self.left_associative(Parser::additive, |token| match token {
            Token::Lt => Some(Operator::Compare(Compare::Lt)),
            Token::Le => Some(Operator::Compare(Compare::Le)),
            Token::Gt => Some(Operator::Compare(Compare::Gt)),
            Token::Ge => Some(Operator::Compare(Compare::Ge)),
            _ => None,
        })
    }

    fn additive(&mut self) -> Result<Expr, XPathError> {
        self.left_associative(Parser::multiplicative, |token| match token {
            Token::Plus => Some(Operator::Arith(Arith::Add)),
            Token::Minus => Some(Operator::Arith(Arith::Sub)),
            _ => None,
        })
    }

    fn multiplicative(&mut self) -> Result<Expr, XPathError> {
        self.left_associative(Parser::unary, |token| match token {
            Token::Multiply => Some(Operator::Arith(Arith::Mul)),
            Token::Operator("div") => Some(Operator::Arith(Arith::Div)),
            Token::Operator("mod") => Some(Operator::Arith(Arith::Mod)),
            _ => None,
        })
    }

    /// `operand (op operand)*`, grouped to the left.
    fn left_associative(
        &mut self,
        operand: fn(&mut Parser) -> Result<Expr, XPathError>,
        operator: fn(&Token) -> Option<Operator>,
    ) -> Result<Expr, XPathError> {
        let depth = self.depth;
        let mut left = operand(self)?;
        while let Some(op) = self.peek().and_then(operator) {
            self.at += 1;
            self.enter()?;
            let right = Box::new(operand(self)?);
            left = match op {
                Operator::Compare(op) => Expr::Compare(op, Box::new(left), right),
                Operator::Arith(op) => Expr::Arith(op, Box::new(left), right),
            };
        }
        self.depth = depth;
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, XPathError> {
        if self.eat(&Token::Minus) {
            let depth = self.depth;
            self.enter()?;
            let operand = self.unary()?;
            self.depth = depth;
            return Ok(Expr::Negate(Box::new(operand)));
        }
        self.union()
    }

    fn union(&mut self) -> Result<Expr, XPathError> {
        let depth = self.depth;
        let mut left = self.path()?;
        while self.eat(&Token::Pipe) {
            self.enter()?;
            left = Expr::Union(Box::new(left), Box::new(self.path()?));
        }
        self.depth = depth;
        Ok(left)
    }

    /// A location path, or a filter expression with optional steps after it.
    fn path(&mut self) -> Result<Expr, XPathError> {
        let starts_location = match self.peek() {
            Some(Token::Slash | Token::SlashSlash | Token::Dot | Token::DotDot)
            | Some(Token::At | Token::Star) => true,
            Some(Token::Name(name)) => match self.peek_at(1) {
                Some(Token::LParen) => is_node_type(name),
                _ => true,
            },
            _ => false,
        };
        if starts_location {
            // `/step…`, `//step…` or `step…`; a lone `/` is the document.
            let (start, first_step) = if self.eat(&Token::Slash) {
                if !self.starts_step() {
                    return Ok(Expr::Path(Path {
                        start: Start::Root,
                        steps: Vec::new(),
                    }));
                }
                (Start::Root, true)
            } else if self.peek() == Some(&Token::SlashSlash) {
                (Start::Root, false)
            } else {
                (Start::Context, true)
            };
            let mut steps = Vec::new();
            if first_step {
                steps.push(self.step()?);
            }
            self.more_steps(&mut steps)?;
            return Ok(Expr::Path(Path { start, steps }));
        }
        let primary = self.primary()?;
        let mut predicates = Vec::new();
        while self.peek() == Some(&Token::LBracket) {
            predicates.push(self.predicate()?);
        }
        let mut steps = Vec::new();
        self.more_steps(&mut steps)?;
        if predicates.is_empty() && steps.is_empty() {
            return Ok(primary);
        }
        Ok(Expr::Path(Path {
            start: Start::Filter(Box::new(primary), predicates),
            steps,
        }))
    }

    fn starts_step(&self) -> bool {
        matches!(
            self.peek(),
            Some(Token::Dot | Token::DotDot | Token::At | Token::Star | Token::Name(_))
        )
    }

    /// `/step` and `//step` repeated.
    fn more_steps(&mut self, steps: &mut Vec<Step>) -> Result<(), XPathError> {
        loop {
            if self.eat(&Token::Slash) {
                steps.push(self.step()?);
            } else if self.eat(&Token::SlashSlash) {
                let step = self.step()?;
                // `//x[pred]` is `/descendant-or-self::node()/child::x[pred]`;
                // without positional predicates that is `/descendant::x`,
                // one walk instead of one per node.
                if step.axis == Axis::Child && !step.predicates.iter().any(positional) {
                    steps.push(Step {
                        axis: Axis::Descendant,
                        ..step
                    });
                } else {
                    steps.push(Step {
                        axis: Axis::DescendantOrSelf,
                        test: NodeTest::Node,
                        predicates: Vec::new(),
                    });
                    steps.push(step);
                }
            } else {
                return Ok(());
            }
        }
    }

    fn step(&mut self) -> Result<Step, XPathError> {
        if self.eat(&Token::Dot) {
            return Ok(Step {
                axis: Axis::SelfNode,
                test: NodeTest::Node,
                predicates: Vec::new(),
            });
        }
        if self.eat(&Token::DotDot) {
            return Ok(Step {
                axis: Axis::Parent,
                test: NodeTest::Node,
                predicates: Vec::new(),
            });
        }
        let axis = if self.eat(&Token::At) {
            Axis::Attribute
        } else if let (Some(Token::Name(name)), Some(Token::ColonColon)) =
            (self.peek(), self.peek_at(1))
        {
            let axis =
                Axis::named(name).ok_or_else(|| self.error(format!("unknown axis {name:?}")))?;
            self.at += 2;
            axis
        } else {
            Axis::Child
        };
        let test = match self.peek().cloned() {
            Some(Token::Star) => {
                self.at += 1;
                NodeTest::Any
            }
            Some(Token::Name(name)) => {
                self.at += 1;
                if is_node_type(&name) && self.eat(&Token::LParen) {
                    if name == "processing-instruction"
                        && let Some(Token::Literal(_)) = self.peek()
                    {
                        self.at += 1;
                    }
                    self.expect(&Token::RParen, "`)` after a node type")?;
                    match name.as_str() {
                        "text" => NodeTest::Text,
                        "node" => NodeTest::Node,
                        "comment" => NodeTest::Comment,
                        _ => NodeTest::ProcessingInstruction,
                    }
                } else {
                    let local = name.rsplit(':').next().unwrap_or(&name);
                    NodeTest::Name(local.to_lowercase())
                }
            }
            _ => return Err(self.error("expected a step (a name, `*`, `.` or `@`)")),
        };
        let mut predicates = Vec::new();
        while self.peek() == Some(&Token::LBracket) {
            predicates.push(self.predicate()?);
        }
        Ok(Step {
            axis,
            test,
            predicates,
        })
    }

    fn predicate(&mut self) -> Result<Expr, XPathError> {
        self.expect(&Token::LBracket, "`[`")?;
        let expr = self.or()?;
        self.expect(&Token::RBracket, "`]` closing a predicate")?;
        Ok(expr)
    }

    fn primary(&mut self) -> Result<Expr, XPathError> {
        match self.peek().cloned() {
            Some(Token::LParen) => {
                self.at += 1;
                let expr = self.or()?;
                self.expect(&Token::RParen, "`)`")?;
                Ok(expr)
            }
            Some(Token::Literal(text)) => {
                self.at += 1;
                Ok(Expr::Literal(text))
            }
            Some(Token::Number(n)) => {
                self.at += 1;
                Ok(Expr::Number(n))
            }
            Some(Token::Variable(name)) => {
                Err(self.error(format!("variables are not supported (${name})")))
            }
            Some(Token::Name(name)) => {
                let (function, min, max) = Function::named(&name)
                    .ok_or_else(|| self.error(format!("unknown function {name}()")))?;
                self.at += 1;
                self.expect(&Token::LParen, "`(`")?;
                let mut args = Vec::new();
                if !self.eat(&Token::RParen) {
                    loop {
                        args.push(self.or()?);
                        if self.eat(&Token::RParen) {
                            break;
                        }
                        self.expect(&Token::Comma, "`,` or `)` in an argument list")?;
                    }
                }
                if args.len() < min || args.len() > max {
                    return Err(self.error(format!(
                        "{name}() takes {} arguments, not {}",
                        if max == usize::MAX {
                            format!("at least {min}")
                        } else if min == max {
                            min.to_string()
                        } else {
                            format!("{min} to {max}")
                        },
                        args.len()
                    )));
                }
                Ok(Expr::Call(function, args))
            }
            Some(token) => Err(self.error(format!("unexpected {token:?}"))),
            None => Err(self.error("the expression ends too early")),
        }
    }
}

fn is_node_type(name: &str) -> bool {
    matches!(name, "text" | "node" | "comment" | "processing-instruction")
}

/// Whether a predicate may depend on the context position (a number, or a
/// use of `position()`/`last()`): such a predicate keeps `//x[…]` as a
/// per-parent step.
fn positional(expr: &Expr) -> bool {
    match expr {
        Expr::Number(_) | Expr::Arith(..) | Expr::Negate(_) => true,
        Expr::Call(Function::Position | Function::Last, _) => true,
        Expr::Call(
            Function::Number
            | Function::Sum
            | Function::Count
            | Function::Floor
            | Function::Ceiling
            | Function::Round
            | Function::StringLength,
            _,
        ) => true,
        Expr::Call(_, args) => args.iter().any(uses_position),
        Expr::Or(a, b) | Expr::And(a, b) | Expr::Compare(_, a, b) => {
            uses_position(a) || uses_position(b)
        }
        Expr::Union(..) | Expr::Path(_) | Expr::Literal(_) => false,
    }
}

/// Whether `position()` or `last()` appear outside nested predicates.
fn uses_position(expr: &Expr) -> bool {
    match expr {
        Expr::Call(Function::Position | Function::Last, _) => true,
        Expr::Call(_, args) => args.iter().any(uses_position),
        Expr::Or(a, b)
        | Expr::And(a, b)
        | Expr::Compare(_, a, b)
        | Expr::Arith(_, a, b)
        | Expr::Union(a, b) => uses_position(a) || uses_position(b),
        Expr::Negate(a) => uses_position(a),
        Expr::Path(_) | Expr::Literal(_) | Expr::Number(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_and_operator_names_depend_on_what_precedes_them() {
        let tokens = tokenize("//div[@a * 2 and div]").unwrap();
        assert!(tokens.contains(&Token::Multiply));
        assert!(tokens.contains(&Token::Operator("and")));
        assert!(tokens.contains(&Token::Name("div".into())));
        let tokens = tokenize("//*[@*]").unwrap();
        assert_eq!(tokens.iter().filter(|t| **t == Token::Star).count(), 2);
    }

    #[test]
    fn double_slash_without_positions_is_one_descendant_step() {
        let Expr::Path(path) = parse("//div[@id='x']//p").unwrap() else {
            panic!("a path")
        };
        assert_eq!(path.start, Start::Root);
        assert_eq!(path.steps.len(), 2);
        assert!(path.steps.iter().all(|s| s.axis == Axis::Descendant));
        let Expr::Path(path) = parse("/html/body").unwrap() else {
            panic!("a path")
        };
        assert_eq!(path.steps.len(), 2);
        let Expr::Path(path) = parse("//p[1]").unwrap() else {
            panic!("a path")
        };
        assert_eq!(path.steps.len(), 2);
        assert_eq!(path.steps[0].axis, Axis::DescendantOrSelf);
    }

    #[test]
    fn nesting_is_bounded_and_real_rules_fit() {
        let deep = |n: usize| format!("{}1{}", "(".repeat(n), ")".repeat(n));
        assert!(parse(&deep(MAX_NESTING - 1)).is_ok());
        for source in [
            deep(30_000),
            format!("//a{}", "[b".repeat(5_000) + &"]".repeat(5_000)),
            vec!["1"; 30_000].join(" + "),
            vec!["//a"; 30_000].join(" | "),
            format!("{}1", "-".repeat(30_000)),
            format!("concat({}1{})", "concat(".repeat(5_000), ")".repeat(5_000)),
        ] {
            let error = parse(&source).unwrap_err().to_string();
            assert!(error.contains("nests more than 100"), "{error}");
        }
        assert!(
            parse("//div[contains(concat(' ', normalize-space(@class), ' '), ' post ') and not(@id = 'x')] | //article[1]")
                .is_ok()
        );
    }

    #[test]
    fn broken_expressions_are_errors() {
        for bad in [
            "",
            "//div[",
            "//div[@class='x'",
            "//div[contain(@class, 'x')]",
            "//div]",
            "concat('a')",
            "//div[@class=\"x]",
            "foo::div",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
    }
}
