#[cfg(feature = "full")]
use regex::Regex;
#[cfg(feature = "lite")]
use regex_lite::Regex;

/// # Safety
/// ptr/len must describe valid UTF-8 memory.
#[no_mangle]
pub unsafe extern "C" fn count_matches(pp: *const u8, pl: usize, hp: *const u8, hl: usize) -> usize {
    let pat = std::str::from_utf8_unchecked(std::slice::from_raw_parts(pp, pl));
    let hay = std::str::from_utf8_unchecked(std::slice::from_raw_parts(hp, hl));
    run(pat, hay)
}

pub fn run(pat: &str, hay: &str) -> usize {
    #[cfg(any(feature = "full", feature = "lite"))]
    {
        let Ok(re) = Regex::new(pat) else { return usize::MAX };
        hay.lines().filter(|l| re.is_match(l)).count()
    }
    #[cfg(not(any(feature = "full", feature = "lite")))]
    {
        hay.lines().filter(|l| l.contains(pat)).count()
    }
}
