//! `trailsift verify`, `verify-consistency` and `keygen` end to end (built with
//! `--features cli`): every tampering case of the core tests, through files.
#![cfg(feature = "cli")]

// Not every helper of the shared module is used here.
#[allow(dead_code)]
mod common;
#[path = "common/evidence.rs"]
mod evidence;

use std::path::{Path, PathBuf};

use common::trailsift;
use trailsift::log::VerifierKey;

/// A fresh directory for one test's files.
fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trailsift-log-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_string()
}

fn keys_file(dir: &Path, keys: &[VerifierKey]) -> String {
    let text: String = keys.iter().map(|k| format!("{k}\n")).collect();
    write(dir, "keys.txt", text.as_bytes())
}

fn expected_line(&(index, seq, code): &evidence::Expect) -> String {
    match (index, seq) {
        (Some(i), Some(s)) => format!("entry {i}, seq {s}: {code}: "),
        (Some(i), None) => format!("entry {i}: {code}: "),
        (None, _) => format!("{code}: "),
    }
}

#[test]
fn verify_catches_and_locates_every_tampering_case() {
    let dir = dir("verify");
    for case in evidence::cases() {
        let bundle = write(&dir, "bundle.json", &case.bundle);
        let keys = keys_file(&dir, &case.keys);
        let mut args = vec!["verify", &bundle, "--key", &keys];
        let object = case
            .object
            .as_ref()
            .map(|o| write(&dir, "object.ndjson", o));
        if let Some(object) = &object {
            args.extend(["--events", object]);
        }
        let (code, out, err) = trailsift(&args, b"");
        let out = String::from_utf8(out).unwrap();
        if case.expect.is_empty() {
            assert_eq!(code, 0, "{}: {out}{err}", case.name);
            let want = format!(
                "verified {} events against {} at size {}\n",
                evidence::SEQS.len(),
                evidence::ORIGIN,
                evidence::SIZE
            );
            assert_eq!(out, want, "{}", case.name);
            continue;
        }
        assert_eq!(code, 1, "{}: {out}{err}", case.name);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), case.expect.len(), "{}: {out}", case.name);
        for (line, expect) in lines.iter().zip(&case.expect) {
            let want = expected_line(expect);
            assert!(
                line.starts_with(&want),
                "{}: {line:?} is not {want:?}",
                case.name
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn verify_consistency_catches_every_case() {
    let dir = dir("consistency");
    for case in evidence::consistency_cases() {
        let old = write(&dir, "old.txt", case.old.as_bytes());
        let new = write(&dir, "new.txt", case.new.as_bytes());
        let proof = write(&dir, "proof.json", &case.proof);
        let key = case.keys[0].to_string();
        let args = [
            "verify-consistency",
            &old,
            &new,
            "--proof",
            &proof,
            "--key",
            &key,
        ];
        let (code, out, err) = trailsift(&args, b"");
        let out = String::from_utf8(out).unwrap();
        if case.expect.is_empty() {
            assert_eq!(code, 0, "{}: {out}{err}", case.name);
            let want = format!(
                "consistent: {} at size {} is a prefix of size {}\n",
                evidence::ORIGIN,
                evidence::OLD,
                evidence::SIZE
            );
            assert_eq!(out, want);
            continue;
        }
        assert_eq!(code, 1, "{}: {out}{err}", case.name);
        let codes: Vec<&str> = out.lines().map(|l| l.split(':').next().unwrap()).collect();
        assert_eq!(codes, case.expect, "{}: {out}", case.name);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn verify_reads_stdin_gzip_objects_and_repeated_keys() {
    let dir = dir("inputs");
    let log = evidence::the_log();
    let bundle = serde_json::to_vec(&log.bundle(&evidence::SEQS, false)).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &log.object(&evidence::SEQS)).unwrap();
    let object = write(&dir, "object.ndjson.gz", &gz.finish().unwrap());
    let other = evidence::key(2).verifier().to_string();
    let ours = log.key.verifier().to_string();
    let args = [
        "verify", "-", "--events", &object, "--key", &other, "--key", &ours,
    ];
    let (code, out, err) = trailsift(&args, &bundle);
    assert_eq!(code, 0, "{}{err}", String::from_utf8_lossy(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn usage_and_io_errors_exit_2() {
    let dir = dir("usage");
    let log = evidence::the_log();
    let bundle = write(
        &dir,
        "b.json",
        &serde_json::to_vec(&log.bundle(&[3], true)).unwrap(),
    );
    let key = log.key.verifier().to_string();
    let missing = dir.join("missing").to_str().unwrap().to_string();
    let not_keys = write(&dir, "not-keys.txt", b"hello\n");
    let empty = write(&dir, "empty.txt", b"\n");
    for args in [
        vec!["verify", &bundle],
        vec!["verify", &missing, "--key", &key],
        vec!["verify", &bundle, "--key", &missing],
        vec!["verify", &bundle, "--key", &not_keys],
        vec!["verify", &bundle, "--key", &empty],
        vec!["verify", &bundle, "--key", &key, "--events", &missing],
        vec!["verify-consistency", &bundle, &bundle, "--key", &key],
        vec!["keygen"],
        vec!["keygen", "--name", "has space"],
    ] {
        let (code, _, err) = trailsift(&args, b"");
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(!err.is_empty(), "{args:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn keygen_makes_a_key_pair_that_signs_verifiable_checkpoints() {
    let (code, out, err) = trailsift(&["keygen", "--name", "audit.example.com"], b"");
    assert_eq!(code, 0, "{err}");
    let out = String::from_utf8(out).unwrap();
    let mut lines = out.lines();
    let seed = lines
        .next()
        .unwrap()
        .strip_prefix("LOG_SIGNING_KEY=")
        .unwrap();
    let verifier = lines
        .next()
        .unwrap()
        .strip_prefix("LOG_VERIFIER_KEY=")
        .unwrap();
    assert!(lines.next().is_none());
    let key = trailsift::log::SigningKey::from_base64_seed("audit.example.com", seed).unwrap();
    assert_eq!(key.verifier().to_string(), verifier);
    // Two runs give two keys.
    let (_, again, _) = trailsift(&["keygen", "--name", "audit.example.com"], b"");
    assert_ne!(String::from_utf8(again).unwrap(), out);
}
