//! `trailsift filter`: stream the NDJSON lines that match a filter, unchanged.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use trailsift::filter::{Filter, FilterError, Ir};

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
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
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
    let clock = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let now_ms = match &args.now {
        None => clock,
        Some(t) => match trailsift::filter::parse_time_arg(t, clock) {
            Ok(ms) => ms,
            Err(e) => {
                eprintln!("error[{}]: --now: {}", e.code, e.message);
                return ExitCode::from(2);
            }
        },
    };
    match stream(&filter, &args, now_ms) {
        Ok(bad) if bad > 0 => {
            eprintln!("trailsift filter: {bad} line(s) were not valid JSON and were skipped");
            ExitCode::from(1)
        }
        Ok(_) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trailsift filter: {e}");
            ExitCode::from(1)
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

fn open(path: &str) -> io::Result<Box<dyn Read>> {
    let raw: Box<dyn Read> = if path == "-" {
        Box::new(io::stdin().lock())
    } else {
        Box::new(File::open(path)?)
    };
    let mut buffered = BufReader::with_capacity(1 << 16, raw);
    let gzip = buffered.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gzip {
        Box::new(flate2::bufread::MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    })
}

/// Reads the input in chunks and decides on the lines of each chunk's whole lines at once
/// (the filter's searches run over the chunk); returns the number of bad lines.
fn stream(filter: &Filter, args: &Args, now_ms: i64) -> io::Result<u64> {
    let mut input = open(&args.file)?;
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut buf: Vec<u8> = vec![0; 1 << 20];
    let (mut filled, mut count, mut bad) = (0usize, 0u64, 0u64);
    // Lines before the current chunk.
    let mut lines_before = 0u64;
    let mut eof = false;
    while !eof {
        if filled == buf.len() {
            // A line longer than the buffer: grow to hold it.
            buf.resize(buf.len() * 2, 0);
        }
        let n = input.read(&mut buf[filled..])?;
        if n == 0 {
            eof = true;
        }
        filled += n;
        let whole = match memchr::memrchr(b'\n', &buf[..filled]) {
            _ if eof => filled,
            Some(i) => i + 1,
            None => continue,
        };
        let block = &buf[..whole];
        // The number of the line at a byte of the block, counted only when needed.
        let mut counted = (0usize, lines_before);
        let mut line_at = |at: usize| {
            counted.1 += memchr::memchr_iter(b'\n', &block[counted.0..at]).count() as u64;
            counted.0 = at;
            counted.1 + 1
        };
        let mut result = Ok(());
        if args.explain {
            // Every line is explained, matching or not.
            let mut start = 0;
            while start < block.len() {
                let end = memchr::memchr(b'\n', &block[start..]).map_or(block.len(), |i| start + i);
                let body = &block[start..end];
                if !body.iter().all(u8::is_ascii_whitespace) {
                    match serde_json::from_slice::<serde_json::Value>(body) {
                        Ok(v) => {
                            let ex = filter.explain(&v, now_ms);
                            let mut obj = serde_json::to_value(&ex).unwrap_or_default();
                            if let Some(m) = obj.as_object_mut() {
                                m.insert("line".into(), line_at(start).into());
                            }
                            writeln!(out, "{obj}")?;
                        }
                        Err(e) => {
                            bad += 1;
                            eprintln!("line {}: invalid JSON: {e}", line_at(start));
                        }
                    }
                }
                start = end + 1;
            }
        } else {
            filter.decide_lines(block, now_ms, &mut |r, answer| match answer {
                Ok(true) => {
                    count += 1;
                    if !args.count && result.is_ok() {
                        result = out.write_all(&block[r]).and_then(|()| out.write_all(b"\n"));
                    }
                }
                Ok(false) => {}
                Err(e) => {
                    bad += 1;
                    if bad <= 10 {
                        eprintln!("line {}: {}", line_at(r.start), e.message);
                    }
                }
            });
        }
        result?;
        lines_before = line_at(whole) - 1;
        buf.copy_within(whole..filled, 0);
        filled -= whole;
    }
    if args.count {
        writeln!(out, "{count}")?;
    }
    out.flush()?;
    Ok(bad)
}
