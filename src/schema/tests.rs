use serde_json::{json, Value};

use super::*;

fn valid() -> Value {
    json!({
        "auditEventId": "ev-1",
        "auditEventAuthor": {"principal": {"type": "USER", "identifier": "alice", "email": "alice@example.com"}},
        "auditModule": "CORE",
        "auditResource": {"type": "SECRET", "identifier": "db_password"},
        "auditResourceScope": {"accountIdentifier": "acct", "orgIdentifier": "org", "projectIdentifier": "proj"},
        "auditAction": "CREATE",
        "auditHttpRequestInfo": {"requestMethod": "POST", "clientIP": "10.0.0.1"},
        "auditEventTime": 1763719530123u64,
        "auditEventMetadata": {"batchId": "b-1", "nested": {"a": [1, 2, {"b": null}]}}
    })
}

fn codes_of(v: &Value, options: &Options) -> Vec<(String, String)> {
    validate_value(v, options)
        .into_iter()
        .map(|x| (x.path, x.code))
        .collect()
}

fn one(v: &Value) -> Vec<(String, String)> {
    codes_of(v, &Options::default())
}

fn pair(path: &str, code: &str) -> (String, String) {
    (path.to_string(), code.to_string())
}

fn set(v: &mut Value, path: &str, new: Option<Value>) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap();
    let mut cur = v;
    for p in parts {
        cur = cur.get_mut(p).unwrap();
    }
    let obj = cur.as_object_mut().unwrap();
    match new {
        Some(n) => {
            obj.insert(last.to_string(), n);
        }
        None => {
            obj.shift_remove(last);
        }
    }
}

#[test]
fn valid_event_has_no_violations() {
    assert!(one(&valid()).is_empty());
    assert!(codes_of(
        &valid(),
        &Options {
            strict: true,
            ..Options::default()
        }
    )
    .is_empty());
}

#[test]
fn optional_fields_may_be_absent() {
    let mut v = valid();
    set(&mut v, "auditEventAuthor.principal.email", None);
    set(&mut v, "auditResourceScope.orgIdentifier", None);
    set(&mut v, "auditResourceScope.projectIdentifier", None);
    set(&mut v, "auditHttpRequestInfo", None);
    set(&mut v, "auditEventMetadata", None);
    assert!(one(&v).is_empty());
}

#[test]
fn missing_required_fields() {
    for path in [
        "auditEventId",
        "auditEventAuthor",
        "auditEventAuthor.principal",
        "auditEventAuthor.principal.type",
        "auditEventAuthor.principal.identifier",
        "auditModule",
        "auditResource",
        "auditResource.type",
        "auditResource.identifier",
        "auditResourceScope",
        "auditResourceScope.accountIdentifier",
        "auditAction",
        "auditEventTime",
        "auditHttpRequestInfo.requestMethod",
        "auditHttpRequestInfo.clientIP",
    ] {
        let mut v = valid();
        set(&mut v, path, None);
        assert_eq!(one(&v), vec![pair(path, "missing")], "{path}");
    }
}

#[test]
fn every_violation_is_reported() {
    let v = json!({"auditResource": {"type": ""}, "auditEventTime": "soon"});
    assert_eq!(
        one(&v),
        vec![
            pair("auditEventId", "missing"),
            pair("auditEventAuthor", "missing"),
            pair("auditModule", "missing"),
            pair("auditResource.type", "empty"),
            pair("auditResource.identifier", "missing"),
            pair("auditResourceScope", "missing"),
            pair("auditAction", "missing"),
            pair("auditEventTime", "bad_time"),
        ]
    );
}

