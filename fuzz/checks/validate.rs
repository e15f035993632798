//! Validation from bytes: the [`Validator`] over a chunked reader, [`check_json`] and
//! [`is_certainly_valid`] give exactly what [`check_value`] gives for the parsed events.

use serde_json::Value;
use trailsift::convert::{read_all, ReadOptions, Reader};
use trailsift::schema::{
    check_json, check_value, is_certainly_valid, BatchValidator, Checked, Options, Seen, Validator,
};
use trailsift::time::parse_time_value;

use super::input::Input;

/// A valid event as the validator hands it on: index, line, id, time and the event.
type Valid = (u64, u64, String, i64, Value);

/// The `validate` target.
pub fn check(input: &[u8]) {
    let input = Input::new(input);
    let options = options(input.head[1]);
    let data = input.data;

    let expected = checked(data, &options);
    let from_bytes = check_json(data, &options);
    match (&from_bytes, expected) {
        (Ok(got), Some(expected)) => assert_eq!(got, &expected, "check_json"),
        (Err(_), None) => {}
        (got, expected) => panic!("check_json gave {got:?}, the parsed event {expected:?}"),
    }
    let mut warnings = Vec::new();
    if is_certainly_valid(data, &options, &mut warnings) {
        let expected = checked(data, &options).expect("certainly valid is JSON");
        assert!(
            expected.is_valid(),
            "certainly valid: {:?}",
            expected.errors
        );
        assert_eq!(warnings, expected.warnings);
    }

    let body = input.body();
    let (format, name) = (input.read_format(), input.name());
    let (report, valid) = {
        let reader = match Reader::open(format, name, ReadOptions::default()) {
            Ok(r) => r,
            Err(_) => return,
        };
        let mut validator = Validator::new(reader, options.clone());
        let mut valid: Vec<Valid> = Vec::new();
        let mut on = |seen: Seen| {
            if let Seen::Valid(ev) = seen {
                let value = serde_json::from_slice(ev.json).expect("a valid event's JSON");
                valid.push((ev.index, ev.line, ev.id.to_string(), ev.time_ms, value));
            }
        };
        for chunk in input.chunks(&body) {
            validator.push(chunk, &mut on);
        }
        validator.finish(&mut on);
        (validator.into_report(), valid)
    };

    // The same input read record by record and checked by `check_value`.
    let mut batch = BatchValidator::new(options.clone());
    let mut expected_valid = Vec::new();
    for item in read_all(format, name, &body, ReadOptions::default()) {
        match item {
            Ok(r) => {
                if batch.push(r.index, r.line, &r.value) {
                    let id = r.value["auditEventId"]
                        .as_str()
                        .expect("valid id")
                        .to_string();
                    let time = parse_time_value(&r.value["auditEventTime"]).expect("valid time");
                    expected_valid.push((r.index, r.line, id, time, r.value));
                }
            }
            Err(e) => batch.push_record_error(e.index, e.line, e.code.as_str(), e.message),
        }
    }
    assert_eq!(report, batch.finish(), "the validator's report");
    assert_eq!(valid, expected_valid, "the validator's valid events");
}

/// `check_value` of `bytes` parsed (`None`: not JSON).
fn checked(bytes: &[u8], options: &Options) -> Option<Checked> {
    let value: Value = serde_json::from_slice(bytes).ok()?;
    Some(check_value(&value, options))
}

/// Validation options from a byte: each option on or off, the limits small often.
fn options(b: u8) -> Options {
    Options {
        strict: b & 1 != 0,
        vocabulary: b & 2 != 0,
        account: (b & 4 != 0).then(|| "acct".to_string()),
        max_depth: [32, 2, 3, 6][usize::from(b >> 3 & 3)],
        max_size: [1 << 20, 100, 400, 1500][usize::from(b >> 5 & 3)],
        max_errors: if b & 0x80 != 0 { 2 } else { 100 },
    }
}
