//! Every failure proptest saved (a seed in `tests/<file>.proptest-regressions`) also has a
//! named regression test in `tests/<file>.rs` whose comment starts `Seed <8 hex digits>`
//! and says what broke: a seed alone replays the case but says nothing of it.

use std::fs;
use std::path::Path;

#[test]
fn every_saved_seed_has_a_named_test() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut seeds = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(stem) = name.strip_suffix(".proptest-regressions") else {
            continue;
        };
        let source = fs::read_to_string(dir.join(format!("{stem}.rs"))).unwrap();
        for line in fs::read_to_string(&path).unwrap().lines() {
            let Some(seed) = line.strip_prefix("cc ") else {
                continue;
            };
            let short = seed.get(..8).unwrap_or(seed);
            assert!(
                source.contains(&format!("/// Seed {short}")),
                "tests/{stem}.rs has no regression test for seed {short} of {name}"
            );
            seeds += 1;
        }
    }
    assert!(seeds >= 14, "seeds found: {seeds}");
}
