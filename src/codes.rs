//! Every stable code trailsift gives, in one registry. Codes are a contract (the CLI's
//! output, the npm package's errors, the Worker's answers, the page): never rename one,
//! only add.
//!
//! Each part of trailsift defines its codes, each with a comment saying what it means,
//! beside the code that gives them; this registry gathers the lists so that one test sees
//! all of them. A code may stand in several parts when it means the same kind of problem
//! there (`too_large`, `bad_json`, `bad_time`); within one part it stands once. The parts
//! that are features (the Worker's `edge::codes`, the npm package's `wasm::CODES`) check
//! themselves against the same rules with [`check`].

use crate::convert::ErrorCode;

/// A part of trailsift and the codes it gives.
pub struct Part {
    pub name: &'static str,
    pub codes: fn() -> Vec<&'static str>,
}

/// The parts of the core and their codes.
pub const PARTS: &[Part] = &[
    Part {
        name: "validation errors (schema::codes)",
        codes: || crate::schema::codes::ERRORS.to_vec(),
    },
    Part {
        name: "validation warnings (schema::codes)",
        codes: || crate::schema::codes::WARNINGS.to_vec(),
    },
    Part {
        name: "records that cannot be read (convert::ErrorCode)",
        codes: || ErrorCode::ALL.iter().map(|c| c.as_str()).collect(),
    },
    Part {
        name: "inputs that cannot be read (input::InputError)",
        codes: || crate::input::CODES.to_vec(),
    },
    Part {
        name: "times (time::TimeError)",
        codes: || vec![crate::time::TimeError::CODE],
    },
    Part {
        name: "filters (filter::error)",
        codes: || {
            crate::filter::error::CODES
                .iter()
                .map(|(c, _)| *c)
                .collect()
        },
    },
    Part {
        name: "transforms (transform::error)",
        codes: || crate::transform::error::CODES.to_vec(),
    },
    Part {
        name: "the verifiable log (log::codes)",
        codes: crate::log::codes::codes,
    },
];

/// Checks one part's codes: snake_case, none twice. Panics naming the part and the code.
pub fn check(part: &str, codes: &[&str]) {
    let mut seen = std::collections::HashSet::new();
    for code in codes {
        assert!(
            !code.is_empty()
                && code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                && !code.starts_with('_')
                && !code.ends_with('_'),
            "{part}: {code:?} is not snake_case"
        );
        assert!(seen.insert(*code), "{part}: {code:?} stands twice");
    }
}

/// Whether any part of the core gives `code`.
pub fn is_known(code: &str) -> bool {
    PARTS.iter().any(|p| (p.codes)().contains(&code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_gives_each_code_once() {
        for part in PARTS {
            check(part.name, &(part.codes)());
        }
    }

    #[test]
    fn codes_shared_by_parts_are_the_known_shared_ones() {
        // A code in several parts must mean the same kind of problem in each; these are
        // the ones that do (`unknown_key` is a key the filter's JSON does not know, or a
        // signing key the verifier was not given: both contracts predate this registry).
        // A new overlap must be added here on purpose.
        const SHARED: &[&str] = &[
            "bad_json",
            "too_large",
            "too_deep",
            "bad_time",
            "bad_ip",
            "unknown_field",
            "truncated",
            "bad_gzip",
            "bad_range",
            "unknown_key",
            "wrong_type",
            "bad_regex",
            "too_long",
        ];
        let mut count = std::collections::HashMap::<&str, usize>::new();
        for part in PARTS {
            for code in (part.codes)() {
                *count.entry(code).or_default() += 1;
            }
        }
        for (code, n) in count {
            assert!(
                n == 1 || SHARED.contains(&code),
                "{code} stands in {n} parts"
            );
        }
        assert!(is_known("wrong_account"));
        assert!(!is_known("no_such_code"));
    }
}
