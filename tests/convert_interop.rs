//! CSV written by trailsift, read by Python's `csv` module and by DuckDB: every cell has
//! the value trailsift meant (quotes, commas, newlines, non-ASCII, the safety prefix).
//! Needs python3 and its duckdb package (`scripts/setup.sh python`, which `make test`
//! runs): without them the test fails, it does not pass unrun.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};
use trailsift::convert::write::{cell_text, REST_COLUMN};
use trailsift::convert::{read_all, write_all, ColumnSet, Format, ReadOptions, WriteOptions};
use trailsift::event::get_path;

const SCRIPT: &str = r#"
import csv, json, sys
import duckdb
path = sys.argv[1]
with open(path, newline='', encoding='utf-8') as f:
    rows = list(csv.reader(f))
header = rows[0]
con = duckdb.connect()
spec = "{" + ", ".join("'" + c.replace("'", "''") + "': 'VARCHAR'" for c in header) + "}"
q = ("SELECT * FROM read_csv(?, header=true, delim=',', quote='\"', escape='\"', "
     "auto_detect=false, columns=" + spec + ")")
duck = [[("" if v is None else v) for v in row] for row in con.execute(q, [path]).fetchall()]
json.dump({"csv": rows, "duckdb": duck}, sys.stdout)
"#;

fn events() -> Vec<Value> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/convert/input.ndjson");
    let mut events: Vec<Value> = read_all(
        Some(Format::Ndjson),
        None,
        &std::fs::read(path).unwrap(),
        ReadOptions::default(),
    )
    .into_iter()
    .map(|i| i.unwrap().value)
    .collect();
    events.push(json!({
        "auditEventId": "ev-nl", "auditEventTime": 1, "auditAction": "+SUM(A1)",
        "auditResource": {"type": "X", "identifier": "two\nlines\r\nand \"quotes\", commas"},
        "extra": {"tab": "\tlead", "emoji": "😀 ü", "q": "\"", "n": -1.5}
    }));
    events
}

/// What Python's csv module and DuckDB read from the CSV file at `path`.
fn python_and_duckdb(path: &std::path::Path) -> Value {
    let python = Command::new("python3").arg("--version").output();
    assert!(
        python.is_ok_and(|o| o.status.success()),
        "python3 is not installed: this test needs python3 and its duckdb package \
         (scripts/setup.sh python)"
    );
    let out = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed (is duckdb installed? scripts/setup.sh python): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn python_csv_and_duckdb_read_the_same_values() {
    let events = events();
    let mut scan = ColumnSet::new();
    for e in &events {
        scan.add(e);
    }
    let columns = scan.finish();
    let dir = std::env::temp_dir().join(format!("trailsift-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for safety in [true, false] {
        let opts = WriteOptions {
            columns: Some(columns.clone()),
            csv_safety: safety,
            ..WriteOptions::default()
        };
        let bytes = write_all(Format::Csv, opts, &events).unwrap();
        let path = dir.join(format!("out-{safety}.csv"));
        std::fs::write(&path, &bytes).unwrap();
        let got = python_and_duckdb(&path);
        let expected: Vec<Vec<String>> = events
            .iter()
            .map(|e| {
                let map = e.as_object().unwrap();
                columns
                    .iter()
                    .map(|c| {
                        get_path(map, c)
                            .map(|v| cell_text(c, v, safety))
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .collect();
        let py: Vec<Vec<String>> = serde_json::from_value(got["csv"].clone()).unwrap();
        assert_eq!(py[0], columns, "header (safety {safety})");
        assert_eq!(py[1..], expected[..], "python csv (safety {safety})");
        let duck: Vec<Vec<String>> = serde_json::from_value(got["duckdb"].clone()).unwrap();
        assert_eq!(duck, expected, "duckdb (safety {safety})");
        if !safety {
            // And trailsift reads its own CSV back into the same events.
            let back: Vec<Value> =
                read_all(Some(Format::Csv), None, &bytes, ReadOptions::default())
                    .into_iter()
                    .map(|i| i.unwrap().value)
                    .collect();
            assert_eq!(back, events);
        } else {
            assert!(expected.iter().flatten().any(|c| c.starts_with("'+")));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A stream's CSV (the first event's columns, then `(rest)`): both read the same cells,
/// and each rest cell is a JSON object that trailsift merges back into its event.
#[test]
fn python_csv_and_duckdb_read_the_rest_column() {
    let events = events();
    let dir = std::env::temp_dir().join(format!("trailsift-interop-rest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let opts = WriteOptions {
        csv_safety: false,
        ..WriteOptions::default()
    };
    let bytes = write_all(Format::Csv, opts, &events).unwrap();
    let path = dir.join("stream.csv");
    std::fs::write(&path, &bytes).unwrap();
    let got = python_and_duckdb(&path);
    let py: Vec<Vec<String>> = serde_json::from_value(got["csv"].clone()).unwrap();
    let duck: Vec<Vec<String>> = serde_json::from_value(got["duckdb"].clone()).unwrap();
    assert_eq!(py[1..], duck[..]);
    assert_eq!(py[0].last().map(String::as_str), Some(REST_COLUMN));
    let rests: Vec<&String> = duck.iter().filter_map(|row| row.last()).collect();
    assert!(
        rests.iter().filter(|c| !c.is_empty()).count() >= 3,
        "{rests:?}"
    );
    for cell in rests.iter().filter(|c| !c.is_empty()) {
        assert!(
            serde_json::from_str::<serde_json::Map<String, Value>>(cell).is_ok(),
            "{cell}"
        );
    }
    let back: Vec<Value> = read_all(Some(Format::Csv), None, &bytes, ReadOptions::default())
        .into_iter()
        .map(|i| i.unwrap().value)
        .collect();
    assert_eq!(back, events);
    let _ = std::fs::remove_dir_all(&dir);
}
