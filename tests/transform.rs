//! Transform golden cases (tests/fixtures/transform/README.md): each case's transform over
//! its input gives exactly the expected NDJSON bytes, or the expected error, by every way
//! of writing events (the converter's node path in chunks, the writer on values, `apply`).

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use trailsift::convert::{read_all, Converter, Format, ReadOptions, WriteOptions, Writer};
use trailsift::transform::{BoundTransform, Transform, TransformError};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/transform")
}

/// The case folders, sorted.
fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = fs::read_dir(root())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
}

fn bind(dir: &Path) -> Result<BoundTransform, TransformError> {
    let text = fs::read_to_string(dir.join("transform.json")).unwrap();
    let key = fs::read(dir.join("key")).ok();
    Transform::from_json(&text)?.bind(key.as_deref())
}

fn input(dir: &Path) -> Vec<u8> {
    fs::read(dir.join("input.ndjson"))
        .unwrap_or_else(|_| fs::read(root().join("input.ndjson")).unwrap())
}

/// The events of the cases' shared input.
fn input_events() -> Vec<Value> {
    let input = fs::read(root().join("input.ndjson")).unwrap();
    read_all(Some(Format::Ndjson), None, &input, ReadOptions::default())
        .into_iter()
        .map(|i| i.unwrap().value)
        .collect()
}

fn options(t: &BoundTransform) -> WriteOptions {
    WriteOptions {
        transform: Some(t.clone()),
        ..WriteOptions::default()
    }
}

/// The converter (NDJSON fast path: borrowed nodes) over the input cut into `chunk`-byte
/// pieces.
fn convert(t: &BoundTransform, input: &[u8], chunk: usize) -> Vec<u8> {
    let writer = Writer::new(Format::Ndjson, options(t), Vec::new());
    let mut conv =
        Converter::new(Some(Format::Ndjson), None, ReadOptions::default(), writer).unwrap();
    let mut errors = Vec::new();
    for piece in input.chunks(chunk.max(1)) {
        conv.push(piece, &mut errors).unwrap();
    }
    let out = conv.finish(&mut errors).unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    out
}

/// Events read as values, each written through the writer with the transform.
fn write_values(t: &BoundTransform, input: &[u8]) -> Vec<u8> {
    let mut w = Writer::new(Format::Ndjson, options(t), Vec::new());
    for item in read_all(Some(Format::Ndjson), None, input, ReadOptions::default()) {
        w.write(&item.unwrap().value).unwrap();
    }
    w.finish().unwrap()
}

/// Events read as values, transformed with `apply`, written without a transform.
fn apply_values(t: &BoundTransform, input: &[u8]) -> Vec<u8> {
    let mut w = Writer::new(Format::Ndjson, WriteOptions::default(), Vec::new());
    for item in read_all(Some(Format::Ndjson), None, input, ReadOptions::default()) {
        if let Some(v) = t.apply(&item.unwrap().value) {
            w.write(&v).unwrap();
        }
    }
    w.finish().unwrap()
}

fn without_message(e: &TransformError) -> Value {
    let mut v = serde_json::to_value(e).unwrap();
    if let Some(map) = v.as_object_mut() {
        map.retain(|k, _| k != "message");
    }
    v
}

#[test]
fn golden_cases() {
    let update = std::env::var_os("TRAILSIFT_UPDATE_GOLDEN").is_some();
    let cases = cases();
    assert!(cases.len() >= 15, "{} cases", cases.len());
    for dir in cases {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        match bind(&dir) {
            Err(e) => {
                let file = dir.join("error.json");
                if update {
                    let text = serde_json::to_string_pretty(&without_message(&e)).unwrap();
                    fs::write(&file, text + "\n").unwrap();
                }
                let expected: Value = serde_json::from_slice(
                    &fs::read(&file).unwrap_or_else(|_| panic!("{name}: unexpected error {e}")),
                )
                .unwrap();
                assert_eq!(without_message(&e), expected, "{name}: {e}");
            }
            Ok(t) => {
                let input = input(&dir);
                let file = dir.join("expected.ndjson");
                let out = convert(&t, &input, input.len());
                if update {
                    fs::write(&file, &out).unwrap();
                }
                let expected =
                    fs::read(&file).unwrap_or_else(|_| panic!("{name}: no expected.ndjson"));
                let show = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
                assert_eq!(show(&out), show(&expected), "{name}: converter");
                for chunk in [1, 7, 64] {
                    assert_eq!(
                        show(&convert(&t, &input, chunk)),
                        show(&expected),
                        "{name}: chunks of {chunk}"
                    );
                }
                assert_eq!(
                    show(&write_values(&t, &input)),
                    show(&expected),
                    "{name}: writer on values"
                );
                assert_eq!(
                    show(&apply_values(&t, &input)),
                    show(&expected),
                    "{name}: apply"
                );
            }
        }
    }
}

