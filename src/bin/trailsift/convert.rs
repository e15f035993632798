//! `trailsift convert`: read events in one format, write them in another, streaming.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use serde_json::Value;
use trailsift::convert::parallel::{self, Failure, Parallel};
use trailsift::convert::{
    ColumnScan, Converter, Format, HecOptions, Output, ReadError, ReadOptions, WriteOptions, Writer,
};
use trailsift::filter::Filter;

use crate::{now_ms, read_chunks, Input, EXIT_BAD_RECORDS, EXIT_USAGE};

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
    /// Shape each event before it is written: a transform JSON file (formats.md §4:
    /// include, exclude, redact, redactPatterns, pseudonymize, truncateIp, sample,
    /// timeFormat). The filter runs on the event as read, before the transform.
    #[arg(long, value_name = "FILE")]
    transform: Option<String>,
    /// The key of the transform's `pseudonymize`: the file's bytes, exactly.
    #[arg(long, value_name = "FILE")]
    pseudonymize_key_file: Option<String>,
    /// Convert only the events that match this filter (the `trailsift filter` syntax).
    #[arg(long, value_name = "QUERY", allow_hyphen_values = true)]
    filter: Option<String>,
    /// The moment relative times in --filter (now-7d) refer to; any time form.
    /// Default: the clock.
    #[arg(long, value_name = "TIME", value_parser = crate::time_arg)]
    now: Option<i64>,
    /// Stop at the first bad record instead of reporting it and going on.
    #[arg(long)]
    stop_on_error: bool,
    /// Threads that convert blocks of lines (NDJSON and Sumo input) [default: the cores
    /// available]; the output is the same for any number.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
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
            ExitCode::from(EXIT_USAGE)
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

fn open_input(name: &str) -> Result<Box<dyn io::Read>, String> {
    crate::open_input(name).map_err(|e| e.to_string())
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
            args.now.unwrap_or_else(now_ms),
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
        transform: crate::load_transform(
            args.transform.as_deref(),
            args.pseudonymize_key_file.as_deref(),
        )?,
        ..WriteOptions::default()
    };
    if whole && write_opts.wants_column_scan(to) {
        write_opts.columns = Some(scan_columns(
            &args,
            &read_opts,
            &write_opts,
            filter.clone(),
        )?);
    }

    // The input is opened first: a missing input must not truncate the output file.
    let mut input = Input::open(&args.input).map_err(|e| e.to_string())?;
    let from = match args.from {
        Some(from) => from,
        None => {
            let hint = name.and_then(|n| Format::from_file_name(n).0);
            input
                .detect_format(hint)
                .map_err(|e| format!("cannot read {}: {e}", args.input))?
        }
    };
    let file: Box<dyn Write> = if args.output == "-" {
        Box::new(io::stdout().lock())
    } else {
        Box::new(
            File::create(&args.output)
                .map_err(|e| format!("cannot create {}: {e}", args.output))?,
        )
    };
    let file = BufWriter::with_capacity(1 << 16, file);
    let sink = Output::new(file, args.gzip || name_gzip);
    let mut writer = Writer::new(to, write_opts, sink);
    let mut bad = 0u64;
    let mut on_error = |e: ReadError| {
        bad += 1;
        report(&e, bad);
    };
    let io_err = |e: io::Error| format!("cannot write {}: {e}", args.output);
    let (count, sink) = if parallel::converts(from, &writer) {
        let predicate = filter.map(|(filter, now)| move |v: &Value| filter.matches(v, now));
        let how = Parallel {
            threads: crate::threads(args.threads.map(usize::from)),
            predicate: predicate
                .as_ref()
                .map(|p| p as &(dyn Fn(&Value) -> bool + Sync)),
            stop_on_error: args.stop_on_error,
        };
        let source = input.source();
        match parallel::convert_lines(source, from, &read_opts, &mut writer, &how, &mut on_error) {
            Ok(done) => (done.read, writer.finish().map_err(io_err)?),
            Err(Failure::Read(e)) => return Err(format!("cannot read {}: {e}", args.input)),
            Err(Failure::Write(e)) => return Err(io_err(e)),
        }
    } else {
        let mut converter = Converter::new(Some(from), name, read_opts, writer)
            .map_err(|e| e.message)?
            .stop_on_error(args.stop_on_error);
        if let Some((filter, now)) = filter {
            converter = converter.with_predicate(Box::new(move |event| filter.matches(event, now)));
        }
        let mut errors = Vec::new();
        let mut write_error = None;
        let read = input.read_chunks(1 << 18, &mut |chunk| {
            if let Err(e) = converter.push(chunk, &mut errors) {
                write_error = Some(e);
                return Err(io::Error::other("stopped"));
            }
            errors.drain(..).for_each(&mut on_error);
            if converter.stopped() {
                return Err(io::Error::other("stopped"));
            }
            Ok(())
        });
        if let Some(e) = write_error {
            return Err(io_err(e));
        }
        if let Err(e) = read {
            if !converter.stopped() {
                return Err(format!("cannot read {}: {e}", args.input));
            }
        }
        let counted = converter.finish_counted(&mut errors).map_err(io_err)?;
        errors.drain(..).for_each(&mut on_error);
        counted
    };
    sink.finish().map_err(io_err)?;
    Ok(summary(count, bad))
}

/// The first pass over an input file: a CSV column for every field of every event that
/// the filter keeps, as the transform leaves it.
fn scan_columns(
    args: &Options,
    read_opts: &ReadOptions,
    write_opts: &WriteOptions,
    filter: Option<(Filter, i64)>,
) -> Result<Vec<String>, String> {
    let mut scan = ColumnScan::new(args.from, Some(&args.input), read_opts.clone(), write_opts)
        .map_err(|e| e.message)?;
    if let Some((filter, now)) = filter {
        scan = scan.with_predicate(Box::new(move |event| filter.matches(event, now)));
    }
    let mut input = open_input(&args.input)?;
    read_chunks(&mut input, 1 << 18, &mut |chunk| {
        scan.push(chunk);
        Ok(())
    })
    .map_err(|e| format!("cannot read {}: {e}", args.input))?;
    Ok(scan.finish())
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
        ExitCode::from(EXIT_BAD_RECORDS)
    } else {
        ExitCode::SUCCESS
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
