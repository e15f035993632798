//! Signed notes (c2sp.org/signed-note) with Ed25519 keys: signing, verifier keys, opening.
//!
//! A note is text ending in a newline, a blank line, then one line per signature:
//! `— <key name> <base64 of (4-byte key id || 64-byte signature)>`. The key id is the first
//! 4 bytes of `SHA-256(key name || 0x0A || 0x01 || public key)`; a verifier key is written
//! `<key name>+<key id in 8 hex digits>+<base64 of (0x01 || public key)>`. Signing takes the
//! 32-byte Ed25519 seed from the caller, so nothing here needs a random source.

use std::fmt;

use ed25519_dalek::{Signature, Signer, VerifyingKey};
use sha2::{Digest, Sha256};

use super::{base64, codes};

/// The Ed25519 signature type of c2sp.org/signed-note.
const ED25519: u8 = 1;
/// The signature line's start: an em dash (U+2014) and a space.
const DASH: &str = "\u{2014} ";
/// Larger notes are refused unread; a checkpoint with its signatures is a few hundred bytes.
pub const MAX_NOTE_BYTES: usize = 64 * 1024;
/// More signature lines are refused (c2sp.org/signed-note asks to accept at least 16).
pub const MAX_SIGNATURES: usize = 100;

/// A malformed key, or a note that cannot be opened: a stable code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteError {
    /// `bad_key`, `bad_checkpoint` (malformed note), `unknown_key` or `bad_signature`.
    pub code: &'static str,
    pub message: String,
}

impl NoteError {
    fn new(code: &'static str, message: impl Into<String>) -> NoteError {
        NoteError {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for NoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for NoteError {}

/// A key name: non-empty, without Unicode spaces or `+`.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(|c: char| c.is_whitespace() || c == '+')
}

fn key_id(name: &str, public: &[u8; 32]) -> u32 {
    let digest = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update([b'\n', ED25519])
        .chain_update(public)
        .finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// A signing key: an Ed25519 seed and the key name its signature lines carry.
pub struct SigningKey {
    name: String,
    id: u32,
    key: ed25519_dalek::SigningKey,
}

impl SigningKey {
    /// The key of a 32-byte Ed25519 seed, named `name` (for a log: `LOG_ORIGIN`).
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<SigningKey, NoteError> {
        if !valid_name(name) {
            return Err(NoteError::new(
                codes::BAD_KEY,
                format!("key name {name:?} is empty or has a space or a '+'"),
            ));
        }
        let key = ed25519_dalek::SigningKey::from_bytes(seed);
        Ok(SigningKey {
            name: name.to_string(),
            id: key_id(name, key.verifying_key().as_bytes()),
            key,
        })
    }

    /// The key of a seed written in standard base64 (the Worker secret `LOG_SIGNING_KEY`).
    pub fn from_base64_seed(name: &str, seed: &str) -> Result<SigningKey, NoteError> {
        let seed: [u8; 32] = base64::decode(seed.trim())
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| {
                NoteError::new(
                    codes::BAD_KEY,
                    "the seed is not 32 bytes in standard base64",
                )
            })?;
        SigningKey::from_seed(name, &seed)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The seed in standard base64, as `LOG_SIGNING_KEY` holds it.
    pub fn seed_base64(&self) -> String {
        base64::encode(self.key.as_bytes())
    }

    /// The verifier key that checks this key's signatures.
    pub fn verifier(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            id: self.id,
            key: self.key.verifying_key(),
        }
    }

    /// The signature line of `text` (with its newline).
    fn signature_line(&self, text: &str) -> String {
        let mut sig = self.id.to_be_bytes().to_vec();
        sig.extend_from_slice(&self.key.sign(text.as_bytes()).to_bytes());
        format!("{DASH}{} {}\n", self.name, base64::encode(&sig))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the seed.
        write!(f, "SigningKey({}+{:08x})", self.name, self.id)
    }
}

/// Signs `text` (the note text, ending in a newline) with every key: the signed note.
pub fn sign_note(text: &str, keys: &[&SigningKey]) -> Result<String, NoteError> {
    if !text.ends_with('\n') || text.contains(|c: char| c < ' ' && c != '\n') {
        return Err(NoteError::new(
            codes::BAD_CHECKPOINT,
            "a note's text ends in a newline and has no other control characters",
        ));
    }
    let mut note = format!("{text}\n");
    for key in keys {
        note.push_str(&key.signature_line(text));
    }
    Ok(note)
}

/// A verifier key: a name, a key id and an Ed25519 public key.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl VerifierKey {
    /// Reads `<name>+<8 hex digits>+<base64 of (0x01 || public key)>`; the id must be the
    /// key's.
    pub fn parse(text: &str) -> Result<VerifierKey, NoteError> {
        let bad = |why: &str| NoteError::new(codes::BAD_KEY, format!("verifier key: {why}"));
        let text = text.trim();
        // The key's base64 may itself contain '+'.
        let Some((name, (hex, key))) = text
            .split_once('+')
            .and_then(|(name, rest)| Some((name, rest.split_once('+')?)))
        else {
            return Err(bad("not <name>+<key id>+<key>"));
        };
        if !valid_name(name) {
            return Err(bad("the name is empty or has a space"));
        }
        let id = (hex.len() == 8 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| u32::from_str_radix(hex, 16).ok())
            .flatten()
            .ok_or_else(|| bad("the key id is not 8 hex digits"))?;
        let bytes = base64::decode(key).ok_or_else(|| bad("the key is not base64"))?;
        let public: [u8; 32] = match bytes.split_first() {
            Some((&ED25519, public)) => public
                .try_into()
                .map_err(|_| bad("an Ed25519 key is 32 bytes"))?,
            Some(_) => return Err(bad("not an Ed25519 key (type 0x01)")),
            None => return Err(bad("the key is empty")),
        };
        if key_id(name, &public) != id {
            return Err(bad("the key id does not match the name and key"));
        }
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|_| bad("the key is not an Ed25519 public key"))?;
        Ok(VerifierKey {
            name: name.to_string(),
            id,
            key,
        })
    }

