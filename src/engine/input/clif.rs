//! CLIF text inputs: parsing with cranelift-reader (its `set` and `target` lines
//! included) and listing the functions of a file.

use std::path::Path;

use cranelift_codegen::ir::Function;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_reader::{IsaSpec, ParseOptions};

use crate::engine::error::{EngineError, EngineResult};
use crate::engine::input::functions::FunctionInfo;

/// A parsed CLIF file.
pub struct ClifFile {
    pub functions: Vec<(Function, usize)>,
    /// ISAs from `target` lines (with the `set` lines before them), if any.
    pub isas: Vec<OwnedTargetIsa>,
    /// Shared flags from `set` lines when the file names no target.
    pub flags: Option<cranelift_codegen::settings::Flags>,
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

fn parse_current(path: &Path, text: &str) -> EngineResult<ClifFile> {
    let result = crate::engine::capture::quietly(|| {
        std::panic::catch_unwind(|| {
            cranelift_reader::parse_test(text, ParseOptions::default()).map(|file| {
                let functions = file
                    .functions
                    .into_iter()
                    .map(|(f, d)| (f, d.location.line_number))
                    .collect::<Vec<_>>();
                match file.isa_spec {
                    IsaSpec::None(flags) => ClifFile {
                        functions,
                        isas: Vec::new(),
                        flags: Some(flags),
                    },
                    IsaSpec::Some(isas) => ClifFile {
                        functions,
                        isas,
                        flags: None,
                    },
                }
            })
        })
    });
    match result {
        Ok(Ok(file)) => Ok(file),
        Ok(Err(e)) => Err(EngineError::InvalidClif {
            path: path.to_path_buf(),
            line: e.location.line_number,
            message: e.message,
        }),
        Err(p) => Err(EngineError::InvalidClif {
            path: path.to_path_buf(),
            line: 0,
            message: format!(
                "the CLIF parser panicked: {}",
                crate::engine::capture::panic_message(&p)
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
                imported: false,
                body_bytes: end.saturating_sub(start) as u32,
                location: *line,
            }
        })
        .collect())
}
