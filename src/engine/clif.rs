//! CLIF text inputs: parsing with cranelift-reader (its `set` and `target` lines
//! included) and listing the functions of a file.

use std::path::Path;

use cranelift_codegen::ir::Function;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_reader::{IsaSpec, ParseOptions};

use super::error::{EngineError, EngineResult};
use super::input::FunctionInfo;

/// A parsed CLIF file.
pub struct ClifFile {
    pub functions: Vec<(Function, usize)>,
    /// ISAs from `target` lines (with the `set` lines before them), if any.
    pub isas: Vec<OwnedTargetIsa>,
    /// Shared flags from `set` lines when the file names no target.
    pub flags: Option<cranelift_codegen::settings::Flags>,
}

/// Parses `text`; parse errors and parser panics become errors naming the line.
pub fn parse(path: &Path, text: &str) -> EngineResult<ClifFile> {
    let result = super::capture::quietly(|| {
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
                super::capture::panic_message(&p)
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
