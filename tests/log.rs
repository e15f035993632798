//! The verifiable log's core: RFC 8785 leaves, RFC 6962 trees and proofs against a
//! plain recursive reference and published vectors, signed notes against published
//! notes, and every tampering case of an evidence bundle.

#[path = "common/evidence.rs"]
mod evidence;

use std::collections::HashMap;

use serde_json::Value;
use sha2::{Digest, Sha256};
use trailsift::log::{
    self, codes, Checkpoint, Hash, MemoryTree, NodeId, NodeStore, SigningKey, VerifierKey,
};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn h(s: &str) -> Hash {
    Hash(hex(s).try_into().unwrap())
}

fn jcs(text: &str) -> String {
    let value: Value = serde_json::from_str(text).unwrap();
    String::from_utf8(log::canonical_json(&value)).unwrap()
}

// ---------------------------------------------------------------- RFC 8785

#[test]
fn jcs_rfc8785_section_3_2_2_example() {
    let input = r#"{
      "numbers": [333333333.33333329, 1E30, 4.50,
                  2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }"#;
    // The RFC gives the output as UTF-8 bytes in hex.
    let expected: Vec<u8> = "7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72 \
        75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a \
        5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31 \
        65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37 \
        5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30 \
        30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d"
        .split_whitespace()
        .flat_map(hex)
        .collect();
    assert_eq!(jcs(input).into_bytes(), expected);
}

#[test]
fn jcs_rfc8785_section_3_2_3_sorting_by_utf16_code_units() {
    let input = r#"{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }"#;
    // U+1F600 (UTF-16 D83D DE00) sorts before U+FB33, unlike by code point or UTF-8.
    let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
        \"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\
        \"😀\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
    assert_eq!(jcs(input), expected);
}

#[test]
fn jcs_rfc8785_appendix_b_numbers() {
    let table = [
        ("0000000000000000", "0"),
        ("8000000000000000", "0"),
        ("0000000000000001", "5e-324"),
        ("8000000000000001", "-5e-324"),
        ("7fefffffffffffff", "1.7976931348623157e+308"),
        ("ffefffffffffffff", "-1.7976931348623157e+308"),
        ("4340000000000000", "9007199254740992"),
        ("c340000000000000", "-9007199254740992"),
        ("4430000000000000", "295147905179352830000"),
        ("44b52d02c7e14af5", "9.999999999999997e+22"),
        ("44b52d02c7e14af6", "1e+23"),
        ("44b52d02c7e14af7", "1.0000000000000001e+23"),
        ("444b1ae4d6e2ef4e", "999999999999999700000"),
        ("444b1ae4d6e2ef4f", "999999999999999900000"),
        ("444b1ae4d6e2ef50", "1e+21"),
        ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
        ("3eb0c6f7a0b5ed8d", "0.000001"),
        ("41b3de4355555553", "333333333.3333332"),
        ("41b3de4355555554", "333333333.33333325"),
        ("41b3de4355555555", "333333333.3333333"),
        ("41b3de4355555556", "333333333.3333334"),
        ("41b3de4355555557", "333333333.33333343"),
        ("becbf647612f3696", "-0.0000033333333333333333"),
        ("43143ff3c1cb0959", "1424953923781206.2"),
    ];
    for (bits, expected) in table {
        let f = f64::from_bits(u64::from_str_radix(bits, 16).unwrap());
        let got = String::from_utf8(log::canonical_json(&Value::from(f))).unwrap();
        assert_eq!(got, expected, "{bits}");
        // The same number read from JSON text, as events are.
        let text = serde_json::to_string(&Value::from(f)).unwrap();
        assert_eq!(jcs(&text), expected, "{bits} read from {text}");
    }
}

#[test]
fn jcs_integers_are_doubles() {
    // JCS writes every number as an IEEE double: integers beyond 2^53 round.
    assert_eq!(
        jcs("[9007199254740993, -0, 1.0, 100, 1e2]"),
        "[9007199254740992,0,1,100,100]"
    );
}

// ---------------------------------------------------------------- RFC 6962 reference

/// RFC 9162 section 2.1, written as the RFC writes it: MTH, PATH and PROOF by recursion
/// over lists of leaf hashes (MTH memoised by range to keep 45,000 proofs fast).
struct Reference {
    leaves: Vec<Hash>,
    memo: HashMap<(usize, usize), Hash>,
}

