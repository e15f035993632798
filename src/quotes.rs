//! The strings of a line of JSON text, found 64 bytes at a time: where each quote is,
//! without reading the strings byte by byte.
//!
//! A reader that walks JSON token by token waits, at every string, for the search of its
//! end before it can look at what follows. Here the quotes of a whole 64-byte window come
//! out of a few vector compares as one bit mask, the windows do not depend on each other,
//! and a reader takes the quotes from the masks in turn: the strings' bodies are never
//! looked at again. (simdjson finds JSON's structure the same way.)
//!
//! Only plain strings are found: a string holding a backslash or a control character
//! stops the search ([`Quotes::clean`] is then false) and the caller reads the line some
//! other way. A string holding bytes that are not ASCII is found, and [`Quotes::ascii`]
//! says whether the caller must check that the line is UTF-8.

/// The quotes of one line, in order.
pub(crate) struct Quotes<'a> {
    bytes: &'a [u8],
    /// The offset of the window after the one in `bits`.
    next: usize,
    /// The quotes of the current window not yet handed out (bit `i`: byte `next - 64 + i`).
    bits: u64,
    /// All ones when the window before `next` ended inside a string.
    inside: u64,
    clean: bool,
    ascii: bool,
}

impl<'a> Quotes<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Quotes<'a> {
        Quotes {
            bytes,
            next: 0,
            bits: 0,
            inside: 0,
            clean: true,
            ascii: true,
        }
    }

    /// The position of the next quote (`None` at the end, or where a string is not plain).
    #[inline(always)]
    pub(crate) fn next_quote(&mut self) -> Option<usize> {
        while self.bits == 0 {
            self.window()?;
        }
        let at = self.next - 64 + self.bits.trailing_zeros() as usize;
        self.bits &= self.bits - 1;
        Some(at)
    }

    /// Whether every string seen was plain and ended within the line: only then are the
    /// positions handed out those of strings' quotes (and all of them, once `next_quote`
    /// has answered `None`).
    pub(crate) fn clean(&self) -> bool {
        self.clean && self.inside == 0
    }

    /// Whether every string seen was ASCII (else the caller checks that they are UTF-8).
    pub(crate) fn ascii(&self) -> bool {
        self.ascii
    }

    /// Finds the quotes of the next window; `None` past the end or at a string that is
    /// not plain.
    #[inline(always)]
    fn window(&mut self) -> Option<()> {
        let start = self.next;
        if start >= self.bytes.len() || !self.clean {
            return None;
        }
        self.next = start + 64;
        let (quotes, odd) = match self.bytes.get(start..start + 64) {
            // SAFETY: the 64 bytes from the slice's start are readable.
            Some(w) => unsafe { masks(w.as_ptr()) },
            None => {
                // The line's last bytes, padded with spaces (bytes past it hold nothing).
                let mut tail = [b' '; 64];
                let rest = &self.bytes[start..];
                tail[..rest.len()].copy_from_slice(rest);
                // SAFETY: `tail` holds 64 bytes.
                unsafe { masks(tail.as_ptr()) }
            }
        };
        // Bit `i` is set from the quote that opens a string up to the byte before the one
        // that closes it: the running parity of the quotes (prefix XOR), continued from the
        // window before. Written out: at opt-level "z" (the npm package) a loop over the
        // shifts stays a loop of calls to the array iterator's steps.
        let mut strings = quotes;
        strings ^= strings << 1;
        strings ^= strings << 2;
        strings ^= strings << 4;
        strings ^= strings << 8;
        strings ^= strings << 16;
        strings ^= strings << 32;
        strings ^= self.inside;
        self.inside = 0u64.wrapping_sub(strings >> 63);
        if odd & strings != 0 {
            // SAFETY: as above (the window is read again, rarely: a string that is not
            // ASCII, or not plain).
            let escapes = match self.bytes.get(start..start + 64) {
                Some(w) => unsafe { escapes(w.as_ptr()) },
                None => {
                    let mut tail = [b' '; 64];
                    let rest = &self.bytes[start..];
                    tail[..rest.len()].copy_from_slice(rest);
                    unsafe { escapes(tail.as_ptr()) }
                }
            };
            if escapes & strings != 0 {
                self.clean = false;
                return None;
            }
            self.ascii = false;
        }
        self.bits = quotes;
        Some(())
    }
}

/// The quotes of the 64 bytes at `p` and the bytes that are a backslash, a control
/// character or not ASCII (bit `i` for byte `i`).
///
/// # Safety
/// The 64 bytes from `p` must be readable.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn masks(p: *const u8) -> (u64, u64) {
    use core::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    let (mut quotes, mut odd) = (0u64, 0u64);
    for i in 0..4 {
        let v = _mm_loadu_si128(p.add(16 * i).cast());
        let q = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        // Signed `v < 0x20`: control characters and every byte from 0x80.
        let low = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        quotes |= u64::from(_mm_movemask_epi8(q) as u16) << (16 * i);
        odd |= u64::from(_mm_movemask_epi8(_mm_or_si128(low, backslash)) as u16) << (16 * i);
    }
    (quotes, odd)
}

