//! Parsing: query text to IR, resolving fields and checking types as it goes, so every
//! error points at the text that caused it.

use super::check;
use super::error::{self, FilterError};
use super::fields::{self, FieldType};
use super::ir::{Ir, Literal, Op, Preset};
use super::lex::{is_field_char, is_text_char, is_value_char, number, Cursor};
use super::program::Net;
use super::{MAX_DEPTH, MAX_QUERY_BYTES};
use crate::time::{self, Moment, DAY_MS};

pub fn parse(query: &str) -> Result<Ir, FilterError> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(FilterError::at(
            error::TOO_LONG,
            format!(
                "the query is {} bytes long; the limit is {MAX_QUERY_BYTES}",
                query.len()
            ),
            query,
            (MAX_QUERY_BYTES, query.len()),
        ));
    }
    let mut p = Parser {
        c: Cursor::new(query),
    };
    p.c.skip_ws();
    if p.c.at_end() {
        return Ok(Ir::All);
    }
    let ir = p.or(0)?;
    p.c.skip_ws();
    if !p.c.at_end() {
        let start = p.c.pos;
        let (code, msg) = if p.c.peek() == Some(')') {
            (
                error::UNBALANCED_PAREN,
                "this parenthesis has no opening partner",
            )
        } else {
            (error::UNEXPECTED_TOKEN, "unexpected text here")
        };
        return Err(p.c.error(code, msg, (start, start + 1)));
    }
    Ok(ir)
}

struct Parser<'a> {
    c: Cursor<'a>,
}

/// A value as written: its text, whether it was quoted, and its span.
struct Raw {
    text: String,
    quoted: bool,
    span: (usize, usize),
}

