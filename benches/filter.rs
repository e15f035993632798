//! In-memory filter throughput: the raw fast path (`matches_line`) against parsing each
//! line into a `serde_json::Value` and evaluating that. Run with `cargo bench --bench filter`.

use std::hint::black_box;
use std::time::Instant;

use trailsift::filter::Filter;

fn lines(n: usize) -> Vec<String> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |m: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % m
    };
    let actions = ["CREATE", "UPDATE", "LOGIN", "RESTORE", "UPSERT", "INVITE"];
    (0..n)
        .map(|i| {
            let user = next(2) == 0;
            let action = if next(100) == 0 { "DELETE" } else { actions[next(6) as usize] };
            let ptype = if user { "USER" } else { "SYSTEM" };
            format!(
                r#"{{"auditEventId":"ev-{i:09}","auditEventTime":"{}","auditEventAuthor":{{"principal":{{"type":"{ptype}","identifier":"user{}","email":"user{}@example.com"}}}},"auditModule":"CORE","auditResource":{{"type":"SECRET","identifier":"res-{}"}},"auditResourceScope":{{"accountIdentifier":"acct-{}","orgIdentifier":"default","projectIdentifier":"proj-{}"}},"auditAction":"{action}","auditHttpRequestInfo":{{"requestMethod":"POST","clientIP":"10.{}.{}.{}"}},"auditEventMetadata":{{"batchId":"b-{}","attempt":{}}}}}"#,
                1_767_225_600_000u64 + i as u64 * 997,
                next(500),
                next(500),
                next(100_000),
                next(20),
                next(40),
                next(256),
                next(256),
                next(256),
                i / 100,
                next(5)
            )
        })
        .collect()
}

fn main() {
    let data = lines(200_000);
    let bytes: usize = data.iter().map(|l| l.len() + 1).sum();
    let now = 1_769_904_000_000;
    println!("{} lines, {:.1} MB", data.len(), bytes as f64 / 1e6);
    for q in [
        r#"action == "DELETE""#,
        r#"principal.type == "USER""#,
        "action:delete",
        "is:login -is:system",
        "time >= 2026-01-02 and ip:10.0.0.0/16",
        r#"resourceId matches "^res-9+$""#,
        "res-99999",
    ] {
        let f = Filter::parse(q).expect("query");
        let mut best_fast = f64::MAX;
        let mut best_value = f64::MAX;
        let mut hits = 0;
        for _ in 0..3 {
            let t = Instant::now();
            hits = data
                .iter()
                .filter(|l| f.matches_line(l.as_bytes(), now).unwrap_or(false))
                .count();
            best_fast = best_fast.min(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let n = data
                .iter()
                .filter(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).expect("json");
                    f.matches(&v, now)
                })
                .count();
            best_value = best_value.min(t.elapsed().as_secs_f64());
            assert_eq!(n, hits, "fast path and Value evaluator disagree on {q}");
        }
        let mbs = |s: f64| bytes as f64 / s / 1e6;
        println!(
            "{q:45} {hits:7} hits  fast path {:7.0} MB/s  Value {:6.0} MB/s  ({:.1}x)",
            mbs(best_fast),
            mbs(best_value),
            best_value / best_fast
        );
        black_box(hits);
    }
}
