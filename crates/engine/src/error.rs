//! Errors of the engine: each one names the input and says what was wrong,
//! with a byte offset or line where the underlying parser gave one.

use std::path::PathBuf;

/// An error from loading, translating, compiling or tracing an input.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{path}: cannot read file: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: file is empty")]
    Empty { path: PathBuf },
    #[error(
        "{path}: file is {}, over the {} limit for {what} (raise it with the environment variable {variable}, such as {variable}=4G)",
        size_text(.size_bytes), size_text(.limit_bytes)
    )]
    TooLarge {
        path: PathBuf,
        /// What the file is, in words ("a regalloc2 log").
        what: &'static str,
        /// The environment variable that raises the limit.
        variable: &'static str,
        size_bytes: u64,
        limit_bytes: u64,
    },
    #[error("{path}: not a WebAssembly module, WAT text or CLIF text ({reason})")]
    UnknownFormat { path: PathBuf, reason: String },
    #[error("{path}: invalid WebAssembly at byte offset 0x{offset:x}: {message}")]
    InvalidWasm {
        path: PathBuf,
        offset: usize,
        message: String,
    },
    #[error("{path}: cannot parse WAT: {message}")]
    InvalidWat { path: PathBuf, message: String },
    #[error("{path}: cannot parse CLIF at line {line}: {message}")]
    InvalidClif {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Unsupported { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    InvalidReproducer { path: PathBuf, message: String },
    #[error("{path}: no function matches `{selector}` ({available})")]
    NoSuchFunction {
        path: PathBuf,
        selector: String,
        available: String,
    },
    #[error("{path}: function {index} is imported; it has no body to compile")]
    ImportedFunction { path: PathBuf, index: u32 },
    #[error("{path}: Wasmtime could not compile the module: {message}")]
    Wasmtime { path: PathBuf, message: String },
    #[error("{path}: function `{function}`: {message}")]
    Compile {
        path: PathBuf,
        function: String,
        message: String,
    },
    #[error("{path}: function `{function}`: the compiler panicked: {message}")]
    Panicked {
        path: PathBuf,
        function: String,
        message: String,
    },
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
}

pub type EngineResult<T> = Result<T, EngineError>;

/// A byte count in words: `5.0 GiB`, `512 MiB`, `77 bytes`.
pub fn size_text(bytes: impl std::borrow::Borrow<u64>) -> String {
    let bytes = *bytes.borrow();
    const UNITS: [(&str, u32); 4] = [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)];
    for (name, shift) in UNITS {
        if bytes >= 1u64 << shift {
            let value = bytes as f64 / (1u64 << shift) as f64;
            return if value.fract() == 0.0 {
                format!("{value:.0} {name}")
            } else {
                format!("{value:.1} {name}")
            };
        }
    }
    if bytes == 1 {
        return "1 byte".into();
    }
    format!("{bytes} bytes")
}

/// Wrappers of Cranelift's lexer tokens as Rust's `Debug` prints them.
const TOKEN_WRAPPERS: [&str; 12] = [
    "Identifier",
    "Integer",
    "Float",
    "Name",
    "String",
    "HexSequence",
    "Value",
    "Block",
    "Type",
    "StackSlot",
    "FuncRef",
    "SigRef",
];

/// A dependency's message with the Rust `Debug` text some of them carry
/// made plain: `Some(Identifier("v2"))` reads `` `v2` ``, `Some(types::I128)`
/// reads `i128`, and a trailing `: TryFromIntError(())` (an `expect` on a
/// number conversion) is dropped, its message having said it already.
pub fn plain(message: &str) -> String {
    let mut text = message.replace(": TryFromIntError(())", "");
    text = text.replace("TryFromIntError(())", "a number out of range");
    // Cranelift's `SetError`, printed with `{:?}` by its CLIF reader.
    for (wrapper, label) in [("BadName", "unknown setting"), ("BadValue", "bad value")] {
        text = unwrap_calls(&text, wrapper, |inner| {
            format!("{label} `{}`", inner.trim_matches('"'))
        });
    }
    text = text.replace("BadType", "a setting of another type");
    for wrapper in TOKEN_WRAPPERS {
        text = unwrap_calls(&text, wrapper, |inner| {
            format!("`{}`", inner.trim_matches('"'))
        });
    }
    text = unwrap_calls(&text, "Some", str::to_string);
    // `types::I128` → `i128`.
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find("types::") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "types::".len()..];
        let end = after
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(after.len());
        out.push_str(&after[..end].to_ascii_lowercase());
        rest = &after[end..];
    }
    out.push_str(rest);
    out.replace("``", "`")
}

/// Replaces each `name(inner)` (parentheses balanced, `name` a whole word)
/// with `with(inner)`.
fn unwrap_calls(text: &str, name: &str, with: impl Fn(&str) -> String) -> String {
    let open = format!("{name}(");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(&open) {
        let word_start = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let inner_start = at + open.len();
        let mut depth = 1usize;
        let mut end = None;
        for (i, c) in rest[inner_start..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(inner_start + i);
                        break;
                    }
                }
                _ => {}
            }
        }
        match (word_start, end) {
            (true, Some(end)) => {
                out.push_str(&rest[..at]);
                out.push_str(&with(&rest[inner_start..end]));
                rest = &rest[end + 1..];
            }
            _ => {
                out.push_str(&rest[..inner_start]);
                rest = &rest[inner_start..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn debug_text_from_dependencies_reads_plainly() {
        assert_eq!(
            plain(
                "Offset in Slot is greater than 2GB; should hit impl limit first: TryFromIntError(())"
            ),
            "Offset in Slot is greater than 2GB; should hit impl limit first"
        );
        assert_eq!(
            plain("expected value, got Some(Identifier(\"v2147483647\"))"),
            "expected value, got `v2147483647`"
        );
        assert_eq!(plain("type Some(types::I128) here"), "type i128 here");
        assert_eq!(
            plain("invalid ISA flags for 'x86_64': BadName(\"has_avx9\")"),
            "invalid ISA flags for 'x86_64': unknown setting `has_avx9`"
        );
        assert_eq!(
            plain("unexpected token: Value(v3)"),
            "unexpected token: `v3`"
        );
        // Text without Debug output is left as it is.
        let plain_text = "block3 (jump to block9) is not Something(x)";
        assert_eq!(plain(plain_text), plain_text);
    }
}