#[test]
fn wrong_types() {
    let cases = [
        ("auditEventId", json!(5)),
        ("auditEventAuthor", json!("alice")),
        ("auditEventAuthor.principal", json!([])),
        ("auditEventAuthor.principal.type", json!(null)),
        ("auditEventAuthor.principal.email", json!(false)),
        ("auditModule", json!({})),
        ("auditResource", json!(1)),
        ("auditResource.identifier", json!(7)),
        ("auditResourceScope", json!("acct")),
        ("auditResourceScope.accountIdentifier", json!(["a"])),
        ("auditResourceScope.orgIdentifier", json!(1)),
        ("auditResourceScope.projectIdentifier", json!(null)),
        ("auditAction", json!(true)),
        ("auditEventTime", json!(true)),
        ("auditEventTime", json!({"ms": 1})),
        ("auditHttpRequestInfo", json!("GET")),
        ("auditHttpRequestInfo.requestMethod", json!(1)),
        ("auditHttpRequestInfo.clientIP", json!(167772161)),
        ("auditEventMetadata", json!("batch")),
        ("auditEventMetadata", json!([1])),
    ];
    for (path, bad) in cases {
        let mut v = valid();
        set(&mut v, path, Some(bad.clone()));
        assert_eq!(one(&v), vec![pair(path, "wrong_type")], "{path} = {bad}");
    }
}

#[test]
fn not_an_object() {
    for v in [json!(null), json!(1), json!("x"), json!([valid()])] {
        assert_eq!(one(&v), vec![pair("", "wrong_type")]);
    }
}

#[test]
fn empty_strings() {
    for path in [
        "auditEventId",
        "auditEventAuthor.principal.type",
        "auditEventAuthor.principal.identifier",
        "auditModule",
        "auditResource.type",
        "auditResource.identifier",
        "auditResourceScope.accountIdentifier",
        "auditAction",
    ] {
        let mut v = valid();
        set(&mut v, path, Some(json!("")));
        assert_eq!(one(&v), vec![pair(path, "empty")], "{path}");
    }
    // Optional strings may be empty.
    let mut v = valid();
    set(&mut v, "auditResourceScope.orgIdentifier", Some(json!("")));
    set(&mut v, "auditEventAuthor.principal.email", Some(json!("")));
    assert!(one(&v).is_empty());
}

#[test]
fn time_forms() {
    for good in [
        json!(1763719530123u64),
        json!("1763719530123"),
        json!("2026-11-21T10:05:30.123Z"),
        json!("2026-11-21T12:05:30+02:00"),
        json!(0),
        json!(1.763719530123e12),
    ] {
        let mut v = valid();
        set(&mut v, "auditEventTime", Some(good.clone()));
        assert!(one(&v).is_empty(), "{good}");
    }
    for bad in [
        json!("yesterday"),
        json!(""),
        json!("2026-13-01T00:00:00Z"),
        json!("99999999999999999999"),
        json!(1.5),
        json!(1e300),
        json!("-5"),
    ] {
        let mut v = valid();
        set(&mut v, "auditEventTime", Some(bad.clone()));
        assert_eq!(one(&v), vec![pair("auditEventTime", "bad_time")], "{bad}");
    }
}

#[test]
fn client_ip() {
    for good in [
        "10.0.0.1",
        "255.255.255.255",
        "::1",
        "2001:db8::8a2e:370:7334",
        "::ffff:10.0.0.1",
    ] {
        let mut v = valid();
        set(&mut v, "auditHttpRequestInfo.clientIP", Some(json!(good)));
        assert!(one(&v).is_empty(), "{good}");
    }
    for bad in [
        "",
        "256.1.1.1",
        "10.0.0",
        "localhost",
        "10.0.0.1:8080",
        "2001:db8::g",
        " 10.0.0.1",
    ] {
        let mut v = valid();
        set(&mut v, "auditHttpRequestInfo.clientIP", Some(json!(bad)));
        assert_eq!(
            one(&v),
            vec![pair("auditHttpRequestInfo.clientIP", "bad_ip")],
            "{bad}"
        );
    }
}

#[test]
fn unknown_fields_kept_by_default_rejected_in_strict_mode() {
    let mut v = valid();
    set(&mut v, "extra", Some(json!(1)));
    set(&mut v, "auditResource.label", Some(json!("x")));
    set(
        &mut v,
        "auditEventAuthor.principal.name",
        Some(json!("Alice")),
    );
    set(&mut v, "auditEventAuthor.role", Some(json!("admin")));
    set(&mut v, "auditResourceScope.env", Some(json!("prod")));
    set(
        &mut v,
        "auditHttpRequestInfo.userAgent",
        Some(json!("curl")),
    );
    set(
        &mut v,
        "auditEventMetadata.anything",
        Some(json!({"deep": 1})),
    );
    assert!(one(&v).is_empty());
    let strict = Options {
        strict: true,
        ..Options::default()
    };
    assert_eq!(
        codes_of(&v, &strict),
        vec![
            pair("extra", "unknown_field"),
            pair("auditEventAuthor.role", "unknown_field"),
            pair("auditEventAuthor.principal.name", "unknown_field"),
            pair("auditResource.label", "unknown_field"),
            pair("auditResourceScope.env", "unknown_field"),
            pair("auditHttpRequestInfo.userAgent", "unknown_field"),
        ]
    );
}

