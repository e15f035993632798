use serde_json::{json, Value};
use sha2::Digest;

use super::*;

fn event() -> Value {
    json!({
        "auditEventId": "ev-1",
        "auditEventAuthor": {"principal": {"type": "USER", "identifier": "alice",
                                           "email": "alice@example.com"}},
        "auditModule": "CORE",
        "auditResource": {"type": "SECRET", "identifier": "db_password"},
        "auditResourceScope": {"accountIdentifier": "acct1", "orgIdentifier": "default"},
        "auditAction": "CREATE",
        "auditHttpRequestInfo": {"requestMethod": "POST", "clientIP": "203.0.113.77"},
        "auditEventTime": "1763719530123",
        "auditEventMetadata": {"batchId": "b-17", "note": "Authorization: Bearer abc.DEF-1=="}
    })
}

fn run(transform: Value, key: Option<&[u8]>, event: &Value) -> Option<Value> {
    Transform::from_value(&transform)
        .unwrap()
        .bind(key)
        .unwrap()
        .apply(event)
}

fn err(transform: Value) -> TransformError {
    Transform::from_value(&transform).unwrap_err()
}

/// HMAC-SHA256 pseudonym as formats.md §4 defines it, computed here from RFC 4231's test
/// case 2 (key "Jefe", data "what do ya want for nothing?").
#[test]
fn pseudonym_is_the_hmac_head_in_hex() {
    let t = Transform::from_value(&json!({"pseudonymize": ["v"]}))
        .unwrap()
        .bind(Some(b"Jefe"))
        .unwrap();
    let out = t
        .apply(&json!({"v": "what do ya want for nothing?"}))
        .unwrap();
    assert_eq!(out["v"], "ps_5bdcc146bf60754e6a042426089575c7");
}

#[test]
fn pseudonymize_strings_and_other_values() {
    let key: &[u8] = b"k";
    let t = json!({"pseudonymize": ["a", "b", "c", "missing", "d.e"]});
    let out = run(
        t.clone(),
        Some(key),
        &json!({"a": "x", "b": 7, "c": {"y": [1, null]}, "d": 1}),
    )
    .unwrap();
    // A non-string value is pseudonymised from its compact JSON text.
    let same = run(t, Some(key), &json!({"a": "7", "b": "{\"y\":[1,null]}"})).unwrap();
    assert_eq!(out["b"], same["a"]);
    assert_eq!(out["c"], same["b"]);
    assert_ne!(out["a"], out["b"]);
    assert!(out.get("missing").is_none());
    assert_eq!(out["d"], 1);
    // Another key gives other pseudonyms.
    let other = run(
        json!({"pseudonymize": ["a"]}),
        Some(b"k2"),
        &json!({"a": "x"}),
    )
    .unwrap();
    assert_ne!(other["a"], out["a"]);
}

#[test]
fn path_order_does_not_matter() {
    // A path and a path inside it: the outer one applies first, whatever the order given.
    let ev = json!({"a": {"b": "x"}, "c": "y"});
    let one = run(json!({"pseudonymize": ["a", "a.b", "c"]}), Some(b"k"), &ev);
    let other = run(
        json!({"pseudonymize": ["c", "a.b", "a", "a"]}),
        Some(b"k"),
        &ev,
    );
    assert_eq!(one, other);
    let whole = run(json!({"pseudonymize": ["a"]}), Some(b"k"), &ev).unwrap();
    assert_eq!(one.unwrap()["a"], whole["a"]);
}

#[test]
fn missing_key_is_an_error_never_a_pass_through() {
    let t = Transform::from_value(&json!({"pseudonymize": ["auditEventAuthor.principal.email"]}))
        .unwrap();
    assert!(t.needs_key());
    for key in [None, Some(&b""[..])] {
        let e = t.clone().bind(key).unwrap_err();
        assert_eq!(
            (e.code, e.key.as_str()),
            (error::MISSING_KEY, "pseudonymize")
        );
    }
    // No pseudonymize, no key needed; a key given anyway changes nothing.
    let plain = Transform::from_value(&json!({"redact": ["auditModule"]})).unwrap();
    assert!(!plain.needs_key());
    let a = plain.clone().bind(None).unwrap().apply(&event());
    let b = plain.bind(Some(b"unused")).unwrap().apply(&event());
    assert_eq!(a, b);
}

