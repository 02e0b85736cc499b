//! Wasm → CLIF through Wasmtime's own translator.
//!
//! To keep choosing a function in a big module fast, we hand Wasmtime a copy of
//! the module whose other function bodies are replaced by `unreachable`: types,
//! imports, tables, memories, globals, data and every index stay as they were, so
//! the chosen function translates exactly as in the full module (a test checks
//! that its CLIF is unchanged). Wasmtime writes each function's CLIF after it
//! compiled it (`Config::emit_clif`), so the file shows the function as it was
//! lowered: optimized at the chosen opt level. A second compile at opt level
//! `none` gives the CLIF as translated. The same artifact carries Wasmtime's
//! Cranelift flags and its machine code for the function, our fidelity reference.

use std::path::{Path, PathBuf};

use crate::error::{EngineError, EngineResult};
use crate::input::isa::{CompilerFlags, OptLevel, Target};

/// Settings of one Wasmtime compile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct WasmtimeSettings {
    pub target: Target,
    pub opt: OptLevel,
}

impl Default for WasmtimeSettings {
    fn default() -> Self {
        WasmtimeSettings {
            target: Target::Host,
            opt: OptLevel::Speed,
        }
    }
}

/// What Wasmtime produced for one function.
#[derive(Clone, Debug)]
pub struct Translation {
    /// Function index in the module's index space.
    pub func_index: u32,
    /// Wasmtime's symbol for it, such as `wasm[0]::function[3]::fib`.
    pub symbol: String,
    /// CLIF as Wasmtime lowered it (optimized at the chosen level).
    pub clif_optimized: String,
    /// Wasmtime's Cranelift settings for this compile.
    pub flags: CompilerFlags,
    /// Wasmtime's own machine code for the function, with its calls resolved.
    pub wasmtime_code: Option<Vec<u8>>,
}

/// A temporary folder for Wasmtime's CLIF output. Wasmtime writes every function
/// (stubs included) unbuffered, so on a big module this is tens of thousands of
/// small writes: a RAM-backed folder keeps them cheap where there is one.
pub fn clif_tempdir(path: &Path) -> EngineResult<tempfile::TempDir> {
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::Builder::new()
            .prefix("spillscope-clif-")
            .tempdir_in(shm)
            .or_else(|_| tempfile::tempdir())
    } else {
        tempfile::tempdir()
    };
    dir.map_err(|e| EngineError::Io {
        path: path.to_path_buf(),
        message: format!("cannot create a temporary folder for CLIF: {e}"),
    })
}

fn wasmtime_error(path: &Path, e: impl std::fmt::Display) -> EngineError {
    EngineError::Wasmtime {
        path: path.to_path_buf(),
        message: format!("{e:#}"),
    }
}

fn write_leb_u32(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
}

/// A copy of `wasm` where every defined function but `keep` (an index in the
/// function index space) has the body `unreachable`, padded with `nop` to its
/// original size so that every byte offset is unchanged. `keep = None` stubs all.
pub fn stub_module(path: &Path, wasm: &[u8], keep: Option<u32>) -> EngineResult<Vec<u8>> {
    use wasmparser::Payload;
    let err = |e: wasmparser::BinaryReaderError| EngineError::InvalidWasm {
        path: path.to_path_buf(),
        offset: e.offset(),
        message: e.message().to_string(),
    };
    let mut out = Vec::with_capacity(wasm.len() / 4 + 64);
    out.extend_from_slice(&wasm[..8.min(wasm.len())]);
    let mut imported_funcs = 0u32;
    let mut code: Option<(u32, Vec<u8>)> = None;
    let mut next_func = 0u32;
    let push_section = |out: &mut Vec<u8>, id: u8, data: &[u8]| {
        out.push(id);
        write_leb_u32(out, data.len() as u32);
        out.extend_from_slice(data);
    };
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(err)?;
        match &payload {
            Payload::ImportSection(reader) => {
                for imp in reader.clone().into_imports() {
                    let imp = imp.map_err(err)?;
                    if matches!(
                        imp.ty,
                        wasmparser::TypeRef::Func(_) | wasmparser::TypeRef::FuncExact(_)
                    ) {
                        imported_funcs += 1;
                    }
                }
            }
            Payload::CodeSectionStart { count, .. } => {
                let mut data = Vec::new();
                write_leb_u32(&mut data, *count);
                code = Some((*count, data));
                next_func = imported_funcs;
                continue;
            }
            Payload::CodeSectionEntry(body) => {
                let (remaining, data) = code
                    .as_mut()
                    .expect("code entries follow the section start");
                let r = body.range();
                // The body's size prefix ends where the body starts.
                let size_prefix_start = size_prefix_start(wasm, r.start);
                if Some(next_func) == keep || r.len() < 3 {
                    data.extend_from_slice(&wasm[size_prefix_start..r.end]);
                } else {
                    // Same size as the original, so every later byte offset (and
                    // with it every source location Wasmtime records) stays put:
                    // no locals; `unreachable`; `nop`s; `end`.
                    data.extend_from_slice(&wasm[size_prefix_start..r.start]);
                    data.extend_from_slice(&[0x00, 0x00]);
                    data.extend(std::iter::repeat_n(0x01, r.len() - 3));
                    data.push(0x0b);
                }
                next_func += 1;
                *remaining -= 1;
                if *remaining == 0 {
                    let (_, data) = code.take().expect("set above");
                    push_section(&mut out, 10, &data);
                }
                continue;
            }
            Payload::CustomSection(c) => {
                // The reader's range covers the section contents, name included.
                push_section(&mut out, 0, &wasm[c.range()]);
                continue;
            }
            _ => {}
        }
        if let Some((id, range)) = payload.as_section() {
            push_section(&mut out, id, &wasm[range]);
        }
    }
    Ok(out)
}

