//! `trailsift verify-consistency`: checks that an older signed checkpoint's tree is a
//! prefix of a newer one's, so the log did not rewrite its past between the two.
//!
//! Exit codes: 0 consistent, 1 some failure (one line each), 2 usage or I/O error.

use std::path::PathBuf;
use std::process::ExitCode;

use trailsift::log::verify_consistency_json;

use crate::verify::{read, read_keys};

#[derive(clap::Args)]
pub struct Args {
    /// The older signed checkpoint.
    old: PathBuf,
    /// The newer signed checkpoint.
    new: PathBuf,
    /// The consistency proof: `{"first": M, "second": N, "proof": [...]}` as
    /// `GET /v1/log/proof/consistency` gives it.
    #[arg(long)]
    proof: PathBuf,
    /// A verifier key (`<name>+<key id>+<key>`), or a file of them, one a line; repeatable.
    #[arg(long = "key", required = true)]
    keys: Vec<String>,
}

const NAME: &str = "verify-consistency";

pub fn run(args: Args) -> ExitCode {
    let inputs = read_keys(NAME, &args.keys).and_then(|keys| {
        let text = |p| read(NAME, p).map(|b| String::from_utf8_lossy(&b).into_owned());
        Ok((
            keys,
            text(&args.old)?,
            text(&args.new)?,
            read(NAME, &args.proof)?,
        ))
    });
    let (keys, old, new, proof) = match inputs {
        Ok(inputs) => inputs,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let result = verify_consistency_json(&old, &new, &proof, &keys);
    match (&result.old, &result.new) {
        (Some(o), Some(n)) if result.ok => {
            println!(
                "consistent: {} at size {} is a prefix of size {}",
                o.origin, o.size, n.size
            );
            ExitCode::SUCCESS
        }
        _ => {
            for failure in &result.failures {
                println!("{failure}");
            }
            ExitCode::from(1)
        }
    }
}
