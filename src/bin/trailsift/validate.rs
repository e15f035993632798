//! `trailsift validate`: checks events against the schema and prints a report.
//!
//! Exit codes: 0 every event valid, 1 some rejected, 2 usage or I/O error.

use std::io::{self, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;

use trailsift::convert::{Format, ReadOptions, Reader};
use trailsift::schema::{parallel, BatchValidator, Options, Rejected, Validator, Warning};

use crate::{Input, EXIT_BAD_RECORDS, EXIT_USAGE};

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
    /// Threads that validate blocks of lines (NDJSON and Sumo input) [default: the cores
    /// available]; the report is the same for any number.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    /// Events in any readable format (JSON array or object, NDJSON, CSV, Splunk HEC, Sumo),
    /// plain or gzip; `-` reads stdin.
    file: PathBuf,
}

pub fn run(args: Args) -> ExitCode {
    let path = args.file.to_string_lossy().into_owned();
    let name = (path != "-").then_some(path.as_str());
    let mut input = match Input::open(&path) {
        Ok(input) => input,
        Err(e) => {
            eprintln!("trailsift validate: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let hint = name.and_then(|n| Format::from_file_name(n).0);
    let from = match input.detect_format(hint) {
        Ok(from) => from,
        Err(e) => {
            eprintln!("trailsift validate: cannot read {path}: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let options = Options {
        strict: args.strict,
        vocabulary: args.vocabulary,
        ..Options::default()
    };
    let read = ReadOptions {
        keep_raw: false,
        ..ReadOptions::default()
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    // The human report streams; the JSON one is written at the end.
    let mut written = Ok(());
    let mut stream = |batch: &mut BatchValidator| {
        if !args.json && written.is_ok() {
            let (rejected, warnings) = batch.take_entries();
            written = print_entries(&mut out, &rejected, &warnings);
        }
    };
    let (batch, read_result) = if parallel::validates(from) {
        let mut batch = BatchValidator::new(options);
        let threads = crate::threads(args.threads.map(usize::from));
        let source = input.source();
        let result = parallel::validate_lines(source, from, &read, &mut batch, threads, &mut |b| {
            stream(b);
            ControlFlow::Continue(())
        });
        (batch, result.map(|_| ()))
    } else {
        let mut validator = Validator::new(Reader::detecting(name, read), options);
        let result = input.read_chunks(1 << 16, &mut |chunk| {
            validator.push(chunk, &mut |_| {});
            stream(validator.batch());
            Ok(())
        });
        validator.finish(&mut |_| {});
        (std::mem::take(validator.batch()), result)
    };
    if let Err(e) = read_result {
        eprintln!("trailsift validate: cannot read {path}: {e}");
        return ExitCode::from(EXIT_USAGE);
    }
    let (valid, rejected, warned) = (
        batch.valid_count(),
        batch.rejected_count(),
        batch.warning_count(),
    );
    let report = batch.finish();
    let written = written.and_then(|()| {
        if args.json {
            serde_json::to_writer(&mut out, &report).map_err(io::Error::from)?;
            writeln!(out)
        } else {
            print_entries(&mut out, &report.rejected, &report.warnings)?;
            print_summary(&mut out, valid, rejected, warned)
        }
    });
    if let Err(e) = written.and_then(|()| out.flush()) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("trailsift validate: cannot write: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    }
    if rejected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_BAD_RECORDS)
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
