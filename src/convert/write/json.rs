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

    pub fn end(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.ended {
            return Ok(());
        }
        self.ended = true;
        out.write_all(if self.started { b"\n]\n" } else { b"[]\n" })
    }
}