/// The offset where the LEB128 size of the function body starting at
/// `body_start` begins: the last byte of a LEB128 has its top bit clear, the
/// ones before it have it set.
fn size_prefix_start(wasm: &[u8], body_start: usize) -> usize {
    let mut i = body_start - 1;
    while i > 0 && wasm[i - 1] & 0x80 != 0 {
        i -= 1;
    }
    i
}

/// Extra Wasmtime configuration for a compile, such as a memory profile's knobs;
/// applied after the target and opt level.
pub type ConfigHook<'a> = &'a dyn Fn(&mut wasmtime::Config) -> Result<(), String>;

/// Wasmtime's `Config` for `settings`, with `hook` applied after the target
/// and opt level.
pub fn config(
    path: &Path,
    settings: WasmtimeSettings,
    hook: Option<ConfigHook>,
) -> EngineResult<wasmtime::Config> {
    // Before Wasmtime first uses rayon's pool: its threads must be quiet.
    // (A logger taken by someone else is reported by each capture.)
    let _ = crate::capture::install();
    let mut config = wasmtime::Config::new();
    if let Some(triple) = settings.target.triple() {
        config.target(triple).map_err(|e| wasmtime_error(path, e))?;
    }
    config.cranelift_opt_level(settings.opt.wasmtime());
    // Memories of 1-byte pages (custom-page-sizes, a phase-3 proposal off in
    // Wasmtime by default) translate like any other; the code of modules
    // without them does not change.
    config.wasm_custom_page_sizes(true);
    if let Some(hook) = hook {
        hook(&mut config).map_err(|e| wasmtime_error(path, e))?;
    }
    Ok(config)
}

/// Compiles `wasm` with Wasmtime, writing CLIF into `clif_dir`; returns the artifact.
fn precompile(
    path: &Path,
    wasm: &[u8],
    settings: WasmtimeSettings,
    clif_dir: Option<&Path>,
    hook: Option<ConfigHook>,
) -> EngineResult<Vec<u8>> {
    let mut config = config(path, settings, hook)?;
    let mut unnamed = None;
    if let Some(dir) = clif_dir {
        config.emit_clif(dir);
        unnamed = without_function_names(wasm);
    }
    let wasm = unnamed.as_deref().unwrap_or(wasm);
    let engine = wasmtime::Engine::new(&config).map_err(|e| wasmtime_error(path, e))?;
    crate::capture::quietly(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            engine.precompile_module(wasm)
        }))
    })
    .map_err(|p| EngineError::Panicked {
        path: path.to_path_buf(),
        function: "(module)".into(),
        message: crate::capture::panic_message(&p),
    })?
    .map_err(|e| wasmtime_error(path, e))
}

/// The module with its `name` section renamed (same length, so every byte
/// offset stays put), or `None` when it has none. Wasmtime names each CLIF file
/// after the function's name, and a name with a `/` in it (Go's
/// `internal/abi.Kind`, the spec suite's `id.wast`) makes it panic writing the
/// file. Names change no code.
fn without_function_names(wasm: &[u8]) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let Ok(wasmparser::Payload::CustomSection(c)) = payload else {
            continue;
        };
        if c.name() != "name" {
            continue;
        }
        // The section's contents start with the name's LEB128 length (4).
        let at = c.range().start;
        if wasm.get(at..at + 5) == Some(b"\x04name".as_slice()) {
            out.get_or_insert_with(|| wasm.to_vec())[at + 1..at + 5].copy_from_slice(b"nam_");
        }
    }
    out
}

/// The symbol prefix Wasmtime uses for a defined function of module 0.
fn symbol_prefix(func_index: u32) -> String {
    format!("wasm[0]::function[{func_index}]")
}

fn matches_symbol(candidate: &str, prefix: &str) -> bool {
    candidate == prefix
        || candidate
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with("::"))
}

