//! CLIF text inputs: parsing with cranelift-reader (its `set` and `target` lines
//! included) and listing the functions of a file; the CLIF dialects of older
//! Cranelift releases, read by rewriting ([`from_legacy`]) and written back
//! ([`ClifDialect::write`]) for test commands built on such a release.

use std::path::Path;

use cranelift_codegen::ir::Function;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_reader::{IsaSpec, ParseOptions};

use crate::error::{EngineError, EngineResult};
use crate::input::functions::FunctionInfo;

/// What a CLIF file says it compiles for.
pub enum ClifTarget {
    /// ISAs from `target` lines (with the `set` lines before them).
    Isas(Vec<OwnedTargetIsa>),
    /// No `target` line: the shared flags of the `set` lines.
    Flags(cranelift_codegen::settings::Flags),
}

/// A parsed CLIF file.
pub struct ClifFile {
    pub functions: Vec<(Function, usize)>,
    pub target: ClifTarget,
}

impl ClifFile {
    /// The ISAs its `target` lines name (none without one).
    pub fn isas(&self) -> &[OwnedTargetIsa] {
        match &self.target {
            ClifTarget::Isas(isas) => isas,
            ClifTarget::Flags(_) => &[],
        }
    }
}

/// Parses `text`; parse errors and parser panics become errors naming the line.
/// Text that fails to parse is tried once more read as older Cranelift's CLIF
/// (see [`from_legacy`]); the first error is reported if that fails too.
pub fn parse(path: &Path, text: &str) -> EngineResult<ClifFile> {
    let first = parse_current(path, text);
    if first.is_ok() {
        return first;
    }
    match from_legacy(text) {
        Some(upgraded) => parse_current(path, &upgraded).or(first),
        None => first,
    }
}

/// Memory flags that older Cranelift wrote as words and 0.135 declares as
/// alias regions, in the order the regions are declared.
const LEGACY_REGIONS: [&str; 3] = ["heap", "table", "vmctx"];

/// Words that can follow a memory opcode as flags.
fn is_mem_flag(word: &str) -> bool {
    matches!(
        word,
        "notrap" | "aligned" | "readonly" | "little" | "big" | "checked" | "can_move"
    ) || LEGACY_REGIONS.contains(&word)
        || word.starts_with("region")
        || word.starts_with("trap")
}

fn is_mem_opcode(word: &str) -> bool {
    let op = word.split('.').next().unwrap_or(word);
    op == "load"
        || op == "store"
        || op.starts_with("uload")
        || op.starts_with("sload")
        || op.starts_with("istore")
        || op.starts_with("atomic_")
}

/// CLIF as Cranelift 0.118 (Wasmtime 31) wrote it, rewritten for 0.135: the
/// `checked` memory flag is dropped (0.135 has none) and the `heap`, `table`
/// and `vmctx` flags become declared alias regions. Neither changes the code
/// the backend emits. `None` when nothing needed rewriting.
pub fn from_legacy(text: &str) -> Option<String> {
    let mut used = [false; 3];
    let mut changed = false;
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        let (code, comment) = match line.find(';') {
            Some(i) => line.split_at(i),
            None => (line, ""),
        };
        let mut out: Vec<String> = Vec::new();
        let mut in_flags = false;
        for word in code.split(' ') {
            if in_flags && is_mem_flag(word) {
                if word == "checked" {
                    changed = true;
                    continue;
                }
                if let Some(i) = LEGACY_REGIONS.iter().position(|r| *r == word) {
                    used[i] = true;
                    changed = true;
                    out.push(format!("region{i}"));
                    continue;
                }
            } else {
                in_flags = is_mem_opcode(word);
            }
            out.push(word.to_string());
        }
        lines.push(format!("{}{comment}", out.join(" ")));
    }
    if !changed {
        return None;
    }
    let decls: Vec<String> = LEGACY_REGIONS
        .iter()
        .enumerate()
        .filter(|(i, _)| used[*i])
        .map(|(i, name)| format!("    region{i} = {i} \"{name}\""))
        .collect();
    let mut result = String::with_capacity(text.len() + 64);
    for line in lines {
        let opens = line.trim_start().starts_with("function ") && line.trim_end().ends_with('{');
        result.push_str(&line);
        result.push('\n');
        if opens {
            for d in &decls {
                result.push_str(d);
                result.push('\n');
            }
        }
    }
    Some(result)
}

