//! Input pushed in pieces, for the properties that any cutting of the input gives the same
//! output.

use trailsift::convert::{Converter, ReadError};

/// Runs `conv` over `input` pushed in pieces cut at `cuts` (each taken modulo the input's
/// length + 1, in rising order); its output, and its read errors in `errors`.
pub fn convert_cut(
    mut conv: Converter<Vec<u8>>,
    input: &[u8],
    cuts: &[usize],
    errors: &mut Vec<ReadError>,
) -> Vec<u8> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    points.sort_unstable();
    let mut start = 0;
    for p in points {
        conv.push(&input[start..p], errors).unwrap();
        start = p;
    }
    conv.push(&input[start..], errors).unwrap();
    conv.finish(errors).unwrap()
}