/// Finds the CLIF file Wasmtime wrote for `func_index` (`:` became `-`).
fn find_clif_file(dir: &Path, func_index: u32) -> Option<PathBuf> {
    let prefix = symbol_prefix(func_index).replace(':', "-");
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n == format!("{prefix}.clif")
                    || n.strip_prefix(&prefix).is_some_and(|r| r.starts_with("--"))
            })
        })
}

/// Wasmtime's machine code for `func_index` in an artifact, from its symbol.
pub fn function_code(artifact: &[u8], func_index: u32) -> Option<(String, Vec<u8>)> {
    use object::{Object, ObjectSection, ObjectSymbol};
    let file = object::File::parse(artifact).ok()?;
    let text = file.section_by_name(".text")?;
    let data = text.data().ok()?;
    let prefix = symbol_prefix(func_index);
    let sym = file
        .symbols()
        .find(|s| s.name().is_ok_and(|n| matches_symbol(n, &prefix)))?;
    let start = (sym.address() - text.address()) as usize;
    let end = start + sym.size() as usize;
    Some((sym.name().ok()?.to_string(), data.get(start..end)?.to_vec()))
}

/// Wasmtime's CLIF file and machine code for one function of a compile.
fn read_translation(
    path: &Path,
    clif_dir: &Path,
    artifact: &[u8],
    func_index: u32,
    flags: &CompilerFlags,
) -> EngineResult<Translation> {
    let clif_path = find_clif_file(clif_dir, func_index).ok_or_else(|| EngineError::Wasmtime {
        path: path.to_path_buf(),
        message: format!("Wasmtime wrote no CLIF for function {func_index}"),
    })?;
    let clif_optimized = std::fs::read_to_string(&clif_path).map_err(|e| EngineError::Io {
        path: path.to_path_buf(),
        message: format!("reading Wasmtime's CLIF output: {e}"),
    })?;
    let code = function_code(artifact, func_index);
    Ok(Translation {
        func_index,
        symbol: code
            .as_ref()
            .map(|(s, _)| s.clone())
            .unwrap_or_else(|| symbol_prefix(func_index)),
        clif_optimized,
        flags: flags.clone(),
        wasmtime_code: code.map(|(_, c)| c),
    })
}

/// Translates one function (index space of the whole module) with Wasmtime.
/// `stub_others` compiles a copy with the other bodies stubbed out.
pub fn translate_function(
    path: &Path,
    wasm: &[u8],
    func_index: u32,
    settings: WasmtimeSettings,
    stub_others: bool,
) -> EngineResult<Translation> {
    translate_function_with(path, wasm, func_index, settings, stub_others, None)
}

/// [`translate_function`] with extra Wasmtime configuration.
pub fn translate_function_with(
    path: &Path,
    wasm: &[u8],
    func_index: u32,
    settings: WasmtimeSettings,
    stub_others: bool,
    hook: Option<ConfigHook>,
) -> EngineResult<Translation> {
    let module = if stub_others {
        stub_module(path, wasm, Some(func_index))?
    } else {
        wasm.to_vec()
    };
    let dir = clif_tempdir(path)?;
    let artifact = precompile(path, &module, settings, Some(dir.path()), hook)?;
    let flags = CompilerFlags::from_artifact(&artifact).map_err(|m| wasmtime_error(path, m))?;
    read_translation(path, dir.path(), &artifact, func_index, &flags)
}

/// The CLIF of one function as Wasmtime's translator produced it, before
/// optimization (a compile at opt level `none`).
pub fn translated_clif(
    path: &Path,
    wasm: &[u8],
    func_index: u32,
    target: Target,
) -> EngineResult<String> {
    let t = translate_function(
        path,
        wasm,
        func_index,
        WasmtimeSettings {
            target,
            opt: OptLevel::None,
        },
        true,
    )?;
    Ok(t.clif_optimized)
}

/// Every defined function of a module, translated by one Wasmtime compile of
/// the whole module (for corpus runs and scans, where per-function stubbing
/// would compile the module once per function).
pub fn translate_module(
    path: &Path,
    wasm: &[u8],
    settings: WasmtimeSettings,
) -> EngineResult<Vec<Translation>> {
    translate_module_with(path, wasm, settings, None)
}

/// [`translate_module`] with extra Wasmtime configuration.
pub fn translate_module_with(
    path: &Path,
    wasm: &[u8],
    settings: WasmtimeSettings,
    hook: Option<ConfigHook>,
) -> EngineResult<Vec<Translation>> {
    let dir = clif_tempdir(path)?;
    let artifact = precompile(path, wasm, settings, Some(dir.path()), hook)?;
    let flags = CompilerFlags::from_artifact(&artifact).map_err(|m| wasmtime_error(path, m))?;
    let functions = crate::input::functions::list_wasm_functions(path, wasm)?;
    let mut out = Vec::new();
    for f in functions.iter().filter(|f| !f.imported) {
        out.push(read_translation(
            path,
            dir.path(),
            &artifact,
            f.index,
            &flags,
        )?);
    }
    Ok(out)
}
