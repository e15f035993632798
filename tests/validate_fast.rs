//! The fast check from bytes (`schema::check_json`, `BatchValidator::push_json`) agrees
//! with the `Value` path (`schema::check_value`) on generated and mutated events.

use proptest::prelude::*;
use serde_json::{json, Value};
use trailsift::sample::{SampleOptions, Sampler};
use trailsift::schema::{check_json, check_value, is_certainly_valid, BatchValidator, Options};

fn samples() -> Vec<Value> {
    let mut s = Sampler::new(SampleOptions {
        seed: 7,
        count: 64,
        ..SampleOptions::default()
    });
    std::iter::from_fn(|| s.next_value()).collect()
}

const PATHS: &[&str] = &[
    "auditEventId",
    "auditEventAuthor",
    "auditEventAuthor.principal",
    "auditEventAuthor.principal.type",
    "auditEventAuthor.principal.identifier",
    "auditEventAuthor.principal.email",
    "auditModule",
    "auditResource",
    "auditResource.type",
    "auditResource.identifier",
    "auditResourceScope",
    "auditResourceScope.accountIdentifier",
    "auditResourceScope.orgIdentifier",
    "auditResourceScope.projectIdentifier",
    "auditAction",
    "auditEventTime",
    "auditHttpRequestInfo",
    "auditHttpRequestInfo.requestMethod",
    "auditHttpRequestInfo.clientIP",
    "auditEventMetadata",
    "auditEventMetadata.tags",
    "unknownField",
    "auditResource.extra",
];

fn deep(n: usize) -> Value {
    let mut v = json!("leaf");
    for i in 0..n {
        v = if i % 2 == 0 {
            json!([v])
        } else {
            json!({ "k": v })
        };
    }
    v
}

