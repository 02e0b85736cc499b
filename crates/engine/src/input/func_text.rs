//! One function of a module as Wasm text, each instruction with its module
//! byte offset: the offsets Wasmtime puts on the CLIF it translates (`@0052`)
//! and on the machine code's source locations, so the text links to both.
//!
//! The module is printed with every other function stubbed (printing a 14 MB
//! module whole takes seconds); the kept body's bytes are the same, so an
//! instruction's offset in the stub plus the shift of the body's start is its
//! offset in the module.

use std::ops::Range;
use std::path::Path;

use crate::error::{EngineError, EngineResult};
use crate::input::translate;

/// One function's text.
#[derive(Clone, Debug, Default)]
pub struct FuncText {
    /// Each line, with the module offset of the instruction or declaration
    /// it shows, if any.
    pub lines: Vec<(Option<u32>, String)>,
    /// The body's bytes in the module.
    pub body: Range<u32>,
    /// (offset, line) of every line with an offset, sorted: for [`op_at`].
    ///
    /// [`op_at`]: FuncText::op_at
    by_offset: Vec<(u32, usize)>,
}

impl FuncText {
    /// The whole text, one line each, offsets in front (`0052  i32.load`).
    pub fn text(&self) -> String {
        let mut out = String::new();
        for (offset, line) in &self.lines {
            match offset {
                Some(o) => out.push_str(&format!("{o:06x}  {line}\n")),
                None => out.push_str(&format!("        {line}\n")),
            }
        }
        out
    }

    /// The line covering module offset `offset`, trimmed (`i32.load
    /// offset=4`): the instruction there, or for a byte inside a line (the
    /// second group of a locals declaration) the line it is part of.
    pub fn op_at(&self, offset: u32) -> Option<&str> {
        if !self.body.contains(&offset) {
            return None;
        }
        let at = self.by_offset.partition_point(|&(o, _)| o <= offset);
        let (_, line) = self.by_offset.get(at.checked_sub(1)?)?;
        Some(self.lines[*line].1.trim())
    }
}

/// The byte range of the body of the function with this index (imports
/// counted) in `wasm`.
fn body_range(
    wasm: &[u8],
    func_index: u32,
) -> Result<Option<Range<usize>>, wasmparser::BinaryReaderError> {
    use wasmparser::Payload;
    let mut imported = 0u32;
    let mut next = 0u32;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload? {
            Payload::ImportSection(reader) => {
                for imp in reader.into_imports() {
                    if matches!(
                        imp?.ty,
                        wasmparser::TypeRef::Func(_) | wasmparser::TypeRef::FuncExact(_)
                    ) {
                        imported += 1;
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                if imported + next == func_index {
                    return Ok(Some(body.range()));
                }
                next += 1;
            }
            _ => {}
        }
    }
    Ok(None)
}

/// `(;@4d    ;)  (func …` → (0x4d, "  (func …").
fn split_offset(line: &str) -> (Option<u32>, &str) {
    if let Some(rest) = line.strip_prefix("(;@")
        && let Some((hex, text)) = rest.split_once(";)")
    {
        return (u32::from_str_radix(hex.trim(), 16).ok(), text);
    }
    (None, line)
}

/// The function `func_index` of `wasm` as text with module offsets.
pub fn function_text(path: &Path, wasm: &[u8], func_index: u32) -> EngineResult<FuncText> {
    let invalid = |e: wasmparser::BinaryReaderError| EngineError::InvalidWasm {
        path: path.to_path_buf(),
        offset: e.offset(),
        message: e.message().to_string(),
    };
    let not_defined = || EngineError::InvalidWasm {
        path: path.to_path_buf(),
        offset: 0,
        message: format!("function {func_index} has no body in the module"),
    };
    let body = body_range(wasm, func_index)
        .map_err(invalid)?
        .ok_or_else(not_defined)?;
    let stub = translate::stub_module(path, wasm, Some(func_index))?;
    let stub_body = body_range(&stub, func_index)
        .map_err(invalid)?
        .ok_or_else(not_defined)?;
    let mut printed = wasmprinter::PrintFmtWrite(String::new());
    wasmprinter::Config::new()
        .print_offsets(true)
        .print(&stub, &mut printed)
        .map_err(|e| EngineError::InvalidWasm {
            path: path.to_path_buf(),
            offset: 0,
            message: format!("cannot print as text: {e:#}"),
        })?;
    let shift = body.start as i64 - stub_body.start as i64;
    let marker = format!("(;{func_index};)");
    let mut lines = Vec::new();
    let mut inside = false;
    for line in printed.0.lines() {
        let (offset, text) = split_offset(line);
        if !inside {
            if text.trim_start().starts_with("(func") && text.contains(&marker) {
                inside = true;
            } else {
                continue;
            }
        }
        let offset = offset.map(|o| (o as i64 + shift) as u32);
        let end = !lines.is_empty() && text.trim() == ")" && !text.starts_with("   ");
        lines.push((offset, text.to_string()));
        if end {
            break;
        }
    }
    let mut by_offset: Vec<(u32, usize)> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, (o, _))| o.map(|o| (o, i)))
        .collect();
    by_offset.sort_unstable();
    Ok(FuncText {
        lines,
        body: body.start as u32..body.end as u32,
        by_offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_read_from_the_printed_prefix() {
        assert_eq!(split_offset("(;@4d    ;)  (func"), (Some(0x4d), "  (func"));
        assert_eq!(split_offset("  no offset"), (None, "  no offset"));
    }
}
