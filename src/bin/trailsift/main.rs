//! The trailsift command-line tool: validate, filter, convert and generate audit events,
//! follow an account's live tail, and verify evidence of the verifiable log.
//!
//! Every subcommand exits 0 when all went well, 1 when some records (or proofs) were bad
//! (reported on stderr) and 2 for usage and I/O errors.

use std::fs::File;
use std::io::{self, Read};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand};
use trailsift::convert::Format;

mod convert;
mod filter;
mod gen;
mod keygen;
mod tail;
mod validate;
mod verify;
mod verify_consistency;

#[derive(Parser)]
#[command(
    name = "trailsift",
    version,
    about = "Validate, filter and convert audit-trail events"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate audit events (JSON array, one object or NDJSON, plain or gzip).
    Validate(validate::Args),
    /// Stream the events that match a filter, as NDJSON.
    Filter(filter::Args),
    /// Convert events between formats.
    Convert(convert::Args),
    /// Write realistic sample events as NDJSON, deterministic for a seed.
    Gen(gen::Args),
    /// Follow the Worker's live tail: matching events as NDJSON as they are committed
    /// (token from TRAILSIFT_TOKEN).
    Tail(tail::Args),
    /// Verify an evidence bundle (and a sidecar's object file) against verifier keys.
    Verify(verify::Args),
    /// Verify that an older signed checkpoint's tree is a prefix of a newer one's.
    VerifyConsistency(verify_consistency::Args),
    /// Make a checkpoint signing key: the LOG_SIGNING_KEY seed and its verifier key.
    Keygen(keygen::Args),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Usage errors exit 2; --help and --version exit 0.
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Filter(args) => filter::run(args),
        Command::Convert(args) => convert::run(args),
        Command::Gen(args) => gen::run(args),
        Command::Tail(args) => tail::run(args),
        Command::Verify(args) => verify::run(args),
        Command::VerifyConsistency(args) => verify_consistency::run(args),
        Command::Keygen(args) => keygen::run(args),
    }
}

/// The exit status of usage and I/O errors.
pub const EXIT_USAGE: u8 = 2;
/// The exit status when some records were bad.
pub const EXIT_BAD_RECORDS: u8 = 1;

/// The host clock in epoch milliseconds: "now" for relative times.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A time option (`--now`, `--from`, `--to`) in any form of [`trailsift::time`], resolved
/// against the clock; for clap's `value_parser`.
pub fn time_arg(text: &str) -> Result<i64, String> {
    trailsift::time::parse_time_arg(text, now_ms(), false)
        .map_err(|_| trailsift::time::arg_help(text))
}

/// The input named on the command line: a file, or standard input for `-`.
pub fn open_input(path: &str) -> io::Result<Box<dyn Read>> {
    if path == "-" {
        Ok(Box::new(io::stdin().lock()))
    } else {
        File::open(path)
            .map(|f| Box::new(f) as Box<dyn Read>)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot open {path}: {e}")))
    }
}

/// An input named on the command line: a regular file mapped into memory (read without a
/// copy through the kernel, and cut among threads without copies), else a stream.
///
/// A mapped file is read as it is while it is read: one that another program truncates
/// meanwhile can end the process, as with any reader of mapped files.
pub enum Input {
    Mapped(memmap2::Mmap),
    Stream(Box<dyn Read>),
}

impl Input {
    /// Opens `path` (`-` is standard input).
    pub fn open(path: &str) -> io::Result<Input> {
        if path != "-" {
            let file = File::open(path)
                .map_err(|e| io::Error::new(e.kind(), format!("cannot open {path}: {e}")))?;
            if file.metadata().is_ok_and(|m| m.is_file() && m.len() > 0) {
                // SAFETY: the map is only read, as bytes (see above for a file changed
                // while it is read).
                if let Ok(map) = unsafe { memmap2::Mmap::map(&file) } {
                    return Ok(Input::Mapped(map));
                }
            }
            return Ok(Input::Stream(Box::new(file)));
        }
        open_input(path).map(Input::Stream)
    }

    /// The input for the parallel path.
    pub fn source(&mut self) -> trailsift::parallel::Source<'_> {
        match self {
            Input::Mapped(map) => trailsift::parallel::Source::Bytes(map),
            Input::Stream(r) => trailsift::parallel::Source::Read(r),
        }
    }

    /// The input's format, from its content (`hint`, the file name's format, decides when
    /// the content cannot tell); a stream keeps the bytes it read to look, to be read again.
    pub fn detect_format(&mut self, hint: Option<Format>) -> io::Result<Format> {
        let detect = trailsift::parallel::detect_format;
        let stream = match self {
            Input::Mapped(map) => return Ok(detect(map, true, hint).unwrap_or(Format::Ndjson)),
            Input::Stream(r) => r,
        };
        let mut head = Vec::new();
        let mut ended = false;
        while !ended && detect(&head, false, hint).is_none() {
            let at = head.len();
            head.resize(at + (1 << 16), 0);
            let n = loop {
                match stream.read(&mut head[at..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            };
            head.truncate(at + n);
            ended = n == 0;
        }
        let format = detect(&head, ended, hint).unwrap_or(Format::Ndjson);
        let rest = std::mem::replace(stream, Box::new(io::empty()));
        *stream = Box::new(io::Cursor::new(head).chain(rest));
        Ok(format)
    }

    /// Reads the input to its end in chunks of at most `size` bytes, handing each to `f`.
    pub fn read_chunks(
        &mut self,
        size: usize,
        f: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        match self {
            Input::Mapped(map) => map.chunks(size).try_for_each(f),
            Input::Stream(r) => read_chunks(r, size, f),
        }
    }
}

/// The number of threads of `--threads`: as given, else the cores available.
pub fn threads(given: Option<usize>) -> usize {
    given.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Reads `input` to its end in chunks of `size` bytes, handing each to `f`.
pub fn read_chunks(
    input: &mut dyn Read,
    size: usize,
    f: &mut dyn FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<()> {
    let mut buf = vec![0u8; size];
    loop {
        match input.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => f(&buf[..n])?,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// The transform of `--transform FILE` bound to the key of `--pseudonymize-key-file FILE`
/// (the file's bytes, exactly), or `None` without `--transform`. An error names the file,
/// the code and the key at fault.
pub fn load_transform(
    file: Option<&str>,
    key_file: Option<&str>,
) -> Result<Option<trailsift::transform::BoundTransform>, String> {
    let Some(path) = file else {
        if key_file.is_some() {
            return Err("--pseudonymize-key-file needs --transform".into());
        }
        return Ok(None);
    };
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let key = match key_file {
        Some(k) => Some(std::fs::read(k).map_err(|e| format!("cannot read {k}: {e}"))?),
        None => None,
    };
    let fault = |e: trailsift::transform::TransformError| {
        let at = if e.key.is_empty() {
            String::new()
        } else {
            format!(" (key {:?})", e.key)
        };
        format!("--transform {path}: {}{at} [{}]", e.message, e.code)
    };
    let transform = trailsift::transform::Transform::from_json(&text).map_err(fault)?;
    transform.bind(key.as_deref()).map(Some).map_err(fault)
}
