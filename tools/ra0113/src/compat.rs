//! Accept CLIF printed by newer Cranelift (such as 0.135, which spillscope
//! uses) in cranelift-reader 0.118.
//!
//! Wasmtime 31's CLIF differs from 0.135's in memory-flag syntax only:
//!
//! * 0.118 writes an alias region as a flag word (`load.i64 little heap v20`,
//!   `store notrap aligned table v1, v0+656`, `vmctx`); 0.135 declares regions
//!   in the preamble (`region0 = 0 "heap"`) and names them in the flags
//!   (`load.i64 little region0 v20`).
//! * 0.118 has a `checked` flag (for proof-carrying code) that 0.135 dropped.
//!
//! This rewrites the 0.135 form back: each `regionN = ID "DESC"` line is
//! blanked (so that line numbers in parse errors stay right), and the word `regionN` becomes `DESC` when DESC is one of 0.118's
//! regions (`heap`, `table`, `vmctx`) and is dropped otherwise. Neither a
//! dropped region nor the missing `checked` flag changes what register
//! allocation sees: alias regions only feed the egraph pass's alias analysis
//! (not run by default, see `--opt-level`), and `checked` only matters with
//! `enable_pcc`, which Wasmtime leaves off.

use std::borrow::Cow;
use std::collections::HashMap;

/// Returns `text` with 0.135-style alias regions rewritten for 0.118.
pub fn alias_regions_to_0118(text: &str) -> Cow<'_, str> {
    // Region number -> 0.118 flag word (None: no equivalent, drop it).
    let mut regions: HashMap<&str, Option<&str>> = HashMap::new();
    for line in text.lines() {
        if let Some((name, desc)) = parse_region_decl(line) {
            let word = ["heap", "table", "vmctx"].into_iter().find(|w| *w == desc);
            regions.insert(name, word);
        }
    }
    if regions.is_empty() {
        return Cow::Borrowed(text);
    }

    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if parse_region_decl(line).is_some() {
            out.push('\n');
            continue;
        }
        // Splitting on single spaces and joining again keeps the layout.
        let words: Vec<&str> = line
            .split(' ')
            .filter_map(|w| match regions.get(w) {
                Some(replacement) => *replacement,
                None => Some(w),
            })
            .collect();
        out.push_str(&words.join(" "));
        out.push('\n');
    }
    Cow::Owned(out)
}

/// `regionN = ID "DESC"` (with any indentation) -> `("regionN", "DESC")`.
fn parse_region_decl(line: &str) -> Option<(&str, &str)> {
    let (name, rest) = line.trim().split_once(" = ")?;
    let digits = name.strip_prefix("region")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (id, desc) = rest.split_once(' ')?;
    id.parse::<u32>().ok()?;
    let desc = desc.strip_prefix('"')?.strip_suffix('"')?;
    Some((name, desc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_regions() {
        let new = "function u0:1(i64 vmctx) tail {\n    region0 = 0 \"heap\"\n    region1 = 7 \"global 3\"\n\nblock0(v0: i64):\n@0012    v1 = load.i64 little region0 v0\n    store notrap aligned region1 v1, v0+8\n    return\n}\n";
        let old = "function u0:1(i64 vmctx) tail {\n\n\n\nblock0(v0: i64):\n@0012    v1 = load.i64 little heap v0\n    store notrap aligned v1, v0+8\n    return\n}\n";
        assert_eq!(alias_regions_to_0118(new), old);
    }

    #[test]
    fn leaves_0118_text_alone() {
        let text = "function u0:1() {\nblock0:\n    return\n}\n";
        assert!(matches!(alias_regions_to_0118(text), Cow::Borrowed(_)));
    }
}
