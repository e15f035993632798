//! `trailsift filter`: stream the NDJSON lines that match a filter, unchanged.

use std::io::{self, BufWriter, IoSlice, Write};
use std::ops::{ControlFlow, Range};
use std::process::ExitCode;

use trailsift::convert::node::Node;
use trailsift::convert::{Format, WriteOptions, Writer};
use trailsift::filter::{Filter, FilterError, Ir};
use trailsift::input::{LineCounter, LineEvent, LineReader};
use trailsift::parallel::{map_lines, Piece, Source};
use trailsift::transform::BoundTransform;

use crate::{load_transform, now_ms, Input, EXIT_BAD_RECORDS, EXIT_USAGE};

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
    /// Threads that filter the input's blocks [default: the cores available]; the output
    /// is the same for any number.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
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
    let mut input = match Input::open(&args.file) {
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

/// Cuts the input into blocks of whole lines, decides on each block at once (the filter's
/// searches run over the block) on every thread asked for, and writes the matching lines
/// in input order; returns the number of bad lines.
fn stream(
    filter: &Filter,
    args: &Args,
    now_ms: i64,
    transform: Option<BoundTransform>,
    input: &mut Input,
) -> io::Result<u64> {
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let (mut count, mut bad) = (0u64, 0u64);
    let mut written = Ok(());
    let threads = crate::threads(args.threads.map(usize::from));
    let mut lines = LineReader::new(u64::MAX, args.max_line_bytes);
    let source = input.source();
    // A plain input in memory is not counted line by line as it is cut: the number of a
    // bad line is counted in the input when it is reported. `--explain` numbers every line.
    let mut numbers = match &source {
        Source::Bytes(all) if !trailsift::convert::is_gzip(all) && !args.explain => {
            lines = lines.uncounted();
            Some(LineCounter::new(all))
        }
        _ => None,
    };
    let sift = Sift {
        filter,
        args,
        now_ms,
        transform,
    };
    let work = |piece: &Piece| sift.piece(piece);
    map_lines(source, lines, threads, &work, &mut |piece, sifted| {
        for (at, message) in &sifted.bad {
            bad += 1;
            if bad <= MAX_PRINTED_ERRORS {
                let line = match &mut numbers {
                    Some(numbers) => numbers.line_at(*at),
                    None => line_in(&piece, *at),
                };
                eprintln!("line {line}: {message}");
            }
        }
        count += sifted.count;
        if !args.count {
            written = write_lines(&mut out, &piece, sifted);
        }
        match written {
            Ok(()) => ControlFlow::Continue(()),
            Err(_) => ControlFlow::Break(()),
        }
    })?;
    written?;
    if args.count {
        writeln!(out, "{count}")?;
    }
    out.flush()?;
    Ok(bad)
}

/// The filter and what to make of the lines it keeps; shared by the worker threads.
struct Sift<'a> {
    filter: &'a Filter,
    args: &'a Args,
    now_ms: i64,
    /// Shapes each matching event, written as NDJSON rather than the line unchanged.
    transform: Option<BoundTransform>,
}

/// What the filter made of one piece of the input.
struct Sifted {
    /// The matching events.
    count: u64,
    /// The matching lines, written unchanged (their line endings left out).
    matched: Vec<Range<usize>>,
    /// Output made here: `--explain`'s JSON lines, or the transformed events; else the
    /// writer's error.
    made: io::Result<Vec<u8>>,
    /// Lines that could not be read: the offsets of their first bytes in the input, and
    /// why (numbered when reported, as few are).
    bad: Vec<(u64, String)>,
}

impl Default for Sifted {
    fn default() -> Self {
        Sifted {
            count: 0,
            matched: Vec::new(),
            made: Ok(Vec::new()),
            bad: Vec::new(),
        }
    }
}