fn nest(depth: usize) -> Value {
    let mut v = json!(1);
    for _ in 0..depth {
        v = json!({ "a": v });
    }
    v
}

#[test]
fn depth_limit() {
    // The event is depth 1, auditEventMetadata depth 2.
    let mut v = valid();
    set(
        &mut v,
        "auditEventMetadata",
        Some(nest(DEFAULT_MAX_DEPTH - 1)),
    );
    assert!(one(&v).is_empty());
    set(&mut v, "auditEventMetadata", Some(nest(DEFAULT_MAX_DEPTH)));
    let got = one(&v);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, "too_deep");
    assert!(
        got[0].0.starts_with("auditEventMetadata.a.a."),
        "{}",
        got[0].0
    );
    let mut arr = json!([1]);
    for _ in 0..40 {
        arr = json!([arr]);
    }
    set(&mut v, "auditEventMetadata", Some(json!({ "list": arr })));
    let got = one(&v);
    assert_eq!(got[0].1, "too_deep");
    assert!(
        got[0].0.starts_with("auditEventMetadata.list[0][0]"),
        "{}",
        got[0].0
    );
}

#[test]
fn size_limit() {
    let mut v = valid();
    set(
        &mut v,
        "auditEventMetadata",
        Some(json!({ "blob": "x".repeat(DEFAULT_MAX_SIZE) })),
    );
    assert_eq!(one(&v), vec![pair("", "too_large")]);
    let small = Options {
        max_size: 100,
        ..Options::default()
    };
    assert_eq!(codes_of(&valid(), &small), vec![pair("", "too_large")]);
}

#[test]
fn error_count_is_bounded() {
    let mut map = serde_json::Map::new();
    for i in 0..1000 {
        map.insert(format!("k{i}"), json!(i));
    }
    let v = Value::Object(map);
    let strict = Options {
        strict: true,
        ..Options::default()
    };
    let got = validate_value(&v, &strict);
    assert_eq!(got.len(), DEFAULT_MAX_ERRORS + 1);
    assert_eq!(got.last().unwrap().code, "too_many_errors");
}

#[test]
fn long_values_are_cut_in_messages() {
    let mut v = valid();
    set(
        &mut v,
        "auditHttpRequestInfo.clientIP",
        Some(json!("é".repeat(1000))),
    );
    let got = validate_value(&v, &Options::default());
    assert!(got[0].message.len() < 200, "{}", got[0].message);
}

#[test]
fn vocabulary_warnings_only_when_asked() {
    let mut v = valid();
    set(&mut v, "auditModule", Some(json!("WIDGETS")));
    set(&mut v, "auditResource.type", Some(json!("GADGET")));
    set(&mut v, "auditAction", Some(json!("FROBNICATE")));
    let plain = check_value(&v, &Options::default());
    assert!(plain.is_valid());
    assert!(plain.warnings.is_empty());
    let voc = Options {
        vocabulary: true,
        ..Options::default()
    };
    let checked = check_value(&v, &voc);
    assert!(checked.is_valid(), "warnings are never errors");
    let got: Vec<(&str, &str)> = checked
        .warnings
        .iter()
        .map(|w| (w.path.as_str(), w.code.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("auditModule", "unknown_module"),
            ("auditResource.type", "unknown_resource_type"),
            ("auditAction", "unknown_action"),
        ]
    );
    // An action of another resource type.
    let mut v = valid();
    set(&mut v, "auditAction", Some(json!("LOGIN")));
    let w = check_value(&v, &voc).warnings;
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].code, "unknown_action");
    assert!(w[0].message.contains("SECRET"));
    assert!(check_value(&valid(), &voc).warnings.is_empty());
}

