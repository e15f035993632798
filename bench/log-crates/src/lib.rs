//! The same verifier job written twice, to weigh the log crates in WebAssembly: open a signed
//! checkpoint with one verifier key, then check an inclusion proof and a consistency proof
//! against its root. Built with `--features azul` or `--features own` (README.md).

fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    // SAFETY: the caller (the wasm host) passes a region of its own memory.
    unsafe { core::slice::from_raw_parts(ptr, len) }
}

#[cfg(feature = "azul")]
#[no_mangle]
pub extern "C" fn probe(
    note: *const u8,
    note_len: usize,
    key: *const u8,
    key_len: usize,
    leaf: *const u8,
    leaf_len: usize,
    proof: *const u8,
    proof_len: usize,
    index: u64,
) -> i32 {
    use signed_note::{Note, StandardVerifier, Verifier, VerifierList};
    use tlog_tiles::{check_record, check_tree, record_hash, Checkpoint, Hash};
    let Ok(key) = core::str::from_utf8(bytes(key, key_len)) else {
        return -1;
    };
    let Ok(verifier) = StandardVerifier::new(key) else {
        return -2;
    };
    let keys = VerifierList::new(vec![Box::new(verifier) as Box<dyn Verifier>]);
    let Ok(note) = Note::from_bytes(bytes(note, note_len)) else {
        return -3;
    };
    if note.verify(&keys).is_err() {
        return -4;
    }
    let Ok(checkpoint) = Checkpoint::from_bytes(note.text()) else {
        return -5;
    };
    let proof: Vec<Hash> = bytes(proof, proof_len)
        .chunks_exact(32)
        .filter_map(|c| c.try_into().ok().map(Hash))
        .collect();
    let leaf = record_hash(bytes(leaf, leaf_len));
    if check_record(&proof, checkpoint.size(), *checkpoint.hash(), index, leaf).is_err() {
        return -6;
    }
    if check_tree(&proof, checkpoint.size(), *checkpoint.hash(), index, leaf).is_err() {
        return -7;
    }
    0
}

#[cfg(feature = "own")]
#[no_mangle]
pub extern "C" fn probe(
    note: *const u8,
    note_len: usize,
    key: *const u8,
    key_len: usize,
    leaf: *const u8,
    leaf_len: usize,
    proof: *const u8,
    proof_len: usize,
    index: u64,
) -> i32 {
    use trailsift::log::tree::{leaf_hash, verify_consistency, verify_inclusion, Hash};
    use trailsift::log::{open_checkpoint, VerifierKey};
    let Ok(key) = core::str::from_utf8(bytes(key, key_len)) else {
        return -1;
    };
    let Ok(key) = VerifierKey::parse(key) else {
        return -2;
    };
    let keys = [key];
    let Ok(note) = core::str::from_utf8(bytes(note, note_len)) else {
        return -3;
    };
    let Ok(opened) = open_checkpoint(note, &keys) else {
        return -4;
    };
    let (size, root) = (opened.checkpoint.size, opened.checkpoint.root);
    let proof: Vec<Hash> = bytes(proof, proof_len)
        .chunks_exact(32)
        .filter_map(|c| c.try_into().ok().map(Hash))
        .collect();
    let leaf = leaf_hash(bytes(leaf, leaf_len));
    if !verify_inclusion(&leaf, index, size, &proof, &root) {
        return -6;
    }
    if !verify_consistency(index, size, &leaf, &root, &proof) {
        return -7;
    }
    0
}
