//! `trailsift filter`: stream the NDJSON lines that match a filter, unchanged.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use trailsift::convert::node::Node;
use trailsift::convert::{Format, WriteOptions, Writer};
use trailsift::filter::{Filter, FilterError, Ir};
use trailsift::input::{LineEvent, LineReader};
use trailsift::transform::BoundTransform;

use crate::{load_transform, now_ms, open_input, read_chunks, EXIT_BAD_RECORDS, EXIT_USAGE};

/// Bad lines reported one by one before only a count is kept.
const MAX_PRINTED_ERRORS: u64 = 10;

#[derive(clap::Args)]
pub struct Args {
    /// Filter query in the text syntax (empty matches everything).
    #[arg(short, long, default_value = "", allow_hyphen_values = true)]
    query: String,
    /// A structured filter (form JSON) file, ANDed with the query.
    #[arg(long, value_name = "FILE")]
    structured: Option<String>,
    /// A Logpush filter JSON file, ANDed with the query.
    #[arg(long, value_name = "FILE")]
    logpush: Option<String>,
    /// The moment relative times (now-7d) refer to; any time form. Default: the clock.
    #[arg(long, value_name = "TIME", value_parser = crate::time_arg)]
    now: Option<i64>,
    /// Print only the number of matching events.
    #[arg(long)]
    count: bool,
    /// Print, for every event, which terms of the filter matched (JSON lines).
    #[arg(long)]
    explain: bool,
    /// Print the filter IR as JSON and exit.
    #[arg(long)]
    print_ir: bool,
    /// Print the filter as canonical query text and exit.
    #[arg(long)]
    print_query: bool,
    /// Print the filter as a Logpush filter and exit.
    #[arg(long)]
    to_logpush: bool,
    /// Shape each matching event before it is written: a transform JSON file (formats.md
    /// §4). The filter runs on the event as read; the output is then the transformed
    /// events as NDJSON rather than the lines unchanged.
    #[arg(long, value_name = "FILE")]
    transform: Option<String>,
    /// The key of the transform's `pseudonymize`: the file's bytes, exactly.
    #[arg(long, value_name = "FILE")]
    pseudonymize_key_file: Option<String>,
    /// Longest line read, in bytes; a longer line is reported and skipped.
    #[arg(long, default_value_t = trailsift::input::MAX_LINE_BYTES, value_name = "BYTES")]
    max_line_bytes: usize,
    /// NDJSON input, plain or gzip; `-` is standard input.
    #[arg(default_value = "-")]
    file: String,
}

