//! Checkpoints (c2sp.org/tlog-checkpoint): a log's signed tree head, as integrity.md
//! writes it.
//!
//! The text is exactly three lines, `<origin>\n<tree size>\n<root hash in base64>\n`, with
//! no extension lines; the origin is `<LOG_ORIGIN>/<accountIdentifier>` and the signing
//! key is named `LOG_ORIGIN`.

use super::codes;
use super::note::{open_note, sign_note, NoteError, SigningKey, VerifierKey};
use super::tree::Hash;

/// A tree head: which log, how many leaves, which root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// The note text that is signed.
    pub fn text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        )
    }

    /// The checkpoint signed by `key`: the text of `GET /v1/log/checkpoint`.
    pub fn sign(&self, key: &SigningKey) -> Result<String, NoteError> {
        if !valid_origin(&self.origin) {
            return Err(bad("the origin is empty or has a control character"));
        }
        sign_note(&self.text(), &[key])
    }

    /// Reads the text of a checkpoint (no signatures).
    pub fn parse(text: &str) -> Result<Checkpoint, NoteError> {
        let mut lines = text.split('\n');
        let (Some(origin), Some(size), Some(root), Some(""), None) = (
            lines.next(),
            lines.next(),
            lines.next(),
            lines.next(),
            lines.next(),
        ) else {
            return Err(bad("not three lines: origin, tree size, root hash"));
        };
        if !valid_origin(origin) {
            return Err(bad("the origin is empty"));
        }
        let canonical = size == "0" || (!size.starts_with('0') && !size.starts_with('+'));
        let size =
            size.parse().ok().filter(|_| canonical).ok_or_else(|| {
                bad("the tree size is not a decimal number without leading zeros")
            })?;
        let root = Hash::from_base64(root)
            .ok_or_else(|| bad("the root hash is not a SHA-256 hash in standard base64"))?;
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
        })
    }
}

fn bad(why: &str) -> NoteError {
    NoteError {
        code: codes::BAD_CHECKPOINT,
        message: format!("checkpoint: {why}"),
    }
}

fn valid_origin(origin: &str) -> bool {
    !origin.is_empty() && !origin.contains(|c: char| c.is_control())
}

/// A checkpoint whose signature verified, and the key that verified it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified<'k> {
    pub checkpoint: Checkpoint,
    pub key: &'k VerifierKey,
}

/// Verifies a signed checkpoint against known keys and reads it. The text is read only
/// once a signature verified; the origin must then be `<key name>/<account>`
/// (`origin_mismatch`), so a key vouches only for its own deployment's logs.
pub fn open_checkpoint<'k>(note: &str, keys: &'k [VerifierKey]) -> Result<Verified<'k>, NoteError> {
    let opened = open_note(note, keys)?;
    let checkpoint = Checkpoint::parse(opened.text)?;
    let account = checkpoint
        .origin
        .strip_prefix(opened.key.name())
        .and_then(|rest| rest.strip_prefix('/'));
    if !matches!(account, Some(a) if !a.is_empty()) {
        return Err(NoteError {
            code: codes::ORIGIN_MISMATCH,
            message: format!(
                "the origin {:?} is not a log of the key {}",
                checkpoint.origin,
                opened.key.label()
            ),
        });
    }
    Ok(Verified {
        checkpoint,
        key: opened.key,
    })
}
