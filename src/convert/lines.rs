//! Any readable input as blocks of whole NDJSON lines, for a caller that keeps lines (a
//! viewer): NDJSON lines exactly as `trailsift filter` reads and writes them, every other
//! format converted to NDJSON as `trailsift convert --to ndjson` writes it. The input takes
//! the one path of [`crate::input`]: gzip by its magic bytes within a decoded-size limit,
//! the format from the content (a file name only hints).
//!
//! ```
//! use trailsift::convert::{Format, NdjsonLines};
//!
//! let mut input = NdjsonLines::new(Some("events.json"), u64::MAX, 1 << 20);
//! let mut out = Vec::new();
//! let mut keep = |block: &[u8], _line: u64| out.extend_from_slice(block);
//! input.push(br#"[{"auditAction":"CREATE"},"#, &mut keep);
//! input.push(br#" {"auditAction":"LOGIN"}]"#, &mut keep);
//! input.finish(&mut keep);
//! assert_eq!(input.format(), Some(Format::Json));
//! assert_eq!(out, b"{\"auditAction\":\"CREATE\"}\n{\"auditAction\":\"LOGIN\"}\n");
//! ```

use super::{Converter, ErrorCode, Format, Output, ReadError, ReadOptions, WriteOptions, Writer};
use crate::input::{self, Decoder, InputError, LineEvent, LineReader, Lines};

/// Receives each block of whole lines (the last line of the input may lack its `\n`) and
/// the 1-based number of its first line in the NDJSON it belongs to.
pub type OnBlock<'a> = dyn FnMut(&[u8], u64) + 'a;

enum Stage {
    /// The format is not known yet: raw bytes are held, and decoded to look at.
    Detecting {
        held: Vec<u8>,
        decoder: Decoder,
        head: Vec<u8>,
    },
    Lines(LineReader),
    // The output type of the package's converter: one copy of the code in the module.
    Convert(Box<Converter<Output<Vec<u8>>>>, Lines),
}

/// The push/finish reader of the module docs.
pub struct NdjsonLines {
    hint: Option<Format>,
    max_decoded: u64,
    max_line: usize,
    stage: Stage,
    format: Option<Format>,
    gzip: Option<bool>,
    errors: Vec<ReadError>,
}

impl NdjsonLines {
    /// A reader for a file named `name` (a hint for content that cannot tell), that decodes
    /// at most `max_decoded` bytes and keeps lines of at most `max_line` bytes (longer ones
    /// are `too_large` errors).
    pub fn new(name: Option<&str>, max_decoded: u64, max_line: usize) -> NdjsonLines {
        NdjsonLines {
            hint: name.and_then(|n| Format::from_file_name(n).0),
            max_decoded,
            max_line,
            stage: Stage::Detecting {
                held: Vec::new(),
                decoder: Decoder::new(max_decoded),
                head: Vec::new(),
            },
            format: None,
            gzip: None,
            errors: Vec::new(),
        }
    }

    /// The input's format, once known.
    pub fn format(&self) -> Option<Format> {
        self.format
    }

    /// Whether the input is gzip, once known.
    pub fn is_gzip(&self) -> Option<bool> {
        self.gzip
    }

    /// The bad records and input errors met so far (taken: each is handed out once).
    pub fn take_errors(&mut self) -> Vec<ReadError> {
        std::mem::take(&mut self.errors)
    }

    /// Reads a chunk of raw input; the blocks it completes go to `f`.
    pub fn push(&mut self, chunk: &[u8], f: &mut OnBlock) {
        if let Stage::Detecting {
            held,
            decoder,
            head,
        } = &mut self.stage
        {
            held.extend_from_slice(chunk);
            // A decoding error shows again, with its position, when the held bytes are read.
            let _ = decoder.push(chunk, &mut |b| head.extend_from_slice(b));
            self.gzip = self.gzip.or(decoder.is_gzip());
            if let Some(format) = input::detect(head, false, self.hint) {
                self.start(format, f);
            }
            return;
        }
        self.read(chunk, f);
    }

    /// Ends the input: the last block, and the format decided if the content was too short
    /// to tell (the name's format, else NDJSON).
    pub fn finish(&mut self, f: &mut OnBlock) {
        if let Stage::Detecting { decoder, head, .. } = &mut self.stage {
            let _ = decoder.finish(&mut |b| head.extend_from_slice(b));
            self.gzip = self.gzip.or(decoder.is_gzip());
            let format = input::detect(head, true, self.hint).unwrap_or(Format::Ndjson);
            self.start(format, f);
        }
        match &mut self.stage {
            Stage::Detecting { .. } => {}
            Stage::Lines(lines) => {
                let (max, errors) = (self.max_line, &mut self.errors);
                if let Err(e) = lines.end_input(&mut |ev| on_lines(ev, max, errors, f)) {
                    errors.push(input_error(&e, lines.position()));
                }
                lines.end_lines(&mut |ev| on_lines(ev, max, errors, f));
            }
            Stage::Convert(converter, lines) => {
                // The writer only fails when its output does, and a Vec does not.
                let _ = converter.end(&mut self.errors);
                let out = converter.writer_mut().get_mut().take();
                let max = lines.max_line();
                lines.push(&out, &mut |ev| on_lines(ev, max, &mut self.errors, f));
                lines.finish(&mut |ev| on_lines(ev, max, &mut self.errors, f));
            }
        }
    }