/// The backslashes and control characters of the 64 bytes at `p`.
///
/// # Safety
/// The 64 bytes from `p` must be readable.
#[cfg(target_arch = "x86_64")]
unsafe fn escapes(p: *const u8) -> u64 {
    use core::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    let mut out = 0u64;
    for i in 0..4 {
        let v = _mm_loadu_si128(p.add(16 * i).cast());
        // Unsigned `v <= 0x1f`: the minimum is `v` itself.
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        out |= u64::from(_mm_movemask_epi8(_mm_or_si128(control, backslash)) as u16) << (16 * i);
    }
    out
}

/// See the x86_64 `masks`; with WebAssembly SIMD.
///
/// # Safety
/// The 64 bytes from `p` must be readable.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
unsafe fn masks(p: *const u8) -> (u64, u64) {
    use core::arch::wasm32::{
        i8x16_lt, u8x16_bitmask, u8x16_eq, u8x16_splat, v128, v128_load, v128_or,
    };
    let (mut quotes, mut odd) = (0u64, 0u64);
    for i in 0..4 {
        // WebAssembly loads need no alignment.
        let v = v128_load(p.add(16 * i).cast::<v128>());
        let q = u8x16_eq(v, u8x16_splat(b'"'));
        // Signed: control characters and every byte from 0x80.
        let low = i8x16_lt(v, u8x16_splat(0x20));
        let backslash = u8x16_eq(v, u8x16_splat(b'\\'));
        quotes |= u64::from(u8x16_bitmask(q)) << (16 * i);
        odd |= u64::from(u8x16_bitmask(v128_or(low, backslash))) << (16 * i);
    }
    (quotes, odd)
}

/// See the x86_64 `escapes`; with WebAssembly SIMD.
///
/// # Safety
/// The 64 bytes from `p` must be readable.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
unsafe fn escapes(p: *const u8) -> u64 {
    use core::arch::wasm32::{
        u8x16_bitmask, u8x16_eq, u8x16_lt, u8x16_splat, v128, v128_load, v128_or,
    };
    let mut out = 0u64;
    for i in 0..4 {
        let v = v128_load(p.add(16 * i).cast::<v128>());
        let stop = v128_or(
            u8x16_lt(v, u8x16_splat(0x20)),
            u8x16_eq(v, u8x16_splat(b'\\')),
        );
        out |= u64::from(u8x16_bitmask(stop)) << (16 * i);
    }
    out
}

/// See the x86_64 `masks`; byte by byte elsewhere.
///
/// # Safety
/// The 64 bytes from `p` must be readable.
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
unsafe fn masks(p: *const u8) -> (u64, u64) {
    let bytes = core::slice::from_raw_parts(p, 64);
    let (mut quotes, mut odd) = (0u64, 0u64);
    for (i, &b) in bytes.iter().enumerate() {
        quotes |= u64::from(b == b'"') << i;
        odd |= u64::from(b == b'\\' || !(0x20..0x80).contains(&b)) << i;
    }
    (quotes, odd)
}

/// See the x86_64 `escapes`; byte by byte elsewhere.
///
/// # Safety
/// The 64 bytes from `p` must be readable.
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
unsafe fn escapes(p: *const u8) -> u64 {
    let bytes = core::slice::from_raw_parts(p, 64);
    let mut out = 0u64;
    for (i, &b) in bytes.iter().enumerate() {
        out |= u64::from(b == b'\\' || b < 0x20) << i;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Quotes;

    /// The quotes found, and whether the line was clean and ASCII.
    fn quotes(text: &[u8]) -> (Vec<usize>, bool, bool) {
        let mut q = Quotes::new(text);
        let mut at = Vec::new();
        while let Some(i) = q.next_quote() {
            at.push(i);
        }
        (at, q.clean(), q.ascii())
    }

    /// The quotes a byte-by-byte reading finds in plain JSON text, and whether it is
    /// plain (every string free of backslashes and control characters, and closed).
    fn expected(text: &[u8]) -> (Vec<usize>, bool, bool) {
        let (mut at, mut inside, mut clean, mut ascii) = (Vec::new(), false, true, true);
        for (i, &b) in text.iter().enumerate() {
            if b == b'"' {
                at.push(i);
                inside = !inside;
            } else if inside && (b == b'\\' || b < 0x20) {
                clean = false;
            } else if inside && b >= 0x80 {
                ascii = false;
            }
        }
        (at, clean && !inside, ascii)
    }

    #[test]
    fn quotes_are_found_across_windows_and_at_the_end() {
        let long = format!(r#"{{"a":"{}","b":"é","c":3}}"#, "x".repeat(100));
        for text in [
            br#"{"a":"b"}"#.as_slice(),
            long.as_bytes(),
            b"",
            b"\"",
            b"{\"a\":\"b\\\"c\"}",
            b"{\"a\":\"b\tc\"}",
            b"{\"a\":1}\t\r",
        ] {
            let got = quotes(text);
            let want = expected(text);
            if want.1 {
                assert_eq!(got, want, "{:?}", String::from_utf8_lossy(text));
            } else {
                assert!(!got.1, "{:?}", String::from_utf8_lossy(text));
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn quotes_agree_with_a_byte_by_byte_reading(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "\"", "\\", "a", "{", "}", ":", ",", " ", "\t", "é", "\u{1}", "0123456789",
            ]), 0..200)
        ) {
            let text = parts.concat();
            let got = quotes(text.as_bytes());
            let want = expected(text.as_bytes());
            if want.1 {
                proptest::prop_assert_eq!(got, want);
            } else {
                proptest::prop_assert!(!got.1);
            }
        }
    }
}
