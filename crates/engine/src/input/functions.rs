//! The functions of an input a user can choose from: a Wasm module's function
//! index space with names from its name section. (CLIF files list theirs in
//! `clif`.)

use std::path::Path;

use crate::error::{EngineError, EngineResult};

/// One function the user can choose.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FunctionInfo {
    /// Index in the module's function index space (imports first), or the
    /// position of the function in a CLIF file.
    pub index: u32,
    /// Name from the name section (Wasm), demangled when it is a mangled
    /// Rust or C++ symbol, or the function's name (CLIF).
    pub name: Option<String>,
    /// The symbol as the name section writes it, when `name` is its
    /// demangled form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_name: Option<String>,
    pub imported: bool,
    /// Size of the body in bytes (Wasm) or of the function's text (CLIF); 0 for imports.
    pub body_bytes: u32,
    /// Byte offset of the body in the module (Wasm) or line of `function` (CLIF).
    #[serde(skip)]
    pub location: usize,
}

impl FunctionInfo {
    /// `name` if there is one, else `func[index]`.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => format!("func[{}]", self.index),
        }
    }
}

pub(crate) fn wasm_error(path: &Path, e: wasmparser::BinaryReaderError) -> EngineError {
    EngineError::InvalidWasm {
        path: path.to_path_buf(),
        offset: e.offset(),
        message: e.message().to_string(),
    }
}

/// Lists every function of a validated module, imports first.
pub fn list_wasm_functions(path: &Path, wasm: &[u8]) -> EngineResult<Vec<FunctionInfo>> {
    use wasmparser::{Name, Payload};
    let mut functions = Vec::new();
    let mut imported = 0u32;
    let mut names = std::collections::HashMap::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload.map_err(|e| wasm_error(path, e))? {
            Payload::ImportSection(reader) => {
                for imp in reader.into_imports() {
                    let imp = imp.map_err(|e| wasm_error(path, e))?;
                    if matches!(
                        imp.ty,
                        wasmparser::TypeRef::Func(_) | wasmparser::TypeRef::FuncExact(_)
                    ) {
                        functions.push(FunctionInfo {
                            index: imported,
                            name: None,
                            raw_name: None,
                            imported: true,
                            body_bytes: 0,
                            location: 0,
                        });
                        imported += 1;
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                let index = functions.len() as u32;
                let range = body.range();
                functions.push(FunctionInfo {
                    index,
                    name: None,
                    raw_name: None,
                    imported: false,
                    body_bytes: (range.end - range.start) as u32,
                    location: range.start,
                });
            }
            Payload::CustomSection(c) => {
                if let wasmparser::KnownCustom::Name(reader) = c.as_known() {
                    for name in reader {
                        // A malformed name section is not fatal: names are optional.
                        let Ok(Name::Function(map)) = name else {
                            continue;
                        };
                        for naming in map.into_iter().flatten() {
                            names.insert(naming.index, naming.name.to_string());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    for f in &mut functions {
        let Some(raw) = names.remove(&f.index) else {
            continue;
        };
        match super::names::demangle(&raw) {
            Some(readable) => {
                f.name = Some(readable);
                f.raw_name = Some(raw);
            }
            None => f.name = Some(raw),
        }
    }
    Ok(functions)
}
