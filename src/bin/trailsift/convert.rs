//! `trailsift convert`: read events in one format, write them in another, streaming.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use trailsift::filter::Filter;

use trailsift::convert::{
    gzip, ColumnScan, Converter, Format, HecOptions, ReadError, ReadOptions, WriteOptions, Writer,
};

/// Errors printed before only a count is kept.
const MAX_PRINTED_ERRORS: u64 = 50;

/// The arguments, boxed so that the subcommand enum stays small.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    options: Box<Options>,
}

#[derive(clap::Args)]
#[command(
    after_help = "Formats: json ndjson csv splunk_hec sumo ocsf (ocsf is written only). \
Gzip input is recognised by its magic bytes. Exit status: 0 all records converted, \
1 some records were bad (reported on stderr with line, byte and record number), 2 usage or I/O error."
)]
pub struct Options {
    /// List the formats and exit.
    #[arg(long)]
    list: bool,
    /// Input format [default: from the file name, else from the first bytes].
    #[arg(long, value_name = "FMT")]
    from: Option<Format>,
    /// Output format [default: from the output file name].
    #[arg(long, value_name = "FMT")]
    to: Option<Format>,
    /// CSV: the columns (dotted paths) and their order.
    #[arg(long, value_delimiter = ',', value_name = "A,B,...")]
    columns: Vec<String>,
    /// CSV: give every unknown field of every event a column, reading the input twice.
    /// The default for an input file; stdin and pipes keep the first event's unknown
    /// fields as columns and later ones in the final (rest) column instead.
    #[arg(long)]
    all_columns: bool,
    /// CSV: do not prefix ' to cells beginning with = + - @ tab or CR (for machine
    /// consumers; reading the CSV back then gives the events exactly).
    #[arg(long)]
    no_csv_safety: bool,
    /// Gzip the output (also implied by an output name ending in .gz).
    #[arg(long)]
    gzip: bool,
    /// Convert only the events that match this filter (the `trailsift filter` syntax).
    #[arg(long, value_name = "QUERY", allow_hyphen_values = true)]
    filter: Option<String>,
    /// The moment relative times in --filter (now-7d) refer to; any time form.
    /// Default: the clock.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// Plain NDJSON into CSV, JSON or NDJSON: convert on this many threads (pieces of
    /// whole lines, output in input order). Helps on an idle multi-core machine; costs
    /// about 10 MB of memory per thread.
    #[arg(long, default_value_t = 1, value_name = "N")]
    threads: usize,
    /// Stop at the first bad record instead of reporting it and going on.
    #[arg(long)]
    stop_on_error: bool,
    /// Largest record in bytes.
    #[arg(long, default_value_t = 1 << 20, value_name = "BYTES")]
    max_record_bytes: usize,
    /// Splunk HEC: envelope host.
    #[arg(long, value_name = "HOST")]
    hec_host: Option<String>,
    /// Splunk HEC: envelope source.
    #[arg(long, value_name = "SOURCE")]
    hec_source: Option<String>,
    /// Splunk HEC: envelope sourcetype.
    #[arg(long, default_value = "harness:audit", value_name = "TYPE")]
    hec_sourcetype: String,
    /// Splunk HEC: envelope index.
    #[arg(long, value_name = "INDEX")]
    hec_index: Option<String>,
    /// Splunk HEC: indexed fields as NAME=PATH, comma-separated
    /// [default: account=auditResourceScope.accountIdentifier,module=auditModule,action=auditAction];
    /// "none" for no fields.
    #[arg(long, value_delimiter = ',', value_name = "NAME=PATH,...")]
    hec_fields: Vec<String>,
    /// Input file, or - for stdin.
    #[arg(default_value = "-")]
    input: String,
    /// Output file, or - for stdout.
    #[arg(default_value = "-")]
    output: String,
}

pub fn run(args: Args) -> ExitCode {
    let args = *args.options;
    if args.list {
        print_list();
        return ExitCode::SUCCESS;
    }
    match convert(args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("trailsift convert: {message}");
            ExitCode::from(2)
        }
    }
}

fn print_list() {
    println!("{:<12} {:<5} {:<6} description", "format", "read", "write");
    for f in Format::ALL {
        let yes = |b: bool| if b { "yes" } else { "no" };
        println!(
            "{:<12} {:<5} {:<6} {}",
            f.name(),
            yes(f.readable()),
            yes(f.writable()),
            f.description()
        );
    }
}