impl Sift<'_> {
    /// Decides on a piece of the input (on a worker thread).
    fn piece(&self, piece: &Piece) -> Sifted {
        let mut sifted = Sifted::default();
        let (block, first, byte) = match piece {
            Piece::Lines(LineEvent::TooLong { byte, .. }) => {
                let message = format!("longer than {} bytes", self.args.max_line_bytes);
                sifted.bad.push((*byte, message));
                return sifted;
            }
            Piece::Broken { byte, error, .. } => {
                sifted.bad.push((*byte, error.to_string()));
                return sifted;
            }
            Piece::Lines(LineEvent::Block { bytes, line, byte }) => (*bytes, *line, *byte),
        };
        // The offset in the input of a byte of the block.
        let at = |start: usize| byte + start as u64;
        let (filter, now_ms) = (self.filter, self.now_ms);
        if self.args.explain {
            // The number of the line at a byte of the block, counted as the lines are.
            let mut counted = (0usize, first);
            let mut line_at = |at: usize| {
                counted.1 += memchr::memchr_iter(b'\n', &block[counted.0..at]).count() as u64;
                counted.0 = at;
                counted.1
            };
            let mut made = Vec::new();
            // Every line is explained, matching or not.
            for (start, body) in line_ranges(block) {
                if body.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                match serde_json::from_slice::<serde_json::Value>(body) {
                    Ok(v) => {
                        let ex = filter.explain(&v, now_ms);
                        let mut obj = serde_json::to_value(&ex).unwrap_or_default();
                        if let Some(m) = obj.as_object_mut() {
                            m.insert("line".into(), line_at(start).into());
                        }
                        let _ = writeln!(made, "{obj}");
                    }
                    Err(e) => sifted.bad.push((at(start), format!("invalid JSON: {e}"))),
                }
            }
            sifted.made = Ok(made);
            return sifted;
        }
        // With a transform, an NDJSON writer of this piece applies it (it keeps no state
        // from one event to the next, so pieces can be written apart).
        let mut writer = match &self.transform {
            Some(t) if !self.args.count => {
                let opts = WriteOptions {
                    transform: Some(t.clone()),
                    ..WriteOptions::default()
                };
                Some(Writer::new(Format::Ndjson, opts, Vec::new()))
            }
            _ => None,
        };
        let mut failed = None;
        filter.decide_lines(block, now_ms, &mut |r, answer| match answer {
            Ok(true) => match writer.as_mut() {
                None => {
                    sifted.count += 1;
                    sifted.matched.push(r);
                }
                Some(writer) => {
                    // A line that matched was read as JSON; read it again as a node.
                    let node = std::str::from_utf8(&block[r.clone()])
                        .map_err(|e| e.to_string())
                        .and_then(|t| Node::parse(t).map_err(|e| e.to_string()));
                    match node {
                        Ok(node) => {
                            sifted.count += 1;
                            if failed.is_none() {
                                failed = writer.write_owned_node(node).err();
                            }
                        }
                        Err(e) => sifted.bad.push((at(r.start), e)),
                    }
                }
            },
            Ok(false) => {}
            Err(e) => sifted.bad.push((at(r.start), e.message)),
        });
        if let Some(writer) = writer {
            sifted.made = match failed {
                Some(e) => Err(e),
                None => writer.finish(),
            };
        }
        sifted
    }
}

/// The number of the line at offset `at` of the input, in `piece` (read with lines
/// counted).
fn line_in(piece: &Piece, at: u64) -> u64 {
    match piece {
        Piece::Lines(LineEvent::Block { bytes, line, byte }) => {
            let upto = usize::try_from(at.saturating_sub(*byte)).unwrap_or(usize::MAX);
            let before = bytes.get(..upto).unwrap_or(bytes);
            line + memchr::memchr_iter(b'\n', before).count() as u64
        }
        Piece::Lines(LineEvent::TooLong { line, .. }) | Piece::Broken { line, .. } => *line,
    }
}

/// Writes what was made of a block, then its matching lines, each with a `\n`. The lines
/// go out as slices of the block in vectored writes, not copied into the output buffer
/// (at most a few hundred slices a block: lines that follow one another in the input
/// are one slice with the `\n`s between them).
fn write_lines(out: &mut impl Write, piece: &Piece, sifted: Sifted) -> io::Result<()> {
    out.write_all(&sifted.made?)?;
    let Piece::Lines(LineEvent::Block { bytes, .. }) = piece else {
        return Ok(());
    };
    let bytes: &[u8] = bytes;
    let mut slices = Vec::new();
    let mut add = |run: Range<usize>| match bytes.get(run.start..=run.end) {
        Some(with_newline) => slices.push(IoSlice::new(with_newline)),
        // The input's last line, without its `\n`.
        None => {
            slices.push(IoSlice::new(&bytes[run]));
            slices.push(IoSlice::new(b"\n"));
        }
    };
    let mut run: Option<Range<usize>> = None;
    for r in sifted.matched {
        match &mut run {
            Some(open) if open.end + 1 == r.start => open.end = r.end,
            _ => {
                if let Some(done) = run.replace(r) {
                    add(done);
                }
            }
        }
    }
    if let Some(done) = run {
        add(done);
    }
    write_all_vectored(out, &mut slices)
}

/// Writes every byte of `slices` (`Write::write_all_vectored` is not stable yet).
fn write_all_vectored(out: &mut impl Write, mut slices: &mut [IoSlice]) -> io::Result<()> {
    while !slices.is_empty() {
        match out.write_vectored(slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
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
