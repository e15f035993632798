//! Golden cases of the filter language: tests/fixtures/filter/*.txt against events.ndjson.
//!
//! Each case file starts with `# key: value` header lines:
//! `# query:` / `# structured:` / `# logpush:` (the filter), `# now:` (RFC 3339),
//! then either `# expect: id...` (the matching auditEventIds, in file order) or
//! `# error: code` followed by the rendered error block. Optional: `# canonical:` (the
//! printed query), `# export:` (the Logpush export), `# export-error: code`.
//! Every case runs through the Value evaluator and the raw-bytes fast path.
//! `TRAILSIFT_BLESS=1` rewrites the rendered error blocks.

use std::fs;
use std::path::Path;

use serde_json::Value;
use trailsift::filter::Filter;

struct Case {
    headers: Vec<(String, String)>,
    body: String,
}

fn read_case(text: &str) -> Case {
    let mut headers = Vec::new();
    let mut body = String::new();
    let mut in_body = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_end_matches('\n');
        if !in_body {
            if let Some(h) = trimmed.strip_prefix("# ") {
                if let Some((k, v)) = h.split_once(':') {
                    headers.push((k.to_string(), v.strip_prefix(' ').unwrap_or(v).to_string()));
                    continue;
                }
            }
            in_body = true;
        }
        body.push_str(line);
    }
    Case { headers, body }
}

impl Case {
    fn get(&self, key: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn events() -> Vec<(String, Vec<u8>, Value)> {
    let text = fs::read_to_string("tests/fixtures/filter/events.ndjson").unwrap();
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let id = v["auditEventId"].as_str().unwrap().to_string();
            (id, l.as_bytes().to_vec(), v)
        })
        .collect()
}

#[test]
fn golden_cases() {
    let dir = Path::new("tests/fixtures/filter");
    let events = events();
    let bless = std::env::var_os("TRAILSIFT_BLESS").is_some();
    let mut failures = Vec::new();
    let mut count = 0;
    let mut paths: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    paths.sort();
    for path in paths {
        count += 1;
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = fs::read_to_string(&path).unwrap();
        let case = read_case(&text);
        if let Err(msg) = run_case(&case, &events, &path, bless) {
            failures.push(format!("{name}: {msg}"));
        }
    }
    assert!(count > 100, "only {count} golden cases found");
    assert!(
        failures.is_empty(),
        "{} of {count} golden cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn run_case(
    case: &Case,
    events: &[(String, Vec<u8>, Value)],
    path: &Path,
    bless: bool,
) -> Result<(), String> {
    let now = trailsift::parse_time(case.get("now").unwrap_or("2026-02-01T00:00:00Z"))
        .map_err(|e| e.to_string())?;
    let (source, built) = if let Some(q) = case.get("query") {
        (q.to_string(), Filter::parse(q))
    } else if let Some(s) = case.get("structured") {
        (String::new(), Filter::from_structured(s))
    } else if let Some(l) = case.get("logpush") {
        (String::new(), Filter::from_logpush(l))
    } else {
        return Err("no filter header".into());
    };
    if let Some(code) = case.get("error") {
        let e = match built {
            Ok(f) => {
                return Err(format!(
                    "expected error {code}, compiled to {}",
                    f.to_query()
                ))
            }
            Err(e) => e,
        };
        if e.code != code {
            return Err(format!("expected error {code}, got {}", e.render(&source)));
        }
        if case.get("query").is_some() {
            let rendered = e.render(&source);
            if bless {
                let header: String = case
                    .headers
                    .iter()
                    .map(|(k, v)| format!("# {k}: {v}\n"))
                    .collect();
                fs::write(path, format!("{header}{rendered}")).map_err(|e| e.to_string())?;
            } else if rendered != case.body {
                return Err(format!(
                    "rendered error differs:\n--- expected\n{}--- actual\n{rendered}",
                    case.body
                ));
            }
        }
        return Ok(());
    }
    let f = built.map_err(|e| format!("unexpected error: {}", e.render(&source)))?;
    let expect: Vec<&str> = case
        .get("expect")
        .ok_or("no expect header")?
        .split_whitespace()
        .collect();
    let mut by_value = Vec::new();
    let mut by_line = Vec::new();
    for (id, line, value) in events {
        if f.matches(value, now) {
            by_value.push(id.as_str());
        }
        match f.matches_line(line, now) {
            Ok(true) => by_line.push(id.as_str()),
            Ok(false) => {}
            Err(e) => return Err(format!("fast path error on {id}: {e}")),
        }
    }
    if by_value != expect {
        return Err(format!(
            "query {} matched {by_value:?}, expected {expect:?}",
            f.to_query()
        ));
    }
    if by_line != expect {
        return Err(format!(
            "fast path matched {by_line:?}, expected {expect:?}"
        ));
    }
    let printed = f.to_query();
    if let Some(c) = case.get("canonical") {
        if printed != c {
            return Err(format!("printed as {printed:?}, expected {c:?}"));
        }
    }
    let reparsed = Filter::parse(&printed)
        .map_err(|e| format!("canonical text does not parse: {}", e.render(&printed)))?;
    if reparsed.ir() != f.ir() {
        return Err(format!("parse(print(ir)) differs for {printed}"));
    }
    let from_json = Filter::from_ir_json(&f.to_ir_json()).map_err(|e| e.to_string())?;
    if from_json.ir() != f.ir() {
        return Err("IR JSON round trip differs".into());
    }
    if let Some(x) = case.get("export") {
        let got = f.to_logpush().map_err(|e| format!("export failed: {e}"))?;
        if got != x {
            return Err(format!("exported {got}, expected {x}"));
        }
        let back = Filter::from_logpush(&got).map_err(|e| e.to_string())?;
        if back.ir() != f.ir() {
            return Err("Logpush export does not import back to the same IR".into());
        }
    }
    if let Some(code) = case.get("export-error") {
        match f.to_logpush() {
            Ok(s) => return Err(format!("export should fail with {code}, gave {s}")),
            Err(e) if e.code != code => {
                return Err(format!("export failed with {}, expected {code}", e.code))
            }
            Err(_) => {}
        }
    }
    Ok(())
}
