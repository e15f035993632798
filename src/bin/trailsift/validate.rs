//! `trailsift validate`: checks events against the schema and prints a report.
//!
//! Exit codes: 0 every event valid, 1 some rejected, 2 usage or I/O error.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use flate2::read::MultiGzDecoder;
use trailsift::convert::{is_gzip, ErrorCode, Format, ReadOptions, Reader, Records};
use trailsift::schema::{BatchValidator, Options, Rejected, Warning};

#[derive(clap::Args)]
pub struct Args {
    /// Reject fields the schema does not name.
    #[arg(long)]
    strict: bool,
    /// Warn about modules, resource types and actions outside the known vocabulary.
    #[arg(long)]
    vocabulary: bool,
    /// Print the machine-readable report (JSON) instead of the human one.
    #[arg(long)]
    json: bool,
    /// A JSON array, one JSON object or NDJSON, plain or gzip; `-` reads stdin.
    file: PathBuf,
}

/// One record of the input: an event or a record that could not be read.
enum Item {
    Event {
        index: u64,
        line: u64,
        value: serde_json::Value,
    },
    /// An event found valid without being parsed, with its vocabulary warnings.
    Valid {
        index: u64,
        line: u64,
        warnings: Vec<trailsift::schema::Violation>,
    },
    Bad {
        index: u64,
        line: u64,
        code: String,
        message: String,
    },
}

pub fn run(args: Args) -> ExitCode {
    let input: Box<dyn Read> = if args.file.as_os_str() == "-" {
        Box::new(io::stdin().lock())
    } else {
        match File::open(&args.file) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!(
                    "trailsift validate: cannot open {}: {e}",
                    args.file.display()
                );
                return ExitCode::from(2);
            }
        }
    };
    let options = Options {
        strict: args.strict,
        vocabulary: args.vocabulary,
        ..Options::default()
    };
    let mut batch = BatchValidator::new(options.clone());
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut io_error = None;
    let name = args.file.to_string_lossy().into_owned();
    let result = read_items(input, &name, &options, &mut |item| {
        match item {
            Item::Event { index, line, value } => {
                batch.push(index, line, &value);
            }
            Item::Valid {
                index,
                line,
                warnings,
            } => batch.push_valid(index, line, warnings),
            Item::Bad {
                index,
                line,
                code,
                message,
            } => batch.push_record_error(index, line, &code, message),
        }
        // The human report streams; the JSON one is written at the end.
        if !args.json && io_error.is_none() {
            let (rejected, warnings) = batch.take_entries();
            if let Err(e) = print_entries(&mut out, &rejected, &warnings) {
                io_error = Some(e);
            }
        }
    });
    if let Err(e) = result {
        eprintln!("trailsift validate: cannot read {name}: {e}");
        return ExitCode::from(2);
    }
    let (valid, rejected, warned) = (
        batch.valid_count(),
        batch.rejected_count(),
        batch.warning_count(),
    );
    let report = batch.finish();
    let written = if args.json {
        serde_json::to_writer(&mut out, &report)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        io_error.map_or(Ok(()), Err).and_then(|()| {
            print_entries(&mut out, &report.rejected, &report.warnings)?;
            print_summary(&mut out, valid, rejected, warned)
        })
    };
    if let Err(e) = written.and_then(|()| out.flush()) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("trailsift validate: cannot write: {e}");
            return ExitCode::from(2);
        }
    }
    if rejected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn print_entries(
    out: &mut impl Write,
    rejected: &[Rejected],
    warnings: &[Warning],
) -> io::Result<()> {
    for w in warnings {
        writeln!(
            out,
            "line {}: warning: {}{} [{}]",
            w.line,
            path_prefix(&w.path),
            w.message,
            w.code
        )?;
    }
    for r in rejected {
        let id =
            r.id.as_deref()
                .map(|id| format!(" (id {id:?})"))
                .unwrap_or_default();
        for e in &r.errors {
            writeln!(
                out,
                "line {}{id}: {}{} [{}]",
                r.line,
                path_prefix(&e.path),
                e.message,
                e.code
            )?;
        }
    }
    Ok(())
}

/// `path: `, or nothing for the event itself.
fn path_prefix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}

fn print_summary(out: &mut impl Write, valid: u64, rejected: u64, warned: u64) -> io::Result<()> {
    let plural = |n: u64, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    writeln!(
        out,
        "{}: {} valid, {} rejected, {}",
        plural(valid + rejected, "event"),
        valid,
        rejected,
        plural(warned, "warning")
    )
}

/// Reads the input as a JSON array, one object or NDJSON, plain or gzip (by magic bytes),
/// with the streaming readers of `trailsift::convert`, and hands each record with its
/// index and start line to `sink`. Only an I/O failure is an `Err`.
fn read_items(
    input: Box<dyn Read>,
    name: &str,
    options: &Options,
    sink: &mut dyn FnMut(Item),
) -> io::Result<()> {
    let mut input = input;
    let head = read_head(&mut input, HEAD)?;
    let plain: Box<dyn Read> = if is_gzip(&head) {
        Box::new(MultiGzDecoder::new(io::Cursor::new(head).chain(input)))
    } else {
        Box::new(io::Cursor::new(head).chain(input))
    };
    let mut plain = plain;
    let head = read_head(&mut plain, HEAD)?;
    let format = content_format(name, &head);
    let opts = ReadOptions {
        keep_raw: false,
        check: Some(options.clone()),
        ..ReadOptions::default()
    };
    let reader = Reader::new(format, opts).map_err(|e| io::Error::other(e.to_string()))?;
    for item in Records::new(reader, io::Cursor::new(head).chain(plain)) {
        match item {
            Ok(record) => sink(match record.checked {
                Some(warnings) => Item::Valid {
                    index: record.index,
                    line: record.line,
                    warnings,
                },
                None => Item::Event {
                    index: record.index,
                    line: record.line,
                    value: record.value,
                },
            }),
            Err(e) if e.code == ErrorCode::Io => return Err(io::Error::other(e.message)),
            Err(e) => sink(Item::Bad {
                index: e.index,
                line: e.line,
                code: e.code.as_str().to_string(),
                message: e.message,
            }),
        }
    }
    Ok(())
}

/// Bytes looked at to tell the format.
const HEAD: usize = 64 * 1024;

/// Reads up to `limit` bytes (fewer only at the end of the input).
fn read_head(input: &mut dyn Read, limit: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(limit);
    input.take(limit as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// The format to read: JSON (an array or one object) or NDJSON, from the file name when
/// it tells, else from the content. Content that looks like neither is read as NDJSON so
/// that every bad line is reported; CSV only when the name says so.
fn content_format(name: &str, head: &[u8]) -> Format {
    if let (Some(format), _) = Format::from_file_name(name) {
        return format;
    }
    match Format::detect(head, head.len() < HEAD) {
        Some(f @ (Format::Json | Format::Ndjson | Format::SplunkHec | Format::Sumo)) => f,
        _ => {
            let first = head.iter().find(|b| !b.is_ascii_whitespace());
            if first == Some(&b'[') {
                Format::Json
            } else {
                Format::Ndjson
            }
        }
    }
}
