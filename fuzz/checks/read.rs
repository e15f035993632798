//! The push-based reader of every format, gzip or not, detected or named: fed in any
//! chunking, it gives the same records and errors as fed in one piece, and gzip changes
//! nothing but the bytes.

use trailsift::convert::{gzip, is_gzip, Format, Item, ReadOptions, Reader};

use super::input::{bytewise, Input};

/// The `read` target.
pub fn check(input: &[u8]) {
    let input = Input::new(input);
    let body = input.body();
    let (format, name, opts) = (input.read_format(), input.name(), input.read_options());
    let whole = read(format, name, &opts, &[&body]);
    let mut chunkings = vec![input.chunks(&body)];
    // A boundary after every byte; slow on long inputs, where the seeded chunkings can
    // bring single bytes too.
    if body.len() <= 1024 {
        chunkings.push(bytewise(&body));
    }
    for chunks in chunkings {
        let chunked = read(format, name, &opts, &chunks);
        assert_eq!(chunked, whole, "chunks {:?}", sizes(&chunks));
    }
    let mut index = None;
    for item in whole.iter().flatten() {
        assert!(index < Some(item.index), "record numbers rise");
        assert!(item.line >= 1);
        index = Some(item.index);
    }
    if !is_gzip(&body) {
        let zipped = read(format, name, &opts, &[&gzip::compress(&body)]);
        assert_eq!(zipped, whole, "gzip changes what is read");
    }
}

fn read(
    format: Option<Format>,
    name: Option<&str>,
    opts: &ReadOptions,
    chunks: &[&[u8]],
) -> Vec<Item> {
    let mut reader = match Reader::open(format, name, opts.clone()) {
        Ok(r) => r,
        Err(e) => return vec![Err(e)],
    };
    let mut out = Vec::new();
    for chunk in chunks {
        reader.push(chunk, &mut out);
    }
    reader.finish(&mut out);
    out
}

fn sizes(chunks: &[&[u8]]) -> Vec<usize> {
    chunks.iter().map(|c| c.len()).collect()
}
