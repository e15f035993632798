//! Conversion of line input (NDJSON, Sumo) on every core: the blocks of lines that
//! [`crate::parallel`] cuts are each converted on their own, by the [`Converter`]'s code,
//! into a piece of the output (a writer of its own whose bytes the one writer joins); the
//! pieces are written in input order.
//! The output, the errors and their positions are the [`Converter`]'s, for any number of
//! threads (native only).
//!
//! [`Converter`]: super::Converter

use std::io::{self, Write};
use std::ops::ControlFlow;

use serde_json::Value;

use super::pipeline::Sink;
use super::read::{self, json, ndjson, sumo, RawEvent, Unwrap};
use super::{ErrorCode, Format, ReadError, ReadOptions, Writer};
use crate::input::LineReader;
use crate::parallel::{map_lines, Piece, Source};

/// How a line format's records are read, block by block.
#[derive(Clone, Copy)]
pub(crate) struct LineFormat {
    unwrap: Unwrap,
    /// Records are bare events (NDJSON), not envelopes (Sumo).
    bare: bool,
    max_record_bytes: usize,
    keep_raw: bool,
}

impl LineFormat {
    /// `None` for a format that is not one record per line.
    pub(crate) fn of(format: Format, opts: &ReadOptions) -> Option<LineFormat> {
        let (unwrap, bare): (Unwrap, bool) = match format {
            Format::Ndjson => (json::identity, true),
            Format::Sumo => (sumo::unwrap, false),
            _ => return None,
        };
        Some(LineFormat {
            unwrap,
            bare,
            max_record_bytes: opts.max_record_bytes,
            keep_raw: opts.keep_raw,
        })
    }

    /// The line reader that cuts blocks as the format's reader splits lines: one more
    /// byte than the record limit for a `\r` before the `\n`.
    pub(crate) fn line_reader(&self, opts: &ReadOptions) -> LineReader {
        LineReader::new(
            opts.max_input_bytes,
            self.max_record_bytes.saturating_add(1),
        )
    }

    /// Hands on the records of one piece as the format's reader does, numbered from 0 (the
    /// caller adds the records of the pieces before); returns how many records it held.
    pub(crate) fn read(&self, piece: &Piece, sink: &mut dyn FnMut(read::Piece)) -> u64 {
        let mut index = 0;
        match piece {
            // A block's last line lacks its `\n` only at the end of the input.
            Piece::Lines(ev) => {
                let (unwrap, bare, keep_raw) = (self.unwrap, self.bare, self.keep_raw);
                ndjson::on_lines(
                    *ev,
                    self.max_record_bytes,
                    &mut index,
                    true,
                    &mut |ev: RawEvent| match ev {
                        ev if bare => sink(read::Piece::Raw(ev)),
                        ev => sink(read::Piece::Item(ndjson::with_raw(ev, unwrap, keep_raw))),
                    },
                );
            }
            Piece::Broken { line, byte, error } => sink(read::Piece::Item(Err(ReadError::new(
                ErrorCode::from(error),
                error.to_string(),
                0,
                *line,
                *byte,
            )))),
        }
        index
    }
}

/// The choices of a conversion on several threads.
pub struct Parallel<'a> {
    /// Worker threads (1: none spawned; the same output).
    pub threads: usize,
    /// Writes only the events for which it is true (a filter).
    pub predicate: Option<&'a (dyn Fn(&Value) -> bool + Sync)>,
    /// Stops at the first bad record: nothing after it is written.
    pub stop_on_error: bool,
}

/// What a conversion on several threads did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Converted {
    /// Events read (written or filtered out).
    pub read: u64,
    /// Reading stopped at a bad record.
    pub stopped: bool,
}

/// Why a conversion on several threads ended early.
#[derive(Debug)]
pub enum Failure {
    /// Reading a stream failed.
    Read(io::Error),
    /// Writing (or making) the output failed.
    Write(io::Error),
}

/// Whether [`convert_lines`] can convert `from` into `writer`: a line format, and a writer
/// whose events are written alike wherever they fall (not a CSV whose first event decides
/// its columns).
pub fn converts<W: Write>(from: Format, writer: &Writer<W>) -> bool {
    LineFormat::of(from, &ReadOptions::default()).is_some() && writer.piece().is_some()
}