#[test]
fn batch_report_shape() {
    let mut batch = BatchValidator::new(Options {
        vocabulary: true,
        ..Options::default()
    });
    assert!(batch.push(0, 1, &valid()));
    let mut bad = valid();
    set(&mut bad, "auditResource.identifier", None);
    set(&mut bad, "auditAction", Some(json!("FROBNICATE")));
    assert!(!batch.push(1, 2, &bad));
    batch.push_bad_json(2, 3, "expected value at line 3 column 1");
    let mut no_id = valid();
    set(&mut no_id, "auditEventId", Some(json!(7)));
    assert!(!batch.push(3, 4, &no_id));
    let report = batch.finish();
    let text = serde_json::to_value(&report).unwrap();
    assert_eq!(
        text,
        json!({
            "valid": 1,
            "rejected": [
                {"index": 1, "line": 2, "id": "ev-1", "errors": [
                    {"path": "auditResource.identifier", "code": "missing", "message": "required field is missing"}]},
                {"index": 2, "line": 3, "errors": [
                    {"path": "", "code": "bad_json", "message": "expected value at line 3 column 1"}]},
                {"index": 3, "line": 4, "errors": [
                    {"path": "auditEventId", "code": "wrong_type", "message": "expected a string, found a number"}]}
            ],
            "warnings": [
                {"index": 1, "line": 2, "path": "auditAction", "code": "unknown_action",
                 "message": "\"FROBNICATE\" is not a known action"}
            ]
        })
    );
    let back: Report = serde_json::from_value(text).unwrap();
    assert_eq!(back, report);
}

mod props {
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    use super::super::*;

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".{0,12}".prop_map(Value::String),
            prop_oneof![
                Just("auditEventId"),
                Just("auditEventTime"),
                Just("2026-11-21T10:05:30Z"),
                Just("1763719530123"),
                Just("::1"),
            ]
            .prop_map(|s| Value::String(s.to_string())),
        ];
        leaf.prop_recursive(6, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(
                    (
                        prop_oneof![
                            Just("auditEventId".to_string()),
                            Just("auditEventAuthor".to_string()),
                            Just("principal".to_string()),
                            Just("type".to_string()),
                            Just("identifier".to_string()),
                            Just("auditResource".to_string()),
                            Just("auditResourceScope".to_string()),
                            Just("auditHttpRequestInfo".to_string()),
                            Just("clientIP".to_string()),
                            Just("auditEventTime".to_string()),
                            Just("auditEventMetadata".to_string()),
                            ".{0,8}",
                        ],
                        inner
                    ),
                    0..8
                )
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
            ]
        })
    }

    proptest! {
        #[test]
        fn never_panics(v in arb_json(), strict in any::<bool>(), depth in 0usize..8, size in 0usize..400) {
            let options = Options { strict, vocabulary: true, max_depth: depth, max_size: size, max_errors: 5, account: None };
            let checked = check_value(&v, &options);
            prop_assert!(checked.errors.len() <= 6);
            let _ = validate_value(&v, &Options::default());
            let mut w = Vec::new();
            let _ = is_certainly_valid(v.to_string().as_bytes(), &options, &mut w);
        }
    }
}

#[test]
fn hostile_depth_does_not_recurse_without_bound() {
    // Deeper than serde_json's parser allows: a value built in code (as an adapter could).
    let mut deep = json!(1);
    for _ in 0..5000 {
        deep = Value::Array(vec![deep]);
    }
    let mut v = valid();
    let mut meta = serde_json::Map::new();
    meta.insert("x".to_string(), deep);
    set(&mut v, "auditEventMetadata", Some(Value::Object(meta)));
    let got = one(&v);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, "too_deep");
    // Free it iteratively so the test thread's stack is not the limit being tested.
    let mut cur = v;
    while let Some(next) = cur
        .get_mut("auditEventMetadata")
        .and_then(|m| m.get_mut("x"))
        .map(Value::take)
    {
        let mut inner = next;
        loop {
            match inner {
                Value::Array(mut items) if !items.is_empty() => inner = items.remove(0),
                _ => break,
            }
        }
        cur = Value::Null;
    }
}

/// The Worker's ingest decoding: what is handed on, and which bodies are refused whole.
mod ingest_body {
    use super::*;
    use crate::convert::{gzip, ErrorCode, Format};

