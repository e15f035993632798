//! The trailsift command-line tool: validate, filter, convert and generate audit events.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod convert;
mod filter;
mod gen;
mod validate;

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
    }
}