#[test]
fn include_keeps_named_subtrees_and_the_required_fields() {
    let out = run(
        json!({"include": ["auditAction", "auditResource", "auditEventAuthor.principal.email",
                           "auditResourceScope.projectIdentifier", "nothing.here"]}),
        None,
        &event(),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"auditEventId": "ev-1",
               "auditEventAuthor": {"principal": {"email": "alice@example.com"}},
               "auditResource": {"type": "SECRET", "identifier": "db_password"},
               "auditAction": "CREATE",
               "auditEventTime": "1763719530123"})
    );
    // An empty include keeps the id and the time only.
    let out = run(json!({"include": []}), None, &event()).unwrap();
    assert_eq!(
        out,
        json!({"auditEventId": "ev-1", "auditEventTime": "1763719530123"})
    );
    // A path through a value that is not an object keeps nothing of it.
    let out = run(
        json!({"include": ["a.b"]}),
        None,
        &json!({"a": [{"b": 1}], "x": 1}),
    )
    .unwrap();
    assert_eq!(out, json!({}));
    // A named empty object stays; an object kept in part only for what it holds.
    let out = run(
        json!({"include": ["a", "b.c"]}),
        None,
        &json!({"a": {}, "b": {}}),
    )
    .unwrap();
    assert_eq!(out, json!({"a": {}}));
}

#[test]
fn exclude_removes_subtrees_and_the_objects_it_empties() {
    let out = run(
        json!({"exclude": ["auditEventMetadata", "auditEventAuthor.principal.type",
                           "auditEventAuthor.principal.identifier",
                           "auditEventAuthor.principal.email", "auditResource.type"]}),
        None,
        &event(),
    )
    .unwrap();
    assert!(out.get("auditEventMetadata").is_none());
    assert!(out.get("auditEventAuthor").is_none(), "{out}");
    assert_eq!(out["auditResource"], json!({"identifier": "db_password"}));
    // An object that was empty already stays.
    let out = run(
        json!({"exclude": ["a.b"]}),
        None,
        &json!({"a": {}, "c": {"b": 1}}),
    )
    .unwrap();
    assert_eq!(out, json!({"a": {}, "c": {"b": 1}}));
    // Include, then exclude.
    let out = run(
        json!({"include": ["auditEventAuthor"], "exclude": ["auditEventAuthor.principal.email"]}),
        None,
        &event(),
    )
    .unwrap();
    assert_eq!(
        out["auditEventAuthor"],
        json!({"principal": {"type": "USER", "identifier": "alice"}})
    );
}

#[test]
fn redact_replaces_any_value() {
    let out = run(
        json!({"redact": ["auditHttpRequestInfo.clientIP", "auditEventAuthor", "absent.path"]}),
        None,
        &event(),
    )
    .unwrap();
    assert_eq!(out["auditHttpRequestInfo"]["clientIP"], REDACTED);
    assert_eq!(out["auditEventAuthor"], REDACTED);
    assert!(out.get("absent").is_none());
}

#[test]
fn redact_patterns_apply_in_order_to_every_string() {
    let ev = json!({"auditEventId": "id bearer x", "a": ["Bearer tok123", {"b": "bearer y z"}],
                    "n": 5, "k": {"bearer q": true}});
    let out = run(
        json!({"redactPatterns": ["(?i)bearer [a-z0-9._~+/-]+=*"]}),
        None,
        &ev,
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"auditEventId": "id [REDACTED]", "a": ["[REDACTED]", {"b": "[REDACTED] z"}],
               "n": 5, "k": {"bearer q": true}})
    );
    // The second pattern sees what the first one wrote.
    let out = run(
        json!({"redactPatterns": ["secret", "RED"]}),
        None,
        &json!({"s": "a secret"}),
    )
    .unwrap();
    assert_eq!(out["s"], "a [[REDACTED]ACTED]");
}