    /// Starts reading `format` with the raw bytes held so far.
    fn start(&mut self, format: Format, f: &mut OnBlock) {
        let Stage::Detecting { held, .. } = &mut self.stage else {
            return;
        };
        let held = std::mem::take(held);
        self.format = Some(format);
        self.stage = if format == Format::Ndjson {
            Stage::Lines(LineReader::new(self.max_decoded, self.max_line))
        } else {
            let read = ReadOptions {
                keep_raw: false,
                max_input_bytes: self.max_decoded,
                ..ReadOptions::default()
            };
            let out = Output::new(Vec::new(), false);
            let writer = Writer::new(Format::Ndjson, WriteOptions::default(), out);
            match Converter::new(Some(format), None, read, writer) {
                Ok(c) => Stage::Convert(Box::new(c), Lines::new(self.max_line)),
                Err(e) => {
                    self.errors.push(e);
                    Stage::Lines(LineReader::new(0, self.max_line))
                }
            }
        };
        self.read(&held, f);
    }

    fn read(&mut self, chunk: &[u8], f: &mut OnBlock) {
        match &mut self.stage {
            Stage::Detecting { .. } => {}
            Stage::Lines(lines) => {
                let max = self.max_line;
                let result = lines.push(chunk, &mut |ev| on_lines(ev, max, &mut self.errors, f));
                if let Err(e) = result {
                    self.errors.push(input_error(&e, lines.position()));
                }
            }
            Stage::Convert(converter, lines) => {
                let _ = converter.push(chunk, &mut self.errors);
                let out = converter.writer_mut().get_mut().take();
                let max = lines.max_line();
                lines.push(&out, &mut |ev| on_lines(ev, max, &mut self.errors, f));
            }
        }
    }
}

/// Hands a block on, or records a line that is too long.
fn on_lines(ev: LineEvent, max: usize, errors: &mut Vec<ReadError>, f: &mut OnBlock) {
    match ev {
        LineEvent::Block { bytes, line, .. } => f(bytes, line),
        LineEvent::TooLong { line, byte } => errors.push(ReadError::new(
            ErrorCode::TooLarge,
            format!("line longer than {max} bytes"),
            0,
            line,
            byte,
        )),
    }
}

fn input_error(e: &InputError, (line, byte): (u64, u64)) -> ReadError {
    ReadError::new(ErrorCode::from(e), e.to_string(), 0, line, byte)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::gzip::compress;

    fn all(input: &[u8], name: Option<&str>, cut: usize) -> (Vec<u8>, Vec<u64>, NdjsonLines) {
        let mut r = NdjsonLines::new(name, u64::MAX, 64);
        let mut out = Vec::new();
        let mut firsts = Vec::new();
        let mut keep = |b: &[u8], line: u64| {
            out.extend_from_slice(b);
            firsts.push(line);
        };
        for piece in input.chunks(cut.max(1)) {
            r.push(piece, &mut keep);
        }
        r.finish(&mut keep);
        (out, firsts, r)
    }

    #[test]
    fn ndjson_lines_are_kept_byte_for_byte_in_any_chunking() {
        let text = b"{\"a\": 1}\r\n\n{\"a\":2}\n{\"b\":\"x\"}";
        for cut in 1..text.len() + 1 {
            let (out, firsts, r) = all(text, None, cut);
            assert_eq!(out, text, "cut {cut}");
            assert_eq!(firsts.first(), Some(&1));
            assert_eq!(r.format(), Some(Format::Ndjson));
        }
        let (out, _, r) = all(&compress(text), Some("x.csv"), 7);
        assert_eq!(out, text);
        assert_eq!(r.is_gzip(), Some(true));
    }

    #[test]
    fn other_formats_become_ndjson() {
        let csv = b"auditEventId,auditAction\na,CREATE\nb,LOGIN\n";
        let (out, _, r) = all(csv, None, 5);
        assert_eq!(r.format(), Some(Format::Csv));
        assert_eq!(
            out,
            b"{\"auditEventId\":\"a\",\"auditAction\":\"CREATE\"}\n{\"auditEventId\":\"b\",\"auditAction\":\"LOGIN\"}\n"
        );
        let (out, _, _) = all(b"", Some("x.json"), 1);
        assert!(out.is_empty());
    }

    #[test]
    fn errors_are_kept_with_their_lines() {
        let long = [b"{\"a\":1}\n".as_slice(), &[b'x'; 100], b"\n{\"a\":2}\n"].concat();
        let (out, _, mut r) = all(&long, None, 10);
        assert_eq!(out, b"{\"a\":1}\n{\"a\":2}\n");
        let errors = r.take_errors();
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].code, errors[0].line), (ErrorCode::TooLarge, 2));
        let gz = compress(b"{\"a\":1}\n");
        let (_, _, mut r) = all(&gz[..gz.len() - 3], None, 4);
        assert_eq!(r.take_errors()[0].code, ErrorCode::Truncated);
        let mut r = NdjsonLines::new(None, 10, 64);
        r.push(b"{\"a\":1}\n{\"a\":2}\n", &mut |_, _| {});
        r.finish(&mut |_, _| {});
        assert_eq!(r.take_errors()[0].code, ErrorCode::TooLarge);
    }
}
