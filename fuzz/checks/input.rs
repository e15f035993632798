//! Choices read from a fuzz input's leading bytes, and chunkings derived from them.

use trailsift::convert::{gzip, is_gzip, Format, ReadOptions};

/// How many leading bytes are choices; the rest is data.
pub const HEAD: usize = 4;

/// A fuzz input: four choice bytes (missing ones read as 0) and the data.
pub struct Input<'a> {
    pub head: [u8; HEAD],
    pub data: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(input: &'a [u8]) -> Input<'a> {
        let mut head = [0; HEAD];
        let n = input.len().min(HEAD);
        head[..n].copy_from_slice(&input[..n]);
        Input {
            head,
            data: &input[n..],
        }
    }

    /// The format to read (`None`: detect it), from the low bits of the first byte.
    pub fn read_format(&self) -> Option<Format> {
        READ_FORMATS[usize::from(self.head[0] & 7) % READ_FORMATS.len()]
    }

    /// A file name to hint the detection with, from bits 3-4 of the first byte.
    pub fn name(&self) -> Option<&'static str> {
        [None, Some("in.json"), Some("in.ndjson"), Some("in.csv.gz")]
            [usize::from(self.head[0] >> 3 & 3)]
    }

    /// The data, gzip-compressed when the first byte's top bit says so (and the data is
    /// not gzip already: then it is read as the fuzzer wrote it).
    pub fn body(&self) -> Vec<u8> {
        if self.head[0] & 0x80 != 0 && !is_gzip(self.data) {
            gzip::compress(self.data)
        } else {
            self.data.to_vec()
        }
    }

    /// Reader limits from the second byte: small ones often, so that the limits are met.
    pub fn read_options(&self) -> ReadOptions {
        let b = self.head[1];
        ReadOptions {
            max_record_bytes: [1 << 20, 64, 300, 1000][usize::from(b & 3)],
            max_depth: [128, 2, 5, 16][usize::from(b >> 2 & 3)],
            keep_raw: b & 0x10 == 0,
            max_input_bytes: [u64::MAX, 100, 1000, 3000][usize::from(b >> 5 & 3)],
        }
    }

    /// A chunking of `bytes` from the last two bytes of the head.
    pub fn chunks<'b>(&self, bytes: &'b [u8]) -> Vec<&'b [u8]> {
        chunks(bytes, u16::from_le_bytes([self.head[2], self.head[3]]))
    }
}

/// Formats a reader reads (`None`: detect).
pub const READ_FORMATS: [Option<Format>; 6] = [
    None,
    Some(Format::Json),
    Some(Format::Ndjson),
    Some(Format::Csv),
    Some(Format::SplunkHec),
    Some(Format::Sumo),
];

/// Splits `bytes` into chunks whose sizes come from `seed`: empty chunks among them, and
/// sizes from 1 byte to a few hundred, so that boundaries fall inside tokens, escapes,
/// line endings, UTF-8 sequences and gzip headers.
pub fn chunks(bytes: &[u8], seed: u16) -> Vec<&[u8]> {
    let mut state = u64::from(seed) | 1 << 32;
    let largest = 1 + usize::from(seed >> 8) * 2;
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        // xorshift64: enough to spread the sizes.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let n = (state % (largest as u64 + 2)) as usize;
        let (chunk, tail) = rest.split_at(n.min(rest.len()));
        out.push(chunk);
        rest = tail;
    }
    out
}

/// One byte per chunk.
pub fn bytewise(bytes: &[u8]) -> Vec<&[u8]> {
    bytes.chunks(1).collect()
}
