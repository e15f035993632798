//! The RFC 6962 / RFC 9162 Merkle tree: hashes, proofs made from stored complete subtrees,
//! and proof verification.
//!
//! A log keeps the hash of every *complete* subtree: the node at `level` and `index` covers
//! leaves `[index·2^level, (index+1)·2^level)`, and it exists once the tree has that many
//! leaves. Such nodes never change as the tree grows, so a store (the account's Durable
//! Object keeps rows of `(level, index, hash)`) only ever inserts. [`append`] says which
//! nodes new leaves complete; roots and proofs for any size are computed from those nodes,
//! the incomplete subtrees at the right edge on the fly.

use std::fmt;

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::base64;
use super::codes;

/// A SHA-256 hash: of a leaf, of an interior node or of a tree.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// Standard base64 with padding, the form of checkpoints and proofs.
    pub fn to_base64(&self) -> String {
        base64::encode(&self.0)
    }

    /// The hash written in standard base64, or `None` if it is not exactly that.
    pub fn from_base64(text: &str) -> Option<Hash> {
        base64::decode(text)?.try_into().ok().map(Hash)
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_base64())
    }
}

/// `SHA-256(0x00 || leaf)`.
pub fn leaf_hash(leaf: &[u8]) -> Hash {
    Hash(
        Sha256::new()
            .chain_update([0])
            .chain_update(leaf)
            .finalize()
            .into(),
    )
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Hash(
        Sha256::new()
            .chain_update([1])
            .chain_update(left.0)
            .chain_update(right.0)
            .finalize()
            .into(),
    )
}

/// The root of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Hash {
    Hash(Sha256::digest([]).into())
}

/// A complete subtree: leaves `[index·2^level, (index+1)·2^level)`; level 0 is the leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u8,
    pub index: u64,
}

/// Where the hashes of complete subtrees are kept.
pub trait NodeStore {
    type Error;
    /// The hashes of `ids`, in that order. Every id asked for is a node that [`append`]
    /// returned for a tree at least as large as the one a proof is asked about. Each
    /// proof, root or append asks once: an inclusion or consistency proof in a tree of
    /// 10^9 leaves for at most 42 nodes, an append for at most 64 (one per set bit of the
    /// size), so a store reading `(level, index)` pairs with at most 100 bound parameters
    /// a statement needs at most two statements.
    fn nodes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, Self::Error>;
}

/// Why a root, a proof or an append could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeError<E> {
    /// A leaf index or tree size outside the tree, or sizes in the wrong order.
    OutOfRange,
    /// The store answered with a different number of hashes than it was asked for.
    Incomplete,
    /// The store failed.
    Store(E),
}

impl<E> TreeError<E> {
    /// The stable code: `seq_out_of_range`, or `store` for a store that failed or lied.
    pub fn code(&self) -> &'static str {
        match self {
            TreeError::OutOfRange => codes::SEQ_OUT_OF_RANGE,
            TreeError::Incomplete | TreeError::Store(_) => codes::STORE,
        }
    }
}

/// The largest power of two smaller than `len` (`len >= 2`): where RFC 6962 splits.
fn split(len: u64) -> u64 {
    1 << (63 - (len - 1).leading_zeros())
}

/// The complete subtrees that make up leaves `[lo, hi)`, left to right. For the ranges a
/// proof names (`lo` a multiple of a power of two at least `hi - lo`) they are the
/// binary digits of `hi - lo`, largest first, as RFC 6962 hashes them.
fn subtrees(mut lo: u64, hi: u64, out: &mut Vec<NodeId>) {
    while lo < hi {
        let mut level = 63 - (hi - lo).leading_zeros();
        if lo != 0 {
            level = level.min(lo.trailing_zeros());
        }
        out.push(NodeId {
            level: level as u8,
            index: lo >> level,
        });
        lo += 1 << level;
    }
}