/// The CLIF syntax of a Cranelift release, for text that a build of that
/// release must read (a reducer's or a scan's test command).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ClifDialect {
    /// This build's (Cranelift 0.135): alias regions declared in the preamble.
    #[default]
    #[serde(rename = "current")]
    Current,
    /// Cranelift 0.118's (Wasmtime 31): alias regions as the flag words
    /// `heap`, `table`, `vmctx`; see [`from_legacy`].
    #[serde(rename = "0.118")]
    V0118,
}

impl ClifDialect {
    /// The name users write: `current` or `0.118`.
    pub fn name(self) -> &'static str {
        match self {
            ClifDialect::Current => "current",
            ClifDialect::V0118 => "0.118",
        }
    }

    /// The dialect a CLIF file is written in: 0.118 when it has that
    /// release's memory flags (the ones [`from_legacy`] rewrites), else this
    /// build's. Text without memory flags reads the same in both.
    pub fn of(text: &str) -> ClifDialect {
        if from_legacy(text).is_some() {
            ClifDialect::V0118
        } else {
            ClifDialect::Current
        }
    }

    /// `text`, CLIF as this build prints it, in this dialect.
    pub fn write(self, text: &str) -> String {
        match self {
            ClifDialect::Current => text.to_string(),
            ClifDialect::V0118 => to_legacy(text),
        }
    }
}

impl std::str::FromStr for ClifDialect {
    type Err = String;
    fn from_str(s: &str) -> Result<ClifDialect, String> {
        match s {
            "current" | "0.135" => Ok(ClifDialect::Current),
            "0.118" => Ok(ClifDialect::V0118),
            _ => Err(format!(
                "unknown CLIF dialect `{s}`: expected `0.118` (Cranelift 0.118, Wasmtime 31) or `current`"
            )),
        }
    }
}

impl std::fmt::Display for ClifDialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `regionN = ID "DESC"` (any indentation) → (`regionN`, `DESC`).
fn region_decl(line: &str) -> Option<(&str, &str)> {
    let (name, rest) = line.trim().split_once(" = ")?;
    let digits = name.strip_prefix("region")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (id, desc) = rest.split_once(' ')?;
    id.parse::<u32>().ok()?;
    Some((name, desc.strip_prefix('"')?.strip_suffix('"')?))
}

/// CLIF as this build prints it, written as Cranelift 0.118 reads it: the
/// inverse of [`from_legacy`]. Region declarations go, and a region in a
/// memory instruction's flags becomes its flag word when its description is
/// one of 0.118's (`heap`, `table`, `vmctx`) and is dropped otherwise (0.118
/// has no other regions; they feed only alias analysis, not the allocator).
/// The `checked` flag cannot come back: this build keeps no trace of it, and
/// it matters only to proof-carrying code, which Wasmtime leaves off.
fn to_legacy(text: &str) -> String {
    // Region name → its 0.118 word, or None to drop it.
    let mut regions: Vec<(&str, Option<&str>)> = Vec::new();
    for line in text.lines() {
        if let Some((name, desc)) = region_decl(line) {
            regions.push((name, LEGACY_REGIONS.iter().copied().find(|w| *w == desc)));
        }
    }
    if regions.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if region_decl(line).is_some() {
            continue;
        }
        let (code, comment) = match line.find(';') {
            Some(i) => line.split_at(i),
            None => (line, ""),
        };
        let mut words: Vec<&str> = Vec::new();
        let mut in_flags = false;
        for word in code.split(' ') {
            if in_flags && is_mem_flag(word) {
                if let Some((_, replacement)) = regions.iter().find(|(name, _)| *name == word) {
                    words.extend(*replacement);
                    continue;
                }
            } else {
                in_flags = is_mem_opcode(word);
            }
            words.push(word);
        }
        out.push_str(&words.join(" "));
        out.push_str(comment);
        out.push('\n');
    }
    out
}

