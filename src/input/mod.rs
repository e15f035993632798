//! Bytes in: the one path every adapter's input takes, in chunks of any size.
//!
//! 1. [`Decoder`]: gzip is recognised by its magic bytes (whatever the caller was told: a
//!    `Content-Encoding` header or a file name is not needed and not trusted) and decoded
//!    within a limit on the decoded size, so a small body that inflates to gigabytes is
//!    refused after the limit, not after inflating it all.
//! 2. [`detect`]: the format comes from the content first; a file name is only a hint for
//!    content that cannot tell (empty, or a first line longer than [`SNIFF_LIMIT`]).
//! 3. [`Lines`]: NDJSON is split into lines in one place, with a maximum line length;
//!    blocks of whole lines go on to the filter, the readers and the validator.
//!
//! ```
//! use trailsift::input::{Decoder, LineEvent, Lines};
//!
//! let gz = trailsift::convert::gzip::compress(b"{\"a\":1}\n{\"a\":2}\n");
//! let mut decoder = Decoder::new(1 << 20);
//! let mut lines = Lines::new(1 << 20);
//! let mut seen = Vec::new();
//! let mut on_line = |ev: LineEvent| {
//!     if let LineEvent::Block { bytes, .. } = ev {
//!         seen.extend_from_slice(bytes);
//!     }
//! };
//! for chunk in gz.chunks(5) {
//!     decoder.push(chunk, &mut |b| lines.push(b, &mut on_line)).unwrap();
//! }
//! decoder.finish(&mut |b| lines.push(b, &mut on_line)).unwrap();
//! lines.finish(&mut on_line);
//! assert_eq!(seen, b"{\"a\":1}\n{\"a\":2}\n");
//! ```

use std::fmt;

pub mod gzip;

use crate::format::{is_gzip, Format};
use gzip::{GzipDecoder, GzipError};

/// The longest line the filters read by default: far above any event (the schema's limit
/// is 1 MiB), small enough to bound the memory a stream holds.
pub const MAX_LINE_BYTES: usize = 64 << 20;

/// Bytes of content held to detect the format; past it, the file name's format (or JSON)
/// is read.
pub const SNIFF_LIMIT: usize = 64 * 1024;

/// Why the input as a whole could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputError {
    /// Starts like gzip but is not, or is corrupt.
    BadGzip(String),
    /// The gzip stream ends early or its checksum does not match.
    Truncated(String),
    /// The decoded input is larger than the limit.
    TooLarge { limit: u64 },
}

/// Every code of [`InputError::code`].
pub const CODES: &[&str] = &["bad_gzip", "truncated", "too_large"];

impl InputError {
    /// The stable code: `bad_gzip`, `truncated` or `too_large`.
    pub fn code(&self) -> &'static str {
        match self {
            InputError::BadGzip(_) => "bad_gzip",
            InputError::Truncated(_) => "truncated",
            InputError::TooLarge { .. } => "too_large",
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::BadGzip(m) | InputError::Truncated(m) => f.write_str(m),
            InputError::TooLarge { limit } => {
                write!(f, "the decoded input is larger than {limit} bytes")
            }
        }
    }
}

impl std::error::Error for InputError {}

enum Stage {
    /// Fewer than two bytes seen: gzip or not is still open.
    Undecided(Vec<u8>),
    Plain,
    Gzip(Box<GzipDecoder>),
    /// An error ended the input; further bytes are ignored.
    Failed,
}

/// Raw bytes in, decoded bytes out: gzip by its magic bytes, within a decoded-size limit.
pub struct Decoder {
    stage: Stage,
    limit: u64,
    decoded: u64,
}

impl Decoder {
    /// A decoder that refuses to hand out more than `limit` decoded bytes (`u64::MAX`: no
    /// limit).
    pub fn new(limit: u64) -> Self {
        Decoder {
            stage: Stage::Undecided(Vec::new()),
            limit,
            decoded: 0,
        }
    }

    /// Whether the input is gzip, once its first two bytes are known.
    pub fn is_gzip(&self) -> Option<bool> {
        match self.stage {
            Stage::Undecided(_) => None,
            Stage::Gzip(_) => Some(true),
            Stage::Plain | Stage::Failed => Some(false),
        }
    }