fn open_input(name: &str) -> Result<Box<dyn Read>, String> {
    if name == "-" {
        Ok(Box::new(io::stdin().lock()))
    } else {
        File::open(name)
            .map(|f| Box::new(f) as Box<dyn Read>)
            .map_err(|e| format!("cannot open {name}: {e}"))
    }
}

fn hec_options(args: &Options) -> Result<HecOptions, String> {
    let mut hec = HecOptions {
        host: args.hec_host.clone(),
        source: args.hec_source.clone(),
        sourcetype: Some(args.hec_sourcetype.clone()).filter(|s| !s.is_empty()),
        index: args.hec_index.clone(),
        ..HecOptions::default()
    };
    if !args.hec_fields.is_empty() {
        hec.fields.clear();
        for spec in &args.hec_fields {
            if spec == "none" {
                continue;
            }
            let (name, path) = spec
                .split_once('=')
                .ok_or_else(|| format!("--hec-fields: {spec:?} is not NAME=PATH"))?;
            hec.fields
                .push((name.trim().to_string(), path.trim().to_string()));
        }
    }
    Ok(hec)
}

fn convert(args: Options) -> Result<ExitCode, String> {
    let (name_format, name_gzip) = if args.output == "-" {
        (None, false)
    } else {
        Format::from_file_name(&args.output)
    };
    let to = args
        .to
        .or(name_format)
        .ok_or("--to is needed (the output name does not tell the format)")?;
    if let Some(from) = args.from {
        if !from.readable() {
            return Err(format!("the {from} format cannot be read"));
        }
    }
    let read_opts = ReadOptions {
        max_record_bytes: args.max_record_bytes,
        keep_raw: false,
        ..ReadOptions::default()
    };
    let filter = match &args.filter {
        Some(q) => Some((
            Filter::parse(q).map_err(|e| format!("--filter:\n{}", e.render(q)))?,
            now_ms(args.now.as_deref())?,
        )),
        None => None,
    };
    let name = (args.input != "-").then_some(args.input.as_str());
    // Only a regular file can be read twice; stdin and pipes are streams.
    let whole = name.is_some_and(|n| std::fs::metadata(n).is_ok_and(|m| m.is_file()));
    if args.all_columns && to == Format::Csv && !whole {
        return Err("--all-columns needs an input file, not stdin or a pipe".into());
    }

    let mut write_opts = WriteOptions {
        columns: (!args.columns.is_empty()).then(|| args.columns.clone()),
        csv_safety: !args.no_csv_safety,
        hec: hec_options(&args)?,
        ..WriteOptions::default()
    };
    if whole && write_opts.wants_column_scan(to) {
        write_opts.columns = Some(scan_columns(&args, &read_opts, filter.clone())?);
    }

    let file: Box<dyn Write> = if args.output == "-" {
        Box::new(io::stdout().lock())
    } else {
        Box::new(
            File::create(&args.output)
                .map_err(|e| format!("cannot create {}: {e}", args.output))?,
        )
    };
    let file = BufWriter::with_capacity(1 << 16, file);
    let sink = if args.gzip || name_gzip {
        Sink::Gzip(gzip::encoder(file))
    } else {
        Sink::Plain(file)
    };
    let mut input = open_input(&args.input)?;
    let io_err = |e: io::Error| format!("cannot write {}: {e}", args.output);
    let mut bad = 0u64;
    let mut on_error = |e: &ReadError| {
        bad += 1;
        report(e, bad);
    };

    // Plain NDJSON into CSV, JSON or NDJSON: split the lines among threads.
    let ndjson_in = args
        .from
        .or_else(|| name.and_then(|n| Format::from_file_name(n).0))
        == Some(Format::Ndjson);
    let mut head = Vec::new();
    let mut parallel_done = None;
    let threads = args.threads.max(1);
    let mut sink = Some(sink);
    if ndjson_in
        && matches!(to, Format::Csv | Format::Json | Format::Ndjson)
        && !args.stop_on_error
        && filter.is_none()
        && threads > 1
    {
        head = read_some(&mut input, 1 << 22)
            .map_err(|e| format!("cannot read {}: {e}", args.input))?;
        if !trailsift::convert::is_gzip(&head) {
            let out = sink.take().ok_or("no output")?;
            parallel_done = parallel::run(
                &mut input,
                std::mem::take(&mut head),
                to,
                &write_opts,
                &read_opts,
                threads,
                out,
                &mut on_error,
            )
            .map_err(|e| format!("{}: {e}", args.output))?
            .map_or_else(
                |(h, s)| {
                    head = h;
                    sink = Some(s);
                    None
                },
                Some,
            );
        }
    }
    if let Some(count) = parallel_done {
        return Ok(summary(count, bad));
    }

    let writer = Writer::new(to, write_opts, sink.ok_or("no output")?);
    let mut converter = Converter::new(args.from, name, read_opts.clone(), writer)
        .map_err(|e| e.message)?
        .stop_on_error(args.stop_on_error);
    if let Some((filter, now)) = filter {
        converter = converter.with_predicate(Box::new(move |event| filter.matches(event, now)));
    }

    let mut buf = vec![0u8; 1 << 18];
    let mut errors = Vec::new();
    converter.push(&head, &mut errors).map_err(io_err)?;
    loop {
        for e in errors.drain(..) {
            on_error(&e);
        }
        if converter.stopped() {
            break;
        }
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("cannot read {}: {e}", args.input)),
        };
        converter.push(&buf[..n], &mut errors).map_err(io_err)?;
    }
    let count = converter.events_read();
    let sink = converter.finish(&mut errors).map_err(io_err)?;
    for e in errors.drain(..) {
        on_error(&e);
    }
    sink.finish().map_err(io_err)?;
    Ok(summary(count, bad))
}

