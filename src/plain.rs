//! A reader for plain JSON text: the hand-written fast path that validation, the filter
//! and conversion share.
//!
//! "Plain" JSON is what audit producers write almost always: strings without escapes,
//! integers of up to 18 digits, shallow nesting. The reader reads exactly that, borrowing
//! strings from the text, and gives up (`None`) on anything else (an escape, a control
//! character, a fraction, deep nesting, a syntax error). Callers then read the text with
//! serde_json, so answers and error messages are always serde_json's; the reader only
//! answers where serde_json would answer the same.

use serde_json::Number;

/// JSON bytes as text, for `serde_json::from_str`: the crate reads JSON through this one
/// serde_json reader (a second, `from_slice`'s, adds about 2 kB to the gzipped npm
/// package). Bytes that are not UTF-8 are a serde_json error at the line and column of
/// the first bad byte.
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, serde_json::Error> {
    std::str::from_utf8(bytes).map_err(|e| {
        let (mut line, mut column) = (1, 1);
        for &b in bytes.get(..e.valid_up_to()).unwrap_or_default() {
            (line, column) = if b == b'\n' {
                (line + 1, 1)
            } else {
                (line, column + 1)
            };
        }
        serde::de::Error::custom(format!("invalid UTF-8 at line {line} column {column}"))
    })
}

/// Deepest nesting the reader follows (serde_json's limit is 128).
pub(crate) const MAX_DEPTH: u32 = 64;

/// A position in JSON text (already known to be UTF-8).
pub(crate) struct Plain<'a> {
    text: &'a str,
    pos: usize,
}

/// A string as the reader saw it.
pub(crate) enum Text<'a> {
    /// Without escapes: the text itself.
    Plain(&'a str),
    /// With escapes: the length in bytes of the text they spell.
    Escaped(usize),
}

/// A number as the reader saw it.
pub(crate) enum Num {
    /// An integer of at most 18 digits (the same `Number` serde_json makes).
    Int(Number),
    /// Any other well-formed number of a modest size (a fraction, an exponent of at most
    /// two digits, up to 300 digits before the point: finite for serde_json too), skipped
    /// or left to serde_json when its value is wanted.
    Other,
}

impl<'a> Plain<'a> {
    pub(crate) fn new(text: &'a str) -> Plain<'a> {
        Plain { text, pos: 0 }
    }

    /// The next byte after whitespace.
    #[inline(always)]
    pub(crate) fn peek(&mut self) -> Option<u8> {
        let bytes = self.text.as_bytes();
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(self.pos) {
            self.pos += 1;
        }
        bytes.get(self.pos).copied()
    }

    /// Whether only whitespace is left.
    #[inline(always)]
    pub(crate) fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// Consumes `byte` if it comes next (after whitespace).
    #[inline(always)]
    pub(crate) fn eat(&mut self, byte: u8) -> bool {
        let next = self.peek() == Some(byte);
        if next {
            self.pos += 1;
        }
        next
    }

    /// After a member or an item: `Some(true)` past a `,`, `Some(false)` past `end`,
    /// `None` on anything else.
    #[inline(always)]
    fn next_or_end(&mut self, end: u8) -> Option<bool> {
        let next = self.peek()?;
        self.pos += 1;
        if next == b',' {
            Some(true)
        } else {
            (next == end).then_some(false)
        }
    }

    /// `true`, `false` or `null` (after whitespace).
    pub(crate) fn literal(&mut self, word: &str) -> Option<()> {
        self.peek()?;
        let end = self.pos + word.len();
        (self.text.get(self.pos..end) == Some(word)).then(|| self.pos = end)
    }

    /// A string without escapes or control characters (after whitespace).
    #[inline(always)]
    pub(crate) fn string(&mut self) -> Option<&'a str> {
        match self.text()? {
            Text::Plain(s) => Some(s),
            Text::Escaped(_) => None,
        }
    }

