//! Reading an input file: WebAssembly binary, WAT text or CLIF text. Owns format
//! detection, validation (wasmparser, before anything else looks at the bytes) and
//! the list of functions a user can choose from.

use std::path::{Path, PathBuf};

use crate::error::{EngineError, EngineResult};
use crate::input::file::{self, FileKind};
use crate::input::functions::{FunctionInfo, list_wasm_functions, wasm_error};

/// What kind of text or binary a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    Wasm,
    Wat,
    Clif,
}

/// What an input holds.
#[derive(Clone, Debug)]
pub enum Body {
    /// A module's binary: a `.wasm` file, or a `.wat` file parsed
    /// (`from_text`).
    Wasm {
        bytes: std::sync::Arc<[u8]>,
        from_text: bool,
    },
    /// A `.clif` file's text.
    Clif(String),
}

/// A loaded and validated input.
#[derive(Clone, Debug)]
pub struct Input {
    pub path: PathBuf,
    pub body: Body,
    pub functions: Vec<FunctionInfo>,
}

/// Bodies up to this size trace in well under a second: the largest of them
/// is what a module opens on ([`Input::default_function`]).
pub const CHEAP_BODY_BYTES: u32 = 8 * 1024;

impl Input {
    /// The file's format.
    pub fn kind(&self) -> InputKind {
        match self.body {
            Body::Wasm {
                from_text: false, ..
            } => InputKind::Wasm,
            Body::Wasm {
                from_text: true, ..
            } => InputKind::Wat,
            Body::Clif(_) => InputKind::Clif,
        }
    }

    /// The module's bytes, for a `.wasm` or `.wat` input.
    pub fn wasm(&self) -> Option<&[u8]> {
        self.wasm_shared().map(|b| &**b)
    }

    /// The module's bytes, shared.
    pub fn wasm_shared(&self) -> Option<&std::sync::Arc<[u8]>> {
        match &self.body {
            Body::Wasm { bytes, .. } => Some(bytes),
            Body::Clif(_) => None,
        }
    }

    /// The text of a `.clif` input.
    pub fn clif_text(&self) -> Option<&str> {
        match &self.body {
            Body::Clif(text) => Some(text),
            Body::Wasm { .. } => None,
        }
    }

    /// Reads, detects and validates `path` (a regular file within the
    /// module limit, [`FileKind::Module`]).
    pub fn load(path: &Path) -> EngineResult<Input> {
        Input::from_bytes(path, file::read(path, FileKind::Module)?)
    }

    /// Detects the format of `bytes` (named `path` in messages) and validates it.
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> EngineResult<Input> {
        let path_buf = path.to_path_buf();
        if bytes.is_empty() {
            return Err(EngineError::Empty { path: path_buf });
        }
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        let kind = if bytes.starts_with(b"\0asm") {
            InputKind::Wasm
        } else if ext.as_deref() == Some("wasm") {
            return Err(EngineError::UnknownFormat {
                path: path_buf,
                reason: format!(
                    "a .wasm file must start with the magic bytes 00 61 73 6d; this one starts with {}",
                    hex_prefix(&bytes)
                ),
            });
        } else if ext.as_deref() == Some("clif") {
            InputKind::Clif
        } else if ext.as_deref() == Some("wat") || ext.as_deref() == Some("wast") {
            InputKind::Wat
        } else {
            let text = std::str::from_utf8(&bytes).map_err(|e| EngineError::UnknownFormat {
                path: path_buf.clone(),
                reason: format!("not UTF-8 text (byte offset {})", e.valid_up_to()),
            })?;
            let trimmed = text.trim_start();
            if trimmed.starts_with("(module") || trimmed.starts_with(";;") {
                InputKind::Wat
            } else if text.contains("function ") && text.contains('{') {
                InputKind::Clif
            } else {
                return Err(EngineError::UnknownFormat {
                    path: path_buf,
                    reason: "no `\\0asm` magic, no `(module`, no CLIF `function`".into(),
                });
            }
        };
        match kind {
            InputKind::Wasm => Input::from_wasm(path_buf, false, bytes),
            InputKind::Wat => {
                let text = String::from_utf8(bytes).map_err(|e| EngineError::InvalidWat {
                    path: path_buf.clone(),
                    message: format!("not UTF-8 at byte offset {}", e.utf8_error().valid_up_to()),
                })?;
                let wat_buf = wat::Parser::new();
                let wasm =
                    wat_buf
                        .parse_str(Some(path), &text)
                        .map_err(|e| EngineError::InvalidWat {
                            path: path_buf.clone(),
                            message: e.to_string(),
                        })?;
                Input::from_wasm(path_buf, true, wasm)
            }
            InputKind::Clif => {
                let text = String::from_utf8(bytes).map_err(|e| EngineError::InvalidClif {
                    path: path_buf.clone(),
                    line: 0,
                    message: format!("not UTF-8 at byte offset {}", e.utf8_error().valid_up_to()),
                })?;
                let functions = crate::input::clif::list_functions(&path_buf, &text)?;
                Ok(Input {
                    path: path_buf,
                    body: Body::Clif(text),
                    functions,
                })
            }
        }
    }

