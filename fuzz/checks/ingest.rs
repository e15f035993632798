//! The Worker's ingest decoding ([`ingest`]): no body panics; every event handed on is
//! valid for the account, one line of JSON whose id and time are the ones given; a body
//! refused as a whole is refused for a reason that refuses bodies; gzip changes nothing.

use serde_json::Value;
use trailsift::convert::{gzip, is_gzip, ErrorCode, Format};
use trailsift::schema::{check_value, ingest, BodyFault, IngestLimits, Ingested, Options};
use trailsift::time::parse_time_value;

use super::input::Input;

const ACCOUNT: &str = "acct";

/// The `ingest` target.
pub fn check(input: &[u8]) {
    let input = Input::new(input);
    let format = if input.head[0] & 1 == 0 {
        Format::Json
    } else {
        Format::Ndjson
    };
    let b = input.head[1];
    let limits = IngestLimits {
        body: [10_000_000, 100, 1000, 3000][usize::from(b & 3)],
        events: [10_000, 1, 3, 20][usize::from(b >> 2 & 3)],
        event: [1_000_000, 64, 300, 1000][usize::from(b >> 4 & 3)],
    };
    let body = input.body();
    let (ingested, accepted) = run(&body, format, &limits);
    if !is_gzip(&body) {
        let (zipped, _) = run(&gzip::compress(&body), format, &limits);
        assert_eq!(zipped, ingested, "gzip changes the answer");
    }

    let options = Options {
        account: Some(ACCOUNT.into()),
        vocabulary: true,
        ..Options::default()
    };
    assert_eq!(
        accepted.len() as u64,
        ingested.report.valid,
        "valid events handed on"
    );
    for (id, time_ms, json) in &accepted {
        assert!(!json.contains(&b'\n'), "a stored event is one line");
        let event: Value = serde_json::from_slice(json).expect("a stored event is JSON");
        let checked = check_value(&event, &options);
        assert!(checked.is_valid(), "stored {event}: {:?}", checked.errors);
        assert_eq!(event["auditEventId"].as_str(), Some(id.as_str()));
        assert_eq!(parse_time_value(&event["auditEventTime"]), Ok(*time_ms));
    }
    let records = ingested.report.total();
    match &ingested.fault {
        None => assert!(
            (1..=limits.events as u64).contains(&records),
            "{records} records"
        ),
        Some(BodyFault::Unreadable(e)) => {
            let refuses = matches!(
                e.code,
                ErrorCode::TooLarge | ErrorCode::Truncated | ErrorCode::BadGzip
            ) || (e.code == ErrorCode::BadJson && format == Format::Json);
            assert!(refuses, "{e} refuses the body");
        }
        Some(BodyFault::TooManyEvents) => assert!(records > limits.events as u64),
        Some(BodyFault::Empty) => assert_eq!(records, 0),
        Some(BodyFault::NoObject) => assert_eq!(ingested.report.valid, 0),
    }
}

/// The answer for a body and the events handed on: id, time and JSON text.
fn run(
    body: &[u8],
    format: Format,
    limits: &IngestLimits,
) -> (Ingested, Vec<(String, i64, Vec<u8>)>) {
    let mut accepted = Vec::new();
    let ingested = ingest(body, format, ACCOUNT, limits, &mut |ev| {
        accepted.push((ev.id.to_string(), ev.time_ms, ev.json.to_vec()))
    });
    (ingested, accepted)
}