    const LIMITS: IngestLimits = IngestLimits {
        body: 1 << 20,
        events: 3,
        event: 2000,
    };

    /// The fault and the ids handed on.
    fn run(body: &[u8], format: Format, limits: &IngestLimits) -> (Option<BodyFault>, Vec<String>) {
        let mut ids = Vec::new();
        let got = ingest(body, format, "acct", limits, &mut |ev| {
            ids.push(ev.id.to_string())
        });
        assert_eq!(got.report.valid, ids.len() as u64);
        (got.fault, ids)
    }

    fn lines(events: &[Value]) -> Vec<u8> {
        events
            .iter()
            .flat_map(|e| format!("{e}\n").into_bytes())
            .collect()
    }

    fn code(fault: Option<BodyFault>) -> Option<ErrorCode> {
        match fault {
            Some(BodyFault::Unreadable(e)) => Some(e.code),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn valid_events_are_handed_on_and_others_rejected() {
        let mut other = valid();
        set(
            &mut other,
            "auditResourceScope.accountIdentifier",
            Some(json!("other")),
        );
        set(&mut other, "auditEventId", Some(json!("ev-2")));
        let body = lines(&[valid(), other]);
        let (fault, ids) = run(&body, Format::Ndjson, &LIMITS);
        assert_eq!((fault, ids), (None, vec!["ev-1".to_string()]));
        assert_eq!(
            run(&gzip::compress(&body), Format::Ndjson, &LIMITS).1,
            ["ev-1"]
        );
    }

    /// Found by the `ingest` fuzz target: a small body over the event limit gave one
    /// rejected record fewer read plain than gzipped (the plain push read up to the last
    /// record and stopped; the gzip decoder held the bytes until the finish read them all).
    #[test]
    fn a_body_over_the_event_limit_reports_the_same_gzipped() {
        let body = [
            lines(&[valid(), valid(), valid(), valid()]),
            b"{\"a\"".to_vec(),
        ]
        .concat();
        let read = |body: &[u8]| ingest(body, Format::Ndjson, "acct", &LIMITS, &mut |_| {});
        let plain = read(&body);
        assert_eq!(plain.fault, Some(BodyFault::TooManyEvents));
        assert_eq!(
            plain.report.total(),
            5,
            "the last, unfinished record is read too"
        );
        assert_eq!(read(&gzip::compress(&body)), plain);
    }

    #[test]
    fn bodies_refused_whole() {
        assert_eq!(
            run(b"  \n", Format::Ndjson, &LIMITS).0,
            Some(BodyFault::Empty)
        );
        assert_eq!(
            run(b"[1, 2]", Format::Json, &LIMITS).0,
            Some(BodyFault::NoObject)
        );
        let four = lines(&[valid(), valid(), valid(), valid()]);
        assert_eq!(
            run(&four, Format::Ndjson, &LIMITS).0,
            Some(BodyFault::TooManyEvents)
        );
        let small = IngestLimits {
            event: 100,
            ..LIMITS
        };
        assert_eq!(
            code(run(&four, Format::Ndjson, &small).0),
            Some(ErrorCode::TooLarge)
        );
        let tiny = IngestLimits {
            body: 100,
            ..LIMITS
        };
        assert_eq!(
            code(run(&four, Format::Ndjson, &tiny).0),
            Some(ErrorCode::TooLarge)
        );
        assert_eq!(
            code(run(b"[{\"a\":1},", Format::Json, &LIMITS).0),
            Some(ErrorCode::Truncated)
        );
        assert_eq!(
            code(run(b"{\"a\" 1}", Format::Json, &LIMITS).0),
            Some(ErrorCode::BadJson)
        );
        let cut = gzip::compress(&lines(&[valid()]));
        let cut = &cut[..cut.len() - 4];
        assert_eq!(
            code(run(cut, Format::Ndjson, &LIMITS).0),
            Some(ErrorCode::Truncated)
        );
    }

    #[test]
    fn a_bad_ndjson_line_is_only_that_line_rejected() {
        let mut body = b"{\"a\" 1}\n".to_vec();
        body.extend(lines(&[valid()]));
        assert_eq!(
            run(&body, Format::Ndjson, &LIMITS),
            (None, vec!["ev-1".to_string()])
        );
    }
}
