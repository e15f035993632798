//! Validation of line input (NDJSON, Sumo) on every core: the blocks of lines that
//! [`crate::parallel`] cuts are each validated on their own, by the [`Validator`]'s code,
//! and their reports joined in input order. The report, its positions and the order of its
//! entries are the same for any number of threads (native only).
//!
//! [`Validator`]: super::Validator

use std::io;
use std::ops::ControlFlow;

use super::validator::validate_pieces;
use super::BatchValidator;
use crate::convert::parallel::LineFormat;
use crate::convert::{Format, ReadOptions};
use crate::parallel::{map_lines, Piece, Source};

/// Records read by [`validate_lines`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validated {
    /// Records: events and records that are not events.
    pub records: u64,
    /// Records that were JSON objects (valid events or not).
    pub objects: u64,
}

/// Whether [`validate_lines`] can validate `from`: one record per line.
pub fn validates(from: Format) -> bool {
    LineFormat::of(from, &ReadOptions::default()).is_some()
}

/// Validates the `from` input of `source` (plain or gzip) into `batch` on `threads`
/// threads. `after` is called once each block's entries are in `batch` (in input order;
/// it can take them to stream them out, or stop). Nothing is read when [`validates`] is
/// false (an `InvalidInput` error). An I/O error reading a stream ends it.
pub fn validate_lines(
    source: Source,
    from: Format,
    opts: &ReadOptions,
    batch: &mut BatchValidator,
    threads: usize,
    after: &mut dyn FnMut(&mut BatchValidator) -> ControlFlow<()>,
) -> io::Result<Validated> {
    let Some(format) = LineFormat::of(from, opts) else {
        let why = format!("{from} input cannot be validated in blocks of lines");
        return Err(io::Error::new(io::ErrorKind::InvalidInput, why));
    };
    let options = batch.options().clone();
    let work = |piece: &Piece| {
        let mut part = BatchValidator::new(options.clone());
        let mut held = 0;
        let (records, objects) = validate_pieces(&mut part, |sink| {
            held = format.read(piece, sink);
        });
        (part, held, records, objects)
    };
    let mut done = Validated {
        records: 0,
        objects: 0,
    };
    let mut base = 0;
    map_lines(
        source,
        format.line_reader(opts),
        threads,
        &work,
        &mut |_, (part, held, records, objects)| {
            batch.append(part, base);
            base += held;
            done.records += records;
            done.objects += objects;
            after(batch)
        },
    )?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use std::ops::ControlFlow;

    use proptest::prelude::*;

    use super::{validate_lines, Validated};
    use crate::convert::parallel::tests::{input, read_options, Chunked};
    use crate::convert::{Format, Reader};
    use crate::parallel::Source;
    use crate::schema::{BatchValidator, Options, Report, Validator};

    /// The reference: the push-based validator, fed in chunks of 1000 bytes.
    fn sequential(input: &[u8], options: &Options) -> (Report, Validated) {
        let reader = Reader::new(Format::Ndjson, read_options()).unwrap();
        let mut v = Validator::new(reader, options.clone());
        for chunk in input.chunks(1000) {
            v.push(chunk, &mut |_| {});
        }
        v.finish(&mut |_| {});
        let counts = Validated {
            records: v.records(),
            objects: v.objects(),
        };
        (v.into_report(), counts)
    }

    /// The report of the parallel path, its entries taken after each block (as the CLI
    /// streams them) or left in the report.
    fn parallel(
        source: Source,
        options: &Options,
        threads: usize,
        take: bool,
    ) -> (Report, Validated) {
        let mut batch = BatchValidator::new(options.clone());
        let mut taken = Report::default();
        let counts = validate_lines(
            source,
            Format::Ndjson,
            &read_options(),
            &mut batch,
            threads,
            &mut |b| {
                if take {
                    let (rejected, warnings) = b.take_entries();
                    taken.rejected.extend(rejected);
                    taken.warnings.extend(warnings);
                }
                ControlFlow::Continue(())
            },
        )
        .unwrap();
        let mut report = batch.finish();
        if take {
            report.rejected = taken.rejected;
            report.warnings = taken.warnings;
        }
        (report, counts)
    }

    /// Regression (found by the property below): a gzip stream found cut short only at the
    /// end of the input was reported after its unterminated last line on the parallel path,
    /// before it by the validator.
    #[test]
    fn a_stream_cut_short_is_reported_before_its_last_line() {
        let mut input = crate::convert::gzip::compress(
            b"{\"auditEventId\":\"a\"}\n{\"auditEventId\":\"unterminated",
        );
        input.truncate(input.len() - 6);
        let options = Options::default();
        let want = sequential(&input, &options);
        // The first event lacks its fields; then the break, then the unterminated line.
        let messages: Vec<&str> = want.0.rejected[1..]
            .iter()
            .flat_map(|r| r.errors.iter().map(|e| e.message.as_str()))
            .collect();
        assert_eq!(messages.len(), 2, "{:?}", want.0);
        assert!(
            messages[0].contains("gzip"),
            "the break first: {messages:?}"
        );
        for threads in [1, 3] {
            assert_eq!(
                parallel(Source::Bytes(&input), &options, threads, false),
                want
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Any number of threads and any cutting into blocks give the validator's report
        /// (every rejection and warning with its record number and line, in input order)
        /// and counts.
        #[test]
        fn the_validators_report_for_any_threads_and_blocks(
            input in input(),
            strict: bool,
            vocabulary: bool,
            account: bool,
            threads in 2usize..5,
            sizes in prop::collection::vec(1usize..700, 1..6),
            take: bool,
        ) {
            let options = Options {
                strict,
                vocabulary,
                account: account.then(|| "acct".to_string()),
                ..Options::default()
            };
            let want = sequential(&input, &options);
            prop_assert_eq!(&parallel(Source::Bytes(&input), &options, 1, take), &want);
            prop_assert_eq!(&parallel(Source::Bytes(&input), &options, threads, take), &want);
            let mut stream = Chunked { bytes: &input, sizes: sizes.clone(), turn: 0 };
            prop_assert_eq!(&parallel(Source::Read(&mut stream), &options, threads, take), &want);
            let mut stream = Chunked { bytes: &input, sizes, turn: 0 };
            prop_assert_eq!(&parallel(Source::Read(&mut stream), &options, 1, take), &want);
        }
    }
}
