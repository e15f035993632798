//! The NDJSON writer: compact JSON, every line ending with `\n`.

use std::io::{self, Write};

use serde_json::Value;

use super::json_to;

pub fn write(out: &mut dyn Write, event: &Value) -> io::Result<()> {
    json_to(out, event)?;
    out.write_all(b"\n")
}