    /// Decoded bytes handed out so far.
    pub fn decoded_bytes(&self) -> u64 {
        self.decoded
    }

    /// Decodes `chunk`, handing the output to `out` as it comes. After an error the
    /// decoder ignores further input.
    pub fn push(&mut self, chunk: &[u8], out: &mut dyn FnMut(&[u8])) -> Result<(), InputError> {
        if let Stage::Undecided(head) = &mut self.stage {
            if head.is_empty() && chunk.len() >= 2 {
                self.decide(chunk);
                return self.forward(chunk, out);
            }
            head.extend_from_slice(chunk);
            if head.len() < 2 {
                return Ok(());
            }
            let head = std::mem::take(head);
            self.decide(&head);
            return self.forward(&head, out);
        }
        self.forward(chunk, out)
    }

    /// Ends the input: the last decoded bytes, and a check that a gzip stream is complete.
    pub fn finish(&mut self, out: &mut dyn FnMut(&[u8])) -> Result<(), InputError> {
        if let Stage::Undecided(head) = &mut self.stage {
            let head = std::mem::take(head);
            self.decide(&head);
            self.forward(&head, out)?;
        }
        let Stage::Gzip(gz) = &mut self.stage else {
            return Ok(());
        };
        let (limit, decoded) = (self.limit, &mut self.decoded);
        let mut over = false;
        let result = gz.finish(&mut |b| take_within(b, limit, decoded, &mut over, out));
        self.conclude(result, over)
    }

    fn decide(&mut self, first: &[u8]) {
        self.stage = if is_gzip(first) {
            Stage::Gzip(Box::default())
        } else {
            Stage::Plain
        };
    }

    fn forward(&mut self, chunk: &[u8], out: &mut dyn FnMut(&[u8])) -> Result<(), InputError> {
        let (limit, decoded) = (self.limit, &mut self.decoded);
        let mut over = false;
        match &mut self.stage {
            Stage::Plain => {
                take_within(chunk, limit, decoded, &mut over, out);
                self.conclude(Ok(()), over)
            }
            Stage::Gzip(gz) => {
                let result = gz.push_while(chunk, &mut |b| {
                    take_within(b, limit, decoded, &mut over, out);
                    !over
                });
                self.conclude(result, over)
            }
            Stage::Undecided(_) | Stage::Failed => Ok(()),
        }
    }

    fn conclude(&mut self, result: Result<(), GzipError>, over: bool) -> Result<(), InputError> {
        let error = if over {
            InputError::TooLarge { limit: self.limit }
        } else {
            match result {
                Ok(()) => return Ok(()),
                Err(GzipError::Bad(m)) => InputError::BadGzip(m),
                Err(GzipError::Truncated(m)) => InputError::Truncated(m),
            }
        };
        self.stage = Stage::Failed;
        Err(error)
    }
}

/// Hands `bytes` to `out` as far as the limit allows; sets `over` when it cut them.
fn take_within(
    bytes: &[u8],
    limit: u64,
    decoded: &mut u64,
    over: &mut bool,
    out: &mut dyn FnMut(&[u8]),
) {
    if *over {
        return;
    }
    let room = limit.saturating_sub(*decoded);
    let n = (bytes.len() as u64).min(room) as usize;
    if n > 0 {
        out(&bytes[..n]);
        *decoded += n as u64;
    }
    if n < bytes.len() {
        *over = true;
    }
}

/// The format of decoded content: detected from its first bytes ([`Format::detect`]); the
/// `hint` (a file name's format) only decides when the content cannot, i.e. when it is
/// empty or its first line passes [`SNIFF_LIMIT`] (then NDJSON without a hint: an object
/// that long on one line is one NDJSON record, and a JSON array would have shown its `[`). `None`: wait
/// for more bytes (never once `complete`, unless the content is only whitespace and there
/// is no hint).
pub fn detect(content: &[u8], complete: bool, hint: Option<Format>) -> Option<Format> {
    // Only the first SNIFF_LIMIT bytes are looked at, so that the answer does not depend on
    // how much of a long first line a chunk happened to bring.
    let beyond = content.len() > SNIFF_LIMIT;
    let head = content.get(..SNIFF_LIMIT).unwrap_or(content);
    match Format::detect(head, complete && !beyond) {
        Some(f) => Some(f),
        None if beyond => Some(hint.unwrap_or(Format::Ndjson)),
        None if complete => hint,
        None => None,
    }
}