impl Reference {
    fn new(leaves: Vec<Hash>) -> Reference {
        Reference {
            leaves,
            memo: HashMap::new(),
        }
    }

    fn k(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    fn mth(&mut self, lo: usize, hi: usize) -> Hash {
        if let Some(h) = self.memo.get(&(lo, hi)) {
            return *h;
        }
        let h = match hi - lo {
            0 => Hash(Sha256::digest([]).into()),
            1 => self.leaves[lo],
            n => {
                let k = Self::k(n);
                let (l, r) = (self.mth(lo, lo + k), self.mth(lo + k, hi));
                let mut bytes = vec![1];
                bytes.extend_from_slice(&l.0);
                bytes.extend_from_slice(&r.0);
                Hash(Sha256::digest(&bytes).into())
            }
        };
        self.memo.insert((lo, hi), h);
        h
    }

    /// PATH(m, D[lo:hi]).
    fn path(&mut self, m: usize, lo: usize, hi: usize) -> Vec<Hash> {
        let n = hi - lo;
        if n == 1 {
            return vec![];
        }
        let k = Self::k(n);
        if m < k {
            let mut p = self.path(m, lo, lo + k);
            p.push(self.mth(lo + k, hi));
            p
        } else {
            let mut p = self.path(m - k, lo + k, hi);
            p.push(self.mth(lo, lo + k));
            p
        }
    }

    /// SUBPROOF(m, D[lo:hi], b).
    fn subproof(&mut self, m: usize, lo: usize, hi: usize, b: bool) -> Vec<Hash> {
        let n = hi - lo;
        if m == n {
            return if b { vec![] } else { vec![self.mth(lo, hi)] };
        }
        let k = Self::k(n);
        if m <= k {
            let mut p = self.subproof(m, lo, lo + k, b);
            p.push(self.mth(lo + k, hi));
            p
        } else {
            let mut p = self.subproof(m - k, lo + k, hi, false);
            p.push(self.mth(lo, lo + k));
            p
        }
    }
}

fn leaf(i: usize) -> Hash {
    log::leaf_hash(format!("leaf {i}").as_bytes())
}

/// A memory tree of `n` leaves, appended in batches of growing size so that batch
/// boundaries fall everywhere.
fn tree_of(leaves: &[Hash]) -> MemoryTree {
    let mut tree = MemoryTree::new();
    let (mut at, mut batch) = (0, 1);
    while at < leaves.len() {
        let end = (at + batch).min(leaves.len());
        tree.extend(&leaves[at..end]).unwrap();
        at = end;
        batch = batch % 7 + 1;
    }
    tree
}

#[test]
fn stored_nodes_are_exactly_the_complete_subtrees() {
    let leaves: Vec<Hash> = (0..300).map(leaf).collect();
    let tree = tree_of(&leaves);
    let mut reference = Reference::new(leaves);
    for level in 0..9u8 {
        let count = 300u64 >> level;
        for index in 0..count {
            let lo = (index << level) as usize;
            let want = reference.mth(lo, lo + (1 << level));
            assert_eq!(tree.nodes(&[NodeId { level, index }]).unwrap(), vec![want]);
        }
        assert!(tree
            .nodes(&[NodeId {
                level,
                index: count
            }])
            .is_err());
    }
}

#[test]
fn roots_and_inclusion_proofs_for_every_leaf_of_trees_up_to_300() {
    let leaves: Vec<Hash> = (0..300).map(leaf).collect();
    let tree = tree_of(&leaves);
    let mut reference = Reference::new(leaves.clone());
    assert_eq!(log::root(&tree, 0).unwrap(), reference.mth(0, 0));
    for n in 1..=300u64 {
        let root = log::root(&tree, n).unwrap();
        assert_eq!(root, reference.mth(0, n as usize), "root of {n}");
        // A tree of exactly n leaves gives the same proofs as a prefix of a larger one.
        let small = (n % 37 == 0).then(|| tree_of(&leaves[..n as usize]));
        for m in 0..n {
            let proof = log::inclusion_proof(&tree, m, n).unwrap();
            assert_eq!(
                proof,
                reference.path(m as usize, 0, n as usize),
                "PATH({m}, {n})"
            );
            if let Some(small) = &small {
                assert_eq!(log::inclusion_proof(small, m, n).unwrap(), proof);
            }
            let leaf = leaves[m as usize];
            assert!(
                log::tree::verify_inclusion(&leaf, m, n, &proof, &root),
                "{m} in {n}"
            );
            if n <= 64 {
                inclusion_breaks(&leaf, m, n, &proof, &root);
            }
        }
        assert_eq!(
            log::inclusion_proof(&tree, n, n),
            Err(log::TreeError::OutOfRange)
        );
    }
}

/// Every way of changing a good inclusion proof's inputs fails.
fn inclusion_breaks(leaf: &Hash, m: u64, n: u64, proof: &[Hash], root: &Hash) {
    let verify = |leaf: &Hash, m, n, proof: &[Hash], root: &Hash| {
        log::tree::verify_inclusion(leaf, m, n, proof, root)
    };
    let other = log::leaf_hash(b"other");
    assert!(!verify(&other, m, n, proof, root), "wrong leaf {m}/{n}");
    assert!(!verify(leaf, m, n, proof, &other), "wrong root {m}/{n}");
    if m + 1 < n {
        assert!(!verify(leaf, m + 1, n, proof, root), "index + 1 {m}/{n}");
    }
    if m > 0 {
        assert!(!verify(leaf, m - 1, n, proof, root), "index - 1 {m}/{n}");
    }
    // (A proof need not fix the size exactly: the signed root does.)
    assert!(!verify(leaf, m, n * 2, proof, root), "size * 2 {m}/{n}");
    if m < n / 2 {
        assert!(!verify(leaf, m, n / 2, proof, root), "size / 2 {m}/{n}");
    }
    assert!(!verify(leaf, n, n, proof, root), "index = size {n}");
    let mut longer = proof.to_vec();
    longer.push(*root);
    assert!(!verify(leaf, m, n, &longer, root), "trailing hash {m}/{n}");
    longer.rotate_right(1);
    assert!(!verify(leaf, m, n, &longer, root), "leading hash {m}/{n}");
    for i in 0..proof.len() {
        let mut wrong = proof.to_vec();
        wrong[i].0[0] ^= 8;
        assert!(!verify(leaf, m, n, &wrong, root), "flipped {i} {m}/{n}");
    }
    if !proof.is_empty() {
        assert!(
            !verify(leaf, m, n, &proof[..proof.len() - 1], root),
            "truncated {m}/{n}"
        );
    }
}

#[test]
fn consistency_proofs_between_every_pair_of_sizes_up_to_64() {
    let leaves: Vec<Hash> = (0..64).map(leaf).collect();
    let tree = tree_of(&leaves);
    let mut reference = Reference::new(leaves);
    let verify = log::tree::verify_consistency;
    for new in 0..=64u64 {
        let new_root = log::root(&tree, new).unwrap();
        for old in 0..=new {
            let old_root = log::root(&tree, old).unwrap();
            let proof = log::consistency_proof(&tree, old, new).unwrap();
            let want = if old == 0 || old == new {
                vec![]
            } else {
                reference.subproof(old as usize, 0, new as usize, true)
            };
            assert_eq!(proof, want, "PROOF({old}, {new})");
            assert!(
                verify(old, new, &old_root, &new_root, &proof),
                "{old} -> {new}"
            );
            if old == 0 || old == new {
                continue;
            }
            let other = log::leaf_hash(b"other");
            assert!(
                !verify(old, new, &other, &new_root, &proof),
                "old root {old}/{new}"
            );
            assert!(
                !verify(old, new, &old_root, &other, &proof),
                "new root {old}/{new}"
            );
            assert!(
                !verify(old, new, &new_root, &old_root, &proof),
                "swapped {old}/{new}"
            );
            assert!(
                !verify(old, new, &old_root, &new_root, &[]),
                "empty {old}/{new}"
            );
            assert!(
                !verify(new, old, &new_root, &old_root, &proof),
                "backwards {old}/{new}"
            );
            assert!(
                !verify(old, new, &old_root, &new_root, &proof[..proof.len() - 1]),
                "truncated {old}/{new}"
            );
            let mut longer = proof.clone();
            longer.push(old_root);
            assert!(
                !verify(old, new, &old_root, &new_root, &longer),
                "trailing {old}/{new}"
            );
            for i in 0..proof.len() {
                let mut wrong = proof.clone();
                wrong[i].0[0] ^= 16;
                assert!(
                    !verify(old, new, &old_root, &new_root, &wrong),
                    "flipped {i} {old}/{new}"
                );
            }
            // (The new size is fixed by the signed new root, not by the proof alone.)
            for (o, n) in [
                (old - 1, new),
                (old + 1, new),
                (old, new * 2),
                (old, new / 2),
            ] {
                if 0 < o && o <= n {
                    assert!(
                        !verify(o, n, &old_root, &new_root, &proof),
                        "sizes {o}/{n} for {old}/{new}"
                    );
                }
            }
        }
    }
    assert_eq!(
        log::consistency_proof(&tree, 5, 4),
        Err(log::TreeError::OutOfRange)
    );
}

// ---------------------------------------------------------------- published vectors

/// transparency-dev/merkle testonly/constants.go and proof/verify_test.go: the RFC 6962
/// test tree of Certificate Transparency.
const CT_LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

const CT_ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

const CT_NODES: [&[&str]; 4] = [
    &[
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    &[
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    &[
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    &["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
];

fn ct_tree() -> MemoryTree {
    let leaves: Vec<Hash> = CT_LEAVES.iter().map(|l| log::leaf_hash(&hex(l))).collect();
    tree_of(&leaves)
}

#[test]
fn ct_test_tree_roots_and_nodes() {
    let tree = ct_tree();
    for (n, root) in CT_ROOTS.iter().enumerate() {
        assert_eq!(log::root(&tree, n as u64).unwrap(), h(root), "root of {n}");
    }
    for (level, nodes) in CT_NODES.iter().enumerate() {
        for (index, node) in nodes.iter().enumerate() {
            let id = NodeId {
                level: level as u8,
                index: index as u64,
            };
            assert_eq!(tree.nodes(&[id]).unwrap(), vec![h(node)], "{id:?}");
        }
    }
}

#[test]
fn ct_test_tree_inclusion_proofs() {
    let tree = ct_tree();
    // (leaf from 1, tree size, proof)
    let vectors: [(u64, u64, &[&str]); 5] = [
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            3,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            2,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (leaf, size, proof) in vectors {
        let want: Vec<Hash> = proof.iter().map(|p| h(p)).collect();
        assert_eq!(
            log::inclusion_proof(&tree, leaf - 1, size).unwrap(),
            want,
            "{leaf}/{size}"
        );
        let leaf_hash = log::leaf_hash(&hex(CT_LEAVES[leaf as usize - 1]));
        let root = h(CT_ROOTS[size as usize]);
        assert!(log::tree::verify_inclusion(
            &leaf_hash,
            leaf - 1,
            size,
            &want,
            &root
        ));
    }
}

#[test]
fn ct_test_tree_consistency_proofs() {
    let tree = ct_tree();
    let vectors: [(u64, u64, &[&str]); 5] = [
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
        (
            6,
            7,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];
    for (old, new, proof) in vectors {
        let want: Vec<Hash> = proof.iter().map(|p| h(p)).collect();
        assert_eq!(
            log::consistency_proof(&tree, old, new).unwrap(),
            want,
            "{old}/{new}"
        );
        let (old_root, new_root) = (h(CT_ROOTS[old as usize]), h(CT_ROOTS[new as usize]));
        assert!(log::tree::verify_consistency(
            old, new, &old_root, &new_root, &want
        ));
    }
}

// ---------------------------------------------------------------- signed notes

/// golang.org/x/mod/sumdb/note's documented example and tests (also c2sp.org/signed-note's
/// reference): PeterNeumann's key, and EnochRoot's, made from an all-zero seed.
const PETER_SEED: &str = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER_KEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const ENOCH_KEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const PETER_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                          then you don't know what your problem is.\n";
const PETER_LINE: &str = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_LINE: &str = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

fn peter() -> SigningKey {
    use base64::Engine;
    // Go's private key encoding: 0x01 (Ed25519) then the seed.
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(PETER_SEED)
        .unwrap();
    assert_eq!(bytes[0], 1);
    SigningKey::from_seed("PeterNeumann", &bytes[1..].try_into().unwrap()).unwrap()
}

#[test]
fn signed_note_published_keys_and_signatures() {
    let peter = peter();
    let enoch = SigningKey::from_seed("EnochRoot", &[0; 32]).unwrap();
    assert_eq!(peter.verifier().to_string(), PETER_KEY);
    assert_eq!(enoch.verifier().to_string(), ENOCH_KEY);
    assert_eq!(VerifierKey::parse(PETER_KEY).unwrap(), peter.verifier());

    let signed = log::sign_note(PETER_TEXT, &[&peter]).unwrap();
    assert_eq!(signed, format!("{PETER_TEXT}\n{PETER_LINE}"));
    let both = log::sign_note(PETER_TEXT, &[&peter, &enoch]).unwrap();
    assert_eq!(both, format!("{PETER_TEXT}\n{PETER_LINE}{ENOCH_LINE}"));
}

#[test]
fn signed_note_opening_follows_c2sp() {
    let note = format!("{PETER_TEXT}\n{PETER_LINE}{ENOCH_LINE}");
    let peter = VerifierKey::parse(PETER_KEY).unwrap();
    let enoch = VerifierKey::parse(ENOCH_KEY).unwrap();
    let open = |note: &str, keys: &[VerifierKey]| {
        log::note::open_note(note, keys).map(|o| (o.text.to_string(), o.key.label()))
    };
    // An unknown signer is ignored; any known one is enough.
    let got = open(&note, std::slice::from_ref(&peter)).unwrap();
    assert_eq!(
        got,
        (PETER_TEXT.to_string(), "PeterNeumann+c74f20a3".to_string())
    );
    assert_eq!(
        open(&note, std::slice::from_ref(&enoch)).unwrap().1,
        "EnochRoot+af0cfe78"
    );
    let other = SigningKey::from_seed("Other", &[3; 32]).unwrap().verifier();
    assert_eq!(open(&note, &[other]).unwrap_err().code, codes::UNKNOWN_KEY);
    // A known key whose signature fails rejects the note, even beside a good one.
    let mut bad = note.replacen("Sffcv", "Sffcw", 1);
    assert_eq!(
        open(&bad, &[peter.clone(), enoch.clone()])
            .unwrap_err()
            .code,
        codes::BAD_SIGNATURE
    );
    bad = note.replacen("what your", "what our", 1);
    assert_eq!(
        open(&bad, std::slice::from_ref(&enoch)).unwrap_err().code,
        codes::BAD_SIGNATURE
    );
    // Same name, other id: another key, ignored.
    let renamed = SigningKey::from_seed("PeterNeumann", &[4; 32])
        .unwrap()
        .verifier();
    assert_eq!(
        open(&note, &[renamed]).unwrap_err().code,
        codes::UNKNOWN_KEY
    );
    for malformed in [
        PETER_TEXT.to_string(),
        format!("{PETER_TEXT}{PETER_LINE}"),
        format!("{PETER_TEXT}\n{}", PETER_LINE.trim_end()),
        format!("{PETER_TEXT}\n- PeterNeumann x08go/ZJkuBS9UG\n"),
        format!("{PETER_TEXT}\n— PeterNeumann AAAA\n"),
        format!("{PETER_TEXT}\n— Peter+Neumann x08go/ZJkuBS9UG/Sffc=\n"),
        format!("{}\r\n{PETER_LINE}", PETER_TEXT.trim_end()),
        format!("{PETER_TEXT}\n{}", PETER_LINE.repeat(101)),
    ] {
        let e = open(&malformed, std::slice::from_ref(&peter)).unwrap_err();
        assert_eq!(e.code, codes::BAD_CHECKPOINT, "{malformed:?}: {e}");
    }
    // Up to 100 signatures are read.
    let many = format!("{PETER_TEXT}\n{}", ENOCH_LINE.repeat(99) + PETER_LINE);
    assert!(open(&many, &[peter]).is_ok());
}

/// A signed tree head of the Go checksum database, as published (transparency-dev/formats
/// shows it as the example checkpoint), with the key the go command embeds.
#[test]
fn signed_note_of_the_go_checksum_database() {
    let key =
        VerifierKey::parse("sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8")
            .unwrap();
    let note = "go.sum database tree\n15368405\n/g9am3I6YWNKaZX/jkne1fqd9zEyjss+JXyPXG0WfkY=\n\n\
                — sum.golang.org Az3grqJGUaSGukG9p8nI2vKgiFn7qGHxn0W+mrwyI6Gz3F0t1J3LzmWk/p96Ybf295EjwdSwlzgijq5WA9d1Ded7owM=\n";
    let keys = [key];
    let opened = log::note::open_note(note, &keys).unwrap();
    let checkpoint = Checkpoint::parse(opened.text).unwrap();
    assert_eq!(checkpoint.origin, "go.sum database tree");
    assert_eq!(checkpoint.size, 15368405);
    assert_eq!(
        checkpoint.root.to_base64(),
        "/g9am3I6YWNKaZX/jkne1fqd9zEyjss+JXyPXG0WfkY="
    );
    let changed = note.replacen("15368405", "15368406", 1);
    assert_eq!(
        log::note::open_note(&changed, &keys).unwrap_err().code,
        codes::BAD_SIGNATURE
    );
    // Its origin is not `<key name>/<account>`, so it is no trailsift checkpoint.
    assert_eq!(
        log::open_checkpoint(note, &keys).unwrap_err().code,
        codes::ORIGIN_MISMATCH
    );
}

#[test]
fn verifier_keys_are_read_strictly() {
    let good = SigningKey::from_seed("trailsift.local", &[9; 32])
        .unwrap()
        .verifier()
        .to_string();
    assert_eq!(VerifierKey::parse(&good).unwrap().to_string(), good);
    let (name, rest) = good.split_once('+').unwrap();
    let (id, key) = rest.split_once('+').unwrap();
    let wrong_id = format!(
        "{name}+{:08x}+{key}",
        u32::from_str_radix(id, 16).unwrap() ^ 1
    );
    for bad in [
        "",
        "trailsift.local",
        &format!("{name}+{id}"),
        &format!("{name}+{id}+{key}+x"),
        &format!("{name}+{}+{key}", &id[..7]),
        &format!("{name}+{id}+{}", &key[1..]),
        &format!("other+{id}+{key}"),
        &wrong_id,
        &format!("a b+{id}+{key}"),
        "PeterNeumann+c74f20a3+AhpxZBw8OExB6DDFvOEqqIF+xWSaqr8sMTiLNbLXRNY=",
    ] {
        let e = VerifierKey::parse(bad).unwrap_err();
        assert_eq!(e.code, codes::BAD_KEY, "{bad:?}");
    }
    let lines = format!("\n{good}\n\n{PETER_KEY}\n");
    assert_eq!(VerifierKey::parse_lines(&lines).unwrap().len(), 2);
    let e = VerifierKey::parse_lines(&format!("{good}\nnot a key\n")).unwrap_err();
    assert!(e.message.starts_with("line 2: "), "{e}");
    assert!(SigningKey::from_seed("", &[1; 32]).is_err());
    assert!(SigningKey::from_seed("a+b", &[1; 32]).is_err());
}

#[test]
fn signing_keys_from_base64_seeds() {
    use base64::Engine;
    let seed = base64::engine::general_purpose::STANDARD.encode([5u8; 32]);
    let key = SigningKey::from_base64_seed("trailsift.local", &seed).unwrap();
    assert_eq!(key.seed_base64(), seed);
    assert_eq!(
        key.verifier(),
        SigningKey::from_seed("trailsift.local", &[5; 32])
            .unwrap()
            .verifier()
    );
    for bad in ["", "AAAA", &seed[1..], &format!("{seed}AAAA")] {
        let e = SigningKey::from_base64_seed("trailsift.local", bad).unwrap_err();
        assert_eq!(e.code, codes::BAD_KEY, "{bad:?}");
    }
    assert!(!format!("{key:?}").contains(&seed), "Debug shows no seed");
}

// ---------------------------------------------------------------- checkpoints

#[test]
fn checkpoint_text_and_parsing() {
    let root = log::leaf_hash(b"x");
    let cp = Checkpoint {
        origin: "trailsift.local/acme".into(),
        size: 42,
        root,
    };
    assert_eq!(
        cp.text(),
        format!("trailsift.local/acme\n42\n{}\n", root.to_base64())
    );
    assert_eq!(Checkpoint::parse(&cp.text()).unwrap(), cp);
    let b64 = root.to_base64();
    for bad in [
        format!("trailsift.local/acme\n42\n{b64}"),
        format!("trailsift.local/acme\n42\n{b64}\nextension\n"),
        format!("\n42\n{b64}\n"),
        format!("trailsift.local/acme\n042\n{b64}\n"),
        format!("trailsift.local/acme\n+42\n{b64}\n"),
        format!("trailsift.local/acme\n-1\n{b64}\n"),
        format!("trailsift.local/acme\n18446744073709551616\n{b64}\n"),
        format!("trailsift.local/acme\n42\n{}\n", &b64[..40]),
        format!("trailsift.local/acme\n42\n{}\n", b64.trim_end_matches('=')),
    ] {
        assert_eq!(
            Checkpoint::parse(&bad).unwrap_err().code,
            codes::BAD_CHECKPOINT,
            "{bad:?}"
        );
    }
    let zero = Checkpoint {
        size: 0,
        ..cp.clone()
    };
    assert_eq!(Checkpoint::parse(&zero.text()).unwrap().size, 0);

    let key = SigningKey::from_seed("trailsift.local", &[1; 32]).unwrap();
    let signed = cp.sign(&key).unwrap();
    let keys = [key.verifier()];
    let opened = log::open_checkpoint(&signed, &keys).unwrap();
    assert_eq!(opened.checkpoint, cp);
    for origin in [
        "trailsift.local",
        "trailsift.local/",
        "trailsift.localx/acme",
        "other/acme",
    ] {
        let signed = Checkpoint {
            origin: origin.into(),
            ..cp.clone()
        }
        .sign(&key)
        .unwrap();
        let e = log::open_checkpoint(&signed, &keys).unwrap_err();
        assert_eq!(e.code, codes::ORIGIN_MISMATCH, "{origin}");
    }
}

// ---------------------------------------------------------------- bundles

#[test]
fn every_tampering_case_is_caught_and_located() {
    for case in evidence::cases() {
        let result = log::verify_evidence(&case.bundle, &case.keys, case.object.as_deref());
        let got: Vec<_> = result
            .failures
            .iter()
            .map(|f| (f.index, f.seq, f.code))
            .collect();
        assert_eq!(got, case.expect, "{}: {:#?}", case.name, result.failures);
        assert_eq!(result.ok, case.expect.is_empty(), "{}", case.name);
        for code in &got {
            assert!(
                codes::FAILURES.contains(&code.2),
                "{}: {}",
                case.name,
                code.2
            );
        }
        if case.expect.is_empty() {
            assert_eq!(
                result.verified,
                evidence::SEQS.len() as u64,
                "{}",
                case.name
            );
            let cp = result.checkpoint.unwrap();
            assert_eq!(
                (cp.origin.as_str(), cp.size),
                (evidence::ORIGIN, evidence::SIZE)
            );
            assert_eq!(cp.key, case.keys[0].label());
        } else if case.expect.iter().all(|e| e.0.is_some()) {
            let failed: std::collections::BTreeSet<_> = got.iter().filter_map(|f| f.0).collect();
            let bundle: Value = serde_json::from_slice(&case.bundle).unwrap();
            let entries = bundle["entries"].as_array().unwrap().len() as u64;
            let paired = failed.iter().filter(|&&i| i < entries).count() as u64;
            assert_eq!(result.verified, entries - paired, "{}", case.name);
        }
    }
}

#[test]
fn every_consistency_case_is_caught() {
    for case in evidence::consistency_cases() {
        let result = log::verify_consistency_json(&case.old, &case.new, &case.proof, &case.keys);
        let got: Vec<_> = result.failures.iter().map(|f| f.code).collect();
        assert_eq!(got, case.expect, "{}: {:#?}", case.name, result.failures);
        assert_eq!(result.ok, case.expect.is_empty(), "{}", case.name);
    }
}

#[test]
fn bundles_round_trip_as_the_spec_writes_them() {
    let log = evidence::the_log();
    let bundle = log.bundle(&[3], true);
    let json: Value = serde_json::to_value(&bundle).unwrap();
    let entry = &json["entries"][0];
    assert_eq!(entry["seq"], 3);
    assert_eq!(entry["event"], log.event(3));
    assert!(entry["proof"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p.as_str().unwrap().len() == 44));
    assert_eq!(json["checkpoint"], log.checkpoint(evidence::SIZE));
    let sidecar = serde_json::to_value(log.bundle(&[3], false)).unwrap();
    assert!(sidecar["entries"][0].get("event").is_none());
    let back = log::Bundle::from_json(&serde_json::to_vec(&json).unwrap()).unwrap();
    assert_eq!(back, bundle);
    let proof = log.consistency(evidence::OLD, evidence::SIZE);
    let back = log::ConsistencyProof::from_json(&serde_json::to_vec(&proof).unwrap());
    assert_eq!(back.unwrap(), proof);

    let result =
        serde_json::to_value(log::verify_bundle(&bundle, &[log.key.verifier()], None)).unwrap();
    assert_eq!(result["ok"], true);
    assert_eq!(result["verified"], 1);
    assert_eq!(
        result["checkpoint"]["rootHash"],
        log.head(evidence::SIZE).root.to_base64()
    );
    assert_eq!(result["failures"], serde_json::json!([]));
}

#[test]
fn a_grown_log_still_proves_old_events_and_its_past() {
    // Proofs against each checkpoint, old and new, and consistency between all of them.
    let events = evidence::events(100, 3);
    let key = evidence::key(1);
    let mut tree = MemoryTree::new();
    let mut heads = Vec::new();
    for chunk in events.chunks(13) {
        let leaves: Vec<Hash> = chunk.iter().map(log::event_leaf_hash).collect();
        tree.extend(&leaves).unwrap();
        let cp = Checkpoint {
            origin: evidence::ORIGIN.into(),
            size: tree.size(),
            root: tree.root().unwrap(),
        };
        heads.push((tree.size(), cp.sign(&key).unwrap()));
    }
    let keys = [key.verifier()];
    for (size, signed) in &heads {
        let entries = (1..=*size)
            .step_by(5)
            .map(|s| {
                log::Entry::prove(&tree, *size, s, Some(events[s as usize - 1].clone())).unwrap()
            })
            .collect();
        let bundle = log::Bundle {
            checkpoint: signed.clone(),
            entries,
        };
        let result = log::verify_bundle(&bundle, &keys, None);
        assert!(result.ok, "size {size}: {:?}", result.failures);
        for (new_size, new_signed) in &heads {
            if new_size < size {
                continue;
            }
            let proof = log::ConsistencyProof {
                first: *size,
                second: *new_size,
                proof: log::consistency_proof(&tree, *size, *new_size).unwrap(),
            };
            let check = log::verify_consistency(signed, new_signed, &proof, &keys);
            assert!(check.ok, "{size} -> {new_size}: {:?}", check.failures);
        }
    }
}

#[test]
fn malformed_bundles_name_what_is_wrong() {
    let log = evidence::the_log();
    let good = serde_json::to_value(log.bundle(&[3, 4], true)).unwrap();
    let cases: [(&str, Value, &str); 6] = [
        ("checkpoint", Value::from(5), "checkpoint: not a string"),
        ("entries", Value::from("x"), "entries: not an array"),
        ("/entries/1", Value::from(1), "entries[1]: not an object"),
        (
            "/entries/1/seq",
            Value::from(-3),
            "entries[1].seq: not a whole number",
        ),
        (
            "/entries/0/proof",
            Value::from("x"),
            "entries[0].proof: not an array",
        ),
        (
            "/entries/0/proof/2",
            Value::from("AAAA"),
            "entries[0].proof[2]: not a SHA-256 hash",
        ),
    ];
    for (path, replacement, message) in cases {
        let mut bundle = good.clone();
        let target = if path.starts_with('/') {
            bundle.pointer_mut(path).unwrap()
        } else {
            &mut bundle[path]
        };
        *target = replacement;
        let why = log::Bundle::from_json(&serde_json::to_vec(&bundle).unwrap()).unwrap_err();
        assert!(why.starts_with(message), "{path}: {why}");
    }
    assert!(log::Bundle::from_json(b"[1]")
        .unwrap_err()
        .starts_with("not an object"));
    assert!(log::Bundle::from_json(b"{")
        .unwrap_err()
        .starts_with("not JSON"));
    // `"event": null` is no event.
    let mut bundle = good.clone();
    bundle["entries"][0]["event"] = Value::Null;
    let read = log::Bundle::from_json(&serde_json::to_vec(&bundle).unwrap()).unwrap();
    assert_eq!(read.entries[0].event, None);
}

#[test]
fn failures_read_as_lines() {
    let f = log::Failure {
        index: Some(2),
        seq: Some(17),
        code: codes::BAD_PROOF,
        explanation: "Changed.",
        message: "no".into(),
    };
    assert_eq!(f.to_string(), "entry 2, seq 17: bad_proof: Changed. (no)");
    let f = log::Failure {
        index: None,
        seq: None,
        code: codes::UNKNOWN_KEY,
        explanation: "Not ours.",
        message: "m".into(),
    };
    assert_eq!(f.to_string(), "unknown_key: Not ours. (m)");
}