pub fn run(args: Args) -> ExitCode {
    let filter = match build(&args) {
        Ok(f) => f,
        Err(msg) => {
            eprint!("{msg}");
            return ExitCode::from(2);
        }
    };
    if args.print_ir || args.print_query || args.to_logpush {
        if args.print_ir {
            println!("{}", filter.to_ir_json());
        }
        if args.print_query {
            println!("{}", filter.to_query());
        }
        if args.to_logpush {
            match filter.to_logpush() {
                Ok(s) => println!("{s}"),
                Err(e) => {
                    eprintln!("error[{}]: {}", e.code, e.message);
                    return ExitCode::from(2);
                }
            }
        }
        return ExitCode::SUCCESS;
    }
    let now_ms = args.now.unwrap_or_else(now_ms);
    let transform = match load_transform(
        args.transform.as_deref(),
        args.pseudonymize_key_file.as_deref(),
    ) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("trailsift filter: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let mut input = match open_input(&args.file) {
        Ok(input) => input,
        Err(e) => {
            eprintln!("trailsift filter: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match stream(&filter, &args, now_ms, transform, &mut input) {
        Ok(bad) if bad > 0 => {
            if bad > MAX_PRINTED_ERRORS {
                eprintln!(
                    "trailsift filter: {} more bad lines not shown",
                    bad - MAX_PRINTED_ERRORS
                );
            }
            eprintln!("trailsift filter: {bad} line(s) could not be read and were skipped");
            ExitCode::from(EXIT_BAD_RECORDS)
        }
        Ok(_) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trailsift filter: {e}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// Compiles the query, structured and Logpush filters given and ANDs them.
fn build(args: &Args) -> Result<Filter, String> {
    let mut parts: Vec<Ir> = Vec::new();
    let query = Filter::parse(&args.query).map_err(|e| e.render(&args.query))?;
    parts.push(query.ir().clone());
    let read = |path: &str| {
        std::fs::read_to_string(path).map_err(|e| format!("error: cannot read {path}: {e}\n"))
    };
    let plain = |e: FilterError| format!("error[{}]: {}\n", e.code, e.message);
    if let Some(path) = &args.structured {
        parts.push(
            Filter::from_structured(&read(path)?)
                .map_err(plain)?
                .ir()
                .clone(),
        );
    }
    if let Some(path) = &args.logpush {
        parts.push(
            Filter::from_logpush(&read(path)?)
                .map_err(plain)?
                .ir()
                .clone(),
        );
    }
    Filter::from_ir(Ir::and(parts)).map_err(plain)
}

/// Reads the input in chunks and decides on each block of whole lines at once (the
/// filter's searches run over the block); returns the number of bad lines.
fn stream(
    filter: &Filter,
    args: &Args,
    now_ms: i64,
    transform: Option<BoundTransform>,
    input: &mut dyn io::Read,
) -> io::Result<u64> {
    let stdout = io::stdout();
    let mut sift = Sift {
        filter,
        args,
        now_ms,
        out: BufWriter::with_capacity(1 << 16, stdout.lock()),
        transformed: transform.map(|t| {
            let opts = WriteOptions {
                transform: Some(t),
                ..WriteOptions::default()
            };
            Writer::new(Format::Ndjson, opts, Vec::new())
        }),
        count: 0,
        bad: 0,
        written: Ok(()),
    };
    let mut lines = LineReader::new(u64::MAX, args.max_line_bytes);
    read_chunks(input, 1 << 20, &mut |chunk| {
        if let Err(e) = lines.push(chunk, &mut |ev| sift.block(ev)) {
            sift.bad(lines.position().0, &e.to_string());
        }
        std::mem::replace(&mut sift.written, Ok(()))
    })?;
    if let Err(e) = lines.finish(&mut |ev| sift.block(ev)) {
        sift.bad(lines.position().0, &e.to_string());
    }
    std::mem::replace(&mut sift.written, Ok(()))?;
    if args.count {
        writeln!(sift.out, "{}", sift.count)?;
    }
    sift.out.flush()?;
    Ok(sift.bad)
}

/// The filter at work on the blocks of one input.
struct Sift<'a, W: Write> {
    filter: &'a Filter,
    args: &'a Args,
    now_ms: i64,
    out: W,
    /// With a transform: the NDJSON writer that applies it (drained into `out`).
    transformed: Option<Writer<Vec<u8>>>,
    count: u64,
    bad: u64,
    /// The first write error (the rest of the input is still read, not written).
    written: io::Result<()>,
}

impl<W: Write> Sift<'_, W> {
    fn bad(&mut self, line: u64, message: &str) {
        self.bad += 1;
        if self.bad <= MAX_PRINTED_ERRORS {
            eprintln!("line {line}: {message}");
        }
    }

    fn write(&mut self, f: impl FnOnce(&mut W) -> io::Result<()>) {
        if self.written.is_ok() {
            self.written = f(&mut self.out);
        }
    }

    fn block(&mut self, ev: LineEvent) {
        let (block, first) = match ev {
            LineEvent::TooLong { line, .. } => {
                let message = format!("longer than {} bytes", self.args.max_line_bytes);
                return self.bad(line, &message);
            }
            LineEvent::Block { bytes, line, .. } => (bytes, line),
        };
        // The number of the line at a byte of the block, counted only when needed.
        let mut counted = (0usize, first);
        let mut line_at = |at: usize| {
            counted.1 += memchr::memchr_iter(b'\n', &block[counted.0..at]).count() as u64;
            counted.0 = at;
            counted.1
        };
        if self.args.explain {
            // Every line is explained, matching or not.
            for (start, body) in line_ranges(block) {
                if body.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                match serde_json::from_slice::<serde_json::Value>(body) {
                    Ok(v) => {
                        let ex = self.filter.explain(&v, self.now_ms);
                        let mut obj = serde_json::to_value(&ex).unwrap_or_default();
                        if let Some(m) = obj.as_object_mut() {
                            m.insert("line".into(), line_at(start).into());
                        }
                        self.write(|out| writeln!(out, "{obj}"));
                    }
                    Err(e) => self.bad(line_at(start), &format!("invalid JSON: {e}")),
                }
            }
            return;
        }
        let (filter, now_ms, count_only) = (self.filter, self.now_ms, self.args.count);
        filter.decide_lines(block, now_ms, &mut |r, answer| match answer {
            Ok(true) if count_only => self.count += 1,
            Ok(true) => {
                let line = &block[r.clone()];
                match self.transformed.as_mut() {
                    None => {
                        self.count += 1;
                        self.write(|out| out.write_all(line).and_then(|()| out.write_all(b"\n")));
                    }
                    Some(writer) => {
                        // A line that matched was read as JSON; read it again as a node.
                        let node = std::str::from_utf8(line)
                            .map_err(|e| e.to_string())
                            .and_then(|t| Node::parse(t).map_err(|e| e.to_string()));
                        match node {
                            Ok(node) => {
                                self.count += 1;
                                let written = writer.write_owned_node(node);
                                let bytes = std::mem::take(writer.get_mut());
                                self.write(|out| written.and_then(|()| out.write_all(&bytes)));
                            }
                            Err(e) => self.bad(line_at(r.start), &e),
                        }
                    }
                }
            }
            Ok(false) => {}
            Err(e) => self.bad(line_at(r.start), &e.message),
        });
    }
}

/// The lines of a block with their start offsets (line endings left out).
fn line_ranges(block: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut start = 0;
    block.split_inclusive(|b| *b == b'\n').map(move |line| {
        let at = start;
        start += line.len();
        (at, line.strip_suffix(b"\n").unwrap_or(line))
    })
}
