//! Symbol names as people read them. Rust (legacy and v0) and C++ (Itanium)
//! compilers write mangled symbols into a module's name section
//! (`_ZN4core3fmt5write17h…E`, `_RNvCs…`, `_ZN8SkMatrix6invertEv`); lists,
//! titles and reports show them demangled, and keep the symbol as written
//! beside it.

/// The longest symbol handed to the C++ demangler: its recursion is bounded,
/// but its time on pathological input grows with the length.
const MAX_CPP_SYMBOL: usize = 16 * 1024;

/// `raw` demangled, when it is a mangled Rust or C++ symbol; `None` for a
/// name that is already plain (or that neither demangler accepts).
pub fn demangle(raw: &str) -> Option<String> {
    // A tool's note after the symbol (wasm-bindgen's "… externref shim"):
    // the symbol demangled, the note kept.
    if let Some((symbol, note)) = raw.split_once(' ')
        && (symbol.starts_with("_Z") || symbol.starts_with("_R") || symbol.starts_with("__Z"))
    {
        return demangle(symbol).map(|d| format!("{d} {note}"));
    }
    if let Ok(d) = rustc_demangle::try_demangle(raw) {
        // The alternate form leaves out legacy symbols' hash suffix.
        let text = format!("{d:#}");
        return (text != raw).then_some(text);
    }
    let itanium = raw.starts_with("_Z") || raw.starts_with("__Z");
    if !itanium || raw.len() > MAX_CPP_SYMBOL {
        return None;
    }
    let symbol = cpp_demangle::Symbol::new(raw.as_bytes()).ok()?;
    let text = symbol.demangle().ok()?;
    (!text.is_empty() && text != raw).then_some(text)
}

/// A file-name stem for a function called `label`: letters and digits kept,
/// every other run of characters one `-`, none at either end, at most 80
/// characters; `function` when nothing is left.
pub fn file_stem(label: &str) -> String {
    let mut stem = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() {
            stem.push(c);
        } else if !stem.is_empty() && !stem.ends_with('-') {
            stem.push('-');
        }
        if stem.len() >= 80 {
            break;
        }
    }
    let stem = stem.trim_end_matches('-');
    if stem.is_empty() {
        "function".into()
    } else {
        stem.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_and_cpp_symbols_are_demangled() {
        assert_eq!(
            demangle("_ZN4core3fmt5write17h0123456789abcdefE").as_deref(),
            Some("core::fmt::write")
        );
        assert_eq!(
            demangle("_ZN8SkMatrix6invertEv").as_deref(),
            Some("SkMatrix::invert()")
        );
        assert_eq!(demangle("printf_core"), None);
        // wasm-bindgen writes a note after some symbols.
        assert_eq!(
            demangle("_ZN6js_sys5Array3get17h50047979bb164d91E externref shim").as_deref(),
            Some("js_sys::Array::get externref shim")
        );
        assert_eq!(demangle("_Zgarbage"), None);
    }

    #[test]
    fn file_stems_have_no_leading_dash() {
        assert_eq!(file_stem("_RNvCs1_4main"), "RNvCs1-4main");
        assert_eq!(file_stem("core::fmt::write"), "core-fmt-write");
        assert_eq!(file_stem("<&T as Debug>::fmt"), "T-as-Debug-fmt");
        assert_eq!(file_stem("::"), "function");
        assert!(file_stem(&"a".repeat(300)).len() <= 80);
    }
}