/// The hash of a range from the hashes of its complete subtrees, left to right.
fn fold(parts: &[Hash]) -> Option<Hash> {
    let (last, rest) = parts.split_last()?;
    Some(rest.iter().rev().fold(*last, |acc, h| node_hash(h, &acc)))
}

/// Hashes of the ranges `ranges` (each `[lo, hi)`), read from the store in one request.
fn range_hashes<S: NodeStore>(
    store: &S,
    ranges: &[(u64, u64)],
) -> Result<Vec<Hash>, TreeError<S::Error>> {
    let mut ids = Vec::new();
    let mut bounds = Vec::with_capacity(ranges.len());
    for &(lo, hi) in ranges {
        let start = ids.len();
        subtrees(lo, hi, &mut ids);
        bounds.push(start..ids.len());
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = store.nodes(&ids).map_err(TreeError::Store)?;
    if hashes.len() != ids.len() {
        return Err(TreeError::Incomplete);
    }
    bounds
        .into_iter()
        .map(|b| hashes.get(b).and_then(fold).ok_or(TreeError::Incomplete))
        .collect()
}

/// The root of the tree of the first `size` leaves.
pub fn root<S: NodeStore>(store: &S, size: u64) -> Result<Hash, TreeError<S::Error>> {
    if size == 0 {
        return Ok(empty_root());
    }
    let hashes = range_hashes(store, &[(0, size)])?;
    hashes.first().copied().ok_or(TreeError::Incomplete)
}

/// The ranges whose hashes prove leaf `index` in a tree of `size` leaves (RFC 9162
/// 2.1.3.1), from the leaf's sibling up.
fn inclusion_ranges(index: u64, size: u64) -> Vec<(u64, u64)> {
    let (mut lo, mut hi) = (0, size);
    let mut out = Vec::new();
    while hi - lo > 1 {
        let k = split(hi - lo);
        if index < lo + k {
            out.push((lo + k, hi));
            hi = lo + k;
        } else {
            out.push((lo, lo + k));
            lo += k;
        }
    }
    out.reverse();
    out
}

/// The inclusion proof of leaf `index` (from 0) in the tree of the first `size` leaves.
pub fn inclusion_proof<S: NodeStore>(
    store: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, TreeError<S::Error>> {
    if index >= size {
        return Err(TreeError::OutOfRange);
    }
    range_hashes(store, &inclusion_ranges(index, size))
}

/// The ranges whose hashes prove that the tree of `old` leaves is a prefix of the tree of
/// `new` leaves (RFC 9162 2.1.4.1, `0 < old < new`), from the bottom up.
fn consistency_ranges(old: u64, new: u64) -> Vec<(u64, u64)> {
    let (mut lo, mut hi) = (0, new);
    let mut whole_old_tree = true;
    let mut out = Vec::new();
    while old != hi {
        let k = split(hi - lo);
        if old <= lo + k {
            out.push((lo + k, hi));
            hi = lo + k;
        } else {
            out.push((lo, lo + k));
            lo += k;
            whole_old_tree = false;
        }
    }
    // The verifier knows the old root; a subtree that is only part of it must be given.
    if !whole_old_tree {
        out.push((lo, hi));
    }
    out.reverse();
    out
}

/// The consistency proof from the tree of `old` leaves to the tree of `new` leaves.
pub fn consistency_proof<S: NodeStore>(
    store: &S,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, TreeError<S::Error>> {
    if old > new {
        return Err(TreeError::OutOfRange);
    }
    if old == 0 || old == new {
        return Ok(Vec::new());
    }
    range_hashes(store, &consistency_ranges(old, new))
}

/// The nodes that appending `leaves` (leaf hashes) to a tree of `size` leaves completes,
/// the new leaves among them, in the order they complete: what the store must keep.
/// Reads the at most 64 complete subtrees of the current tree once. About two nodes per
/// leaf; a store writing rows of `(level, index, hash)` with at most 100 bound parameters a
/// statement inserts at most 33 per statement.
pub fn append<S: NodeStore>(
    store: &S,
    size: u64,
    leaves: &[Hash],
) -> Result<Vec<(NodeId, Hash)>, TreeError<S::Error>> {
    if size.checked_add(leaves.len() as u64).is_none() {
        return Err(TreeError::OutOfRange);
    }
    let mut ids = Vec::new();
    subtrees(0, size, &mut ids);
    let hashes = if ids.is_empty() {
        Vec::new()
    } else {
        store.nodes(&ids).map_err(TreeError::Store)?
    };
    if hashes.len() != ids.len() {
        return Err(TreeError::Incomplete);
    }
    // The right edge: complete subtrees, each smaller than the one before.
    let mut edge: Vec<(NodeId, Hash)> = ids.into_iter().zip(hashes).collect();
    let mut out = Vec::with_capacity(leaves.len() * 2);
    for (i, leaf) in leaves.iter().enumerate() {
        let mut node = (
            NodeId {
                level: 0,
                index: size + i as u64,
            },
            *leaf,
        );
        out.push(node);
        while let Some(&(left, left_hash)) = edge.last() {
            if left.level != node.0.level {
                break;
            }
            edge.pop();
            node = (
                NodeId {
                    level: left.level + 1,
                    index: left.index / 2,
                },
                node_hash(&left_hash, &node.1),
            );
            out.push(node);
        }
        edge.push(node);
    }
    Ok(out)
}

/// Whether `proof` shows that `leaf` (a leaf hash) is leaf `index` of the tree of `size`
/// leaves whose root is `root` (RFC 9162 2.1.3.2).
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            // Climb past the levels where this node is the last one and has no sibling.
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && r == *root
}

/// Whether `proof` shows that the tree of `old` leaves with root `old_root` is a prefix of
/// the tree of `new` leaves with root `new_root` (RFC 9162 2.1.4.2).
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old > new {
        return false;
    }
    if old == new {
        return proof.is_empty() && old_root == new_root;
    }
    if old == 0 {
        return proof.is_empty();
    }
    if proof.is_empty() {
        return false;
    }
    // A power-of-two old tree is a complete subtree the proof leaves out: start from it.
    let (first, rest) = if old.is_power_of_two() {
        (old_root, proof)
    } else {
        match proof.split_first() {
            Some(split) => split,
            None => return false,
        }
    };
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    fr == *old_root && sr == *new_root && s == 0
}

/// A tree kept in memory: for tests, benchmarks and the CLI.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    /// `levels[l][i]` is node `(l, i)`.
    levels: Vec<Vec<Hash>>,
}

/// The node a [`MemoryTree`] was asked for and does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingNode(pub NodeId);

impl MemoryTree {
    pub fn new() -> MemoryTree {
        MemoryTree::default()
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends leaf hashes, through the same [`append`] a persistent store uses.
    pub fn extend(&mut self, leaves: &[Hash]) -> Result<(), TreeError<MissingNode>> {
        for (id, hash) in append(self, self.size(), leaves)? {
            let level = usize::from(id.level);
            if self.levels.len() <= level {
                self.levels.resize_with(level + 1, Vec::new);
            }
            if let Some(nodes) = self.levels.get_mut(level) {
                nodes.push(hash);
            }
        }
        Ok(())
    }

    /// The root of the whole tree.
    pub fn root(&self) -> Result<Hash, TreeError<MissingNode>> {
        root(self, self.size())
    }
}

impl NodeStore for MemoryTree {
    type Error = MissingNode;

    fn nodes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, MissingNode> {
        ids.iter()
            .map(|&id| {
                let index = usize::try_from(id.index).ok();
                self.levels
                    .get(usize::from(id.level))
                    .zip(index)
                    .and_then(|(nodes, i)| nodes.get(i).copied())
                    .ok_or(MissingNode(id))
            })
            .collect()
    }
}