/// What [`Lines`] hands on, in input order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEvent<'a> {
    /// Whole lines, each ending in `\n` (the last one of the input may have none). `line`
    /// is the 1-based number of its first line (0 from a splitter that does not count,
    /// [`Lines::uncounted`]), `byte` the offset of its first byte.
    Block {
        bytes: &'a [u8],
        line: u64,
        byte: u64,
    },
    /// A line longer than the maximum, skipped without being held.
    TooLong { line: u64, byte: u64 },
}

/// Splits text pushed in chunks of any size into blocks of whole lines, holding at most one
/// partial line of at most `max_line` bytes (its `\n` not counted).
pub struct Lines {
    max_line: usize,
    partial: Vec<u8>,
    /// The current line is too long: skip to its end.
    skipping: bool,
    /// 1-based number and start offset of the current (partial) line; the number stays 0
    /// when lines are not counted.
    line: u64,
    line_start: u64,
    /// Bytes pushed so far.
    offset: u64,
    counted: bool,
}

impl Lines {
    pub fn new(max_line: usize) -> Self {
        Lines {
            max_line,
            partial: Vec::new(),
            skipping: false,
            line: 1,
            line_start: 0,
            offset: 0,
            counted: true,
        }
    }

    /// A splitter that does not count lines: every line number it hands on is 0. Counting
    /// is a pass over every byte, a tenth of a fast filter's time; a caller that holds the
    /// whole input can count up to a line only when it needs its number ([`LineCounter`]).
    pub fn uncounted(mut self) -> Self {
        self.counted = false;
        self.line = 0;
        self
    }

    /// Adds `n()` to the line number, if lines are counted.
    fn count(&mut self, n: impl FnOnce() -> u64) {
        if self.counted {
            self.line += n();
        }
    }

    /// The longest line held, in bytes.
    pub fn max_line(&self) -> usize {
        self.max_line
    }

    /// Counts positions from 1-based `line` and byte `byte` (for a piece of a larger input).
    pub fn start_at(&mut self, line: u64, byte: u64) {
        self.line = line;
        self.line_start = byte;
        self.offset = byte;
    }

    /// (number of the current line, bytes pushed so far).
    pub fn position(&self) -> (u64, u64) {
        (self.line, self.offset)
    }

    /// Splits `chunk`; whole lines go to `f` in blocks (a block is a slice of `chunk` but for
    /// a line that began in an earlier chunk, which is handed on alone).
    pub fn push(&mut self, chunk: &[u8], f: &mut dyn FnMut(LineEvent)) {
        let base = self.offset;
        self.offset += chunk.len() as u64;
        let Some(last) = memchr::memrchr(b'\n', chunk) else {
            self.hold(chunk);
            return;
        };
        let mut rest = &chunk[..=last];
        let mut at = base;
        if self.skipping || !self.partial.is_empty() {
            // The line that began in an earlier chunk ends at the first `\n`.
            let first = memchr::memchr(b'\n', rest).unwrap_or(last);
            let end = &rest[..=first];
            if self.skipping || self.partial.len() + first > self.max_line {
                f(LineEvent::TooLong {
                    line: self.line,
                    byte: self.line_start,
                });
                self.partial.clear();
                self.skipping = false;
            } else {
                self.partial.extend_from_slice(end);
                f(LineEvent::Block {
                    bytes: &self.partial,
                    line: self.line,
                    byte: self.line_start,
                });
                self.partial.clear();
            }
            self.count(|| 1);
            rest = &rest[first + 1..];
            at += first as u64 + 1;
            self.line_start = at;
        }
        self.whole(rest, at, f);
        self.line_start = base + last as u64 + 1;
        self.hold(&chunk[last + 1..]);
    }