    /// A string (after whitespace) whose escapes, if any, are the two-character ones
    /// (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`); `\u` escapes give up.
    pub(crate) fn text(&mut self) -> Option<Text<'a>> {
        if self.peek()? != b'"' {
            return None;
        }
        let bytes = self.text.as_bytes();
        let start = self.pos + 1;
        let mut end = start;
        let mut escapes = 0;
        loop {
            end += plain_len(bytes.get(end..)?)?;
            match bytes.get(end)? {
                b'"' => break,
                b'\\' => match bytes.get(end + 1)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {
                        end += 2;
                        escapes += 1;
                    }
                    _ => return None,
                },
                // A control character.
                _ => return None,
            }
        }
        self.pos = end + 1;
        Some(if escapes == 0 {
            // SAFETY: `start` follows a `"` and `end` is at one; ASCII bytes are character
            // boundaries of UTF-8 text (a checked slice costs a call per string here).
            Text::Plain(unsafe { self.text.get_unchecked(start..end) })
        } else {
            Text::Escaped(end - start - escapes)
        })
    }

    /// A number in JSON's grammar (after whitespace).
    pub(crate) fn number(&mut self) -> Option<Num> {
        self.peek()?;
        let bytes = self.text.as_bytes();
        let digits_from = |at: usize| {
            bytes
                .get(at..)
                .map_or(0, |b| b.iter().take_while(|b| b.is_ascii_digit()).count())
        };
        let negative = bytes.get(self.pos) == Some(&b'-');
        let start = self.pos + usize::from(negative);
        let int = digits_from(start);
        // At least one digit; a leading zero only alone.
        if int == 0 || (int > 1 && bytes[start] == b'0') {
            return None;
        }
        let mut end = start + int;
        let mut integer = true;
        if bytes.get(end) == Some(&b'.') {
            let frac = digits_from(end + 1);
            if frac == 0 {
                return None;
            }
            end += 1 + frac;
            integer = false;
        }
        if let Some(b'e' | b'E') = bytes.get(end) {
            end += 1;
            if let Some(b'+' | b'-') = bytes.get(end) {
                end += 1;
            }
            let exp = digits_from(end);
            if exp == 0 || exp > 2 {
                return None;
            }
            end += exp;
            integer = false;
        }
        if int > 300 {
            return None;
        }
        let text = self.text.get(start..start + int)?;
        self.pos = end;
        // `-0` is the float -0.0 to serde_json.
        if !integer || int > 18 || (negative && text == "0") {
            return Some(Num::Other);
        }
        let n: u64 = text.parse().ok()?;
        Some(Num::Int(if negative {
            Number::from(-i64::try_from(n).ok()?)
        } else {
            Number::from(n)
        }))
    }

    /// Reads the members of an object (after whitespace, at `{`): `member` gets each key
    /// and must read its value.
    pub(crate) fn object(
        &mut self,
        depth: u32,
        mut member: impl FnMut(&mut Plain<'a>, &'a str) -> Option<()>,
    ) -> Option<()> {
        if depth > MAX_DEPTH || !self.eat(b'{') {
            return None;
        }
        if self.eat(b'}') {
            return Some(());
        }
        loop {
            let key = self.string()?;
            if !self.eat(b':') {
                return None;
            }
            member(self, key)?;
            if !self.next_or_end(b'}')? {
                return Some(());
            }
        }
    }

    /// Reads the items of an array (after whitespace, at `[`): `item` must read each.
    pub(crate) fn array(
        &mut self,
        depth: u32,
        mut item: impl FnMut(&mut Plain<'a>) -> Option<()>,
    ) -> Option<()> {
        if depth > MAX_DEPTH || !self.eat(b'[') {
            return None;
        }
        if self.eat(b']') {
            return Some(());
        }
        loop {
            item(self)?;
            if !self.next_or_end(b']')? {
                return Some(());
            }
        }
    }

    /// Reads any value.
    pub(crate) fn skip(&mut self, depth: u32) -> Option<()> {
        match self.peek()? {
            b'{' => self.object(depth + 1, |p, _| p.skip(depth + 1)),
            b'[' => self.array(depth + 1, |p| p.skip(depth + 1)),
            b'"' => self.text().map(drop),
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            _ => self.number().map(drop),
        }
    }
}

/// Whether two object keys are equal. Keys are short and mostly differ in length or at an
/// end: comparing those first, then the bytes in line, beats a call to `memcmp` (and
/// iterator adaptors the size-optimised build does not inline) in WebAssembly.
#[inline(always)]
pub(crate) fn same_key(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n == 0 {
        return true;
    }
    if a[0] != b[0] || a[n - 1] != b[n - 1] {
        return false;
    }
    let mut i = 1;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The length of the plain part of a string's text (up to `"`, `\\` or a control
/// character), sixteen bytes at a time with WebAssembly SIMD.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn plain_len(rest: &[u8]) -> Option<usize> {
    use core::arch::wasm32::{
        u8x16_bitmask, u8x16_eq, u8x16_lt, u8x16_splat, v128, v128_load, v128_or,
    };
    let mut at = 0;
    while at + 16 <= rest.len() {
        // SAFETY: the 16 bytes from `at` are within `rest` (WebAssembly loads need no
        // alignment).
        let v = unsafe { v128_load(rest.as_ptr().add(at).cast::<v128>()) };
        let stop = v128_or(
            u8x16_lt(v, u8x16_splat(0x20)),
            v128_or(
                u8x16_eq(v, u8x16_splat(b'"')),
                u8x16_eq(v, u8x16_splat(b'\\')),
            ),
        );
        let mask = u8x16_bitmask(stop);
        if mask != 0 {
            return Some(at + mask.trailing_zeros() as usize);
        }
        at += 16;
    }
    let len = rest[at..]
        .iter()
        .position(|&b| STRING_STOP[usize::from(b)])?;
    Some(at + len)
}

