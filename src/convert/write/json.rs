//! The JSON array writer: `[`, the events one a line with `,` between them, `]`.

use std::io::{self, Write};

use serde_json::Value;

use super::json_to;

/// Remembers only whether `[` was written.
#[derive(Default)]
pub struct JsonWriter {
    started: bool,
    ended: bool,
}

impl JsonWriter {
    pub fn write(&mut self, out: &mut dyn Write, event: &Value) -> io::Result<()> {
        out.write_all(if self.started { b",\n" } else { b"[\n" })?;
        self.started = true;
        json_to(out, event)
    }

    /// Writes an event's compact JSON text.
    pub fn write_raw(&mut self, out: &mut dyn Write, json: &[u8]) -> io::Result<()> {
        out.write_all(if self.started { b",\n" } else { b"[\n" })?;
        self.started = true;
        out.write_all(json)
    }

    /// A writer of a piece of an array that another writer began: every event, the first
    /// too, goes after `,`.
    #[cfg(not(target_arch = "wasm32"))] // for the parallel path only
    pub(crate) fn continuing() -> Self {
        JsonWriter {
            started: true,
            ended: false,
        }
    }

    /// Appends a piece a [`continuing`](Self::continuing) writer wrote (events after `,`):
    /// the first event of the array goes after `[` instead.
    #[cfg(not(target_arch = "wasm32"))] // for the parallel path only
    pub(crate) fn append(&mut self, out: &mut dyn Write, piece: &[u8]) -> io::Result<()> {
        match piece.strip_prefix(b",\n") {
            Some(events) if !self.started => {
                self.started = true;
                out.write_all(b"[\n")?;
                out.write_all(events)
            }
            _ => out.write_all(piece),
        }
    }

    pub fn end(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.ended {
            return Ok(());
        }
        self.ended = true;
        out.write_all(if self.started { b"\n]\n" } else { b"[]\n" })
    }
}
