//! Evidence sidecars of S3 and GCS destinations (integrity.md): beside each object,
//! `<object name>.evidence.json`, a bundle whose entries leave out `event` and pair, in
//! order, with the events of the object, all proved against one signed checkpoint.
//!
//! The checkpoint is the smallest signed one that holds the batch (one is signed when none
//! does yet), and proofs in a tree of a given size never change, so a retry or a replay
//! writes the same bytes as the first attempt.

use worker::SqlStorage;

use crate::edge::config::Config;
use crate::edge::error::{ApiError, ApiResult};
use crate::edge::store::log::{covering, tree_err, SqlNodes};
use crate::log::{Bundle, Entry};

/// The name of an object's sidecar.
pub fn name(object: &str) -> String {
    format!("{object}.evidence.json")
}

/// The sidecar of a batch whose object holds the events `seqs` (in the object's order),
/// none after `through`.
pub fn sidecar(
    sql: &SqlStorage,
    config: &Config,
    seqs: &[i64],
    through: i64,
    now: i64,
) -> ApiResult<Vec<u8>> {
    let through = u64::try_from(through).unwrap_or(0);
    let signed = covering(sql, config, through, now)?;
    let nodes = SqlNodes(sql);
    let entries = seqs
        .iter()
        .map(|&seq| {
            let seq = u64::try_from(seq).unwrap_or(0);
            Entry::prove(&nodes, signed.size, seq, None).map_err(tree_err)
        })
        .collect::<ApiResult<Vec<Entry>>>()?;
    let bundle = Bundle {
        checkpoint: signed.note,
        entries,
    };
    serde_json::to_vec(&bundle).map_err(|e| ApiError::storage(format!("encoding: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sidecar_is_named_after_its_object() {
        assert_eq!(
            name("trail/1_2_3.ndjson.gz"),
            "trail/1_2_3.ndjson.gz.evidence.json"
        );
    }
}