/// The length of the plain part of a string's text (up to `"`, `\\` or a control
/// character), eight bytes at a time.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
fn plain_len(rest: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut skipped = 0;
    for chunk in rest.chunks_exact(8) {
        let x = u64::from_le_bytes([
            chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
        ]);
        // The high bit of each byte below 0x20, equal to `"` or equal to `\\`. A borrow
        // can mark bytes after the first such byte as well, never one before it.
        let quote = x ^ (ONES * u64::from(b'"'));
        let backslash = x ^ (ONES * u64::from(b'\\'));
        let stop = (x.wrapping_sub(ONES * 0x20) & !x)
            | (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash);
        let stop = stop & HIGH;
        if stop != 0 {
            return Some(skipped + stop.trailing_zeros() as usize / 8);
        }
        skipped += 8;
    }
    let tail = rest.get(skipped..)?;
    let len = tail.iter().position(|&b| STRING_STOP[usize::from(b)])?;
    Some(skipped + len)
}

/// The bytes that end the plain part of a string: `"`, `\\` and control characters.
static STRING_STOP: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// JSON text on one line: `bytes` itself when it holds no line break, else without the
/// whitespace outside strings (strings cannot hold raw line breaks).
pub(crate) fn compact(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if memchr::memchr2(b'\n', b'\r', bytes).is_none() {
        return std::borrow::Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let (mut in_string, mut escaped) = (false, false);
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            continue;
        } else if b == b'"' {
            in_string = true;
        }
        out.push(b);
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::{compact, utf8, Plain, MAX_DEPTH};

    #[test]
    fn bad_utf8_is_a_serde_json_error_at_its_place() {
        assert_eq!(utf8(b"{\"a\":1}").ok(), Some("{\"a\":1}"));
        let e = utf8(b"{\"a\":\n\"x\xff\"}").unwrap_err();
        assert_eq!((e.line(), e.column()), (2, 3));
        assert!(e.to_string().starts_with("invalid UTF-8"), "{e}");
    }

    /// Whether `skip` reads all of `text` as one value.
    fn skips(text: &str, depth: u32) -> bool {
        let mut p = Plain::new(text);
        p.skip(depth).is_some() && p.at_end()
    }

    #[test]
    fn skip_reads_what_json_is_and_no_more() {
        let valid = [
            r#"{}"#,
            r#"[]"#,
            r#"{"a":[1,{"b":[]},"x",true,false,null,-0.5e3],"c":{}}"#,
            r#" [ [ ] , { } , [ { "k" : [ 1 ] } ] ] "#,
            r#""te\"xt""#,
        ];
        for text in valid {
            assert!(skips(text, 0), "{text}");
            assert!(serde_json::from_str::<serde_json::Value>(text).is_ok());
        }
        let invalid = [
            r#"{"a":1,}"#,
            r#"[1,]"#,
            r#"{"a" 1}"#,
            r#"{1:2}"#,
            r#"[1}"#,
            r#"{"a":[1,2}"#,
            r#"[[]"#,
            r#"{"a":}"#,
            r#"[,1]"#,
        ];
        for text in invalid {
            assert!(!skips(text, 0), "{text}");
            assert!(serde_json::from_str::<serde_json::Value>(text).is_err());
        }
    }

    #[test]
    fn skip_follows_containers_to_the_depth_limit() {
        let nested = |n: usize| format!("{}{}", r#"{"a":["#.repeat(n), "]}".repeat(n));
        // Each level is an object and an array: two containers.
        let levels = MAX_DEPTH as usize / 2;
        assert!(skips(&nested(levels), 0));
        assert!(!skips(&nested(levels), 1));
        assert!(!skips(&nested(levels + 1), 0));
        let arrays = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(skips(&arrays(64), 0));
        assert!(!skips(&arrays(65), 0));
    }

    #[test]
    fn compact_puts_json_on_one_line() {
        assert!(matches!(
            compact(b"{\"a\": 1}"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(
            &*compact(b"{\n  \"a b\": \"x \\\" y\",\r\n  \"c\": [1, 2]\n}"),
            b"{\"a b\":\"x \\\" y\",\"c\":[1,2]}"
        );
    }
}
