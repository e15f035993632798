//! Gzip writing with flate2 (reading is the input path's: [`crate::input::gzip`]).

use std::io::{self, Write};

use crate::input::gzip::{GzipDecoder, GzipError};

use flate2::write::GzEncoder;
use flate2::Compression;

/// Compresses what is written to `inner` as gzip (call `finish` at the end).
pub fn encoder<W: Write>(inner: W) -> GzEncoder<W> {
    GzEncoder::new(inner, Compression::default())
}

/// Gzip-compresses a whole byte slice.
pub fn compress(bytes: &[u8]) -> Vec<u8> {
    let mut enc = encoder(Vec::with_capacity(bytes.len() / 4 + 64));
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

/// Decompresses a whole gzip byte slice.
pub fn decompress(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut dec = GzipDecoder::new();
    let mut sink = |b: &[u8]| out.extend_from_slice(b);
    let r = dec
        .push(bytes, &mut sink)
        .and_then(|_| dec.finish(&mut sink));
    r.map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            match e {
                GzipError::Bad(m) | GzipError::Truncated(m) => m,
            },
        )
    })?;
    Ok(out)
}
