//! Properties of transforms (formats.md §4): `include` keeps nothing it does not name,
//! `redact` leaves no trace of a value, `sample` keeps the same events however the input
//! comes, and no event makes a transform panic.

#[path = "common/cuts.rs"]
mod cuts;

use proptest::prelude::*;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use trailsift::convert::{Converter, Format, ReadOptions, WriteOptions, Writer};
use trailsift::transform::{BoundTransform, Transform};

use cuts::convert_cut;

/// Keys from a small set, so that generated paths meet generated events.
const KEYS: &[&str] = &[
    "a",
    "b",
    "c",
    "auditEventId",
    "auditEventTime",
    "auditHttpRequestInfo",
    "clientIP",
];

fn key() -> impl Strategy<Value = String> {
    prop::sample::select(KEYS).prop_map(String::from)
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-z0-9. :é\"\\\\]{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "203.0.113.77",
            "2001:db8::1",
            "1763719530123",
            "2025-11-21T10:05:30.123+02:00",
            "bearer abc.def==",
            "",
        ])
        .prop_map(Value::from),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn event() -> impl Strategy<Value = Value> {
    prop::collection::vec((key(), json()), 0..6)
        .prop_map(|kv| Value::Object(kv.into_iter().collect()))
}

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(key(), 1..4).prop_map(|k| k.join("."))
}

fn bound(t: &Value, key: Option<&[u8]>) -> BoundTransform {
    Transform::from_value(t).unwrap().bind(key).unwrap()
}

fn with(t: &BoundTransform) -> WriteOptions {
    WriteOptions {
        transform: Some(t.clone()),
        ..WriteOptions::default()
    }
}

/// NDJSON through the converter's node path, cut at `cuts`.
fn convert(t: &BoundTransform, input: &[u8], cuts: &[usize]) -> Vec<u8> {
    let writer = Writer::new(Format::Ndjson, with(t), Vec::new());
    let conv = Converter::new(Some(Format::Ndjson), None, ReadOptions::default(), writer).unwrap();
    convert_cut(conv, input, cuts, &mut Vec::new())
}

/// Checks that every member of `out` (at `prefix`) is named by `named`, kept whole from
/// `input`, or an object on the way to a named path that keeps something.
fn only_named(
    out: &Map<String, Value>,
    input: &Map<String, Value>,
    prefix: &str,
    named: &[String],
) -> Result<(), TestCaseError> {
    for (k, v) in out {
        let p = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        let original = input.get(k);
        if named
            .iter()
            .any(|n| *n == p || p.starts_with(&format!("{n}.")))
        {
            prop_assert_eq!(Some(v), original, "{} is not kept whole", p);
            continue;
        }
        prop_assert!(
            named.iter().any(|n| n.starts_with(&format!("{p}."))),
            "{} is kept but not named",
            p
        );
        match (v, original) {
            (Value::Object(inner), Some(Value::Object(orig))) => {
                prop_assert!(!inner.is_empty(), "{} is kept empty", p);
                only_named(inner, orig, &p, named)?;
            }
            _ => prop_assert!(false, "{} is kept but is not an object on a named path", p),
        }
    }
    Ok(())
}