    /// Hands on whole lines starting at offset `at`, splitting out the lines over the limit.
    fn whole(&mut self, mut rest: &[u8], mut at: u64, f: &mut dyn FnMut(LineEvent)) {
        while !rest.is_empty() {
            // The common case: no line of the block is too long.
            let long = if rest.len() <= self.max_line {
                None
            } else {
                self.first_long(rest)
            };
            let Some((start, end)) = long else {
                f(LineEvent::Block {
                    bytes: rest,
                    line: self.line,
                    byte: at,
                });
                self.count(|| memchr::memchr_iter(b'\n', rest).count() as u64);
                return;
            };
            if start > 0 {
                let before = &rest[..start];
                f(LineEvent::Block {
                    bytes: before,
                    line: self.line,
                    byte: at,
                });
                self.count(|| memchr::memchr_iter(b'\n', before).count() as u64);
            }
            f(LineEvent::TooLong {
                line: self.line,
                byte: at + start as u64,
            });
            self.count(|| 1);
            at += end as u64 + 1;
            rest = &rest[end + 1..];
        }
    }

    /// The first line of `block` (whole lines) longer than the limit: its start and the
    /// position of its `\n`.
    fn first_long(&self, block: &[u8]) -> Option<(usize, usize)> {
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', block) {
            if nl - start > self.max_line {
                return Some((start, nl));
            }
            start = nl + 1;
        }
        None
    }

    fn hold(&mut self, tail: &[u8]) {
        if self.skipping || tail.is_empty() {
            return;
        }
        if self.partial.len() + tail.len() > self.max_line {
            self.partial = Vec::new();
            self.skipping = true;
        } else {
            self.partial.extend_from_slice(tail);
        }
    }

    /// Ends the input: the last line, if it has no line ending.
    pub fn finish(&mut self, f: &mut dyn FnMut(LineEvent)) {
        if self.skipping {
            self.skipping = false;
            f(LineEvent::TooLong {
                line: self.line,
                byte: self.line_start,
            });
        } else if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            f(LineEvent::Block {
                bytes: &line,
                line: self.line,
                byte: self.line_start,
            });
        }
    }
}

/// Raw bytes to blocks of whole NDJSON lines: a [`Decoder`] and [`Lines`] in one, for the
/// adapters that filter lines (the CLI, the npm package's filter and its stream).
pub struct LineReader {
    decoder: Decoder,
    lines: Lines,
}

impl LineReader {
    /// At most `max_decoded` bytes decoded in all and lines of at most `max_line` bytes.
    pub fn new(max_decoded: u64, max_line: usize) -> Self {
        LineReader {
            decoder: Decoder::new(max_decoded),
            lines: Lines::new(max_line),
        }
    }

    pub fn push(&mut self, chunk: &[u8], f: &mut dyn FnMut(LineEvent)) -> Result<(), InputError> {
        let lines = &mut self.lines;
        self.decoder.push(chunk, &mut |b| lines.push(b, f))
    }

    /// Ends the input, first half: decodes what is left and hands on the whole lines it
    /// completes. An error here is a stream found broken at its end; report it before
    /// calling [`end_lines`](Self::end_lines), which hands on the unterminated last line
    /// even then. Every path reads in this order (the format readers too), so that the
    /// break comes before that line wherever the input is read.
    pub fn end_input(&mut self, f: &mut dyn FnMut(LineEvent)) -> Result<(), InputError> {
        let lines = &mut self.lines;
        self.decoder.finish(&mut |b| lines.push(b, f))
    }

    /// Ends the input, second half: the last line, if it has no line ending.
    pub fn end_lines(&mut self, f: &mut dyn FnMut(LineEvent)) {
        self.lines.finish(f);
    }

    /// (number of the current line, decoded bytes so far).
    pub fn position(&self) -> (u64, u64) {
        self.lines.position()
    }

    /// A reader that does not count lines ([`Lines::uncounted`]).
    pub fn uncounted(mut self) -> Self {
        self.lines = self.lines.uncounted();
        self
    }

    /// The longest line held, in bytes.
    pub fn max_line(&self) -> usize {
        self.lines.max_line()
    }
}