/// The largest entity number a CLIF file of `len` bytes may use.
///
/// Cranelift's reader sizes its tables by the largest number a file names
/// (`v100000000` in a 77-byte file asks for a hundred million values). A
/// file cannot need numbers far beyond its own size; a reduced function keeps
/// its original numbering, though, so a small file may rightly name `v40000`:
/// the limit is 16 per byte of text, and never below 2^20.
pub fn entity_number_limit(len: usize) -> u64 {
    (len as u64).saturating_mul(16).max(1 << 20)
}

/// Entity prefixes Cranelift's lexer numbers (`v`, `block`, `sig`, ...).
/// Not `u`: in `u805306368:0` the number is a name's namespace, not a
/// table index (Wasmtime writes such names).
const ENTITY_PREFIXES: [&str; 16] = [
    "v",
    "block",
    "ss",
    "dss",
    "dt",
    "gv",
    "mt",
    "const",
    "fn",
    "sig",
    "userextname",
    "extable",
    "tag",
    "region",
    "ret",
    "exn",
];

/// Refuses entity numbers beyond [`entity_number_limit`], naming the line,
/// before Cranelift's reader sees the text. Words are read as its lexer reads
/// them (`[_A-Za-z][_A-Za-z0-9]*`); comments and `%names` are skipped.
pub fn check_entity_numbers(path: &Path, text: &str) -> EngineResult<()> {
    let limit = entity_number_limit(text.len());
    for (i, line) in text.lines().enumerate() {
        let code = line.split(';').next().unwrap_or("");
        let bytes = code.as_bytes();
        let is_word = |b: u8| b == b'_' || b.is_ascii_alphanumeric();
        let mut at = 0;
        while at < bytes.len() {
            if !is_word(bytes[at]) {
                at += 1;
                continue;
            }
            let start = at;
            while at < bytes.len() && is_word(bytes[at]) {
                at += 1;
            }
            // A `%name` or `@name` is a name, and a run that starts with a
            // digit a number (`0x10`, `1e5`): neither is an entity.
            let after_sigil = start > 0 && matches!(bytes[start - 1], b'%' | b'@');
            if after_sigil || bytes[start].is_ascii_digit() {
                continue;
            }
            let word = &code[start..at];
            let digits = word.len() - word.trim_end_matches(|c: char| c.is_ascii_digit()).len();
            if digits == 0 || digits == word.len() {
                continue;
            }
            let (prefix, number) = word.split_at(word.len() - digits);
            if !ENTITY_PREFIXES.contains(&prefix) {
                continue;
            }
            let too_big = number.len() > 19 || !number.parse::<u64>().is_ok_and(|n| n <= limit);
            if too_big {
                return Err(EngineError::InvalidClif {
                    path: path.to_path_buf(),
                    line: i + 1,
                    message: format!(
                        "`{word}` numbers an entity beyond {limit}, more than a file of {} bytes can need; Cranelift's reader would size its tables by that number",
                        text.len()
                    ),
                });
            }
        }
    }
    Ok(())
}

fn parse_current(path: &Path, text: &str) -> EngineResult<ClifFile> {
    check_entity_numbers(path, text)?;
    let result = crate::capture::quietly(|| {
        std::panic::catch_unwind(|| {
            cranelift_reader::parse_test(text, ParseOptions::default()).map(|file| {
                let functions = file
                    .functions
                    .into_iter()
                    .map(|(f, d)| (f, d.location.line_number))
                    .collect::<Vec<_>>();
                let target = match file.isa_spec {
                    IsaSpec::None(flags) => ClifTarget::Flags(flags),
                    IsaSpec::Some(isas) => ClifTarget::Isas(isas),
                };
                ClifFile { functions, target }
            })
        })
    });
    match result {
        Ok(Ok(file)) => Ok(file),
        Ok(Err(e)) => Err(EngineError::InvalidClif {
            path: path.to_path_buf(),
            line: e.location.line_number,
            message: crate::error::plain(&e.message),
        }),
        Err(p) => Err(EngineError::InvalidClif {
            path: path.to_path_buf(),
            line: 0,
            message: format!(
                "the CLIF parser panicked: {}",
                crate::capture::panic_message(&p)
            ),
        }),
    }
}