impl Parser<'_> {
    /// Whether the next word is `kw` (case-insensitive) standing as a keyword.
    fn at_keyword(&self, kw: &str) -> bool {
        let rest = self.c.rest();
        let Some(head) = rest.get(..kw.len()) else {
            return false;
        };
        if !head.eq_ignore_ascii_case(kw) {
            return false;
        }
        match rest[kw.len()..].chars().next() {
            None => true,
            Some(ch) => !is_field_char(ch) && ch != ':',
        }
    }

    fn or(&mut self, depth: usize) -> Result<Ir, FilterError> {
        let mut terms = vec![self.and(depth)?];
        loop {
            self.c.skip_ws();
            if self.c.eat("||") {
            } else if self.at_keyword("or") {
                self.c.pos += 2;
            } else {
                break;
            }
            terms.push(self.and(depth)?);
        }
        Ok(Ir::or(terms))
    }

    fn and(&mut self, depth: usize) -> Result<Ir, FilterError> {
        let mut terms = vec![self.unary(depth)?];
        loop {
            self.c.skip_ws();
            if self.c.at_end()
                || self.c.peek() == Some(')')
                || self.c.rest().starts_with("||")
                || self.at_keyword("or")
            {
                break;
            }
            if self.c.eat("&&") {
            } else if self.at_keyword("and") {
                self.c.pos += 3;
            }
            terms.push(self.unary(depth)?);
        }
        Ok(Ir::and(terms))
    }

    fn unary(&mut self, depth: usize) -> Result<Ir, FilterError> {
        self.c.skip_ws();
        let start = self.c.pos;
        if depth >= MAX_DEPTH {
            return Err(self.c.error(
                error::TOO_DEEP,
                format!("the query nests deeper than {MAX_DEPTH} levels"),
                (start, start + 1),
            ));
        }
        if self.at_keyword("not") {
            self.c.pos += 3;
            return Ok(Ir::negate(self.unary(depth + 1)?));
        }
        match (self.c.peek(), self.c.peek2()) {
            (Some('!'), next) if next != Some('=') => {
                self.c.bump();
                return Ok(Ir::negate(self.unary(depth + 1)?));
            }
            (Some('-'), _) => {
                self.c.bump();
                return Ok(Ir::negate(self.unary(depth + 1)?));
            }
            _ => {}
        }
        self.atom(depth)
    }

    fn atom(&mut self, depth: usize) -> Result<Ir, FilterError> {
        self.c.skip_ws();
        let start = self.c.pos;
        match self.c.peek() {
            None => {
                return Err(self.c.error(
                    error::UNEXPECTED_END,
                    "the query ends where a term was expected",
                    (start, start),
                ))
            }
            Some('(') => {
                self.c.bump();
                self.c.skip_ws();
                if self.c.peek() == Some(')') {
                    self.c.bump();
                    return Ok(Ir::All);
                }
                let inner = self.or(depth + 1)?;
                self.c.skip_ws();
                if self.c.peek() != Some(')') {
                    return Err(self.c.error(
                        error::UNBALANCED_PAREN,
                        "this parenthesis is never closed",
                        (start, start + 1),
                    ));
                }
                self.c.bump();
                return Ok(inner);
            }
            Some(')') => {
                return Err(self.c.error(
                    error::UNBALANCED_PAREN,
                    "this parenthesis has no opening partner",
                    (start, start + 1),
                ))
            }
            Some('"') => {
                let text = self.c.quoted()?;
                return Ok(Ir::Text { text });
            }
            _ => {}
        }
        let name = self.c.scan(is_field_char);
        let name_span = (start, self.c.pos);
        if !name.is_empty() && self.c.peek() == Some(':') {
            self.c.bump();
            return self.qualifier(name, name_span);
        }
        if !name.is_empty() {
            let after_name = self.c.pos;
            self.c.skip_ws();
            if let Some(op) = self.operator() {
                return self.comparison(name, name_span, op);
            }
            if fields::resolve(name).is_some() && (self.at_keyword("in") || self.at_keyword("not"))
            {
                let at = self.c.pos;
                let mut probe = Cursor {
                    src: self.c.src,
                    pos: at,
                };
                if probe.at_keyword_in_after_not() {
                    return Err(self.c.error(
                        error::UNEXPECTED_TOKEN,
                        "a set { ... } must follow in",
                        (at, self.c.src.len().min(at + 6)),
                    ));
                }
            }
            self.c.pos = after_name;
        }
        // A free-text word.
        self.c.pos = start;
        let word = self.c.scan(is_text_char);
        if word.is_empty() {
            return Err(self.c.error(
                error::UNEXPECTED_CHAR,
                "unexpected character",
                (start, start + 1),
            ));
        }
        Ok(Ir::Text {
            text: word.to_string(),
        })
    }

    /// An operator after a field name; the cursor moves past it only when one is found.
    fn operator(&mut self) -> Option<Op2> {
        for (sym, op) in [
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("<", Op::Lt),
            (">", Op::Gt),
        ] {
            if self.c.eat(sym) {
                return Some(Op2::Cmp(op));
            }
        }
        for (kw, op) in [
            ("contains", Op::Contains),
            ("starts_with", Op::StartsWith),
            ("ends_with", Op::EndsWith),
            ("matches", Op::Matches),
        ] {
            if self.at_keyword(kw) {
                self.c.pos += kw.len();
                return Some(Op2::Cmp(op));
            }
        }
        if self.at_keyword("exists") {
            self.c.pos += 6;
            return Some(Op2::Exists);
        }
        let save = self.c.pos;
        let negated = if self.at_keyword("not") {
            self.c.pos += 3;
            self.c.skip_ws();
            true
        } else {
            false
        };
        if self.at_keyword("in") {
            let after = self.c.pos + 2;
            let mut probe = Cursor {
                src: self.c.src,
                pos: after,
            };
            probe.skip_ws();
            if probe.peek() == Some('{') {
                self.c.pos = after;
                return Some(Op2::In(negated));
            }
        }
        self.c.pos = save;
        None
    }

    fn field(&self, name: &str, span: (usize, usize)) -> Result<(String, FieldType), FilterError> {
        fields::resolve(name).ok_or_else(|| {
            self.c.error(
                error::UNKNOWN_FIELD,
                format!(
                    "unknown field {name:?}, did you mean {:?}?",
                    fields::closest(name)
                ),
                span,
            )
        })
    }

    fn comparison(
        &mut self,
        name: &str,
        name_span: (usize, usize),
        op: Op2,
    ) -> Result<Ir, FilterError> {
        let (field, ty) = self.field(name, name_span)?;
        match op {
            Op2::Exists => Ok(Ir::Exists { field }),
            Op2::In(negated) => {
                self.c.skip_ws();
                let open = self.c.pos;
                self.c.bump(); // the `{` seen by `operator`
                let mut values = Vec::new();
                loop {
                    self.c.skip_ws();
                    match self.c.peek() {
                        Some('}') => {
                            self.c.bump();
                            break;
                        }
                        Some(',') if !values.is_empty() => {
                            self.c.bump();
                            continue;
                        }
                        None => {
                            return Err(self.c.error(
                                error::UNBALANCED_PAREN,
                                "this set is never closed",
                                (open, open + 1),
                            ))
                        }
                        _ => {}
                    }
                    let raw = self.value_word()?;
                    let lit = self.literal(&field, ty, Op::Eq, &raw)?;
                    values.push(lit);
                }
                if values.is_empty() {
                    return Err(self.c.error(
                        error::EMPTY_SET,
                        "a set needs at least one value",
                        (open, self.c.pos),
                    ));
                }
                Ok(Ir::In {
                    field,
                    values,
                    negated,
                })
            }
            Op2::Cmp(op) => {
                self.c.skip_ws();
                let raw = self.value_word()?;
                let value = self.literal(&field, ty, op, &raw)?;
                if op == Op::Matches {
                    if let Literal::Str(p) = &value {
                        check::regex(p).map_err(|e| self.c.error(e.code, e.message, raw.span))?;
                    }
                }
                Ok(Ir::Cmp { field, op, value })
            }
        }
    }

    /// A value after an operator or inside a set: a quoted string or a value word.
    fn value_word(&mut self) -> Result<Raw, FilterError> {
        let start = self.c.pos;
        if self.c.peek() == Some('"') {
            let text = self.c.quoted()?;
            return Ok(Raw {
                text,
                quoted: true,
                span: (start, self.c.pos),
            });
        }
        let word = self.c.scan(is_value_char);
        if word.is_empty() {
            let end = self
                .c
                .rest()
                .chars()
                .next()
                .map_or(start, |c| start + c.len_utf8());
            let code = if self.c.at_end() {
                error::UNEXPECTED_END
            } else {
                error::EMPTY_VALUE
            };
            return Err(self
                .c
                .error(code, "a value was expected here", (start, end)));
        }
        Ok(Raw {
            text: word.to_string(),
            quoted: false,
            span: (start, self.c.pos),
        })
    }

    /// Types a value for a field and checks that it fits the operator.
    fn literal(
        &self,
        field: &str,
        ty: FieldType,
        op: Op,
        raw: &Raw,
    ) -> Result<Literal, FilterError> {
        let lit = match ty {
            FieldType::Str | FieldType::User => match number(&raw.text) {
                Some(n) if !raw.quoted => Literal::Num(n),
                _ => Literal::Str(raw.text.clone()),
            },
            FieldType::Time => {
                if matches!(
                    op,
                    Op::Contains | Op::StartsWith | Op::EndsWith | Op::Matches
                ) {
                    Literal::Str(raw.text.clone())
                } else {
                    self.time(raw)?.0
                }
            }
            FieldType::Ip => match op {
                Op::Eq | Op::Ne => match Net::parse(&raw.text) {
                    Some(n) => Literal::Ip(n.text()),
                    None => {
                        return Err(self.c.error(
                            error::TYPE_MISMATCH,
                            format!(
                                "{} expects an IP address or CIDR, found {:?}",
                                fields::short_name(field),
                                raw.text
                            ),
                            raw.span,
                        ))
                    }
                },
                _ => Literal::Str(raw.text.clone()),
            },
            FieldType::Any => any_literal(raw),
        };
        check::check(field, ty, op, &lit)
            .map_err(|(code, msg)| self.c.error(code, msg, raw.span))?;
        Ok(lit)
    }

    /// A time value: the literal and whether it was a bare date.
    fn time(&self, raw: &Raw) -> Result<(Literal, bool), FilterError> {
        parse_time_literal(&raw.text).ok_or_else(|| {
            self.c.error(
                error::TYPE_MISMATCH,
                format!(
                    "{:?} is not a time: use RFC 3339, a date (2026-01-01), epoch milliseconds or now-7d",
                    raw.text
                ),
                raw.span,
            )
        })
    }

    fn qualifier(&mut self, name: &str, name_span: (usize, usize)) -> Result<Ir, FilterError> {
        let alts = self.qualifier_values(name_span)?;
        if name.eq_ignore_ascii_case("is") {
            let mut terms = Vec::new();
            for raw in &alts {
                let preset = match raw.text.to_ascii_lowercase().as_str() {
                    "login" => Preset::Login,
                    "system" => Preset::System,
                    _ => {
                        return Err(self.c.error(
                            error::UNKNOWN_PRESET,
                            format!(
                                "unknown preset is:{}; the presets are is:login and is:system",
                                raw.text
                            ),
                            raw.span,
                        ))
                    }
                };
                terms.push(Ir::Preset { preset });
            }
            return Ok(Ir::or(terms));
        }
        let (field, ty) = self.field(name, name_span)?;
        let mut terms = Vec::new();
        for raw in alts {
            terms.push(self.qualifier_alt(&field, ty, raw)?);
        }
        Ok(Ir::or(terms))
    }

    /// The comma-separated values of a qualifier, up to whitespace or an unbalanced `)`.
    fn qualifier_values(&mut self, name_span: (usize, usize)) -> Result<Vec<Raw>, FilterError> {
        let mut alts = Vec::new();
        loop {
            let start = self.c.pos;
            if self.c.peek() == Some('"') {
                let text = self.c.quoted()?;
                alts.push(Raw {
                    text,
                    quoted: true,
                    span: (start, self.c.pos),
                });
            } else {
                let mut depth = 0usize;
                while let Some(ch) = self.c.peek() {
                    if ch.is_whitespace() || ch == ',' || ch == '"' {
                        break;
                    }
                    if ch == '(' {
                        depth += 1;
                    } else if ch == ')' {
                        if depth == 0 {
                            break;
                        }
                        depth -= 1;
                    }
                    self.c.bump();
                }
                let text = &self.c.src[start..self.c.pos];
                if text.is_empty() {
                    let span = if alts.is_empty() {
                        (name_span.0, self.c.pos)
                    } else {
                        (start, start)
                    };
                    return Err(self.c.error(
                        error::EMPTY_VALUE,
                        "this qualifier needs a value",
                        span,
                    ));
                }
                alts.push(Raw {
                    text: text.to_string(),
                    quoted: false,
                    span: (start, self.c.pos),
                });
            }
            if self.c.peek() == Some(',') {
                self.c.bump();
            } else {
                break;
            }
        }
        Ok(alts)
    }

    fn qualifier_alt(&self, field: &str, ty: FieldType, raw: Raw) -> Result<Ir, FilterError> {
        if !raw.quoted {
            for (sym, op) in [(">=", Op::Ge), ("<=", Op::Le), (">", Op::Gt), ("<", Op::Lt)] {
                if let Some(rest) = raw.text.strip_prefix(sym) {
                    let inner = Raw {
                        text: rest.to_string(),
                        quoted: false,
                        span: (raw.span.0 + sym.len(), raw.span.1),
                    };
                    if rest.is_empty() {
                        return Err(self.c.error(
                            error::EMPTY_VALUE,
                            "a value must follow the comparison",
                            raw.span,
                        ));
                    }
                    let value = self.qualifier_scalar(field, ty, op, &inner)?.0;
                    return Ok(Ir::Cmp {
                        field: field.to_string(),
                        op,
                        value,
                    });
                }
            }
            if let Some(i) = raw.text.find("..") {
                let (a, b) = (&raw.text[..i], &raw.text[i + 2..]);
                if a.is_empty() || b.is_empty() {
                    return Err(self.c.error(
                        error::BAD_RANGE,
                        "a range needs both ends (use * for an open end)",
                        raw.span,
                    ));
                }
                let lo = Raw {
                    text: a.to_string(),
                    quoted: false,
                    span: (raw.span.0, raw.span.0 + i),
                };
                let hi = Raw {
                    text: b.to_string(),
                    quoted: false,
                    span: (raw.span.0 + i + 2, raw.span.1),
                };
                let mut terms = Vec::new();
                if lo.text != "*" {
                    let value = self.qualifier_scalar(field, ty, Op::Ge, &lo)?.0;
                    terms.push(Ir::Cmp {
                        field: field.to_string(),
                        op: Op::Ge,
                        value,
                    });
                }
                if hi.text != "*" {
                    let (value, date) = self.qualifier_scalar(field, ty, Op::Le, &hi)?;
                    let value = match (value, date) {
                        (Literal::Time(t), true) => Literal::Time(t + DAY_MS - 1),
                        (v, _) => v,
                    };
                    terms.push(Ir::Cmp {
                        field: field.to_string(),
                        op: Op::Le,
                        value,
                    });
                }
                if terms.is_empty() {
                    return Err(self.c.error(
                        error::BAD_RANGE,
                        "a range needs at least one bounded end",
                        raw.span,
                    ));
                }
                return Ok(Ir::and(terms));
            }
        }
        // A plain value.
        match ty {
            FieldType::Time => {
                let (value, date) = self.time(&raw)?;
                Ok(match (value, date) {
                    (Literal::Time(t), true) => Ir::and(vec![
                        Ir::Cmp {
                            field: field.to_string(),
                            op: Op::Ge,
                            value: Literal::Time(t),
                        },
                        Ir::Cmp {
                            field: field.to_string(),
                            op: Op::Le,
                            value: Literal::Time(t + DAY_MS - 1),
                        },
                    ]),
                    (value, _) => Ir::Cmp {
                        field: field.to_string(),
                        op: Op::Eq,
                        value,
                    },
                })
            }
            FieldType::Ip if !raw.quoted => match Net::parse(&raw.text) {
                Some(n) => Ok(Ir::Cmp {
                    field: field.to_string(),
                    op: Op::Eq,
                    value: Literal::Ip(n.text()),
                }),
                None => Ok(Ir::Cmp {
                    field: field.to_string(),
                    op: Op::Like,
                    value: Literal::Str(raw.text),
                }),
            },
            _ => Ok(Ir::Cmp {
                field: field.to_string(),
                op: Op::Like,
                value: Literal::Str(raw.text),
            }),
        }
    }

    /// A qualifier value used with a comparison or range: typed for the field. Strings
    /// stay strings (`resourceId:>=100`), metadata numbers become numbers.
    fn qualifier_scalar(
        &self,
        field: &str,
        ty: FieldType,
        op: Op,
        raw: &Raw,
    ) -> Result<(Literal, bool), FilterError> {
        let lit = match ty {
            FieldType::Time => return self.time(raw),
            FieldType::Str | FieldType::User => Literal::Str(raw.text.clone()),
            FieldType::Ip => {
                return Err(self.c.error(
                    error::TYPE_MISMATCH,
                    format!(
                        "{} cannot be compared with < > or ranges",
                        fields::short_name(field)
                    ),
                    raw.span,
                ))
            }
            FieldType::Any => any_literal(raw),
        };
        check::check(field, ty, op, &lit)
            .map_err(|(code, msg)| self.c.error(code, msg, raw.span))?;
        Ok((lit, false))
    }
}

enum Op2 {
    Cmp(Op),
    Exists,
    In(bool),
}

fn any_literal(raw: &Raw) -> Literal {
    if raw.quoted {
        Literal::Str(raw.text.clone())
    } else if let Some(n) = number(&raw.text) {
        Literal::Num(n)
    } else if raw.text == "true" || raw.text == "false" {
        Literal::Bool(raw.text == "true")
    } else {
        Literal::Str(raw.text.clone())
    }
}

/// Parses a time value: `now`, `now-7d`, epoch milliseconds, a date or RFC 3339.
/// Returns the literal and whether it was a bare date (midnight UTC).
pub fn parse_time_literal(text: &str) -> Option<(Literal, bool)> {
    Some(match time::parse_moment(text)? {
        Moment::At(t) => (Literal::Time(t), false),
        Moment::Day(t) => (Literal::Time(t), true),
        Moment::Now(off) => (Literal::Now(off), false),
    })
}
