//! `spillscope fidelity`: for every function of many modules, is our code
//! Wasmtime's own code? Each module is compiled once, whole, by Wasmtime (its
//! CLIF and its machine code for every function); each function is then
//! compiled here, untraced, on worker threads, by the CLIF route (Wasmtime's
//! CLIF recompiled) or the traced route (the function alone in Wasmtime's
//! compiler), and the two codes are compared outside relocations. A difference
//! names the first instruction where they part, in both disassemblies; a CLIF
//! route difference that the traced route does not have is explained as such.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::compile::fidelity::{self, FirstDifference};
use crate::error::EngineError;
use crate::input::environ::WasmModule;
use crate::input::translate::{self, Translation};
use crate::input::{Input, InputKind};
use crate::session::{self, Settings};

/// Which of spillscope's compiles is compared with Wasmtime's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FidelityRoute {
    /// Wasmtime's optimized CLIF compiled again by cranelift-codegen (scans,
    /// the reducer, CLIF exports).
    #[default]
    Clif,
    /// The function alone in Wasmtime's own compiler: the compile `trace` and
    /// the app step through.
    Wasmtime,
}

impl std::str::FromStr for FidelityRoute {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "clif" => Ok(FidelityRoute::Clif),
            "wasmtime" => Ok(FidelityRoute::Wasmtime),
            _ => Err(format!("unknown route `{s}` (clif, wasmtime)")),
        }
    }
}

/// The verdict on one function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FidelityStatus {
    Identical,
    Differs,
    /// Our compile (or reading Wasmtime's code) failed.
    Error,
}

/// One function's comparison.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct FunctionFidelity {
    pub index: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub status: FidelityStatus,
    pub ours_bytes: usize,
    pub wasmtime_bytes: usize,
    /// Bytes outside relocations that differ.
    pub differing_bytes: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_difference: Option<FirstDifference>,
    /// Why the codes differ, once the cause is known; `null` until then.
    pub explanation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One module's comparisons.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ModuleFidelity {
    pub path: String,
    pub functions: Vec<FunctionFidelity>,
    /// Why the module could not be read or translated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Counts over every module.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct FidelitySummary {
    pub modules: usize,
    pub functions: usize,
    pub identical: usize,
    pub differs: usize,
    pub errors: usize,
    pub module_errors: usize,
    pub target: String,
    pub opt: String,
    #[serde(default)]
    pub route: FidelityRoute,
    pub jobs: usize,
    pub elapsed_ms: u64,
}

