//! The verifiable log of integrity.md: each account's events as an append-only RFC 6962
//! Merkle tree whose heads are signed checkpoints, and the evidence bundles that prove
//! events against them, offline.
//!
//! - [`canonical_json`]: an event's leaf bytes, its RFC 8785 (JCS) form (an integer
//!   beyond 2^53 rounds to the nearest double, as JCS says).
//! - [`tree`]: leaf and node hashes, [`append`] for a store of complete subtrees (the
//!   Durable Object's rows), roots, inclusion and consistency proofs and their checks.
//! - [`note`] and [`checkpoint`]: c2sp.org signed notes with Ed25519, checkpoints.
//! - [`bundle`]: evidence bundles, [`verify_evidence`] and [`verify_consistency`].
//!
//! ```
//! use trailsift::log::{self, Bundle, Checkpoint, Entry, MemoryTree, SigningKey};
//!
//! let events: Vec<serde_json::Value> = vec![
//!     serde_json::json!({"auditEventId": "a", "n": 1}),
//!     serde_json::json!({"auditEventId": "b", "n": 2.50}),
//! ];
//! let mut tree = MemoryTree::new();
//! let leaves: Vec<_> = events.iter().map(log::event_leaf_hash).collect();
//! tree.extend(&leaves).unwrap();
//!
//! let key = SigningKey::from_seed("trailsift.local", &[7; 32]).unwrap();
//! let checkpoint = Checkpoint {
//!     origin: "trailsift.local/acme".into(),
//!     size: tree.size(),
//!     root: tree.root().unwrap(),
//! };
//! let bundle = Bundle {
//!     checkpoint: checkpoint.sign(&key).unwrap(),
//!     entries: vec![Entry::prove(&tree, 2, 2, Some(events[1].clone())).unwrap()],
//! };
//! let json = serde_json::to_vec(&bundle).unwrap();
//! let result = log::verify_evidence(&json, &[key.verifier()], None);
//! assert!(result.ok);
//! assert_eq!(result.verified, 1);
//! ```

mod base64;
pub mod bundle;
pub mod checkpoint;
pub mod codes;
mod jcs;
pub mod note;
pub mod tree;

pub use bundle::{
    verify_bundle, verify_consistency, verify_consistency_json, verify_evidence, Bundle,
    CheckpointInfo, ConsistencyCheck, ConsistencyProof, Entry, Failure, InclusionProof,
    Verification,
};
pub use checkpoint::{open_checkpoint, Checkpoint};
pub use note::{sign_note, NoteError, SigningKey, VerifierKey};
pub use tree::{
    append, consistency_proof, inclusion_proof, leaf_hash, node_hash, root, Hash, MemoryTree,
    NodeId, NodeStore, TreeError,
};

pub use jcs::canonical_json;

/// The leaf hash of an event: `SHA-256(0x00 || JCS(event))`.
pub fn event_leaf_hash(event: &serde_json::Value) -> Hash {
    leaf_hash(&canonical_json(event))
}
