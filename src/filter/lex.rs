//! Lexing: a cursor over the query text with the scanners the parser needs.
//!
//! The text syntax is context-sensitive (a qualifier value runs to the next whitespace,
//! a value word stops at braces and commas), so the parser asks for the token it expects
//! next instead of reading a fixed token stream.

use super::error::{self, FilterError};

pub struct Cursor<'a> {
    pub src: &'a str,
    pub pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(src: &'a str) -> Self {
        Cursor { src, pos: 0 }
    }

    pub fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    pub fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub fn peek2(&self) -> Option<char> {
        self.rest().chars().nth(1)
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    pub fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    pub fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    pub fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    /// Scans while `f` holds; returns the scanned text.
    pub fn scan(&mut self, f: impl Fn(char) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.bump();
        }
        &self.src[start..self.pos]
    }

    pub fn error(
        &self,
        code: &'static str,
        msg: impl Into<String>,
        span: (usize, usize),
    ) -> FilterError {
        FilterError::at(code, msg, self.src, span)
    }

    /// Whether the text at the cursor is `in` or `not in` (keywords, any case), which
    /// must be followed by a set.
    pub fn at_keyword_in_after_not(&mut self) -> bool {
        let word = |c: &Cursor| {
            let w: String = c
                .rest()
                .chars()
                .take_while(|ch| is_field_char(*ch))
                .collect();
            w.to_ascii_lowercase()
        };
        if word(self) == "not" {
            self.pos += 3;
            self.skip_ws();
        }
        word(self) == "in"
    }

    /// Reads a JSON-style double-quoted string at the cursor (which is on the `"`).
    pub fn quoted(&mut self) -> Result<String, FilterError> {
        let start = self.pos;
        let bytes = self.src.as_bytes();
        let mut i = start + 1;
        loop {
            match bytes.get(i) {
                None => {
                    return Err(self.error(
                        error::UNTERMINATED_STRING,
                        "this string has no closing quote",
                        (start, self.src.len()),
                    ))
                }
                Some(b'\\') => i += 2,
                Some(b'"') => break,
                Some(_) => i += 1,
            }
        }
        let end = i + 1;
        let text = &self.src[start..end];
        let s: String = serde_json::from_str(text).map_err(|e| {
            self.error(
                error::BAD_ESCAPE,
                format!("invalid quoted string: {e}"),
                (start, end),
            )
        })?;
        self.pos = end;
        Ok(s)
    }
}

/// Characters of a field name.
pub fn is_field_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '.'
}

/// Characters of a value word (after an operator or inside `{ }`).
pub fn is_value_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '(' | ')' | '{' | '}' | '"' | ',')
}

/// Characters of a free-text word.
pub fn is_text_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '(' | ')' | '"')
}

/// The value of a JSON-style number (`-12`, `3.5`, `1e3`, leading zeros allowed) that is
/// finite. Read by
/// serde_json, whose float reading the package links anyway.
pub fn number(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let s = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > s
    };
    let sign = i;
    if !digits(&mut i) {
        return None;
    }
    // JSON has no leading zeros: `007` is read as `7`.
    let zeros = b[sign..i - 1].iter().take_while(|&&d| d == b'0').count();
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return None;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    let mut json = String::from(&s[..sign]);
    json.push_str(&s[sign + zeros..]);
    serde_json::from_str::<f64>(&json)
        .ok()
        .filter(|n| n.is_finite())
}