fn arb_replacement() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(json!(true)),
        Just(json!(0)),
        Just(json!(-1)),
        Just(json!(1763719530123u64)),
        Just(json!(1.763719530123e12)),
        Just(json!(1.5)),
        Just(json!(1e300)),
        Just(json!(u64::MAX)),
        Just(json!("")),
        Just(json!("x")),
        Just(json!("1763719530123")),
        Just(json!("2026-11-21T10:15:30.123Z")),
        Just(json!("2026-11-21T10:15:30")),
        Just(json!("9999-12-31T23:59:59Z")),
        Just(json!("10.0.0.1")),
        Just(json!("::1")),
        Just(json!("10.0.0.256")),
        Just(json!("é\"\\\n\u{1}☃")),
        Just(json!("DELETE")),
        Just(json!("NOT_A_MODULE")),
        Just(json!({})),
        Just(json!([])),
        Just(json!({"type": "USER", "identifier": "u"})),
        Just(json!({"requestMethod": "GET", "clientIP": "1.2.3.4", "x": [1, {"y": null}]})),
        (0usize..40).prop_map(deep),
        "[a-z]{0,300}".prop_map(Value::from),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Remove(usize),
    Set(usize, Value),
    /// Inserts a text at the start of the event object (a duplicate key, an unknown one).
    Prefix(String),
    /// Writes a key with a \u escape.
    EscapeKey(usize),
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0..PATHS.len()).prop_map(Mutation::Remove),
        (0..PATHS.len(), arb_replacement()).prop_map(|(i, v)| Mutation::Set(i, v)),
        prop_oneof![
            Just(r#""auditModule":"CORE","#.to_string()),
            Just(r#""auditModule":"","#.to_string()),
            Just(r#""auditEventMetadata":{},"#.to_string()),
            Just(r#""zzz":1,"zzz":2,"#.to_string()),
            Just(r#""auditEventId":"a","#.to_string()),
            Just(r#""x":{"a":{"b":[[[[[[1]]]]]]}},"#.to_string()),
        ]
        .prop_map(Mutation::Prefix),
        (0..PATHS.len()).prop_map(Mutation::EscapeKey),
    ]
}

fn set(v: &mut Value, path: &str, new: Option<Value>) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap_or_default();
    let mut cur = v;
    for p in parts {
        match cur.get_mut(p) {
            Some(next) => cur = next,
            None => return,
        }
    }
    if let Value::Object(map) = cur {
        match new {
            Some(n) => {
                map.insert(last.to_string(), n);
            }
            None => {
                map.shift_remove(last);
            }
        }
    }
}

fn apply(mut v: Value, mutations: &[Mutation]) -> String {
    let mut prefixes = String::new();
    let mut escapes = Vec::new();
    for m in mutations {
        match m {
            Mutation::Remove(i) => set(&mut v, PATHS[*i], None),
            Mutation::Set(i, n) => set(&mut v, PATHS[*i], Some(n.clone())),
            Mutation::Prefix(p) => prefixes.push_str(p),
            Mutation::EscapeKey(i) => escapes.push(PATHS[*i].rsplit('.').next().unwrap_or("")),
        }
    }
    let mut text = serde_json::to_string(&v).unwrap();
    if text.starts_with('{') && !prefixes.is_empty() {
        if text == "{}" {
            prefixes.pop();
        }
        text.insert_str(1, &prefixes);
    }
    for key in escapes {
        if let Some(first) = key.chars().next() {
            let escaped = format!("\"\\u{:04x}{}\":", first as u32, &key[first.len_utf8()..]);
            text = text.replacen(&format!("\"{key}\":"), &escaped, 1);
        }
    }
    text
}

fn arb_options() -> impl Strategy<Value = Options> {
    (
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(32usize), 0usize..6],
        prop_oneof![Just(1usize << 20), 0usize..1500],
        // No expected account, one of the sample accounts, or one no event has.
        prop_oneof![
            Just(None),
            Just(Some(trailsift::sample::DEFAULT_ACCOUNTS[1].to_string())),
            Just(Some("another_account".to_string())),
        ],
    )
        .prop_map(
            |(strict, vocabulary, max_depth, max_size, account)| Options {
                strict,
                vocabulary,
                max_depth,
                max_size,
                max_errors: 3,
                account,
            },
        )
}

fn agree(text: &str, options: &Options) -> Result<(), TestCaseError> {
    let bytes = text.as_bytes();
    let exact = serde_json::from_slice::<Value>(bytes).map(|v| check_value(&v, options));
    let fast = check_json(bytes, options);
    match (&exact, &fast) {
        (Ok(a), Ok(b)) => prop_assert_eq!(a, b, "{}", text),
        (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
        _ => prop_assert!(false, "{text}: {exact:?} vs {fast:?}"),
    }
    let mut warnings = Vec::new();
    if is_certainly_valid(bytes, options, &mut warnings) {
        let exact = exact.as_ref().expect("parses");
        prop_assert!(exact.is_valid(), "{}", text);
        prop_assert_eq!(&exact.warnings, &warnings);
    }
    let (mut a, mut b) = (
        BatchValidator::new(options.clone()),
        BatchValidator::new(options.clone()),
    );
    if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
        a.push(3, 4, &v);
        prop_assert!(b.push_json(3, 4, bytes).is_ok());
        prop_assert_eq!(a.finish(), b.finish());
    } else {
        prop_assert!(b.push_json(3, 4, bytes).is_err());
        prop_assert_eq!(b.finish().total(), 0);
    }
    Ok(())
}

#[test]
fn sample_events_take_the_fast_path() {
    let options = Options::default();
    for v in samples() {
        let text = serde_json::to_string(&v).unwrap();
        let mut warnings = Vec::new();
        assert!(
            is_certainly_valid(text.as_bytes(), &options, &mut warnings),
            "{text}"
        );
        agree(&text, &options).unwrap();
        let strict = Options {
            strict: true,
            vocabulary: true,
            ..Options::default()
        };
        assert!(is_certainly_valid(text.as_bytes(), &strict, &mut warnings));
        agree(&text, &strict).unwrap();
    }
}

#[test]
fn fixed_cases() {
    let options = Options::default();
    for text in [
        "",
        "[]",
        "null",
        "{}",
        "{} x",
        "{}\n",
        " {\"auditEventId\":1}",
        r#"{"auditEventId":"a","auditEventId":"a"}"#,
        "{\"a\":\"\\ud800\"}",
    ] {
        agree(text, &options).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn fast_path_agrees_with_value_path(
        i in 0usize..64,
        mutations in prop::collection::vec(arb_mutation(), 0..4),
        options in arb_options(),
    ) {
        let v = samples().swap_remove(i);
        let text = apply(v, &mutations);
        agree(&text, &options)?;
    }
}

/// The failure proptest found here, as a named test with the input it shrank to
/// (tests/validate_fast.proptest-regressions keeps the seed, which proptest replays too).
mod regressions {
    use super::*;

    /// Seed 653877f5 (fast_path_agrees_with_value_path): sample event 18 with an empty
    /// `auditHttpRequestInfo.clientIP`. Recorded while the readers learnt to hand out
    /// events checked valid from their bytes; the case passes on the commits before and
    /// after, so what failed in between is not recorded. It pins the rule: an empty
    /// clientIP is `bad_ip` on both paths and never certainly valid.
    #[test]
    fn an_empty_client_ip_is_bad_on_both_paths() {
        let options = Options {
            strict: false,
            vocabulary: false,
            max_depth: 32,
            max_size: 1048576,
            max_errors: 3,
            account: None,
        };
        let text = apply(samples().swap_remove(18), &[Mutation::Set(18, json!(""))]);
        assert!(text.contains(r#""clientIP":"""#), "{text}");
        agree(&text, &options).unwrap();
        let checked = check_json(text.as_bytes(), &options).unwrap();
        let codes: Vec<&str> = checked.errors.iter().map(|v| v.code.as_ref()).collect();
        assert_eq!(codes, ["bad_ip"]);
        assert!(!is_certainly_valid(
            text.as_bytes(),
            &options,
            &mut Vec::new()
        ));
    }
}