/// Puts `value` at `path`, making objects on the way.
fn set_path(event: &mut Value, path: &str, value: Value) {
    let mut current = event;
    for part in path.split('.') {
        if !current.is_object() {
            *current = Value::Object(Map::new());
        }
        current = current
            .as_object_mut()
            .unwrap()
            .entry(part.to_string())
            .or_insert(Value::Null);
    }
    *current = value;
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn include_keeps_only_what_it_names(ev in event(), paths in prop::collection::vec(path(), 0..4)) {
        let t = bound(&serde_json::json!({"include": paths}), None);
        let out = t.apply(&ev).unwrap();
        let mut named = paths.clone();
        named.extend(["auditEventId".to_string(), "auditEventTime".to_string()]);
        only_named(out.as_object().unwrap(), ev.as_object().unwrap(), "", &named)?;
        // Nothing named and present is lost.
        for n in &named {
            let get = |v: &Value| n.split('.').try_fold(v, |v, k| v.as_object()?.get(k)).cloned();
            prop_assert_eq!(get(&out), get(&ev), "{}", n);
        }
    }

    #[test]
    fn redact_leaves_no_trace(
        mut ev in event(),
        at in path(),
        secret in "ZQ[A-Z]{10}",
        shape in 0..3u8,
    ) {
        let value = match shape {
            0 => Value::String(secret.clone()),
            1 => serde_json::json!({"k": [1, format!("x{secret}x")]}),
            _ => serde_json::json!([secret.clone(), null]),
        };
        set_path(&mut ev, &at, value);
        let t = bound(&serde_json::json!({"redact": [at]}), None);
        for format in Format::ALL {
            let mut w = Writer::new(format, with(&t), Vec::new());
            w.write(&ev).unwrap();
            let bytes = w.finish().unwrap();
            prop_assert!(
                !String::from_utf8_lossy(&bytes).contains(&secret),
                "{} shows the secret: {}", format.name(), String::from_utf8_lossy(&bytes)
            );
        }
        let line = format!("{ev}\n");
        let bytes = convert(&t, line.as_bytes(), &[]);
        prop_assert!(!String::from_utf8_lossy(&bytes).contains(&secret));
    }

    #[test]
    fn sample_keeps_the_same_events(
        ids in prop::collection::vec("[a-z0-9é-]{0,10}", 1..40),
        share in 1u32..=1000,
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let s = f64::from(share) / 1000.0;
        let spec = serde_json::json!({"sample": s});
        let input: String = ids
            .iter()
            .map(|id| format!("{}\n", serde_json::json!({"auditEventId": id, "n": 1})))
            .collect();
        let whole = convert(&bound(&spec, None), input.as_bytes(), &[]);
        // Another compilation, another chunking: the same bytes.
        prop_assert_eq!(&whole, &convert(&bound(&spec, None), input.as_bytes(), &cuts));
        // The kept ids are those whose SHA-256 head is below s × 2^64.
        let expected: String = ids
            .iter()
            .filter(|id| {
                let head = u64::from_be_bytes(Sha256::digest(id.as_bytes())[..8].try_into().unwrap());
                s >= 1.0 || u128::from(head) < (s * 2f64.powi(64)).ceil() as u128
            })
            .map(|id| format!("{}\n", serde_json::json!({"auditEventId": id, "n": 1})))
            .collect();
        prop_assert_eq!(String::from_utf8_lossy(&whole), expected);
    }

    #[test]
    fn never_panics_and_both_paths_agree(
        ev in prop_oneof![event(), json()],
        paths in prop::collection::vec(path(), 0..3),
        patterns in prop::collection::vec(prop::sample::select(vec!["a", "(?i)bearer \\S+", "x*", "[0-9]+", "é"]), 0..3),
        v4 in 0u8..=32,
        v6 in 0u8..=128,
        time in prop::sample::select(vec!["epoch_ms", "rfc3339"]),
    ) {
        let spec = serde_json::json!({
            "include": paths.iter().chain(["auditHttpRequestInfo".to_string()].iter()).collect::<Vec<_>>(),
            "exclude": paths.iter().filter(|p| !p.starts_with("auditEvent")).collect::<Vec<_>>(),
            "redact": paths,
            "redactPatterns": patterns,
            "pseudonymize": paths.iter().rev().collect::<Vec<_>>(),
            "truncateIp": {"v4": v4, "v6": v6},
            "timeFormat": time,
        });
        let t = bound(&spec, Some(b"key"));
        let applied = t.apply(&ev);
        for format in Format::ALL {
            let mut w = Writer::new(format, with(&t), Vec::new());
            let _ = w.write(&ev);
            let _ = w.finish();
        }
        if ev.is_object() {
            let line = format!("{ev}\n");
            let by_node = convert(&t, line.as_bytes(), &[]);
            let by_value = applied.map(|v| format!("{v}\n")).unwrap_or_default();
            prop_assert_eq!(String::from_utf8_lossy(&by_node), by_value);
        }
    }
}
