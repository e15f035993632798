//! Push-based gzip decoding (multi-member) with flate2, stopping as soon as the caller has
//! had enough.

use std::io::Write;

use flate2::write::MultiGzDecoder;

/// Compressed bytes handed to flate2 at a time: bounds the decompressed output held at once
/// (deflate expands at most ~1032:1, so about 2 MB) on hostile input.
const PIECE: usize = 2048;

/// Decompresses gzip pushed in chunks of any size.
pub struct GzipDecoder {
    decoder: MultiGzDecoder<Vec<u8>>,
    failed: bool,
}

/// Why a gzip stream could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GzipError {
    /// The stream is not gzip or is corrupt.
    Bad(String),
    /// The stream ends early (or its trailer's checksum does not match).
    Truncated(String),
}

impl Default for GzipDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl GzipDecoder {
    pub fn new() -> Self {
        GzipDecoder {
            decoder: MultiGzDecoder::new(Vec::new()),
            failed: false,
        }
    }

    /// Decompresses `chunk`, handing the output to `sink` in pieces as it comes.
    /// After an error the decoder ignores further input.
    pub fn push(&mut self, chunk: &[u8], sink: &mut dyn FnMut(&[u8])) -> Result<(), GzipError> {
        self.push_while(chunk, &mut |b| {
            sink(b);
            true
        })
    }

    /// [`push`](Self::push), stopping as soon as `sink` answers false (the caller has had
    /// enough: a limit on the decoded size), so that the rest of `chunk` is not inflated.
    pub fn push_while(
        &mut self,
        chunk: &[u8],
        sink: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Result<(), GzipError> {
        if self.failed {
            return Ok(());
        }
        for piece in chunk.chunks(PIECE) {
            let mut rest = piece;
            while !rest.is_empty() {
                match self.decoder.write(rest) {
                    Ok(0) => {
                        self.failed = true;
                        return Err(GzipError::Bad("the gzip decoder stopped".into()));
                    }
                    Ok(n) => rest = rest.get(n..).unwrap_or_default(),
                    Err(e) => {
                        self.failed = true;
                        self.drain(sink);
                        return Err(GzipError::Bad(format!("bad gzip data: {e}")));
                    }
                }
            }
            if let Err(e) = self.decoder.flush() {
                self.failed = true;
                self.drain(sink);
                return Err(GzipError::Bad(format!("bad gzip data: {e}")));
            }
            if !self.drain(sink) {
                self.failed = true;
                return Ok(());
            }
        }
        Ok(())
    }

    /// Ends the stream: hands over the last output and checks that the stream is complete.
    pub fn finish(&mut self, sink: &mut dyn FnMut(&[u8])) -> Result<(), GzipError> {
        if self.failed {
            return Ok(());
        }
        self.failed = true;
        let result = self.decoder.try_finish();
        self.drain(&mut |b| {
            sink(b);
            true
        });
        result.map_err(|e| {
            GzipError::Truncated(format!(
                "the gzip stream ends early or its checksum does not match ({e})"
            ))
        })
    }

    /// Hands the decoded bytes to `sink`; its answer (true when nothing was decoded).
    fn drain(&mut self, sink: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        let out = self.decoder.get_mut();
        if out.is_empty() {
            return true;
        }
        let more = sink(out);
        out.clear();
        more
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::gzip::{compress, decompress};

    #[test]
    fn round_trip_in_small_chunks() {
        let text: Vec<u8> = (0..20000u32)
            .flat_map(|i| i.to_string().into_bytes())
            .collect();
        let gz = compress(&text);
        let mut dec = GzipDecoder::new();
        let mut out = Vec::new();
        let mut sink = |b: &[u8]| out.extend_from_slice(b);
        for c in gz.chunks(7) {
            dec.push(c, &mut sink).unwrap();
        }
        dec.finish(&mut sink).unwrap();
        assert_eq!(out, text);
    }

    #[test]
    fn multi_member() {
        let mut gz = compress(b"abc");
        gz.extend(compress(b"def"));
        assert_eq!(decompress(&gz).unwrap(), b"abcdef");
    }

    #[test]
    fn truncated_is_reported() {
        let text = vec![b'x'; 100_000];
        let gz = compress(&text);
        let cut = &gz[..gz.len() - 5];
        let mut dec = GzipDecoder::new();
        let mut n = 0;
        let mut sink = |b: &[u8]| n += b.len();
        dec.push(cut, &mut sink).unwrap();
        assert!(matches!(
            dec.finish(&mut sink),
            Err(GzipError::Truncated(_))
        ));
        assert!(n > 0);
    }
}
