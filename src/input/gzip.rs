//! Push-based gzip decoding (multi-member) with flate2, stopping as soon as the caller has
//! had enough.

use std::io::Write;

use flate2::write::MultiGzDecoder;

/// Compressed bytes handed to flate2 at a time: bounds the decompressed output held at once
/// (deflate expands at most ~1032:1, so about 2 MB) on hostile input. The pieces are cut at
/// fixed offsets of the stream, whatever the caller's chunks: on a corrupt stream how much
/// flate2 hands out before the error depends on where its input was cut, and the errors
/// and records read before it must not depend on the chunking.
const PIECE: usize = 2048;

/// Decompresses gzip pushed in chunks of any size.
pub struct GzipDecoder {
    decoder: MultiGzDecoder<Vec<u8>>,
    /// The start of the next piece, until it is whole (or the stream ends).
    held: Vec<u8>,
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
            held: Vec::new(),
            failed: false,
        }
    }

    /// Decompresses `chunk`, handing the output to `sink` in pieces as it comes (at most
    /// 2 KiB of compressed input later than it was pushed).
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
        mut chunk: &[u8],
        sink: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Result<(), GzipError> {
        if self.failed {
            return Ok(());
        }
        if !self.held.is_empty() {
            let (head, rest) = chunk.split_at(chunk.len().min(PIECE - self.held.len()));
            self.held.extend_from_slice(head);
            chunk = rest;
            if self.held.len() < PIECE {
                return Ok(());
            }
            let piece = std::mem::take(&mut self.held);
            self.inflate(&piece, sink)?;
        }
        let mut pieces = chunk.chunks_exact(PIECE);
        for piece in &mut pieces {
            self.inflate(piece, sink)?;
        }
        if !self.failed {
            self.held.extend_from_slice(pieces.remainder());
        }
        Ok(())
    }

    /// Inflates one piece; sets `failed` when the stream is corrupt or `sink` has had enough.
    fn inflate(
        &mut self,
        piece: &[u8],
        sink: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Result<(), GzipError> {
        if self.failed {
            return Ok(());
        }
        let mut rest = piece;
        while !rest.is_empty() {
            match self.decoder.write(rest) {
                Ok(0) => {
                    self.failed = true;
                    return Err(GzipError::Bad("the gzip decoder stopped".into()));
                }
                Ok(n) => rest = rest.get(n..).unwrap_or_default(),
                Err(e) => return Err(self.fail(e, sink)),
            }
        }
        if let Err(e) = self.decoder.flush() {
            return Err(self.fail(e, sink));
        }
        if !self.drain(sink) {
            self.failed = true;
        }
        Ok(())
    }

    /// Ends the stream: hands over the last output and checks that the stream is complete.
    pub fn finish(&mut self, sink: &mut dyn FnMut(&[u8])) -> Result<(), GzipError> {
        let mut sink = |b: &[u8]| {
            sink(b);
            true
        };
        let last = std::mem::take(&mut self.held);
        self.inflate(&last, &mut sink)?;
        if self.failed {
            return Ok(());
        }
        self.failed = true;
        let result = self.decoder.try_finish();
        self.drain(&mut sink);
        result.map_err(|e| {
            GzipError::Truncated(format!(
                "the gzip stream ends early or its checksum does not match ({e})"
            ))
        })
    }

    /// Ends decoding at a corrupt stream, handing on what flate2 decoded before the fault
    /// (it keeps the output of the write that failed in a buffer that only a finish empties).
    fn fail(&mut self, e: std::io::Error, sink: &mut dyn FnMut(&[u8]) -> bool) -> GzipError {
        self.failed = true;
        // The finish fails again on the same corrupt stream; only its output matters here.
        let _ = self.decoder.try_finish();
        self.drain(sink);
        GzipError::Bad(format!("bad gzip data: {e}"))
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