/// Converts the `from` input of `source` (plain or gzip) into `writer` on `how.threads`
/// threads; bad records go to `on_error` in input order, with the positions the
/// [`Converter`](super::Converter) gives them. Nothing is converted when [`converts`] is
/// false (an `InvalidInput` write failure). The writer is not finished.
pub fn convert_lines<W: Write>(
    source: Source,
    from: Format,
    opts: &ReadOptions,
    writer: &mut Writer<W>,
    how: &Parallel,
    on_error: &mut dyn FnMut(ReadError),
) -> Result<Converted, Failure> {
    let (Some(format), Some(template)) = (LineFormat::of(from, opts), writer.piece()) else {
        let why = format!("{from} input into this output cannot be converted in pieces");
        return Err(Failure::Write(io::Error::new(
            io::ErrorKind::InvalidInput,
            why,
        )));
    };
    // Each worker makes its pieces' writers from this one (the same options).
    let work = |piece: &Piece| {
        template
            .piece()
            .map(|w| convert_piece(piece, format, w, how))
    };
    let mut done = Converted {
        read: 0,
        stopped: false,
    };
    let mut base = 0;
    let mut failed = None;
    map_lines(
        source,
        format.line_reader(opts),
        how.threads,
        &work,
        &mut |_, piece| {
            let Some(piece) = piece else {
                failed = Some(io::Error::other("a piece writer could not be made"));
                return ControlFlow::Break(());
            };
            for mut e in piece.errors {
                e.index += base;
                on_error(e);
            }
            base += piece.records;
            done.read += piece.read;
            if let Err(e) = writer.append(piece.writer) {
                failed = Some(e);
                return ControlFlow::Break(());
            }
            if let Some(e) = piece.io {
                failed = Some(e);
                return ControlFlow::Break(());
            }
            done.stopped = piece.stopped;
            if piece.stopped {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    )
    .map_err(Failure::Read)?;
    match failed {
        Some(e) => Err(Failure::Write(e)),
        None => Ok(done),
    }
}

/// One piece converted on its own (on a worker thread).
struct PieceDone {
    writer: Writer<Vec<u8>>,
    /// Its bad records, numbered from 0 in the piece.
    errors: Vec<ReadError>,
    records: u64,
    read: u64,
    stopped: bool,
    io: Option<io::Error>,
}

fn convert_piece(
    piece: &Piece,
    format: LineFormat,
    mut writer: Writer<Vec<u8>>,
    how: &Parallel,
) -> PieceDone {
    let (mut errors, mut read, mut stopped) = (Vec::new(), 0, false);
    let mut predicate = how.predicate;
    let (records, io) = {
        let mut sink = Sink {
            writer: &mut writer,
            predicate: predicate
                .as_mut()
                .map(|p| p as &mut dyn FnMut(&Value) -> bool),
            stop_on_error: how.stop_on_error,
            stopped: &mut stopped,
            read: &mut read,
            errors: &mut errors,
            io: None,
        };
        let records = format.read(piece, &mut |p| match p {
            read::Piece::Raw(ev) => sink.raw(ev),
            read::Piece::Item(item) => sink.item(item),
        });
        (records, sink.io)
    };
    PieceDone {
        writer,
        errors,
        records,
        read,
        stopped,
        io,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Read;

    use proptest::prelude::*;
    use serde_json::Value;

    use super::{convert_lines, Converted, Parallel};
    use crate::convert::{
        Converter, ErrorCode, Format, ReadError, ReadOptions, WriteOptions, Writer,
    };
    use crate::parallel::Source;

    /// Lines of every kind a reader meets: events, bad JSON, not objects, blank, too long
    /// (over the 300-byte record limit of these tests), bad UTF-8, `\r\n`, a BOM.
    pub(crate) fn line() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            6 => (0u32..50, prop::sample::select(vec!["CREATE", "LOGIN", "DELETE"])).prop_map(|(n, action)| {
                format!(
                    r#"{{"auditEventId":"ev-{n}","auditEventTime":{},"auditAction":"{action}","auditModule":"CORE","auditEventAuthor":{{"principal":{{"type":"USER","identifier":"u{n}"}}}},"auditResource":{{"type":"SECRET","identifier":"s"}},"auditResourceScope":{{"accountIdentifier":"acct"}}{}}}"#,
                    1_763_719_530_000u64 + u64::from(n),
                    if n % 7 == 0 { r#","extra":{"k":[1,2]}"# } else { "" }
                )
                .into_bytes()
            }),
            1 => Just(br#"{"auditEventId":"only"}"#.to_vec()),
            1 => Just(br#"{"auditEventId":"cut","#.to_vec()),
            1 => Just(b"[1,2]".to_vec()),
            1 => Just(b"  ".to_vec()),
            1 => Just(b"".to_vec()),
            1 => Just(format!(r#"{{"auditEventId":"{}"}}"#, "x".repeat(400)).into_bytes()),
            1 => Just(b"{\"auditEventId\":\"\xff\"}".to_vec()),
            1 => Just(b"{\"auditEventId\":\"crlf\"}\r".to_vec()),
            1 => Just(b"\xEF\xBB\xBF{\"auditEventId\":\"bom\"}".to_vec()),
        ]
    }

    /// The input: lines joined by `\n` (with a final one or not), maybe gzip, maybe cut.
    pub(crate) fn input() -> impl Strategy<Value = Vec<u8>> {
        (prop::collection::vec(line(), 0..120), any::<bool>(), 0u8..4).prop_map(
            |(lines, final_newline, gzip)| {
                let mut bytes = lines.join(&b'\n');
                if final_newline {
                    bytes.push(b'\n');
                }
                match gzip {
                    0 => {
                        bytes = crate::convert::gzip::compress(&bytes);
                    }
                    1 => {
                        bytes = crate::convert::gzip::compress(&bytes);
                        bytes.truncate(bytes.len() * 3 / 4);
                    }
                    _ => {}
                }
                bytes
            },
        )
    }

    /// A stream that gives its bytes in reads of the sizes given, in turn (small reads cut
    /// the input into many blocks).
    pub(crate) struct Chunked<'a> {
        pub bytes: &'a [u8],
        pub sizes: Vec<usize>,
        pub turn: usize,
    }

    impl Read for Chunked<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let size = self.sizes[self.turn % self.sizes.len()];
            self.turn += 1;
            let n = size.min(buf.len()).min(self.bytes.len());
            let (head, rest) = self.bytes.split_at(n);
            buf[..n].copy_from_slice(head);
            self.bytes = rest;
            Ok(n)
        }
    }

    pub(crate) fn read_options() -> ReadOptions {
        ReadOptions {
            max_record_bytes: 300,
            keep_raw: false,
            ..ReadOptions::default()
        }
    }

    fn write_options(to: Format) -> WriteOptions {
        let columns = (to == Format::Csv).then(|| {
            ["auditEventId", "auditAction", "extra.k", "(rest)"]
                .map(String::from)
                .to_vec()
        });
        WriteOptions {
            columns,
            ..WriteOptions::default()
        }
    }

    fn is_create(v: &Value) -> bool {
        v["auditAction"] == "CREATE"
    }

    type Outcome = (Vec<u8>, Vec<ReadError>, Converted);

    /// The reference: the push-based converter, fed in chunks of 1000 bytes.
    fn sequential(input: &[u8], to: Format, filter: bool, stop: bool) -> Outcome {
        let writer = Writer::new(to, write_options(to), Vec::new());
        let mut c = Converter::new(Some(Format::Ndjson), None, read_options(), writer)
            .unwrap()
            .stop_on_error(stop);
        if filter {
            c = c.with_predicate(Box::new(is_create));
        }
        let mut errors = Vec::new();
        for chunk in input.chunks(1000) {
            c.push(chunk, &mut errors).unwrap();
            if c.stopped() {
                break;
            }
        }
        // Ended first: the last record is read at the end of the input.
        c.end(&mut errors).unwrap();
        let done = Converted {
            read: c.events_read(),
            stopped: c.stopped(),
        };
        (std::mem::take(c.writer_mut().get_mut()), errors, done)
    }

    fn parallel(source: Source, to: Format, filter: bool, stop: bool, threads: usize) -> Outcome {
        let mut writer = Writer::new(to, write_options(to), Vec::new());
        let mut errors = Vec::new();
        let how = Parallel {
            threads,
            predicate: filter.then_some(&is_create as &(dyn Fn(&Value) -> bool + Sync)),
            stop_on_error: stop,
        };
        let opts = read_options();
        let done = convert_lines(source, Format::Ndjson, &opts, &mut writer, &how, &mut |e| {
            errors.push(e)
        })
        .unwrap();
        (writer.finish().unwrap(), errors, done)
    }

    /// Regression (found by the property below): a gzip stream found cut short only at the
    /// end of the input was reported after its unterminated last line on the parallel path,
    /// before it by the converter. Both now report the break first.
    #[test]
    fn a_stream_cut_short_is_reported_before_its_last_line() {
        let mut input = crate::convert::gzip::compress(
            b"{\"auditEventId\":\"a\",\"auditAction\":\"CREATE\"}\n{\"auditEventId\":\"unterminated",
        );
        input.truncate(input.len() - 6);
        let want = sequential(&input, Format::Ndjson, false, false);
        let codes: Vec<_> = want.1.iter().map(|e| e.code).collect();
        assert_eq!(
            codes,
            [ErrorCode::Truncated, ErrorCode::Truncated],
            "{:?}",
            want.1
        );
        assert!(
            want.1[0].message.contains("gzip"),
            "the break first: {:?}",
            want.1
        );
        for threads in [1, 3] {
            assert_eq!(
                parallel(Source::Bytes(&input), Format::Ndjson, false, false, threads),
                want
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Any number of threads and any cutting into blocks give the converter's output,
        /// errors (codes, messages, record numbers, lines, bytes) and counts, in every
        /// output format, with a filter or not, stopping at the first error or not.
        #[test]
        fn the_converters_output_for_any_threads_and_blocks(
            input in input(),
            to in prop::sample::select(vec![Format::Ndjson, Format::Json, Format::Csv, Format::SplunkHec, Format::Sumo, Format::Ocsf]),
            filter: bool,
            stop: bool,
            threads in 2usize..5,
            sizes in prop::collection::vec(1usize..700, 1..6),
        ) {
            let want = sequential(&input, to, filter, stop);
            prop_assert_eq!(&parallel(Source::Bytes(&input), to, filter, stop, 1), &want);
            prop_assert_eq!(&parallel(Source::Bytes(&input), to, filter, stop, threads), &want);
            let mut stream = Chunked { bytes: &input, sizes: sizes.clone(), turn: 0 };
            prop_assert_eq!(&parallel(Source::Read(&mut stream), to, filter, stop, threads), &want);
            let mut stream = Chunked { bytes: &input, sizes, turn: 0 };
            prop_assert_eq!(&parallel(Source::Read(&mut stream), to, filter, stop, 1), &want);
        }
    }
}
