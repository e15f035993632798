//! The trailsift command-line tool: validate, filter, convert and generate audit events,
//! and verify evidence of the verifiable log.
//!
//! Every subcommand exits 0 when all went well, 1 when some records (or proofs) were bad
//! (reported on stderr) and 2 for usage and I/O errors.

use std::fs::File;
use std::io::{self, Read};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand};

mod convert;
mod filter;
mod gen;
mod keygen;
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
