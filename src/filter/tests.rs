//! Unit tests of the whole pipeline; the golden cases live in tests/fixtures/filter.

use super::*;
use serde_json::json;

fn ev() -> Value {
    json!({
        "auditEventId": "ev-1",
        "auditEventTime": "1767261600000",
        "auditEventAuthor": {"principal": {"type": "USER", "identifier": "alice", "email": "alice@example.com"}},
        "auditModule": "CORE",
        "auditResource": {"type": "SECRET", "identifier": "prod-42"},
        "auditResourceScope": {"accountIdentifier": "acct", "orgIdentifier": "default"},
        "auditAction": "CREATE",
        "auditHttpRequestInfo": {"requestMethod": "POST", "clientIP": "10.1.2.3"},
        "auditEventMetadata": {"batchId": "b-7", "count": 5, "note": "Ünïcode Straße"}
    })
}

fn check(q: &str, expect: bool) {
    let f = Filter::parse(q).unwrap_or_else(|e| panic!("{q}: {}", e.render(q)));
    let e = ev();
    assert_eq!(
        f.matches(&e, 1_767_261_600_000),
        expect,
        "{q} -> {:?}",
        f.ir()
    );
    let line = serde_json::to_vec(&e).unwrap();
    assert_eq!(
        f.matches_line(&line, 1_767_261_600_000).unwrap(),
        expect,
        "fast {q}"
    );
    let again = Filter::parse(&f.to_query())
        .unwrap_or_else(|e| panic!("{}: {}", f.to_query(), e.render(&f.to_query())));
    assert_eq!(again.ir(), f.ir(), "round trip of {q} via {}", f.to_query());
    let via_json = Filter::from_ir_json(&f.to_ir_json()).unwrap();
    assert_eq!(via_json.ir(), f.ir());
}

fn err(q: &str, code: &str) {
    match Filter::parse(q) {
        Ok(f) => panic!("{q} parsed as {:?}", f.ir()),
        Err(e) => assert_eq!(e.code, code, "{q}: {}", e.render(q)),
    }
}

