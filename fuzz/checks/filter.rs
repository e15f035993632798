//! The filter's three input forms: text, structured (form JSON) and Logpush JSON. No input
//! panics; whatever compiles survives every way the filter is written back (text,
//! structured, Logpush, IR JSON) with the same IR, and both evaluators agree.

use trailsift::filter::Filter;

/// Events the evaluators are compared on: every field the language names, metadata, and
/// an event with fields of the wrong types.
const EVENTS: [&str; 3] = [
    r#"{"auditEventId":"e1","auditEventTime":"1767261600000","auditEventAuthor":{"principal":{"type":"USER","identifier":"alice","email":"alice@example.com"}},"auditModule":"CORE","auditResource":{"type":"SECRET","identifier":"db_password"},"auditResourceScope":{"accountIdentifier":"acct","orgIdentifier":"default"},"auditAction":"CREATE","auditHttpRequestInfo":{"requestMethod":"POST","clientIP":"10.1.2.3"},"auditEventMetadata":{"batchId":"b-1","count":5}}"#,
    r#"{"auditEventId":"e2","auditEventTime":"2026-01-31T12:00:00+01:00","auditEventAuthor":{"principal":{"type":"SYSTEM","identifier":"harness"}},"auditModule":"PMS","auditResource":{"type":"CODE_REPO","identifier":"r"},"auditResourceScope":{"accountIdentifier":"acct","projectIdentifier":"p"},"auditAction":"LOGIN","auditHttpRequestInfo":{"clientIP":"2001:db8::1"},"auditEventMetadata":{"tags":["a",1,true,null],"nested":{"x":1.5}}}"#,
    r#"{"auditEventId":7,"auditEventTime":true,"auditEventAuthor":"bob","auditModule":null,"auditResource":[],"auditAction":{"a":"CREATE"},"auditHttpRequestInfo":{"clientIP":"not an ip"},"auditEventMetadata":"text"}"#,
];

/// The moment `now-7d` and the like resolve against.
const NOW: i64 = 1_769_904_000_000;

/// A query in the text syntax (the `parse` target); structured and Logpush reading of the
/// same text must not panic either.
pub fn text(data: &[u8]) {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Filter::from_structured(query);
    let _ = Filter::from_logpush(query);
    if let Ok(f) = Filter::parse(query) {
        round_trips(&f, query);
    }
}

/// A structured filter (the `filter_structured` target).
pub fn structured(data: &[u8]) {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(f) = Filter::from_structured(json) {
        round_trips(&f, json);
    }
}

/// A Logpush filter (the `filter_logpush` target).
pub fn logpush(data: &[u8]) {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(f) = Filter::from_logpush(json) {
        round_trips(&f, json);
    }
}

/// Every way `f` is written back reads back to its IR, and its evaluators agree.
fn round_trips(f: &Filter, source: &str) {
    let text = f.to_query();
    let back = Filter::parse(&text)
        .unwrap_or_else(|e| panic!("{source:?} printed as {text:?}: {}", e.render(&text)));
    assert_eq!(back.ir(), f.ir(), "{source:?} printed as {text:?}");
    let ir = f.to_ir_json();
    let back = Filter::from_ir_json(&ir).unwrap_or_else(|e| panic!("{source:?} as IR {ir}: {e}"));
    assert_eq!(back.ir(), f.ir(), "{source:?} as IR {ir}");
    if let Some(s) = f.to_structured() {
        let back = Filter::from_structured(&s).unwrap_or_else(|e| panic!("{source:?} as {s}: {e}"));
        assert_eq!(back.ir(), f.ir(), "{source:?} as structured {s}");
    }
    if let Ok(l) = f.to_logpush() {
        let back = Filter::from_logpush(&l).unwrap_or_else(|e| panic!("{source:?} as {l}: {e}"));
        assert_eq!(back.ir(), f.ir(), "{source:?} as Logpush {l}");
    }
    for event in EVENTS {
        let value: serde_json::Value = serde_json::from_str(event).expect("sample event");
        let on_value = f.matches(&value, NOW);
        let on_line = f.matches_line(event.as_bytes(), NOW);
        assert_eq!(Ok(on_value), on_line, "{source:?} on {event}");
        assert_eq!(
            f.explain(&value, NOW).matched,
            on_value,
            "{source:?} explained"
        );
    }
}