/// Line numbers of byte offsets in an input held whole, counted only as far as the
/// offsets asked for: the numbers an [uncounted](Lines::uncounted) splitter leaves out.
pub struct LineCounter<'a> {
    text: &'a [u8],
    /// The offset counted up to, and the number of the line it is in.
    at: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    pub fn new(text: &'a [u8]) -> Self {
        LineCounter {
            text,
            at: 0,
            line: 1,
        }
    }

    /// The 1-based number of the line that byte `byte` is in (the line after the last
    /// `\n` before it). Counting goes on from the offset last asked for, so offsets asked
    /// for in increasing order are counted over once in all.
    pub fn line_at(&mut self, byte: u64) -> u64 {
        let byte = usize::try_from(byte).map_or(self.text.len(), |b| b.min(self.text.len()));
        if byte < self.at {
            (self.at, self.line) = (0, 1);
        }
        self.line += memchr::memchr_iter(b'\n', &self.text[self.at..byte]).count() as u64;
        self.at = byte;
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::gzip::compress;

    /// Everything a splitter hands on, as (kind, line, byte, text).
    fn split(input: &[u8], cuts: &[usize], max: usize) -> Vec<(u64, u64, String)> {
        let mut lines = Lines::new(max);
        let mut out = Vec::new();
        let mut f = |ev: LineEvent| match ev {
            LineEvent::Block { bytes, line, byte } => {
                // One entry per line, to compare across chunkings.
                let mut at = byte;
                for (i, l) in bytes.split_inclusive(|b| *b == b'\n').enumerate() {
                    out.push((line + i as u64, at, String::from_utf8_lossy(l).into_owned()));
                    at += l.len() as u64;
                }
            }
            LineEvent::TooLong { line, byte } => out.push((line, byte, "<long>".into())),
        };
        push_cut(&mut lines, input, cuts, &mut f);
        out
    }

    /// Pushes `input` into `lines` in pieces cut at `cuts` (sorted), then finishes.
    fn push_cut(lines: &mut Lines, input: &[u8], cuts: &[usize], f: &mut impl FnMut(LineEvent)) {
        let mut from = 0;
        for &cut in cuts {
            let cut = cut.min(input.len()).max(from);
            lines.push(&input[from..cut], f);
            from = cut;
        }
        lines.push(&input[from..], f);
        lines.finish(f);
    }

    #[test]
    fn lines_are_the_same_for_every_chunking() {
        let input = b"ab\n\nlong line here\ncd\r\nxyzxyzxyzxyzxyz\nend";
        let whole = split(input, &[], 8);
        assert_eq!(
            whole,
            vec![
                (1, 0, "ab\n".into()),
                (2, 3, "\n".into()),
                (3, 4, "<long>".into()),
                (4, 19, "cd\r\n".into()),
                (5, 23, "<long>".into()),
                (6, 39, "end".into()),
            ]
        );
        for a in 0..input.len() {
            for b in a..input.len() {
                assert_eq!(split(input, &[a, b], 8), whole, "cuts {a} {b}");
            }
        }
    }

    proptest::proptest! {
        /// An uncounted splitter hands on what a counting one does, less the numbers, and
        /// a `LineCounter` over the input gives those numbers from the offsets.
        #[test]
        fn uncounted_lines_are_numbered_by_their_offsets(
            input in "[ab\r\n]{0,300}",
            cuts in proptest::collection::vec(0usize..300, 0..4),
            max in 1usize..40,
        ) {
            let input = input.as_bytes();
            let mut cuts = cuts;
            cuts.sort_unstable();
            let run = |uncounted: bool| {
                let mut lines = Lines::new(max);
                if uncounted {
                    lines = lines.uncounted();
                }
                let mut out = Vec::new();
                let mut f = |ev: LineEvent| out.push(match ev {
                    LineEvent::Block { bytes, line, byte } => (line, byte, bytes.to_vec()),
                    LineEvent::TooLong { line, byte } => (line, byte, b"<long>".to_vec()),
                });
                push_cut(&mut lines, input, &cuts, &mut f);
                out
            };
            let counted = run(false);
            let uncounted = run(true);
            proptest::prop_assert_eq!(counted.len(), uncounted.len());
            let mut numbers = LineCounter::new(input);
            for ((line, byte, bytes), (zero, same_byte, same_bytes)) in counted.iter().zip(&uncounted) {
                proptest::prop_assert_eq!((0, byte, bytes), (*zero, same_byte, same_bytes));
                proptest::prop_assert_eq!(numbers.line_at(*byte), *line);
            }
            // Asked out of order, it counts again from the start.
            if let Some((line, byte, _)) = counted.first() {
                proptest::prop_assert_eq!(numbers.line_at(*byte), *line);
            }
        }
    }

    #[test]
    fn a_line_exactly_at_the_limit_is_kept() {
        assert_eq!(
            split(b"12345678\n", &[3], 8),
            vec![(1, 0, "12345678\n".into())]
        );
        assert_eq!(
            split(b"123456789\n", &[3], 8),
            vec![(1, 0, "<long>".into())]
        );
        assert_eq!(split(b"123456789", &[3], 8), vec![(1, 0, "<long>".into())]);
    }

    #[test]
    fn gzip_is_found_by_its_bytes_and_held_to_the_limit() {
        // Digits compress poorly, so that the limit is passed long before the last piece.
        let text: Vec<u8> = (0..30_000u32)
            .flat_map(|i| i.to_string().into_bytes())
            .collect();
        let gz = compress(&text);
        assert!(gz.len() > 20_000, "{}", gz.len());
        let mut d = Decoder::new(50_000);
        let mut got = 0;
        let mut out = |b: &[u8]| got += b.len();
        let r = gz.chunks(1000).try_for_each(|c| d.push(c, &mut out));
        assert_eq!(r, Err(InputError::TooLarge { limit: 50_000 }));
        assert_eq!(got, 50_000);
        assert_eq!(d.is_gzip(), Some(false), "failed: no more input is read");

        let mut d = Decoder::new(u64::MAX);
        let mut got = Vec::new();
        for c in gz.chunks(1) {
            d.push(c, &mut |b| got.extend_from_slice(b)).unwrap();
        }
        d.finish(&mut |b| got.extend_from_slice(b)).unwrap();
        assert_eq!(got, text);

        let mut d = Decoder::new(3);
        assert_eq!(
            d.push(b"abcd", &mut |_| {}),
            Err(InputError::TooLarge { limit: 3 })
        );
        let mut d = Decoder::new(10);
        d.push(b"a", &mut |_| {}).unwrap();
        assert_eq!(d.is_gzip(), None);
        d.finish(&mut |b| assert_eq!(b, b"a")).unwrap();
    }

    #[test]
    fn a_cut_gzip_stream_is_truncated() {
        let gz = compress(&vec![b'y'; 10_000]);
        let mut d = Decoder::new(u64::MAX);
        d.push(&gz[..gz.len() - 4], &mut |_| {}).unwrap();
        assert!(matches!(
            d.finish(&mut |_| {}),
            Err(InputError::Truncated(_))
        ));
        let mut d = Decoder::new(u64::MAX);
        let r = d
            .push(b"\x1f\x8bnot gzip at all", &mut |_| {})
            .and_then(|()| d.finish(&mut |_| {}));
        assert!(matches!(r, Err(InputError::BadGzip(_))), "{r:?}");
    }

    #[test]
    fn content_decides_and_the_name_hints() {
        assert_eq!(
            detect(b"a,b\n", false, Some(Format::Json)),
            Some(Format::Csv)
        );
        assert_eq!(detect(b"[", false, Some(Format::Csv)), Some(Format::Json));
        assert_eq!(detect(b"  ", true, Some(Format::Csv)), Some(Format::Csv));
        assert_eq!(detect(b"  ", true, None), None);
        assert_eq!(detect(b"{\"a\"", false, Some(Format::Ndjson)), None);
        let long = [b"{\"a\":\"".as_slice(), &vec![b'x'; SNIFF_LIMIT]].concat();
        assert_eq!(
            detect(&long, false, Some(Format::Ndjson)),
            Some(Format::Ndjson)
        );
        assert_eq!(detect(&long, false, None), Some(Format::Ndjson));
        assert_eq!(detect(&long, false, Some(Format::Json)), Some(Format::Json));
    }
}