/// Lists the functions of a CLIF file.
pub fn list_functions(path: &Path, text: &str) -> EngineResult<Vec<FunctionInfo>> {
    let file = parse(path, text)?;
    if file.functions.is_empty() {
        return Err(EngineError::InvalidClif {
            path: path.to_path_buf(),
            line: text.lines().count(),
            message: "the file holds no function".into(),
        });
    }
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let offset_of_line = |line: usize| {
        line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(text.len())
    };
    let n = file.functions.len();
    Ok(file
        .functions
        .iter()
        .enumerate()
        .map(|(i, (func, line))| {
            let start = offset_of_line(*line);
            let end = if i + 1 < n {
                offset_of_line(file.functions[i + 1].1)
            } else {
                text.len()
            };
            FunctionInfo {
                index: i as u32,
                name: Some(func.name.to_string()),
                raw_name: None,
                imported: false,
                body_bytes: end.saturating_sub(start) as u32,
                location: *line,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loop_clif() -> (std::path::PathBuf, String) {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-modules/hang/loop.clif");
        let text = std::fs::read_to_string(&path).unwrap();
        (path, text)
    }

    /// Wasmtime 31's text without the `checked` flags, which this build
    /// cannot keep (two loads in loop.clif have one).
    fn without_checked(text: &str) -> String {
        text.replace(" checked ", " ")
    }

    #[test]
    fn the_0_118_writer_inverts_from_legacy_on_the_real_reproducer() {
        let (_, original) = loop_clif();
        assert_eq!(ClifDialect::of(&original), ClifDialect::V0118);
        let current = from_legacy(&original).expect("loop.clif is in 0.118's dialect");
        assert!(current.contains("region0 = 0 \"heap\""));
        assert_eq!(ClifDialect::of(&current), ClifDialect::Current);
        let back = ClifDialect::V0118.write(&current);
        assert_eq!(back, without_checked(&original));
        assert_eq!(original.matches(" checked ").count(), 2);
        // The current dialect is written as it is.
        assert_eq!(ClifDialect::Current.write(&current), current);
    }

    #[test]
    fn the_real_reproducer_read_and_printed_is_written_back_as_wasmtime_31_wrote_it() {
        let (path, original) = loop_clif();
        let file = parse(&path, &original).unwrap();
        let printed = file.functions[0].0.display().to_string();
        assert!(printed.contains(" region0 "), "printed in 0.135's syntax");
        let written = ClifDialect::V0118.write(&printed);
        // Line for line Cranelift 0.118's own text, which its grammar reads;
        // only the flag that 0.118 itself makes optional is gone.
        assert_eq!(written, without_checked(&original));
        assert!(!written.contains("region"));
        // And read back here, it is the same function.
        let again = parse(&path, &written).unwrap();
        assert_eq!(again.functions[0].0.display().to_string(), printed);
    }

    #[test]
    fn regions_0_118_lacks_are_dropped_and_names_parse() {
        let text = "function u0:1(i64 vmctx) tail {\n    region0 = 0 \"heap\"\n    region1 = 7 \"global 3\"\n\nblock0(v0: i64):\n@0012    v1 = load.i64 little region0 v0  ; region1\n    store notrap aligned region1 v1, v0+8\n    return\n}\n";
        let old = "function u0:1(i64 vmctx) tail {\n\nblock0(v0: i64):\n@0012    v1 = load.i64 little heap v0  ; region1\n    store notrap aligned v1, v0+8\n    return\n}\n";
        assert_eq!(ClifDialect::V0118.write(text), old);
        let plain = "function %f() {\nblock0:\n    return\n}\n";
        assert_eq!(ClifDialect::of(plain), ClifDialect::Current);
        assert_eq!(ClifDialect::V0118.write(plain), plain);
        assert_eq!("0.118".parse(), Ok(ClifDialect::V0118));
        assert_eq!("current".parse(), Ok(ClifDialect::Current));
        assert!("0.117".parse::<ClifDialect>().is_err());
    }
}
