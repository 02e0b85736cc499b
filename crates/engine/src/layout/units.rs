//! Byte counts and addresses in words a person reads: `64 KiB`, `4 GiB`, `0x10000`.
//! Sizes in this module are `u128` because a 64-bit memory's index space is 2^64
//! bytes, one more than `u64` holds.

/// Wasm's default page size, 64 KiB.
pub const WASM_PAGE_BYTES: u64 = 1 << 16;
pub const KIB: u128 = 1 << 10;
pub const MIB: u128 = 1 << 20;
pub const GIB: u128 = 1 << 30;

/// `4294967296` → `4 GiB`, `2147614720` → `2 GiB + 128 KiB`, `1536` → `1.50 KiB`,
/// `100` → `100 B`. Exact values stay exact: a remainder that is a whole number of
/// KiB is spelled out as a second term; anything else gets two decimals.
pub fn human_bytes(size_bytes: u128) -> String {
    const UNITS: [(u128, &str); 6] = [
        (1 << 60, "EiB"),
        (1 << 50, "PiB"),
        (1 << 40, "TiB"),
        (GIB, "GiB"),
        (MIB, "MiB"),
        (KIB, "KiB"),
    ];
    let Some(&(unit_bytes, unit)) = UNITS.iter().find(|(u, _)| size_bytes >= *u) else {
        return format!("{size_bytes} B");
    };
    let whole = size_bytes / unit_bytes;
    let rest = size_bytes % unit_bytes;
    if rest == 0 {
        return format!("{whole} {unit}");
    }
    if rest.is_multiple_of(KIB) {
        let rest_text = human_bytes(rest);
        if !rest_text.contains('+') {
            return format!("{whole} {unit} + {rest_text}");
        }
    }
    let hundredths = size_bytes * 100 / unit_bytes;
    format!("{}.{:02} {unit}", hundredths / 100, hundredths % 100)
}

/// Signed sizes (a guard before the base sits at negative addresses).
pub fn human_bytes_signed(size_bytes: i128) -> String {
    if size_bytes < 0 {
        format!("-{}", human_bytes(size_bytes.unsigned_abs()))
    } else {
        human_bytes(size_bytes.unsigned_abs())
    }
}

/// `0x2800000`, `-0x2000000`.
pub fn hex(address: i128) -> String {
    if address < 0 {
        format!("-0x{:x}", address.unsigned_abs())
    } else {
        format!("0x{address:x}")
    }
}

/// The page that holds byte `offset_bytes` (0-based), or the page count for a size.
pub fn pages_from_bytes(size_bytes: u128, page_size_bytes: u64) -> u128 {
    size_bytes / u128::from(page_size_bytes.max(1))
}

/// Pages needed to hold `size_bytes` (rounded up).
pub fn pages_from_bytes_ceil(size_bytes: u128, page_size_bytes: u64) -> u128 {
    size_bytes.div_ceil(u128::from(page_size_bytes.max(1)))
}

/// `1 page`, `2 pages`, `3 accesses`.
pub fn plural(count: u128, word: &str) -> String {
    if count == 1 {
        format!("{count} {word}")
    } else if word.ends_with('s') {
        format!("{count} {word}es")
    } else {
        format!("{count} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_sizes() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(65536), "64 KiB");
        assert_eq!(human_bytes(1 << 32), "4 GiB");
        assert_eq!(human_bytes(40 << 20), "40 MiB");
        assert_eq!(human_bytes(1536), "1.50 KiB");
        assert_eq!(human_bytes((2 << 30) + (128 << 10)), "2 GiB + 128 KiB");
        assert_eq!(human_bytes(1 << 64), "16 EiB");
        assert_eq!(hex(-(32 << 20)), "-0x2000000");
    }
}
