//! A reader for plain JSON text: the hand-written fast path that validation, the filter
//! and conversion share.
//!
//! "Plain" JSON is what audit producers write almost always: strings without escapes,
//! integers of up to 18 digits, shallow nesting. The reader reads exactly that, borrowing
//! strings from the text, and gives up (`None`) on anything else (an escape, a control
//! character, a fraction, deep nesting, a syntax error, bytes that are not UTF-8). Callers
//! then read the text with serde_json, so answers and error messages are always
//! serde_json's; the reader only answers where serde_json would answer the same.

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

/// A position in JSON text.
///
/// The text need not be known to be UTF-8: every string is checked as it is read (one
/// search finds its end and any byte that is not ASCII), and outside strings JSON's
/// grammar admits only ASCII, so whatever the reader accepts is UTF-8.
pub(crate) struct Plain<'a> {
    bytes: &'a [u8],
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
        Plain::bytes(text.as_bytes())
    }

    /// JSON text as bytes (see [`Plain`] for why they need not be checked first).
    pub(crate) fn bytes(bytes: &'a [u8]) -> Plain<'a> {
        Plain::at(bytes, 0)
    }

    /// JSON text as bytes, read from `pos` on.
    pub(crate) fn at(bytes: &'a [u8], pos: usize) -> Plain<'a> {
        Plain { bytes, pos }
    }

    /// Where the reader is.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// The next byte after whitespace.
    #[inline(always)]
    pub(crate) fn peek(&mut self) -> Option<u8> {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
        self.bytes.get(self.pos).copied()
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
        (self.bytes.get(self.pos..end) == Some(word.as_bytes())).then(|| self.pos = end)
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
    #[inline(always)]
    pub(crate) fn text(&mut self) -> Option<Text<'a>> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.pos + 1;
        let end = start + plain_len::<true>(self.bytes.get(start..)?)?;
        if self.bytes.get(end) == Some(&b'"') {
            self.pos = end + 1;
            // SAFETY: the search stops at the first byte that is not ASCII, so the bytes
            // up to `end` are ASCII.
            return Some(Text::Plain(unsafe {
                std::str::from_utf8_unchecked(self.bytes.get_unchecked(start..end))
            }));
        }
        self.text_rest(start, end)
    }

    /// The rest of [`Plain::text`] after a byte that is not ASCII or starts an escape.
    #[inline(never)]
    fn text_rest(&mut self, start: usize, mut end: usize) -> Option<Text<'a>> {
        let bytes = self.bytes;
        let mut escapes = 0;
        loop {
            match *bytes.get(end)? {
                b'"' => break,
                b'\\' => match bytes.get(end + 1)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {
                        end += 2;
                        escapes += 1;
                    }
                    _ => return None,
                },
                // Checked below, with the rest of the string.
                0x80.. => end += 1,
                // A control character.
                _ => return None,
            }
            end += plain_len::<false>(bytes.get(end..)?)?;
        }
        // Escapes are ASCII: the text is UTF-8 when its bytes are.
        let text = std::str::from_utf8(bytes.get(start..end)?).ok()?;
        self.pos = end + 1;
        Some(if escapes == 0 {
            Text::Plain(text)
        } else {
            Text::Escaped(end - start - escapes)
        })
    }

    /// A number in JSON's grammar (after whitespace).
    pub(crate) fn number(&mut self) -> Option<Num> {
        self.peek()?;
        let bytes = self.bytes;
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
        let digits = bytes.get(start..start + int)?;
        self.pos = end;
        // `-0` is the float -0.0 to serde_json.
        if !integer || int > 18 || (negative && digits == b"0") {
            return Some(Num::Other);
        }
        let n = digits
            .iter()
            .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
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

/// The length of the plain part of a string's text: up to `"`, `\\`, a control character
/// or (when `ASCII`) a byte that is not ASCII; sixteen bytes at a time.
#[inline(always)]
fn plain_len<const ASCII: bool>(rest: &[u8]) -> Option<usize> {
    let mut at = 0;
    while at + 16 <= rest.len() {
        // SAFETY: the 16 bytes from `at` are within `rest`.
        let mask = unsafe { stops16::<ASCII>(rest.as_ptr().add(at)) };
        if mask != 0 {
            return Some(at + mask.trailing_zeros() as usize);
        }
        at += 16;
    }
    let len = rest[at..]
        .iter()
        .position(|&b| STRING_STOP[usize::from(b)] || (ASCII && b >= 0x80))?;
    Some(at + len)
}

/// A bit for each of the 16 bytes at `p` that ends the plain part of a string (bit `i`
/// for byte `i`; see [`plain_len`]), with SSE2 (part of every x86_64).
///
/// # Safety
/// The 16 bytes from `p` must be readable.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn stops16<const ASCII: bool>(p: *const u8) -> u32 {
    use core::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8,
        _mm_or_si128, _mm_set1_epi8,
    };
    let v = _mm_loadu_si128(p.cast());
    let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
    let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
    let low = if ASCII {
        // Signed `v < 0x20`: control characters and every byte from 0x80.
        _mm_cmplt_epi8(v, _mm_set1_epi8(0x20))
    } else {
        // Unsigned `v <= 0x1f`: the minimum is `v` itself.
        _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v)
    };
    _mm_movemask_epi8(_mm_or_si128(low, _mm_or_si128(quote, backslash))) as u32
}

/// See the x86_64 `stops16`; with WebAssembly SIMD.
///
/// # Safety
/// The 16 bytes from `p` must be readable.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
unsafe fn stops16<const ASCII: bool>(p: *const u8) -> u32 {
    use core::arch::wasm32::{
        i8x16_lt, u8x16_bitmask, u8x16_eq, u8x16_lt, u8x16_splat, v128, v128_load, v128_or,
    };
    // WebAssembly loads need no alignment.
    let v = v128_load(p.cast::<v128>());
    let low = if ASCII {
        // Signed: control characters and every byte from 0x80.
        i8x16_lt(v, u8x16_splat(0x20))
    } else {
        u8x16_lt(v, u8x16_splat(0x20))
    };
    let stop = v128_or(
        low,
        v128_or(
            u8x16_eq(v, u8x16_splat(b'"')),
            u8x16_eq(v, u8x16_splat(b'\\')),
        ),
    );
    u32::from(u8x16_bitmask(stop))
}

/// See the x86_64 `stops16`; two 64-bit words at a time elsewhere.
///
/// # Safety
/// The 16 bytes from `p` must be readable.
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
#[inline(always)]
unsafe fn stops16<const ASCII: bool>(p: *const u8) -> u32 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of each byte below 0x20, equal to `"` or `\\`, or (when ASCII) not
    // ASCII. A borrow can mark bytes after the first such byte as well, never one before
    // it, so only the lowest bit set is exact.
    let word = |x: u64| {
        let quote = x ^ (ONES * u64::from(b'"'));
        let backslash = x ^ (ONES * u64::from(b'\\'));
        let high = if ASCII { x } else { 0 };
        ((x.wrapping_sub(ONES * 0x20) & !x)
            | (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | high)
            & HIGH
    };
    let lo = word(u64::from_le(p.cast::<u64>().read_unaligned()));
    let hi = word(u64::from_le(p.add(8).cast::<u64>().read_unaligned()));
    // One bit per word: the byte of its lowest stop (only the lowest bit is used).
    let bit = |w: u64| {
        if w == 0 {
            0
        } else {
            1u32 << (w.trailing_zeros() / 8)
        }
    };
    bit(lo) | bit(hi) << 8
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
