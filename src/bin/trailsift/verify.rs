//! `trailsift verify`: checks an evidence bundle (and, for a sidecar, its object file)
//! against verifier keys, offline.
//!
//! Exit codes: 0 every entry verified, 1 some failure (one line each), 2 usage or I/O error.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use trailsift::log::{verify_evidence, VerifierKey};

#[derive(clap::Args)]
pub struct Args {
    /// The evidence bundle (JSON); `-` reads stdin.
    bundle: PathBuf,
    /// The object file whose events a sidecar bundle's entries pair with, in order (JSON or
    /// NDJSON, plain or gzip).
    #[arg(long)]
    events: Option<PathBuf>,
    /// A verifier key (`<name>+<key id>+<key>`), or a file of them, one a line; repeatable.
    #[arg(long = "key", required = true)]
    keys: Vec<String>,
}

pub fn run(args: Args) -> ExitCode {
    let inputs = read_keys("verify", &args.keys).and_then(|keys| {
        let bundle = read("verify", &args.bundle)?;
        let object = args
            .events
            .as_deref()
            .map(|p| read("verify", p))
            .transpose()?;
        Ok((keys, bundle, object))
    });
    let (keys, bundle, object) = match inputs {
        Ok(inputs) => inputs,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let result = verify_evidence(&bundle, &keys, object.as_deref());
    if result.ok {
        if let Some(cp) = &result.checkpoint {
            println!(
                "verified {} events against {} at size {}",
                result.verified, cp.origin, cp.size
            );
        }
        return ExitCode::SUCCESS;
    }
    for failure in &result.failures {
        println!("{failure}");
    }
    ExitCode::from(1)
}

/// A file's bytes (`-`: stdin), or the message to print.
pub fn read(command: &str, path: &Path) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let read = if path.as_os_str() == "-" {
        io::stdin().lock().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(path).map(|b| bytes = b)
    };
    read.map(|()| bytes)
        .map_err(|e| format!("trailsift {command}: cannot read {}: {e}", path.display()))
}

/// Each `--key`: a verifier key, or else a file of them.
pub fn read_keys(command: &str, args: &[String]) -> Result<Vec<VerifierKey>, String> {
    let mut keys = Vec::new();
    for arg in args {
        if let Ok(key) = VerifierKey::parse(arg) {
            keys.push(key);
            continue;
        }
        let text = std::fs::read_to_string(arg).map_err(|e| {
            format!(
                "trailsift {command}: --key {arg}: not a verifier key, and not a file of them: {e}"
            )
        })?;
        let found = VerifierKey::parse_lines(&text)
            .map_err(|e| format!("trailsift {command}: --key {arg}: {}", e.message))?;
        if found.is_empty() {
            return Err(format!(
                "trailsift {command}: --key {arg}: the file has no keys"
            ));
        }
        keys.extend(found);
    }
    Ok(keys)
}