    /// Reads verifier keys one a line, skipping blank lines.
    pub fn parse_lines(text: &str) -> Result<Vec<VerifierKey>, NoteError> {
        text.lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(i, line)| {
                VerifierKey::parse(line).map_err(|e| NoteError {
                    message: format!("line {}: {}", i + 1, e.message),
                    ..e
                })
            })
            .collect()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    /// `<name>+<key id>`: how a result names the key that verified.
    pub fn label(&self) -> String {
        format!("{}+{:08x}", self.name, self.id)
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = vec![ED25519];
        bytes.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.id,
            base64::encode(&bytes)
        )
    }
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifierKey({self})")
    }
}

/// A note whose signature verified: its text and the first key that verified it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened<'n, 'k> {
    pub text: &'n str,
    pub key: &'k VerifierKey,
}

/// Checks a signed note against known keys. Signatures by unknown keys (another name or
/// id) are ignored; every signature by a known key must verify (else `bad_signature`) and
/// at least one must be there (else `unknown_key`). A note that is not a signed note is
/// `bad_checkpoint`.
pub fn open_note<'n, 'k>(
    note: &'n str,
    keys: &'k [VerifierKey],
) -> Result<Opened<'n, 'k>, NoteError> {
    let malformed =
        |why: &str| NoteError::new(codes::BAD_CHECKPOINT, format!("not a signed note: {why}"));
    if note.len() > MAX_NOTE_BYTES {
        return Err(malformed("too large"));
    }
    if note.contains(|c: char| c < ' ' && c != '\n') {
        return Err(malformed("it has control characters"));
    }
    // The text ends at the last blank line; it keeps its final newline.
    let Some(split) = note.rfind("\n\n") else {
        return Err(malformed("no blank line before the signatures"));
    };
    let (text, signatures) = (&note[..split + 1], &note[split + 2..]);
    let Some(signatures) = signatures.strip_suffix('\n') else {
        return Err(malformed("it does not end in a newline"));
    };
    let mut opened = None;
    for (n, line) in signatures.split('\n').enumerate() {
        if n == MAX_SIGNATURES {
            return Err(malformed("too many signatures"));
        }
        let (name, sig) = line
            .strip_prefix(DASH)
            .and_then(|rest| rest.split_once(' '))
            .filter(|(name, _)| valid_name(name))
            .ok_or_else(|| malformed("a signature line is not '— <name> <signature>'"))?;
        let sig = base64::decode(sig).ok_or_else(|| malformed("a signature is not base64"))?;
        let Some((id, sig)) = sig.split_first_chunk::<4>().filter(|(_, s)| !s.is_empty()) else {
            return Err(malformed(
                "a signature is shorter than a key id and a signature",
            ));
        };
        let id = u32::from_be_bytes(*id);
        let Some(key) = keys.iter().find(|k| k.name == name && k.id == id) else {
            continue;
        };
        let valid = Signature::from_slice(sig)
            .is_ok_and(|sig| key.key.verify_strict(text.as_bytes(), &sig).is_ok());
        if !valid {
            return Err(NoteError::new(
                codes::BAD_SIGNATURE,
                format!("the signature of {} does not verify", key.label()),
            ));
        }
        opened.get_or_insert(Opened { text, key });
    }
    opened.ok_or_else(|| {
        NoteError::new(
            codes::UNKNOWN_KEY,
            "no signature is by a key given to the verifier",
        )
    })
}
