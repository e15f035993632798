//! Fuzzes the filter parser: no input may panic; whatever parses must print back to text
//! that parses to the same IR, and both evaluators must agree on a sample event.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trailsift::filter::Filter;

const EVENT: &str = r#"{"auditEventId":"e1","auditEventTime":"1767261600000","auditEventAuthor":{"principal":{"type":"USER","identifier":"alice","email":"alice@example.com"}},"auditModule":"CORE","auditResource":{"type":"SECRET","identifier":"db_password"},"auditResourceScope":{"accountIdentifier":"acct","orgIdentifier":"default"},"auditAction":"CREATE","auditHttpRequestInfo":{"requestMethod":"POST","clientIP":"10.1.2.3"},"auditEventMetadata":{"batchId":"b-1","count":5}}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else { return };
    let _ = Filter::from_structured(query);
    let _ = Filter::from_logpush(query);
    let Ok(f) = Filter::parse(query) else { return };
    let text = f.to_query();
    let back = Filter::parse(&text).expect("canonical text parses");
    assert_eq!(back.ir(), f.ir(), "{query:?} printed as {text:?}");
    let event: serde_json::Value = serde_json::from_str(EVENT).expect("sample event");
    let now = 1_769_904_000_000;
    assert_eq!(f.matches(&event, now), f.matches_line(EVENT.as_bytes(), now).expect("valid line"));
});