#[test]
fn truncate_ip_keeps_the_prefix_of_each_family_given() {
    let with = |ip: &str, t: Value| {
        let ev = json!({"auditHttpRequestInfo": {"clientIP": ip}});
        run(json!({"truncateIp": t}), None, &ev).unwrap()["auditHttpRequestInfo"]["clientIP"]
            .clone()
    };
    assert_eq!(
        with("203.0.113.77", json!({"v4": 24, "v6": 48})),
        "203.0.113.0"
    );
    assert_eq!(
        with("2001:db8:1:2:3::7", json!({"v4": 24, "v6": 48})),
        "2001:db8:1::"
    );
    assert_eq!(with("203.0.113.77", json!({"v6": 48})), "203.0.113.77");
    assert_eq!(
        with("2001:db8:1:2:3::7", json!({"v4": 8})),
        "2001:db8:1:2:3::7"
    );
    assert_eq!(with("not an ip", json!({"v4": 8})), "not an ip");
    assert_eq!(with("10.1.2.3", json!({"v4": 0})), "0.0.0.0");
    let ev = json!({"auditHttpRequestInfo": {"clientIP": 17}});
    assert_eq!(run(json!({"truncateIp": {"v4": 8}}), None, &ev), Some(ev));
}

#[test]
fn time_format_uses_the_event_time_forms() {
    for time in [
        json!(1763719530123u64),
        json!("1763719530123"),
        json!("2025-11-21T12:05:30.123+02:00"),
    ] {
        let ev = json!({"auditEventTime": time});
        let ms = run(json!({"timeFormat": "epoch_ms"}), None, &ev).unwrap();
        assert_eq!(ms["auditEventTime"], json!(1763719530123u64));
        let text = run(json!({"timeFormat": "rfc3339"}), None, &ev).unwrap();
        assert_eq!(text["auditEventTime"], "2025-11-21T10:05:30.123Z");
    }
    let bad = json!({"auditEventTime": "yesterday"});
    assert_eq!(
        run(json!({"timeFormat": "epoch_ms"}), None, &bad),
        Some(bad)
    );
}

#[test]
fn sample_keeps_by_the_id_hash() {
    // SHA-256("ev-1") begins 0x2f...: kept below a threshold above that, dropped below it.
    let head = u64::from_be_bytes(sha2::Sha256::digest(b"ev-1")[..8].try_into().unwrap());
    let cut = head as f64 / 18_446_744_073_709_551_616.0;
    assert!(run(json!({"sample": (cut * 1.01).min(1.0)}), None, &event()).is_some());
    assert!(run(json!({"sample": cut * 0.99}), None, &event()).is_none());
    assert!(run(json!({"sample": 1}), None, &event()).is_some());
    // About the share asked for, over many ids.
    let t = Transform::from_value(&json!({"sample": 0.25}))
        .unwrap()
        .bind(None)
        .unwrap();
    let kept = (0..4000)
        .filter(|i| {
            t.apply(&json!({"auditEventId": format!("ev-{i}")}))
                .is_some()
        })
        .count();
    assert!((850..1150).contains(&kept), "{kept}");
}

#[test]
fn steps_run_in_the_order_of_the_spec() {
    // redact before pseudonymize: the pseudonym is that of "[REDACTED]".
    let both = run(
        json!({"redact": ["a"], "pseudonymize": ["a"]}),
        Some(b"k"),
        &json!({"a": "x"}),
    );
    let redacted = run(
        json!({"pseudonymize": ["a"]}),
        Some(b"k"),
        &json!({"a": REDACTED}),
    );
    assert_eq!(both, redacted);
    // exclude before redact: nothing comes back.
    let out = run(
        json!({"exclude": ["a"], "redact": ["a"]}),
        None,
        &json!({"a": 1, "b": 2}),
    );
    assert_eq!(out, Some(json!({"b": 2})));
}

