//! The time parser: event times (`parse_time`, `parse_time_value`) and the `now`/`from`/`to`
//! arguments (`parse_time_arg`). No text panics; a time read is in range and formats back
//! to itself; every form `parse_time` takes, `parse_time_arg` takes the same way; a range
//! ending on a date ends at the end of that day.

use serde_json::Value;
use trailsift::time::{
    format_ms, format_with_offset, parse_time, parse_time_arg, parse_time_value, DAY_MS, MAX_MS,
    MIN_MS,
};

use super::input::Input;

/// The moments "now" is taken to be: an ordinary one and the extremes.
const NOWS: [i64; 6] = [1_769_904_000_000, 0, MIN_MS, MAX_MS, i64::MIN, i64::MAX];

/// The `time` target.
pub fn check(input: &[u8]) {
    let input = Input::new(input);
    let now = NOWS[usize::from(input.head[0]) % NOWS.len()];
    let offset = i32::from(i16::from_le_bytes([input.head[1], input.head[2]]));
    let Ok(text) = std::str::from_utf8(input.data) else {
        return;
    };

    if let Ok(ms) = parse_time(text) {
        assert!((MIN_MS..=MAX_MS).contains(&ms), "{text:?} gave {ms}");
        let printed = format_ms(ms);
        assert_eq!(
            parse_time(&printed),
            Ok(ms),
            "{text:?} printed as {printed}"
        );
        if let Some(shifted) = format_with_offset(ms, offset) {
            assert_eq!(
                parse_time(&shifted),
                Ok(ms),
                "{text:?} written as {shifted}"
            );
        }
        assert_eq!(
            parse_time_arg(text, now, false),
            Ok(ms),
            "{text:?} as an argument"
        );
        assert_eq!(
            parse_time_arg(text, now, true),
            Ok(ms),
            "{text:?} as the end of a range"
        );
    }
    assert_eq!(
        parse_time_value(&Value::String(text.into())),
        parse_time(text)
    );

    let start = parse_time_arg(text, now, false);
    let end = parse_time_arg(text, now, true);
    match (start, end) {
        (Ok(start), Ok(end)) => assert!(end == start || end == start + DAY_MS - 1, "{text:?}"),
        (Err(_), Err(_)) => {}
        (start, end) => panic!("{text:?}: from {start:?}, to {end:?}"),
    }

    if let Ok(value) = serde_json::from_str::<Value>(text) {
        if let Ok(ms) = parse_time_value(&value) {
            assert!((MIN_MS..=MAX_MS).contains(&ms), "{value} gave {ms}");
        }
    }
}
