//! The evidence cases of `common/evidence.rs` written to `tests/fixtures/evidence/`, where
//! the npm package's and the page's tests (tests/js/verify.test.mjs,
//! tests/e2e/verify.test.mjs) read them: each case's files and the failures every verifier
//! must report. Fails when the checked-in files are stale;
//! `TRAILSIFT_UPDATE_GOLDEN=1 cargo test --test evidence_fixtures` rewrites them.

#[path = "common/evidence.rs"]
mod evidence;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::json;
use trailsift::log::VerifierKey;

fn slug(n: usize, name: &str) -> String {
    let words: Vec<String> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    format!("{n:02}-{}", words.join("-"))
}

fn keys_text(keys: &[VerifierKey]) -> Vec<u8> {
    keys.iter()
        .map(|k| format!("{k}\n"))
        .collect::<String>()
        .into_bytes()
}

fn pretty(value: serde_json::Value) -> Vec<u8> {
    let mut text = serde_json::to_string_pretty(&value).unwrap();
    text.push('\n');
    text.into_bytes()
}

/// Every fixture file, by path under `tests/fixtures/evidence/`.
fn fixtures() -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    for (n, case) in evidence::cases().into_iter().enumerate() {
        let dir = PathBuf::from("bundles").join(slug(n, case.name));
        files.insert(dir.join("bundle.json"), case.bundle);
        if let Some(object) = case.object {
            files.insert(dir.join("object.ndjson"), object);
        }
        files.insert(dir.join("keys.txt"), keys_text(&case.keys));
        let failures: Vec<_> = case
            .expect
            .iter()
            .map(|(index, seq, code)| json!({"index": index, "seq": seq, "code": code}))
            .collect();
        let mut expect = json!({
            "name": case.name,
            "ok": case.expect.is_empty(),
            "failures": failures,
        });
        if case.expect.is_empty() {
            expect["verified"] = json!(evidence::SEQS.len());
        }
        files.insert(dir.join("expect.json"), pretty(expect));
    }
    for (n, case) in evidence::consistency_cases().into_iter().enumerate() {
        let dir = PathBuf::from("consistency").join(slug(n, case.name));
        files.insert(dir.join("old.txt"), case.old.into_bytes());
        files.insert(dir.join("new.txt"), case.new.into_bytes());
        files.insert(dir.join("proof.json"), case.proof);
        files.insert(dir.join("keys.txt"), keys_text(&case.keys));
        let expect = json!({"name": case.name, "ok": case.expect.is_empty(), "codes": case.expect});
        files.insert(dir.join("expect.json"), pretty(expect));
    }
    let summary = json!({
        "origin": evidence::ORIGIN,
        "size": evidence::SIZE,
        "oldSize": evidence::OLD,
        "seqs": evidence::SEQS,
    });
    files.insert(PathBuf::from("log.json"), pretty(summary));
    files
}

fn on_disk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
        return;
    };
    for entry in entries {
        let entry = entry.unwrap();
        let path = dir.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            on_disk(root, &path, out);
        } else {
            out.insert(path, std::fs::read(entry.path()).unwrap());
        }
    }
}

#[test]
fn evidence_fixtures_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/evidence");
    let want = fixtures();
    if std::env::var_os("TRAILSIFT_UPDATE_GOLDEN").is_some() {
        let _ = std::fs::remove_dir_all(&root);
        for (path, bytes) in &want {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
    }
    let mut have = BTreeMap::new();
    on_disk(&root, Path::new(""), &mut have);
    let stale: Vec<_> = want
        .keys()
        .chain(have.keys())
        .filter(|p| want.get(*p) != have.get(*p))
        .collect();
    assert!(
        stale.is_empty(),
        "tests/fixtures/evidence is stale ({stale:?}); rewrite it with \
         TRAILSIFT_UPDATE_GOLDEN=1 cargo test --test evidence_fixtures"
    );
}
