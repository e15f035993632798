//! Streaming CSV (RFC 4180) with a header row of dotted paths.

use crate::convert::{ErrorCode, Item, ReadError, ReadOptions};

/// Reads CSV pushed in chunks.
pub struct CsvReader {
    reported: bool,
}

impl CsvReader {
    pub(crate) fn new(_opts: ReadOptions) -> Self {
        CsvReader { reported: false }
    }

    pub(crate) fn position(&self) -> (u64, u64, u64) {
        (0, 1, 0)
    }

    pub(crate) fn push(&mut self, _chunk: &[u8], out: &mut Vec<Item>) {
        if !self.reported {
            self.reported = true;
            out.push(Err(ReadError::new(
                ErrorCode::Unsupported,
                "CSV reading is not built yet",
                0,
                1,
                0,
            )));
        }
    }

    pub(crate) fn finish(&mut self, _out: &mut Vec<Item>) {}
}