    fn from_wasm(path: PathBuf, from_text: bool, wasm: Vec<u8>) -> EngineResult<Input> {
        validate_wasm(&path, &wasm)?;
        let functions = list_wasm_functions(&path, &wasm)?;
        Ok(Input {
            path,
            body: Body::Wasm {
                bytes: wasm.into(),
                from_text,
            },
            functions,
        })
    }

    /// Finds a function by index or by name.
    pub fn select(&self, selector: &str) -> EngineResult<&FunctionInfo> {
        let sel = selector.trim();
        let by_index = sel
            .parse::<u32>()
            .ok()
            .and_then(|i| self.functions.iter().find(|f| f.index == i));
        let found = by_index.or_else(|| {
            self.functions.iter().find(|f| {
                f.name.as_deref() == Some(sel)
                    || f.raw_name.as_deref() == Some(sel)
                    || f.name.as_deref().map(|n| n.trim_start_matches('%')) == Some(sel)
            })
        });
        match found {
            Some(f) if f.imported => Err(EngineError::ImportedFunction {
                path: self.path.clone(),
                index: f.index,
            }),
            Some(f) => Ok(f),
            None => {
                const SHOWN: usize = 8;
                let all = self.functions.iter().filter(|f| !f.imported).count();
                let defined: Vec<String> = self
                    .functions
                    .iter()
                    .filter(|f| !f.imported)
                    .take(SHOWN)
                    .map(|f| format!("{} {}", f.index, f.label()))
                    .collect();
                let more = match all.saturating_sub(SHOWN) {
                    0 => String::new(),
                    n => format!(", … and {n} more"),
                };
                Err(EngineError::NoSuchFunction {
                    path: self.path.clone(),
                    selector: selector.to_string(),
                    available: if defined.is_empty() {
                        "the input defines no functions".into()
                    } else {
                        format!("defined: {}{more}", defined.join(", "))
                    },
                })
            }
        }
    }

    /// The function a module opens on: the largest defined one up to
    /// [`CHEAP_BODY_BYTES`], else the smallest.
    pub fn default_function(&self) -> Option<&FunctionInfo> {
        // The largest function that is still quick to trace: opening a big
        // module should not start with a minute-long compile.
        self.functions
            .iter()
            .filter(|f| !f.imported && f.body_bytes <= CHEAP_BODY_BYTES)
            .max_by_key(|f| (f.body_bytes, std::cmp::Reverse(f.index)))
            .or_else(|| {
                self.functions
                    .iter()
                    .filter(|f| !f.imported)
                    .min_by_key(|f| (f.body_bytes, f.index))
            })
    }

    /// The defined function with the largest body.
    pub fn largest_function(&self) -> Option<&FunctionInfo> {
        self.functions
            .iter()
            .filter(|f| !f.imported)
            .max_by_key(|f| (f.body_bytes, std::cmp::Reverse(f.index)))
    }
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Validates with every proposal wasmparser knows; Wasmtime refuses what it does
/// not support later, with its own message.
pub fn validate_wasm(path: &Path, wasm: &[u8]) -> EngineResult<()> {
    if wasmparser::Parser::is_component(wasm) {
        return Err(EngineError::Unsupported {
            path: path.to_path_buf(),
            message: "this is a WebAssembly component; open a core module".into(),
        });
    }
    let mut validator = wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all());
    validator
        .validate_all(wasm)
        .map(|_| ())
        .map_err(|e| wasm_error(path, e))
}