#[test]
fn canonical_json_round_trips() {
    let t = Transform::from_json(
        r#"{"timeFormat":"epoch_ms","sample":0.5,"redact":["b","a","b"],
            "redactPatterns":["z","a"],"truncateIp":{"v6":48,"v4":24},"include":[]}"#,
    )
    .unwrap();
    let text = t.to_json();
    assert_eq!(
        text,
        r#"{"include":[],"redact":["a","b"],"redactPatterns":["z","a"],"truncateIp":{"v4":24,"v6":48},"sample":0.5,"timeFormat":"epoch_ms"}"#
    );
    assert_eq!(Transform::from_json(&text).unwrap(), t);
    assert_eq!(serde_json::to_value(&t).unwrap(), t.to_value());
    assert_eq!(Transform::from_json("{}").unwrap().to_json(), "{}");
}

#[test]
fn key_is_never_shown() {
    let t = Transform::from_json(r#"{"pseudonymize":["a"]}"#)
        .unwrap()
        .bind(Some(b"hunter2"))
        .unwrap();
    assert!(!format!("{t:?}").contains("hunter2"));
    assert!(!t.transform().to_json().contains("hunter2"));
}

#[test]
fn invalid_transforms_name_code_and_key() {
    let cases = [
        (json!([]), error::WRONG_TYPE, ""),
        (json!({"inclde": []}), error::UNKNOWN_KEY, "inclde"),
        (
            json!({"include": "auditAction"}),
            error::WRONG_TYPE,
            "include",
        ),
        (json!({"exclude": [3]}), error::WRONG_TYPE, "exclude"),
        (json!({"redact": ["a..b"]}), error::BAD_PATH, "redact"),
        (
            json!({"pseudonymize": [""]}),
            error::BAD_PATH,
            "pseudonymize",
        ),
        (json!({"include": [".a"]}), error::BAD_PATH, "include"),
        (
            json!({"exclude": ["auditEventId"]}),
            error::REQUIRED_FIELD,
            "exclude",
        ),
        (
            json!({"exclude": ["auditEventTime.x"]}),
            error::REQUIRED_FIELD,
            "exclude",
        ),
        (
            json!({"redactPatterns": ["ok", "(unclosed"]}),
            error::BAD_REGEX,
            "redactPatterns",
        ),
        (
            json!({"redactPatterns": [1]}),
            error::WRONG_TYPE,
            "redactPatterns",
        ),
        (json!({"sample": 0}), error::OUT_OF_RANGE, "sample"),
        (json!({"sample": 1.5}), error::OUT_OF_RANGE, "sample"),
        (json!({"sample": -0.1}), error::OUT_OF_RANGE, "sample"),
        (json!({"sample": "0.5"}), error::WRONG_TYPE, "sample"),
        (json!({"truncateIp": 24}), error::WRONG_TYPE, "truncateIp"),
        (
            json!({"truncateIp": {"v5": 8}}),
            error::UNKNOWN_KEY,
            "truncateIp.v5",
        ),
        (
            json!({"truncateIp": {"v4": 33}}),
            error::OUT_OF_RANGE,
            "truncateIp.v4",
        ),
        (
            json!({"truncateIp": {"v6": 129}}),
            error::OUT_OF_RANGE,
            "truncateIp.v6",
        ),
        (
            json!({"truncateIp": {"v4": -1}}),
            error::OUT_OF_RANGE,
            "truncateIp.v4",
        ),
        (
            json!({"truncateIp": {"v4": 8.5}}),
            error::WRONG_TYPE,
            "truncateIp.v4",
        ),
        (
            json!({"truncateIp": {"v6": "48"}}),
            error::WRONG_TYPE,
            "truncateIp.v6",
        ),
        (json!({"timeFormat": "iso"}), error::BAD_VALUE, "timeFormat"),
        (json!({"timeFormat": 1}), error::WRONG_TYPE, "timeFormat"),
    ];
    for (transform, code, key) in cases {
        let e = err(transform.clone());
        assert_eq!((e.code, e.key.as_str()), (code, key), "{transform}: {e}");
        assert!(!e.message.is_empty());
    }
}

#[test]
fn errors_point_at_the_entry() {
    let e = err(json!({"redactPatterns": ["ok", "(unclosed"]}));
    assert_eq!(
        (e.index, e.pattern.as_deref()),
        (Some(1), Some("(unclosed"))
    );
    assert!(e.message.contains("(unclosed"), "{}", e.message);
    assert!(e.message.contains("regular expression"), "{}", e.message);
    let e = err(json!({"include": ["a", "b..c"]}));
    assert_eq!((e.index, e.path.as_deref()), (Some(1), Some("b..c")));
    assert_eq!(
        serde_json::to_value(&e).unwrap(),
        json!({"code": "bad_path", "message": e.message, "key": "include", "index": 1,
               "path": "b..c"})
    );
    let e = Transform::from_json(r#"{"include": [}"#).unwrap_err();
    assert_eq!((e.code, e.key.as_str()), (error::BAD_JSON, ""));
}

#[test]
fn limits_have_their_codes() {
    let e = Transform::from_json(&format!("{{\"include\":[\"{}\"]}}", "a".repeat(MAX_BYTES)))
        .unwrap_err();
    assert_eq!(e.code, error::TOO_LARGE);
    let many: Vec<String> = (0..=MAX_PATHS).map(|i| format!("p{i}")).collect();
    let e = err(json!({"redact": many}));
    assert_eq!((e.code, e.key.as_str()), (error::TOO_MANY, "redact"));
    let e = err(json!({"redactPatterns": vec!["a"; MAX_PATTERNS + 1]}));
    assert_eq!(
        (e.code, e.key.as_str()),
        (error::TOO_MANY, "redactPatterns")
    );
    let e = err(json!({"exclude": ["a".repeat(MAX_PATH_BYTES + 1)]}));
    assert_eq!(
        (e.code, e.key.as_str(), e.index),
        (error::TOO_LONG, "exclude", Some(0))
    );
    let e = err(json!({"redactPatterns": ["a".repeat(MAX_PATTERN_BYTES + 1)]}));
    assert_eq!(
        (e.code, e.key.as_str()),
        (error::TOO_LONG, "redactPatterns")
    );
    // A short pattern that compiles past the regex size limit.
    let e = err(json!({"redactPatterns": ["(a{1000}){1000}"]}));
    assert_eq!(
        (e.code, e.key.as_str()),
        (error::BAD_REGEX, "redactPatterns")
    );
}

#[test]
fn literal_prefixes_are_read_only_when_certain() {
    let lit = |p: &str| String::from_utf8(compile::literal_prefix(p)).unwrap();
    assert_eq!(lit("(?i)bearer [a-z0-9._~+/-]+=*"), "bearer ");
    assert_eq!(lit("Password=\\S+"), "password=");
    assert_eq!(lit("token\\.value"), "token.value");
    assert_eq!(lit("ab?c"), "a");
    assert_eq!(lit("ab*"), "a");
    assert_eq!(lit("ab{0,2}"), "a");
    assert_eq!(lit("ab+"), "ab");
    assert_eq!(lit("(?ms)key: "), "key: ");
    assert_eq!(lit("a\\<b"), "a");
    for none in [
        "a|b", "(?x)a b", "(?i:ab)", "^ab", "[ab]c", "\\bab", "(ab)", ".ab", "(?i",
    ] {
        assert_eq!(lit(none), "", "{none}");
    }
}

proptest::proptest! {
    /// The literal pre-check only skips strings the regex cannot match.
    #[test]
    fn literal_prefix_never_skips_a_match(
        pattern in proptest::sample::select(vec![
            "(?i)bearer [a-z0-9._~+/-]+=*", "Ab+c", "ab?c", "a\\.b", "(?s)x.y", "(?U)ab*",
            "key=\\d+", "a{2}b", "(?m)ab$", "ab\\b", "AB", "(?i)AB", "a-b:c",
        ]),
        text in "[aAbBcCxyk.=\\-:19\n eyr]{0,16}",
    ) {
        let regex = crate::filter::regex(pattern).unwrap();
        let literal = compile::literal_prefix(pattern);
        if regex.is_match(&text) {
            proptest::prop_assert!(crate::filter::text_hit(text.as_bytes(), 0, &literal, 0).is_some());
        }
    }
}