/// Each transform's canonical JSON compiles to the same transform and the same output.
#[test]
fn canonical_json_gives_the_same_output() {
    for dir in cases() {
        let Ok(t) = bind(&dir) else { continue };
        let again = Transform::from_json(&t.transform().to_json()).unwrap();
        assert_eq!(&again, t.transform(), "{}", dir.display());
        let key = fs::read(dir.join("key")).ok();
        let again = again.bind(key.as_deref()).unwrap();
        let input = input(&dir);
        assert_eq!(
            write_values(&again, &input),
            write_values(&t, &input),
            "{}",
            dir.display()
        );
    }
}

/// The spec's examples, checked by value.
#[test]
fn spec_examples() {
    let t = Transform::from_json(r#"{"truncateIp": {"v4": 24, "v6": 48}}"#)
        .unwrap()
        .bind(None)
        .unwrap();
    let ip = |ip: &str| {
        let ev = serde_json::json!({"auditHttpRequestInfo": {"clientIP": ip}});
        t.apply(&ev).unwrap()["auditHttpRequestInfo"]["clientIP"].clone()
    };
    assert_eq!(ip("203.0.113.77"), "203.0.113.0");
    assert_eq!(
        ip("2001:db8:85a3:8d3:1319:8a2e:370:7348"),
        "2001:db8:85a3::"
    );
    // The spec's example transform compiles, and needs a key for its pseudonyms.
    let example = fs::read_to_string(root().join("spec_example/transform.json")).unwrap();
    let t = Transform::from_json(&example).unwrap();
    assert_eq!(t.clone().bind(None).unwrap_err().code, "missing_key");
    assert!(t.bind(Some(b"k")).is_ok());
}

/// Every writer format gets the transform from the one option (sampled-out events are not
/// written, nor counted).
#[test]
fn every_format_writes_transformed_events() {
    let t = Transform::from_json(r#"{"redact": ["auditResource.identifier"], "sample": 0.5}"#)
        .unwrap()
        .bind(None)
        .unwrap();
    let events = input_events();
    let kept: Vec<Value> = events.iter().filter_map(|e| t.apply(e)).collect();
    assert!(!kept.is_empty() && kept.len() < events.len());
    for format in Format::ALL {
        let mut w = Writer::new(format, options(&t), Vec::new());
        for e in &events {
            w.write(e).unwrap();
        }
        assert_eq!(w.count(), kept.len() as u64, "{}", format.name());
        let with = w.finish().unwrap();
        let without =
            trailsift::convert::write_all(format, WriteOptions::default(), &kept).unwrap();
        assert_eq!(with, without, "{}", format.name());
    }
}

/// A batch counts the events written into it, not those the transform sampled out.
#[test]
fn batches_count_only_written_events() {
    use trailsift::convert::batch::{BatchLimits, Batcher};
    let t = Transform::from_json(r#"{"sample": 0.5}"#)
        .unwrap()
        .bind(None)
        .unwrap();
    let events = input_events();
    let limits = BatchLimits {
        max_bytes: 1 << 20,
        max_events: 4,
    };
    let mut b = Batcher::new(Format::Ndjson, options(&t), limits);
    let mut batches = Vec::new();
    for e in &events {
        batches.extend(b.push(e).unwrap());
    }
    batches.extend(b.finish().unwrap());
    let kept = events.iter().filter(|e| t.apply(e).is_some()).count();
    assert_eq!(batches.iter().map(|b| b.count).sum::<usize>(), kept);
    for batch in &batches {
        assert_eq!(
            batch.body.iter().filter(|&&c| c == b'\n').count(),
            batch.count
        );
    }
}