/// The first pass over an input file: a CSV column for every field of every event that
/// the filter keeps.
fn scan_columns(
    args: &Options,
    read_opts: &ReadOptions,
    filter: Option<(Filter, i64)>,
) -> Result<Vec<String>, String> {
    let mut scan =
        ColumnScan::new(args.from, Some(&args.input), read_opts.clone()).map_err(|e| e.message)?;
    if let Some((filter, now)) = filter {
        scan = scan.with_predicate(Box::new(move |event| filter.matches(event, now)));
    }
    let mut input = open_input(&args.input)?;
    let mut buf = vec![0u8; 1 << 18];
    loop {
        match input.read(&mut buf) {
            Ok(0) => return Ok(scan.finish()),
            Ok(n) => scan.push(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("cannot read {}: {e}", args.input)),
        }
    }
}

/// Tells how many records were bad (beyond those printed) and picks the exit status.
fn summary(count: u64, bad: u64) -> ExitCode {
    if bad > MAX_PRINTED_ERRORS {
        eprintln!(
            "trailsift convert: {} more errors not shown",
            bad - MAX_PRINTED_ERRORS
        );
    }
    if bad > 0 {
        eprintln!("trailsift convert: {count} records converted, {bad} bad");
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The output: plain or gzip, buffered.
enum Sink {
    Plain(BufWriter<Box<dyn Write>>),
    Gzip(flate2::write::GzEncoder<BufWriter<Box<dyn Write>>>),
}

impl Sink {
    fn finish(self) -> io::Result<()> {
        let mut file = match self {
            Sink::Plain(f) => f,
            Sink::Gzip(g) => g.finish()?,
        };
        file.flush()
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Plain(f) => f.write(buf),
            Sink::Gzip(g) => g.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Sink::Plain(f) => f.write_all(buf),
            Sink::Gzip(g) => g.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Plain(f) => f.flush(),
            Sink::Gzip(g) => g.flush(),
        }
    }
}

fn report(e: &ReadError, n: u64) {
    if n <= MAX_PRINTED_ERRORS {
        eprintln!(
            "trailsift convert: line {}, byte {}, record {}: {} [{}]",
            e.line, e.byte, e.index, e.message, e.code
        );
    }
}

/// "Now" for relative times: the clock, or `--now` (any time form; now-1h is relative to
/// the clock), read as `trailsift filter` reads it.
fn now_ms(now: Option<&str>) -> Result<i64, String> {
    let clock = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    match now {
        None => Ok(clock),
        Some(t) => trailsift::filter::parse_time_arg(t, clock)
            .map_err(|e| format!("--now: {} [{}]", e.message, e.code)),
    }
}

/// Reads until `want` bytes or the end of the input.
fn read_some(input: &mut dyn Read, want: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(want);
    input.take(want as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// NDJSON split among threads: the reading thread cuts the input into pieces of whole
/// lines, workers convert each piece with their own [`Converter`] (positions given by
/// `start_at`), and the reading thread writes the outputs in input order.
mod parallel {
    use std::collections::BTreeMap;
    use std::io::{self, Read, Write};
    use std::sync::mpsc;
    use std::sync::{Arc, Mutex};

    use trailsift::convert::node::Node;
    use trailsift::convert::write::stream_columns;
    use trailsift::convert::{
        write_all, Converter, ErrorCode, Format, ReadError, ReadOptions, WriteOptions, Writer,
    };

    use super::Sink;

    const PIECE: usize = 1 << 20;

    struct Job {
        seq: u64,
        bytes: Vec<u8>,
        line: u64,
        byte: u64,
    }

    struct Done {
        seq: u64,
        out: Vec<u8>,
        errors: Vec<ReadError>,
        /// Record numbers used: good records and bad ones.
        records: u64,
    }

    /// The columns a sequential run would choose: the first good event's.
    fn first_columns(head: &[u8], max: usize) -> Option<Vec<String>> {
        for line in head.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
            if line.len() > max {
                continue;
            }
            if let Ok(node @ Node::Object(_)) = Node::parse_slice(line) {
                return Some(stream_columns(Some(&node.to_value())));
            }
        }
        None
    }

    /// Converts; gives the head and the sink back (to go on sequentially) when it cannot
    /// tell the CSV columns from the head. Returns the number of good records.
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        input: &mut dyn Read,
        head: Vec<u8>,
        to: Format,
        opts: &WriteOptions,
        read_opts: &ReadOptions,
        threads: usize,
        mut sink: Sink,
        on_error: &mut dyn FnMut(&ReadError),
    ) -> io::Result<Result<u64, (Vec<u8>, Sink)>> {
        let mut piece_opts = opts.clone();
        let piece_format = match to {
            Format::Csv => {
                if piece_opts.columns.is_none() {
                    match first_columns(&head, read_opts.max_record_bytes) {
                        Some(c) => piece_opts.columns = Some(c),
                        None => return Ok(Err((head, sink))),
                    }
                }
                let header = write_all(Format::Csv, piece_opts.clone(), [])?;
                sink.write_all(&header)?;
                piece_opts.csv_header = false;
                Format::Csv
            }
            // JSON arrays are assembled here from NDJSON pieces.
            _ => Format::Ndjson,
        };

        let (job_tx, job_rx) = mpsc::sync_channel::<Job>(threads * 2);
        let job_rx = Arc::new(Mutex::new(job_rx));
        let (done_tx, done_rx) = mpsc::channel::<io::Result<Done>>();
        let mut good = 0u64;
        std::thread::scope(|scope| -> io::Result<()> {
            for _ in 0..threads {
                let job_rx = Arc::clone(&job_rx);
                let done_tx = done_tx.clone();
                let piece_opts = piece_opts.clone();
                let read_opts = read_opts.clone();
                scope.spawn(move || loop {
                    let job = match job_rx.lock().map(|rx| rx.recv()) {
                        Ok(Ok(job)) => job,
                        _ => return,
                    };
                    let writer = Writer::new(
                        piece_format,
                        piece_opts.clone(),
                        Vec::with_capacity(job.bytes.len()),
                    );
                    let result = convert_piece(job, writer, &read_opts);
                    if done_tx.send(result).is_err() {
                        return;
                    }
                });
            }
            drop(done_tx);

            let mut pending = BTreeMap::new();
            let mut next_out = 0u64;
            let mut records_before = 0u64;
            let mut json_started = false;
            let mut write_done = |d: Done, sink: &mut Sink, good: &mut u64| -> io::Result<()> {
                *good += d.records - d.errors.len() as u64;
                for mut e in d.errors {
                    e.index += records_before;
                    on_error(&e);
                }
                records_before += d.records;
                if to == Format::Json {
                    for line in d.out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                        sink.write_all(if json_started { b",\n" } else { b"[\n" })?;
                        json_started = true;
                        sink.write_all(line)?;
                    }
                } else {
                    sink.write_all(&d.out)?;
                }
                Ok(())
            };

            let mut carry = head;
            let mut seq = 0u64;
            let (mut line, mut byte) = (1u64, 0u64);
            let mut eof = false;
            let mut sent = 0u64;
            while !eof {
                let mut block = Vec::with_capacity(PIECE + carry.len());
                block.append(&mut carry);
                let want = PIECE.saturating_sub(block.len()).max(1 << 16);
                let n = input.take(want as u64).read_to_end(&mut block)?;
                eof = n == 0;
                let cut = if eof {
                    block.len()
                } else {
                    match memchr::memrchr(b'\n', &block) {
                        Some(i) => i + 1,
                        None if block.len() > read_opts.max_record_bytes + 1 => {
                            // A line over the limit: report it in its place and skip it, as
                            // the sequential reader does, without holding it.
                            let (skipped, rest) = skip_line(input, block.len() as u64)?;
                            carry = rest;
                            let error = ReadError::new(
                                ErrorCode::TooLarge,
                                format!("line longer than {} bytes", read_opts.max_record_bytes),
                                0,
                                line,
                                byte,
                            );
                            pending.insert(
                                seq,
                                Done {
                                    seq,
                                    out: Vec::new(),
                                    errors: vec![error],
                                    records: 1,
                                },
                            );
                            seq += 1;
                            sent += 1;
                            line += 1;
                            byte += skipped;
                            continue;
                        }
                        None => {
                            carry = block;
                            continue;
                        }
                    }
                };
                carry = block.split_off(cut);
                if block.is_empty() {
                    continue;
                }
                let lines = memchr::memchr_iter(b'\n', &block).count() as u64;
                let len = block.len() as u64;
                let job = Job {
                    seq,
                    bytes: block,
                    line,
                    byte,
                };
                job_tx
                    .send(job)
                    .map_err(|_| io::Error::other("worker stopped"))?;
                seq += 1;
                sent += 1;
                line += lines;
                byte += len;
                // Write what is ready, in order.
                while let Ok(done) = done_rx.try_recv() {
                    let done = done?;
                    pending.insert(done.seq, done);
                }
                while let Some(d) = pending.remove(&next_out) {
                    write_done(d, &mut sink, &mut good)?;
                    next_out += 1;
                }
            }
            drop(job_tx);
            while next_out < sent {
                match done_rx.recv() {
                    Ok(done) => {
                        let done = done?;
                        pending.insert(done.seq, done);
                    }
                    Err(_) => return Err(io::Error::other("worker stopped")),
                }
                while let Some(d) = pending.remove(&next_out) {
                    write_done(d, &mut sink, &mut good)?;
                    next_out += 1;
                }
            }
            if to == Format::Json {
                sink.write_all(if json_started { b"\n]\n" } else { b"[]\n" })?;
            }
            Ok(())
        })?;
        sink.finish()?;
        Ok(Ok(good))
    }

    /// Skips the rest of a line (after `held` bytes of it); returns its length with the
    /// newline and the bytes read after it.
    fn skip_line(input: &mut dyn Read, held: u64) -> io::Result<(u64, Vec<u8>)> {
        let mut len = held;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = match input.read(&mut buf) {
                Ok(0) => return Ok((len, Vec::new())),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if let Some(i) = memchr::memchr(b'\n', &buf[..n]) {
                // The rest of this read belongs to the next lines.
                return Ok((len + i as u64 + 1, buf[i + 1..n].to_vec()));
            }
            len += n as u64;
        }
    }

    fn convert_piece(
        job: Job,
        writer: Writer<Vec<u8>>,
        read_opts: &ReadOptions,
    ) -> io::Result<Done> {
        let mut conv = Converter::new(Some(Format::Ndjson), None, read_opts.clone(), writer)
            .map_err(|e| io::Error::other(e.message))?
            .start_at(job.line, job.byte);
        let mut errors = Vec::new();
        conv.push(&job.bytes, &mut errors)?;
        conv.end(&mut errors)?;
        let records = conv.events_read() + errors.len() as u64;
        let out = std::mem::take(conv.writer_mut().get_mut());
        Ok(Done {
            seq: job.seq,
            out,
            errors,
            records,
        })
    }
}
