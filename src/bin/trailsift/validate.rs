//! `trailsift validate`: checks events against the schema and prints a report.
//!
//! Exit codes: 0 every event valid, 1 some rejected, 2 usage or I/O error.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

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
    let mut batch = BatchValidator::new(options);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut io_error = None;
    let name = args.file.to_string_lossy().into_owned();
    let result = read_items(input, &name, &mut |item| {
        match item {
            Item::Event { index, line, value } => {
                batch.push(index, line, &value);
            }
            Item::Bad {
                index,
                line,
                code,
                message,
            } => batch.push_rejected(
                index,
                line,
                None,
                vec![trailsift::schema::Violation {
                    path: String::new(),
                    code,
                    message,
                }],
            ),
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
        let path = if w.path.is_empty() { "event" } else { &w.path };
        writeln!(
            out,
            "line {}: warning: {path}: {} [{}]",
            w.line, w.message, w.code
        )?;
    }
    for r in rejected {
        let id =
            r.id.as_deref()
                .map(|id| format!(" (id {id:?})"))
                .unwrap_or_default();
        for e in &r.errors {
            let path = if e.path.is_empty() { "event" } else { &e.path };
            writeln!(
                out,
                "line {}{id}: {path}: {} [{}]",
                r.line, e.message, e.code
            )?;
        }
    }
    Ok(())
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

/// Reads the input as a JSON array, one object or NDJSON, plain or gzip (by magic
/// bytes), and hands each record with its index and start line to `sink`.
fn read_items(mut input: Box<dyn Read>, _name: &str, sink: &mut dyn FnMut(Item)) -> io::Result<()> {
    // Interim reader: reads the whole input. Bad NDJSON lines are reported and skipped.
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes)?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut plain = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_end(&mut plain)?;
        bytes = plain;
    }
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut pos = skip_ws(text, 0);
    let mut index = 0u64;
    let mut line = 1 + count_lines(&text[..pos]);
    let array = text.get(pos) == Some(&b'[');
    if array {
        let next = skip_ws(text, pos + 1);
        line += count_lines(&text[pos..next]);
        pos = next;
    }
    while pos < text.len() {
        if array && text[pos] == b']' {
            break;
        }
        let mut stream =
            serde_json::Deserializer::from_slice(&text[pos..]).into_iter::<serde_json::Value>();
        match stream.next() {
            Some(Ok(value)) => {
                let end = pos + stream.byte_offset();
                sink(Item::Event { index, line, value });
                line += count_lines(&text[pos..end]);
                pos = end;
            }
            Some(Err(e)) => {
                sink(Item::Bad {
                    index,
                    line,
                    code: "bad_json".to_string(),
                    message: e.to_string(),
                });
                if array {
                    return Ok(());
                }
                let next = memchr::memchr(b'\n', &text[pos..]).map_or(text.len(), |i| pos + i + 1);
                line += count_lines(&text[pos..next]);
                pos = next;
            }
            None => break,
        }
        index += 1;
        let next = skip_ws(text, pos);
        line += count_lines(&text[pos..next]);
        pos = next;
        if array && text.get(pos) == Some(&b',') {
            pos += 1;
            let next = skip_ws(text, pos);
            line += count_lines(&text[pos..next]);
            pos = next;
        }
    }
    Ok(())
}

fn skip_ws(text: &[u8], mut pos: usize) -> usize {
    while pos < text.len() && text[pos].is_ascii_whitespace() {
        pos += 1;
    }
    pos
}

fn count_lines(text: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', text).count() as u64
}
