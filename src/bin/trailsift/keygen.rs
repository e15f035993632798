//! `trailsift keygen`: a new checkpoint signing key for a deployment, from the OS's random
//! source: the seed for the Worker secret `LOG_SIGNING_KEY` and the verifier key to publish.

use std::process::ExitCode;

use trailsift::log::SigningKey;

#[derive(clap::Args)]
pub struct Args {
    /// The key name: the deployment's `LOG_ORIGIN` (for example `audit.example.com`).
    #[arg(long)]
    name: String,
}

pub fn run(args: Args) -> ExitCode {
    let mut seed = [0u8; 32];
    if let Err(e) = getrandom::fill(&mut seed) {
        eprintln!("trailsift keygen: no random source: {e}");
        return ExitCode::from(2);
    }
    let key = match SigningKey::from_seed(&args.name, &seed) {
        Ok(key) => key,
        Err(e) => {
            eprintln!("trailsift keygen: --name: {}", e.message);
            return ExitCode::from(2);
        }
    };
    println!("LOG_SIGNING_KEY={}", key.seed_base64());
    println!("LOG_VERIFIER_KEY={}", key.verifier());
    ExitCode::SUCCESS
}