#[test]
fn expressions() {
    check("", true);
    check(r#"action == "CREATE""#, true);
    check(r#"action=="CREATE""#, true);
    check(r#"action == "create""#, false);
    check(r#"action != "CREATE""#, false);
    check(r#"org != "x""#, true);
    check(r#"project != "x""#, false);
    check(r#"resource.type in {"SECRET" "CONNECTOR"}"#, true);
    check(r#"resource.type not in {"SECRET", "CONNECTOR"}"#, false);
    check(
        r#"not (principal.type == "SYSTEM") && time >= now-7d"#,
        true,
    );
    check(
        r#"ip in {10.0.0.0/8 192.168.1.7} or email ends_with "@example.com""#,
        true,
    );
    check(
        r#"metadata.batchId exists and resourceId matches "^prod-[0-9]+$""#,
        true,
    );
    check("metadata.count > 4 and metadata.count <= 5", true);
    check("metadata.missing exists", false);
    check("zzz or yyy and alice", false);
    check("zzz or alice and prod", true);
    check("(zzz or alice) and qqq", false);
    check(r#"user == "alice@example.com""#, true);
    check(r#"user == "alice""#, true);
    check(r#"user != "alice""#, false);
}

#[test]
fn qualifiers() {
    check(
        "action:CREATE,UPDATE resource.type:SECRET -principal.type:SYSTEM time:>=now-7d",
        true,
    );
    check(
        "user:ALICE@example.com created:2026-01-01..2026-01-31 action:CRE*",
        true,
    );
    check("-is:login -is:system", true);
    check("is:login", false);
    check("ip:10.0.0.0/8", true);
    check("ip:2001:db8::/32", false);
    check("time:>=2026-01-01T10:00:00Z", true);
    check("time:2026-01-01", true);
    check("time:2026-01-02", false);
    check(r#"resourceId:"prod-42",x"#, true);
    check("-org:x", true);
    check("-project:x", true);
    check("straße", true);
    check("STRASSE", false);
    check(r#""ünïcode straße""#, true);
    check(r#""action:CREATE""#, false);
    check("(action:CREATE)", true);
}

/// The raw path's pre-check searches ASCII case-insensitively; the two characters whose
/// Unicode lowercase is ASCII must still match as the evaluator says.
#[test]
fn pre_check_keeps_characters_that_lowercase_to_ascii() {
    let cases = [
        ("action:key", r#"{"auditAction":"KEY"}"#, true),
        ("action:key*", r#"{"auditAction":"KEYS"}"#, true),
        ("action:ki", r#"{"auditAction":"Kİ"}"#, false),
        ("action:xi*", r#"{"auditAction":"Xİ"}"#, true),
        ("\"kelvin\"", r#"{"auditAction":"KELVIN"}"#, true),
        ("\"id\"", r#"{"auditResource":{"identifier":"İD"}}"#, false),
        ("\"xi\"", r#"{"auditResource":{"identifier":"Xİ"}}"#, true),
        ("\"delete\"", r#"{"auditAction":"DÉLETE"}"#, false),
        ("action:delete", r#"{"auditAction" : "DeLeTe"}"#, true),
        (
            "action:delete",
            r#"{"x":"auditAction","auditAction":"DELETED"}"#,
            false,
        ),
        // Values on the same key share one search; exact and case-insensitive alike.
        (
            r#"action == "DELETE" or action:cre*"#,
            r#"{"auditAction":"Create"}"#,
            true,
        ),
        (
            r#"action == "DELETE" or action:cre*"#,
            r#"{"auditAction":"DELETE"}"#,
            true,
        ),
        (
            r#"action == "DELETE" or action:cre*"#,
            r#"{"auditAction":"delete"}"#,
            false,
        ),
        ("is:login", r#"{"auditAction" :"LOGIN2FA"}"#, true),
        ("is:login", r#"{"auditAction":"LOGIN3"}"#, false),
        // Escapes: `\u` and `\/` may spell the text, `\"` and `\\` cannot.
        ("action:delete", r#"{"auditAction":"D\u0045LETE"}"#, true),
        ("\"a/b\"", r#"{"auditAction":"a\/b"}"#, true),
        ("\"a/b\"", r#"{"auditAction":"\"a/\\b\""}"#, false),
        (
            r#"action == "say \"hi\"""#,
            r#"{"auditAction":"say \"hi\""}"#,
            true,
        ),
        (
            "action:delete",
            r#"{"note":"\"auditAction\":\"DELETE\"","auditAction":"x"}"#,
            false,
        ),
    ];
    for (q, line, expect) in cases {
        let f = Filter::parse(q).unwrap();
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(f.matches(&v, 0), expect, "{q} on {line}");
        assert_eq!(
            f.matches_line(line.as_bytes(), 0).unwrap(),
            expect,
            "fast {q} on {line}"
        );
    }
}

/// Time comparisons are pre-checked on integer times: a line whose every
/// `auditEventTime` is an integer that fails the comparison is ruled out unparsed (seen
/// here through lines that are not JSON before the time: ruled out is `false`, parsed is
/// `bad_json`; after the time, a line the filter rejects may be left unread); any other
/// time is parsed.
#[test]
fn pre_check_rules_out_integer_times() {
    let now = 1_794_096_000_000; // 2026-11-08
    let day = 86_400_000;
    let cases = [
        ("time >= 2026-11-05", now - 4 * day, false),
        ("time >= 2026-11-05", now - 3 * day, true),
        ("time < 2026-11-05", now - 3 * day, false),
        ("time > now-1d", now - day, false),
        ("time >= now-1d", now - day, true),
        ("time:2026-11-08", now + day, false),
        ("time:2026-11-08", now, true),
    ];
    for (q, t, kept) in cases {
        let f = Filter::parse(q).unwrap();
        let broken = format!(r#"{{"x":,"auditEventTime":{t}}}"#);
        let got = f.matches_line(broken.as_bytes(), now);
        assert_eq!(got.is_err(), kept, "{q} on {broken}: {got:?}");
        let line = format!(r#"{{"auditEventTime":{t}}}"#);
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            f.matches_line(line.as_bytes(), now).unwrap(),
            kept,
            "{q} on {line}"
        );
        assert_eq!(f.matches(&v, now), kept, "{q} on {line}");
    }
    // Times as strings: digits are milliseconds; an RFC 3339 time is bounded by its date
    // (any offset: from a day before its midnight UTC to two days after).
    let f = Filter::parse("time >= 2026-11-05").unwrap();
    for (time, kept) in [
        (r#""1794096000000""#, true),
        (r#""1793000000000""#, false),
        (r#""2026-11-02T23:59:59-23:59""#, false),
        (r#""2026-11-03T23:30:00-02:00""#, true),
        (r#""2026-11-04T23:30:00-02:00""#, true),
        (r#""2026-11-05t00:00:00Z""#, true),
        (r#"" 2026-11-01T00:00:00Z""#, true),
        (r#""9999999999999999999""#, true),
        (r#""999999999999999999""#, false),
    ] {
        let broken = format!(r#"{{"x":,"auditEventTime":{time}}}"#);
        let got = f.matches_line(broken.as_bytes(), now);
        assert_eq!(got.is_err(), kept, "{broken}: {got:?}");
        let line = format!(r#"{{"auditEventTime":{time}}}"#);
        let v: Value = serde_json::from_str(&line).unwrap();
        if !kept {
            assert!(!f.matches(&v, now), "{line}");
        }
    }
    // Times that are not integers, or a second key, are parsed.
    for line in [
        r#"{"x":,"auditEventTime":"2026-11-04T00:00:00Z"}"#,
        r#"{"x":,"auditEventTime":1.7e12}"#,
        r#"{"x":,"auditEventTime":0,"auditEventTime":1794096000000}"#,
        r#"{"x":,"auditEventTime":01}"#,
    ] {
        assert!(f.matches_line(line.as_bytes(), now).is_err(), "{line}");
    }
}

/// The raw path reads plain JSON itself and leaves the rest to serde_json: both give the
/// evaluator's answer on valid lines, and never a match on invalid ones.
#[test]
fn raw_path_agrees_on_unusual_lines() {
    let queries = [
        "action:create",
        r#"resource.type == "SECRET""#,
        "metadata.n > 1",
        "metadata.n:5",
        "\"hidden\"",
        "\"hidden\" action:create",
        "time >= 2026-01-01",
        "user:alice",
        "metadata.x exists",
    ];
    let lines = [
        r#"{"auditAction":"CREATE","auditAction":"DELETE"}"#,
        r#"{"auditAction":"DELETE","auditAction":"CREATE"}"#,
        r#"{"auditResource":{"type":"SECRET"},"auditResource":{"identifier":"x"}}"#,
        r#"{"auditEventMetadata":{"note":"hidden"},"auditEventMetadata":{"note":"shown"}}"#,
        r#"{"auditEventMetadata":{"note":"shown","note":"hidden"},"auditAction":"create"}"#,
        r#"{"auditEventMetadata":{"list":[{"a":"HIDDEN"}],"n":5.0}}"#,
        r#"{"auditEventMetadata":{"n":-0,"x":[]}}"#,
        r#"{"auditEventMetadata":{"n":1e1,"x":{}}}"#,
        r#"{"auditEventMetadata":{"n":123456789012345678901234}}"#,
        r#"{"auditEventTime":1767225600000,"auditAction":"Create"}"#,
        r#"{"auditEventTime":"2026-01-01T00:00:00Z","auditEventAuthor":{"principal":{"email":"ALICE"}}}"#,
        " {\"auditAction\" : \"create\" ,\t\"auditEventMetadata\":{\"x\":null}} ",
        r#"{"auditAction":"cr\u0065ate","auditEventMetadata":{"x":"hi\"dden"}}"#,
        r#"["auditAction","create"]"#,
        r#""create""#,
        r#"{"auditAction":"create"} trailing"#,
        r#"{"auditAction":"create","n":01}"#,
        r#"{"auditAction":"create","n":1.}"#,
        r#"{"auditAction":"create","x":tru}"#,
        "{\"auditAction\":\"create\",\"x\":\"a\tb\"}",
        r#"{"auditAction":"create",}"#,
    ];
    for q in queries {
        let f = Filter::parse(q).unwrap();
        for line in lines {
            let fast = f.matches_line(line.as_bytes(), 1_767_261_600_000);
            match serde_json::from_str::<Value>(line) {
                Ok(v) => assert_eq!(
                    fast.ok(),
                    Some(f.matches(&v, 1_767_261_600_000)),
                    "{q} on {line}"
                ),
                Err(_) => assert!(!fast.unwrap_or(false), "{q} matched invalid {line}"),
            }
        }
    }
}

#[test]
fn errors() {
    err("acton == \"x\"", error::UNKNOWN_FIELD);
    err("acton:x", error::UNKNOWN_FIELD);
    err("time > \"abc\"", error::TYPE_MISMATCH);
    err("ip in {foo}", error::TYPE_MISMATCH);
    err("action < 5", error::TYPE_MISMATCH);
    err("resourceId matches \"(\"", error::BAD_REGEX);
    err("(action:x", error::UNBALANCED_PAREN);
    err("action:x)", error::UNBALANCED_PAREN);
    err("is:foo", error::UNKNOWN_PRESET);
    err("action ==", error::UNEXPECTED_END);
    err(&"(".repeat(10_000), error::TOO_DEEP);
    err(&"-".repeat(10_000), error::TOO_DEEP);
    err(&"a ".repeat(600_000), error::TOO_LONG);
    err("\"abc", error::UNTERMINATED_STRING);
    err("\"a\\qb\"", error::BAD_ESCAPE);
    err("action in {}", error::EMPTY_SET);
    err("action:", error::EMPTY_VALUE);
    err("action in CREATE", error::UNEXPECTED_TOKEN);
    err("action not in CREATE", error::UNEXPECTED_TOKEN);
    check("bob not zzz", false);
}

#[test]
fn deep_ir_is_a_clean_error() {
    let mut ir = Ir::Text { text: "x".into() };
    for _ in 0..10_000 {
        ir = Ir::Not { term: Box::new(ir) };
    }
    let e = Filter::from_ir(ir).unwrap_err();
    assert_eq!(e.code, error::TOO_DEEP);
    let deep_json = format!(
        "{}{}{}",
        "{\"kind\":\"not\",\"term\":".repeat(10_000),
        "{\"kind\":\"all\"}",
        "}".repeat(10_000)
    );
    assert_eq!(
        Filter::from_ir_json(&deep_json).unwrap_err().code,
        error::BAD_IR
    );
    let deep_logpush = format!(
        "{{\"where\":{}{}{}}}",
        "{\"and\":[".repeat(10_000),
        "{}",
        "]}".repeat(10_000)
    );
    assert!(Filter::from_logpush(&deep_logpush).is_err());
}

/// Looking around a hit in a block of lines may cross a line end; the line is then
/// checked again on its own, so a block gets the answers its lines get one by one.
#[test]
fn block_answers_are_line_answers_across_line_ends() {
    let cases = [
        (
            "action:delete",
            "{\"auditAction\":\n\"DELETE\"}\n{\"auditAction\":\"DELETE\"}",
        ),
        (r#"resource.type == "SECRET""#, "{\"type\":\n\"SECRET\"}\n"),
        ("time >= 2026-11-05", "{\"auditEventTime\":\n1794096000000}"),
    ];
    for (q, block) in cases {
        let f = Filter::parse(q).unwrap();
        let mut got = Vec::new();
        f.decide_lines(block.as_bytes(), 1_794_096_000_000, &mut |r, answer| {
            got.push((r, answer.map_err(|e| e.message)));
        });
        let mut want = Vec::new();
        let mut start = 0;
        for line in block.split('\n') {
            let r = start..start + line.len();
            start = r.end + 1;
            match f.matches_line(line.as_bytes(), 1_794_096_000_000) {
                Ok(false) => {}
                answer => want.push((r, answer.map_err(|e| e.message))),
            }
        }
        assert_eq!(got, want, "{q}");
    }
}

/// `PreCheck::candidates` hands on exactly the lines that have an escape or that
/// `may_match` keeps (hits that cross a line end are checked where they were found), until
/// it leaves the pre-check out for the rest of a block: then every line but blank ones.
#[test]
fn candidates_are_the_lines_the_pre_check_keeps() {
    let lines = [
        // A key at the end of a line, its value on the next.
        "{\"auditResource\":{\"type\":",
        "\"SECRET\"}}",
        "{\"auditModule\":\"CORE\"}",
        "{\"note\":\"\\\"type\\\":\\\"SECRET\\\"\",\"auditModule\":\"cd\"}",
        "{\"auditEventAuthor\":{\"principal\":{\"type\":\"USER\"}}}",
        "{\"x\":{\"type\":\"secret\"}}\r",
        "{\"auditResource\":{\"type\":\"S\\u0045CRET\"}}",
        "",
        "{\"type\":\"type\",\"auditModule\":\"CI\" broken",
        "{\"auditModule\":",
        "\"CI\"}",
    ];
    let ruled_out = "{\"auditAction\":\"LOGIN\"}";
    let queries = [
        "resource.type:SECRET,CONNECTOR or module:CORE,CI",
        "principal.type == \"USER\"",
        "module == \"CORE\" and resource.type:secret*",
    ];
    let mut left_out = 0;
    for q in queries {
        let f = Filter::parse(q).unwrap();
        let pre = &f.program.precheck;
        for shift in 0..lines.len() {
            // Lines ruled out first (the first sixteenth keeps none of them) or not.
            for lead in [0, 60] {
                let mut all = vec![ruled_out; lead];
                all.extend(lines.iter().cycle().skip(shift).take(3 * lines.len()));
                let block = all.join("\n");
                let mut handed = Vec::new();
                pre.candidates(block.as_bytes(), 0, &mut |r| handed.push(r));
                let mut start = 0;
                let mut past = false;
                for line in &all {
                    let r = start..start + line.len();
                    start = r.end + 1;
                    let bytes = line.as_bytes();
                    let blank = bytes.iter().all(u8::is_ascii_whitespace);
                    let needed = !blank
                        && (precheck::next_escape(bytes, 0).is_some() || pre.may_match(bytes, 0));
                    let given = handed.contains(&r);
                    if given && !needed && !past {
                        past = true;
                        left_out += 1;
                        assert!(lead == 0, "{q}: {line:?} handed on in {block:?}");
                    }
                    assert_eq!(
                        given,
                        needed || past && !blank,
                        "{q}: {line:?} in {block:?}"
                    );
                }
            }
        }
    }
    // Natively, some blocks above leave the pre-check out after their first lines.
    assert_eq!(left_out > 0, !super::program::SMALL);
}
