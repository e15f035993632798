//! Feeds the fuzz seed corpus (fuzz/seeds/parse) through the parser: nothing panics and
//! every query that parses prints back to text that parses to the same IR.

use trailsift::filter::Filter;

#[test]
fn fuzz_seeds_parse_cleanly() {
    let mut n = 0;
    for entry in std::fs::read_dir("fuzz/seeds/parse").expect("fuzz corpus") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("seed");
        let Ok(query) = std::str::from_utf8(&bytes) else {
            continue;
        };
        n += 1;
        if let Ok(f) = Filter::parse(query) {
            let text = f.to_query();
            let back =
                Filter::parse(&text).unwrap_or_else(|e| panic!("{text:?}: {}", e.render(&text)));
            assert_eq!(back.ir(), f.ir(), "{query:?} printed as {text:?}");
        }
    }
    assert!(n > 50, "only {n} seeds");
}