impl FidelitySummary {
    /// Whether anything is not identical: the CLI's exit code 2.
    pub fn any_difference(&self) -> bool {
        self.identical != self.functions || self.module_errors > 0
    }
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct FidelityReport {
    pub modules: Vec<ModuleFidelity>,
    pub summary: FidelitySummary,
}

/// Compares every defined function of every module in `paths` (in order),
/// compiled by the CLIF route.
pub fn check(paths: &[PathBuf], settings: Settings, jobs: usize) -> FidelityReport {
    check_route(paths, settings, jobs, FidelityRoute::Clif)
}

/// [`check`] for either route.
pub fn check_route(
    paths: &[PathBuf],
    settings: Settings,
    jobs: usize,
    route: FidelityRoute,
) -> FidelityReport {
    let started = Instant::now();
    let jobs = jobs.max(1);
    let modules: Vec<ModuleFidelity> = paths
        .iter()
        .map(|p| check_module(p, settings, jobs, route))
        .collect();
    let mut summary = FidelitySummary {
        modules: modules.len(),
        module_errors: modules.iter().filter(|m| m.error.is_some()).count(),
        target: settings.target.name().to_string(),
        opt: settings.opt.name().to_string(),
        route,
        jobs,
        ..FidelitySummary::default()
    };
    for f in modules.iter().flat_map(|m| &m.functions) {
        summary.functions += 1;
        match f.status {
            FidelityStatus::Identical => summary.identical += 1,
            FidelityStatus::Differs => summary.differs += 1,
            FidelityStatus::Error => summary.errors += 1,
        }
    }
    summary.elapsed_ms = started.elapsed().as_millis() as u64;
    FidelityReport { modules, summary }
}

fn check_module(
    path: &Path,
    settings: Settings,
    jobs: usize,
    route: FidelityRoute,
) -> ModuleFidelity {
    let mut out = ModuleFidelity {
        path: path.display().to_string(),
        functions: Vec::new(),
        error: None,
    };
    let translated = Input::load(path).and_then(|input| {
        if input.kind() == InputKind::Clif {
            return Err(EngineError::Unsupported {
                path: path.to_path_buf(),
                message: "CLIF text has no Wasmtime code to compare with; give a .wasm or .wat"
                    .into(),
            });
        }
        let wasm = input.wasm().unwrap_or_default();
        let translations = translate::translate_module(path, wasm, settings.wasmtime())?;
        // The traced route's functions share one environment translation.
        let module = match route {
            FidelityRoute::Wasmtime => Some(session::prepare_module(&input, settings)?),
            FidelityRoute::Clif => None,
        };
        Ok((input, translations, module))
    });
    let (input, translations, module) = match translated {
        Ok(t) => t,
        Err(e) => {
            out.error = Some(e.to_string());
            return out;
        }
    };
    // Worker threads take the functions in turn; results keep their order.
    let next = AtomicUsize::new(0);
    let tasks: Vec<Mutex<Option<Translation>>> = translations
        .into_iter()
        .map(|t| Mutex::new(Some(t)))
        .collect();
    let results: Vec<Mutex<Option<FunctionFidelity>>> =
        tasks.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..jobs.min(tasks.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(task) = tasks.get(i) else { break };
                    let Some(t) = task.lock().ok().and_then(|mut t| t.take()) else {
                        continue;
                    };
                    let result = check_function(&input, t, settings, module.as_ref());
                    if let Ok(mut slot) = results[i].lock() {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    out.functions = results
        .into_iter()
        .filter_map(|r| r.into_inner().ok().flatten())
        .collect();
    out
}

/// The function compiled untraced, with the ISA to disassemble it: inside
/// Wasmtime's compiler when there is a `module` (the traced route), else from
/// Wasmtime's CLIF.
fn compile_by(
    input: &Input,
    t: &Translation,
    settings: Settings,
    module: Option<&Arc<WasmModule>>,
) -> Result<
    (
        session::FunctionCompile,
        cranelift_codegen::isa::OwnedTargetIsa,
    ),
    EngineError,
> {
    let index = t.func_index;
    let prepared = match module {
        None => session::prepare_translation(&input.path, format!("function {index}"), t.clone())?,
        Some(module) => session::prepare_in_module(input, module, index)?,
    };
    let isa = prepared.isa(&input.path, settings.algorithm, false)?;
    let c = session::compile_prepared(input, prepared, settings, false)?;
    Ok((c, isa))
}

fn check_function(
    input: &Input,
    t: Translation,
    settings: Settings,
    module: Option<&Arc<WasmModule>>,
) -> FunctionFidelity {
    let index = t.func_index;
    let name = input
        .functions
        .get(index as usize)
        .and_then(|f| f.name.clone());
    let mut out = FunctionFidelity {
        index,
        name,
        status: FidelityStatus::Error,
        ours_bytes: 0,
        wasmtime_bytes: 0,
        differing_bytes: 0,
        first_difference: None,
        explanation: None,
        error: None,
    };
    let Some(theirs) = t.wasmtime_code.clone() else {
        out.error = Some(format!("Wasmtime's artifact has no code for {}", t.symbol));
        return out;
    };
    out.wasmtime_bytes = theirs.len();
    let (c, isa) = match compile_by(input, &t, settings, module) {
        Ok(x) => x,
        Err(e) => {
            out.error = Some(e.to_string());
            return out;
        }
    };
    let report = fidelity::compare(&c.code, &theirs);
    out.ours_bytes = report.ours_bytes;
    out.differing_bytes = report.differing_offsets.len();
    if report.identical() {
        out.status = FidelityStatus::Identical;
    } else {
        out.status = FidelityStatus::Differs;
        out.first_difference = fidelity::first_difference(&report, &c.code, &theirs, &*isa);
        if module.is_none() {
            out.explanation = explain_clif_difference(input, &t, settings, &theirs);
        }
    }
    out
}

/// Why the CLIF route's code differs, when the traced route tells: the same
/// function compiled inside Wasmtime's compiler gives Wasmtime's code.
fn explain_clif_difference(
    input: &Input,
    t: &Translation,
    settings: Settings,
    theirs: &[u8],
) -> Option<String> {
    let module = session::prepare_module(input, settings).ok()?;
    let (c, _) = compile_by(input, t, settings, Some(&module)).ok()?;
    fidelity::compare(&c.code, theirs).identical().then(|| {
        "compiled inside Wasmtime's compiler (the route `trace` and the app use) the code is \
         Wasmtime's: the difference comes from lowering Wasmtime's optimized CLIF again outside it"
            .to_string()
    })
}
