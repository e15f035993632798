//! The trailsift command-line tool: validate, filter, convert and generate audit events,
//! and verify evidence of the verifiable log.

use std::process::ExitCode;

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
