//! `trailsift gen`: realistic sample events as NDJSON on stdout, deterministic per seed.

use std::io::{self, Write};
use std::process::ExitCode;

use trailsift::sample::{self, SampleOptions, Sampler};

#[derive(clap::Args)]
pub struct Args {
    /// How many events to write.
    #[arg(long, default_value_t = 1000)]
    count: u64,
    /// Seed of the generator: the same seed gives the same events.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Account identifiers to use, comma-separated.
    #[arg(long, value_delimiter = ',')]
    accounts: Vec<String>,
    /// Start of the time range, any time form (RFC 3339, YYYY-MM-DD, epoch milliseconds,
    /// now-7d) [default: 2026-11-01].
    #[arg(long, value_parser = crate::time_arg)]
    from: Option<i64>,
    /// End of the time range (exclusive), same forms as --from [default: --from + 7 days].
    #[arg(long, value_parser = crate::time_arg)]
    to: Option<i64>,
}

pub fn run(args: Args) -> ExitCode {
    let (from_ms, to_ms) = match (args.from, args.to) {
        (None, None) => (sample::DEFAULT_FROM_MS, sample::DEFAULT_TO_MS),
        (Some(f), None) => (f, f.saturating_add(trailsift::time::WEEK_MS)),
        (None, Some(t)) => (t.saturating_sub(trailsift::time::WEEK_MS), t),
        (Some(f), Some(t)) => (f, t),
    };
    if to_ms < from_ms {
        eprintln!("trailsift gen: --to is before --from");
        return ExitCode::from(2);
    }
    let accounts: Vec<String> = args
        .accounts
        .into_iter()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect();
    let mut sampler = Sampler::new(SampleOptions {
        seed: args.seed,
        count: args.count,
        accounts,
        from_ms,
        to_ms,
    });
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut buf = Vec::with_capacity(1 << 20);
    loop {
        let more = sampler.write_next(&mut buf);
        if buf.len() >= (1 << 20) - 4096 || !more {
            if let Err(e) = out.write_all(&buf) {
                return write_failed(e);
            }
            buf.clear();
        }
        if !more {
            break;
        }
    }
    match out.flush() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => write_failed(e),
    }
}

fn write_failed(e: io::Error) -> ExitCode {
    // A closed pipe (`gen | head`) is a normal end.
    if e.kind() == io::ErrorKind::BrokenPipe {
        return ExitCode::SUCCESS;
    }
    eprintln!("trailsift gen: cannot write: {e}");
    ExitCode::from(2)
}
