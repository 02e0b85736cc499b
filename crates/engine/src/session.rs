//! The whole pipeline for one chosen function: read Wasmtime's settings and
//! compile a Wasm function alone with Wasmtime's compiler, or parse a CLIF
//! function and compile it with Cranelift; traced or not; replay.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cranelift_codegen::ir::Function;

use crate::capture::CaptureLimits;
use crate::compile::link::{self, LinkInputs, LinkMap, LoweringSink};
use crate::compile::realloc::{self, Allocator, RegisterCounts, SweepPoint};
use crate::compile::rebuild::{self, RebuiltFunction};
use crate::compile::wasm::WasmJob;
use crate::compile::{
    self, CheckerVerdict, ClifJob, CompileEnd, CompileJob, CompiledCode, TracedCompile,
};
use crate::error::{EngineError, EngineResult};
use crate::input::clif::ClifTarget;
use crate::input::environ::{self, WasmModule};
use crate::input::isa::{Algorithm, CompilerFlags, Flag, OptLevel, Target};
use crate::input::translate::{self, Translation, WasmtimeSettings};
use crate::input::{Body, Input};
use crate::input::{clif, func_text};
use crate::releases::Release;
use crate::replay::Replay;
use crate::replay::diagnose::LoopDetector;
use crate::trace::{BundleId, RangeId, StateDump, Step, StepObserver, VRegId};

/// Everything the user chooses besides the file and function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Settings {
    pub target: Target,
    pub opt: OptLevel,
    pub algorithm: Algorithm,
    /// The regalloc2 release that allocates. Cranelift's own
    /// ([`Release::CRANELIFT`]) compiles the function as Wasmtime does; any
    /// other allocates the function Cranelift gave regalloc2, rebuilt
    /// ([`rebuild`]), so the trace has no machine code.
    #[serde(default)]
    pub release: Release,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            target: Target::Host,
            opt: OptLevel::Speed,
            algorithm: Algorithm::Backtracking,
            release: Default::default(),
        }
    }
}

impl Settings {
    /// Who allocates.
    pub fn allocator(&self) -> Allocator {
        Allocator {
            release: self.release,
            algorithm: self.algorithm,
        }
    }

    pub fn wasmtime(&self) -> WasmtimeSettings {
        WasmtimeSettings {
            target: self.target,
            opt: self.opt,
        }
    }
}

/// How the chosen function is compiled.
pub enum Route {
    /// A Wasm function compiled alone by Wasmtime's own compiler, from the
    /// module's bytes: the allocation is Wasmtime's.
    Wasm {
        /// The module, shared by every function prepared from it (a scan's
        /// functions share one environment translation).
        module: Arc<WasmModule>,
        /// Size of the function's body in bytes.
        body_bytes: usize,
    },
    /// A CLIF function compiled by cranelift-codegen. `optimized` when it is
    /// Wasmtime's CLIF output, already through the e-graph pass (compiled at
    /// opt level `none`).
    Clif {
        function: Box<Function>,
        optimized: bool,
    },
}

/// The chosen function, ready to compile.
pub struct Prepared {
    pub func_index: u32,
    pub label: String,
    pub route: Route,
    /// The CLIF: the input's function (CLIF route), or what Wasmtime's compiler
    /// wrote (Wasm route: empty until a compile has run).
    pub clif: String,
    pub flags: CompilerFlags,
    pub translate_elapsed: Duration,
}

fn compile_error(path: &Path, function: &str, message: impl Into<String>) -> EngineError {
    EngineError::Compile {
        path: path.to_path_buf(),
        function: function.to_string(),
        message: message.into(),
    }
}

/// Cranelift or regalloc2 panicked compiling `function`.
fn panicked(path: &Path, function: &str, message: &str) -> EngineError {
    EngineError::Panicked {
        path: path.to_path_buf(),
        function: function.to_string(),
        message: message.to_string(),
    }
}

fn flags_from_isa(isa: &dyn cranelift_codegen::isa::TargetIsa) -> CompilerFlags {
    let conv = |values: Vec<cranelift_codegen::settings::Value>| {
        values
            .into_iter()
            .map(|v| Flag {
                name: v.name.to_string(),
                value: v.value_string(),
            })
            .collect()
    };
    CompilerFlags {
        triple: isa.triple().to_string(),
        shared: conv(isa.flags().iter().collect()),
        isa: conv(isa.isa_flags()),
    }
}

/// Translates or parses the function `func_index` of `input`.
pub fn prepare(input: &Input, func_index: u32, settings: Settings) -> EngineResult<Prepared> {
    prepare_with(input, func_index, settings, None)
}

/// [`prepare`] with extra Wasmtime configuration (for example a memory
/// profile's knobs); CLIF inputs ignore it.
pub fn prepare_with(
    input: &Input,
    func_index: u32,
    settings: Settings,
    hook: Option<translate::ConfigHook>,
) -> EngineResult<Prepared> {
    let started = Instant::now();
    let info = input.select(&func_index.to_string())?;
    let label = info.label();
    // Before any work: a function whose size says it cannot fit.
    crate::memory::check_function_fits(
        &input.path,
        &label,
        u64::from(info.body_bytes),
        matches!(input.body, Body::Clif(_)),
    )?;
    match &input.body {
        Body::Wasm { bytes, .. } => {
            let wasm = Arc::clone(bytes);
            if info.imported {
                return Err(compile_error(
                    &input.path,
                    &label,
                    "the function is imported: it has no body to compile",
                ));
            }
            let engine = environ::engine_settings(&input.path, settings.wasmtime(), hook)?;
            Ok(Prepared {
                func_index,
                label,
                clif: String::new(),
                flags: engine.flags.clone(),
                route: Route::Wasm {
                    module: Arc::new(WasmModule::new(wasm, engine)),
                    body_bytes: info.body_bytes as usize,
                },
                translate_elapsed: started.elapsed(),
            })
        }
        Body::Clif(text) => {
            let file = clif::parse(&input.path, text)?;
            let flags = match (&file.target, file.isas().first()) {
                (_, Some(isa)) => flags_from_isa(&**isa),
                (ClifTarget::Isas(_), None) => {
                    return Err(EngineError::InvalidClif {
                        path: input.path.clone(),
                        line: 0,
                        message: "its target lines name no ISA".into(),
                    });
                }
                (ClifTarget::Flags(shared), None) => {
                    let triple = match settings.target.triple() {
                        Some(t) => t.to_string(),
                        None => target_lexicon::Triple::host().to_string(),
                    };
                    CompilerFlags {
                        triple,
                        shared: shared
                            .iter()
                            .map(|v| Flag {
                                name: v.name.to_string(),
                                value: v.value_string(),
                            })
                            .collect(),
                        isa: Vec::new(),
                    }
                }
            };
            let (function, line) = file
                .functions
                .into_iter()
                .nth(func_index as usize)
                .ok_or_else(|| compile_error(&input.path, &label, "no such function"))?;
            let clif = function_text(text, line);
            Ok(Prepared {
                func_index,
                label,
                route: Route::Clif {
                    function: Box::new(function),
                    optimized: false,
                },
                clif,
                flags,
                translate_elapsed: started.elapsed(),
            })
        }
    }
}

/// `input`'s module with Wasmtime's settings for `settings`, its environment
/// translated: prepare any number of its functions on it
/// ([`prepare_in_module`]) and they share that one translation.
pub fn prepare_module(input: &Input, settings: Settings) -> EngineResult<Arc<WasmModule>> {
    let wasm = input.wasm_shared().ok_or_else(|| EngineError::Io {
        path: input.path.clone(),
        message: "not a Wasm module".into(),
    })?;
    let engine = environ::engine_settings(&input.path, settings.wasmtime(), None)?;
    let module = WasmModule::new(Arc::clone(wasm), engine);
    module
        .translate()
        .map_err(|message| EngineError::Wasmtime {
            path: input.path.clone(),
            message,
        })?;
    Ok(Arc::new(module))
}

/// The function `func_index` of `input`, on a module [`prepare_module`] made
/// from it.
pub fn prepare_in_module(
    input: &Input,
    module: &Arc<WasmModule>,
    func_index: u32,
) -> EngineResult<Prepared> {
    let info = input.select(&func_index.to_string())?;
    let label = info.label();
    crate::memory::check_function_fits(&input.path, &label, u64::from(info.body_bytes), false)?;
    if info.imported {
        return Err(compile_error(
            &input.path,
            &label,
            "the function is imported: it has no body to compile",
        ));
    }
    Ok(Prepared {
        func_index,
        label,
        clif: String::new(),
        flags: module.settings.flags.clone(),
        route: Route::Wasm {
            module: Arc::clone(module),
            body_bytes: info.body_bytes as usize,
        },
        translate_elapsed: Duration::ZERO,
    })
}

/// The one function of a CLIF file Wasmtime's compiler wrote.
fn parse_wasmtime_clif(path: &Path, label: &str, text: &str) -> EngineResult<Function> {
    let file = clif::parse(path, text).map_err(|e| {
        compile_error(
            path,
            label,
            format!("Wasmtime's CLIF does not re-parse: {e}"),
        )
    })?;
    file.functions
        .into_iter()
        .next()
        .map(|(function, _)| function)
        .ok_or_else(|| compile_error(path, label, "Wasmtime's CLIF file is empty"))
}

/// Prepares a function from Wasmtime's CLIF output for it (a whole-module
/// compile), for the CLIF route.
pub fn prepare_translation(
    path: &Path,
    label: String,
    translation: Translation,
) -> EngineResult<Prepared> {
    let function = parse_wasmtime_clif(path, &label, &translation.clif_optimized)?;
    Ok(Prepared {
        func_index: translation.func_index,
        label,
        route: Route::Clif {
            function: Box::new(function),
            optimized: true,
        },
        clif: translation.clif_optimized,
        flags: translation.flags,
        translate_elapsed: Duration::ZERO,
    })
}

/// Prepares a function for the CLIF route whatever the input: a Wasm
/// function's CLIF comes from one untraced compile with Wasmtime's compiler
/// (the reducer and CLIF exports work on CLIF).
pub fn prepare_clif(input: &Input, func_index: u32, settings: Settings) -> EngineResult<Prepared> {
    let prepared = prepare(input, func_index, settings)?;
    if matches!(prepared.route, Route::Clif { .. }) {
        return Ok(prepared);
    }
    let compiled = compile_prepared(input, prepared, settings, false)?;
    let mut p = compiled.prepared;
    let function = parse_wasmtime_clif(&input.path, &p.label, &p.clif)?;
    p.route = Route::Clif {
        function: Box::new(function),
        optimized: true,
    };
    Ok(p)
}

/// The CLIF of one Wasm function as Wasmtime's translator produces it, before
/// optimization: what its compiler writes at opt level `none`.
pub fn translated_clif(input: &Input, func_index: u32, target: Target) -> EngineResult<String> {
    let settings = Settings {
        target,
        opt: OptLevel::None,
        algorithm: Algorithm::Backtracking,
        release: Default::default(),
    };
    let prepared = prepare(input, func_index, settings)?;
    Ok(compile_prepared(input, prepared, settings, false)?
        .prepared
        .clif)
}

/// The text of the function starting at `line` (1-based) of a CLIF file.
fn function_text(text: &str, line: usize) -> String {
    let mut out = String::new();
    let mut depth = 0i32;
    let mut started = false;
    for l in text.lines().skip(line.saturating_sub(1)) {
        out.push_str(l);
        out.push('\n');
        depth += l.matches('{').count() as i32 - l.matches('}').count() as i32;
        if l.contains('{') {
            started = true;
        }
        if started && depth <= 0 {
            break;
        }
    }
    out
}

/// A [`ClifJob`] owning its ISA.
struct OwnedClifJob<'a> {
    function: &'a Function,
    isa: cranelift_codegen::isa::OwnedTargetIsa,
}

impl OwnedClifJob<'_> {
    fn job(&self) -> ClifJob<'_> {
        ClifJob {
            func: self.function,
            isa: &*self.isa,
        }
    }
}

impl CompileJob for OwnedClifJob<'_> {
    fn checker_on(&self) -> bool {
        self.job().checker_on()
    }

    fn algorithm(&self) -> crate::input::isa::Algorithm {
        self.job().algorithm()
    }

    fn compile(&self, listing: bool) -> Result<CompiledCode, String> {
        self.job().compile(listing)
    }
}

impl Prepared {
    /// The ISA for our compile: Wasmtime's flags, opt level `none` for
    /// Wasmtime's already-optimized CLIF (Cranelift's opt level only gates the
    /// e-graph pass, which Wasmtime already ran), the algorithm, and the checker.
    pub fn isa(
        &self,
        path: &Path,
        algorithm: Algorithm,
        checker: bool,
    ) -> EngineResult<cranelift_codegen::isa::OwnedTargetIsa> {
        self.flags
            .build_isa(&self.overrides(algorithm, checker))
            .map_err(|m| compile_error(path, &self.label, m))
    }

    fn overrides(&self, algorithm: Algorithm, checker: bool) -> Vec<(&'static str, &'static str)> {
        let mut overrides = vec![
            ("regalloc_algorithm", algorithm.name()),
            ("regalloc_checker", if checker { "true" } else { "false" }),
        ];
        if let Route::Clif {
            optimized: true, ..
        } = self.route
        {
            overrides.push(("opt_level", "none"));
        }
        overrides
    }

    /// One compile of this function, to run any number of times.
    pub fn job<'a>(
        &'a self,
        path: &'a Path,
        algorithm: Algorithm,
        checker: bool,
    ) -> EngineResult<Box<dyn CompileJob + 'a>> {
        self.job_with(path, algorithm, checker, &[])
    }

    /// [`Prepared::job`] with more Cranelift settings on top (such as
    /// `regalloc_verbose_logs`, which makes regalloc2 list its edits itself).
    pub fn job_with<'a>(
        &'a self,
        path: &'a Path,
        algorithm: Algorithm,
        checker: bool,
        extra: &[(&'static str, &'static str)],
    ) -> EngineResult<Box<dyn CompileJob + 'a>> {
        let mut overrides = self.overrides(algorithm, checker);
        overrides.extend_from_slice(extra);
        Ok(match &self.route {
            Route::Wasm { module, .. } => {
                Box::new(WasmJob::new(path, module, self.func_index, overrides))
            }
            Route::Clif { function, .. } => Box::new(OwnedClifJob {
                function,
                isa: self
                    .flags
                    .build_isa(&overrides)
                    .map_err(|m| compile_error(path, &self.label, m))?,
            }),
        })
    }

    /// [`Prepared::job`] that writes no CLIF (Wasm route; a CLIF function
    /// is at hand anyway): for compiles whose CLIF nobody reads, such as a
    /// corpus scan's.
    pub fn job_without_clif<'a>(
        &'a self,
        path: &'a Path,
        algorithm: Algorithm,
        checker: bool,
    ) -> EngineResult<Box<dyn CompileJob + 'a>> {
        if let Route::Wasm { module, .. } = &self.route {
            let mut job = WasmJob::new(
                path,
                module,
                self.func_index,
                self.overrides(algorithm, checker),
            );
            job.write_clif = false;
            return Ok(Box::new(job));
        }
        self.job(path, algorithm, checker)
    }

    /// The CLIF function, on the CLIF route.
    pub fn function(&self) -> Option<&Function> {
        match &self.route {
            Route::Clif { function, .. } => Some(function),
            Route::Wasm { .. } => None,
        }
    }

    /// Who compiles it: `"wasmtime"` (Wasmtime's compiler, the function
    /// alone) or `"cranelift"` (a CLIF function recompiled).
    pub fn compiled_by(&self) -> &'static str {
        match self.route {
            Route::Wasm { .. } => "wasmtime",
            Route::Clif { .. } => "cranelift",
        }
    }

    /// The default capture limits for this function, scaled to its size.
    pub fn default_limits(&self) -> CaptureLimits {
        match &self.route {
            // The CLIF text of a function runs to about 40 bytes per byte of
            // its Wasm body.
            Route::Wasm { body_bytes, .. } => limits_for_size(body_bytes * 40),
            Route::Clif { .. } => default_limits(&self.clif),
        }
    }

    /// Keeps the CLIF a compile wrote (Wasm route), or says why there is none.
    fn keep_written_clif(&mut self, written: Option<String>) {
        if !matches!(self.route, Route::Wasm { .. }) {
            return;
        }
        self.clif = written.unwrap_or_else(|| {
            "; Wasmtime's compiler wrote no CLIF for this function: it writes it when the\n\
             ; compile returns, and this one stopped or panicked before that."
                .into()
        });
    }
}

/// Where a [`FunctionTrace`] came from.
pub enum TraceOrigin {
    /// This build compiled the function, prepared as here.
    Compiled(Box<Prepared>),
    /// Read from a regalloc2 log: no function, flags or code came with it.
    Log { label: String },
    /// The steps so far of a compile still running (a watcher's snapshot):
    /// its CLIF and code come when it finishes.
    Running { label: String, triple: String },
    /// A regalloc2 reproducer file (its `SerializableFunction`), read by
    /// `written_by`'s deserializer and allocated here: no CLIF, flags or code
    /// came with it.
    Reproducer { label: String, written_by: Release },
}

/// A trace of one function's allocation with its replay.
pub struct FunctionTrace {
    pub origin: TraceOrigin,
    /// The compile's end: [`CompileEnd::NotCompiled`] unless the origin is
    /// [`TraceOrigin::Compiled`].
    pub traced: TracedCompile,
    pub replay: Replay,
    pub trace_elapsed: Duration,
}

impl FunctionTrace {
    /// The function, or the log, in words.
    pub fn label(&self) -> &str {
        match &self.origin {
            TraceOrigin::Compiled(p) => &p.label,
            TraceOrigin::Log { label }
            | TraceOrigin::Running { label, .. }
            | TraceOrigin::Reproducer { label, .. } => label,
        }
    }

    /// The function as this build prepared it, when it compiled it.
    pub fn prepared(&self) -> Option<&Prepared> {
        match &self.origin {
            TraceOrigin::Compiled(p) => Some(p),
            _ => None,
        }
    }

    /// The target triple the allocation ran for, when this build compiled it.
    pub fn triple(&self) -> Option<&str> {
        match &self.origin {
            // A compile still running knows its target before its flags.
            TraceOrigin::Running { triple, .. } => Some(triple),
            _ => self.prepared().map(|p| p.flags.triple.as_str()),
        }
    }

    /// The target triple, or for a trace without one where it came from
    /// (`from log`, `compiling`): what the reports print as the target.
    pub fn target(&self) -> &str {
        match &self.origin {
            TraceOrigin::Compiled(p) => &p.flags.triple,
            TraceOrigin::Log { .. } => "from log",
            TraceOrigin::Running { .. } => "compiling",
            TraceOrigin::Reproducer { .. } => "from reproducer",
        }
    }

    /// Who compiled it (`wasmtime`, `cranelift`), or `none` when nothing
    /// was compiled here.
    pub fn compiled_by(&self) -> &'static str {
        self.prepared().map_or("none", Prepared::compiled_by)
    }

    /// Register names of the target, when it is known and named.
    pub fn reg_names(&self) -> Option<crate::trace::RegNames> {
        self.triple().and_then(crate::trace::RegNames::for_triple)
    }

    /// The CLIF that was allocated, or why there is none.
    pub fn clif(&self) -> Result<&str, &'static str> {
        match &self.origin {
            TraceOrigin::Compiled(p) => Ok(&p.clif),
            TraceOrigin::Log { .. } => Err(
                "This trace was imported from a regalloc2 log: the log does not carry the function's CLIF. Open the CLIF file itself to compile it here.",
            ),
            TraceOrigin::Running { .. } => Err(
                "The compile is still running: Wasmtime's compiler writes the CLIF when it finishes.",
            ),
            TraceOrigin::Reproducer { .. } => Err(
                "This trace allocates a regalloc2 reproducer file: it holds regalloc2's input (instructions, operands, blocks, machine environment), not the CLIF it was lowered from.",
            ),
        }
    }

    pub fn checker(&self) -> &CheckerVerdict {
        &self.traced.checker
    }

    pub fn code(&self) -> Option<&CompiledCode> {
        match &self.traced.end {
            CompileEnd::Done(c) => Some(c),
            _ => None,
        }
    }
}

/// Translates and compiles one function with the allocator traced.
pub fn trace_function(
    input: &Input,
    func_index: u32,
    settings: Settings,
    limits: CaptureLimits,
) -> EngineResult<FunctionTrace> {
    let prepared = prepare(input, func_index, settings)?;
    trace_prepared(input, prepared, settings, limits)
}

/// [`trace_function`] for a function already prepared.
pub fn trace_prepared(
    input: &Input,
    prepared: Prepared,
    settings: Settings,
    limits: CaptureLimits,
) -> EngineResult<FunctionTrace> {
    trace_prepared_watched(input, prepared, settings, limits, NoWatch)
}

/// An observer that watches nothing.
struct NoWatch;

impl StepObserver for NoWatch {
    fn start(&mut self, _: &StateDump, _: &[BundleId]) {}

    fn step(&mut self, _: &Step, _: &dyn Fn(RangeId) -> Option<VRegId>) -> bool {
        false
    }
}

/// [`trace_prepared`] with `watch` seeing the steps as they are parsed, beside
/// the loop detector: the app shows the steps so far from its snapshots, and
/// stops the compile through it when the user moves on (a stop it asks for
/// is reported like the loop detector's).
pub fn trace_prepared_watched(
    input: &Input,
    prepared: Prepared,
    settings: Settings,
    limits: CaptureLimits,
    watch: impl StepObserver + 'static,
) -> EngineResult<FunctionTrace> {
    if settings.release != Release::CRANELIFT {
        let func = rebuild_function(input, &prepared)?;
        return trace_rebuilt_watched(
            input,
            prepared,
            &func,
            RegisterCounts::default(),
            settings.allocator(),
            limits,
            watch,
        );
    }
    let mut prepared = prepared;
    let job = prepared.job(&input.path, settings.algorithm, true)?;
    let started = Instant::now();
    let traced = compile::compile_traced(&*job, limits, (LoopDetector::default(), watch));
    let trace_elapsed = started.elapsed();
    let written = job.written_clif();
    drop(job);
    prepared.keep_written_clif(written);
    if let CompileEnd::Error(e) = &traced.end {
        return Err(compile_error(&input.path, &prepared.label, e.clone()));
    }
    if let (CompileEnd::Panicked(p), CheckerVerdict::NotRun) = (&traced.end, &traced.checker) {
        return Err(panicked(&input.path, &prepared.label, p));
    }
    let replay = Replay::new(Arc::clone(&traced.trace));
    Ok(FunctionTrace {
        origin: TraceOrigin::Compiled(Box::new(prepared)),
        traced,
        replay,
        trace_elapsed,
    })
}

/// The regalloc2 function Cranelift allocates for the prepared function, with
/// its machine environment: a single-pass compile stopped once regalloc2 has
/// logged them (see [`rebuild`]).
pub fn rebuild_function(input: &Input, prepared: &Prepared) -> EngineResult<RebuiltFunction> {
    let job = prepared.job(&input.path, Algorithm::SinglePass, false)?;
    rebuild::rebuild(&*job, &prepared.flags.triple)
        .map_err(|m| compile_error(&input.path, &prepared.label, m))
}

/// The prepared function allocated again by regalloc2 with `counts`
/// registers, by `by`, traced and checked: a trace like a compile's, without
/// machine code.
pub fn trace_with_registers(
    input: &Input,
    prepared: Prepared,
    counts: RegisterCounts,
    by: Allocator,
    limits: CaptureLimits,
) -> EngineResult<FunctionTrace> {
    let func = rebuild_function(input, &prepared)?;
    trace_rebuilt(input, prepared, &func, counts, by, limits)
}

/// [`trace_with_registers`] for a function already rebuilt.
pub fn trace_rebuilt(
    input: &Input,
    prepared: Prepared,
    func: &RebuiltFunction,
    counts: RegisterCounts,
    by: Allocator,
    limits: CaptureLimits,
) -> EngineResult<FunctionTrace> {
    trace_rebuilt_watched(input, prepared, func, counts, by, limits, NoWatch)
}

/// [`trace_rebuilt`] with `watch` seeing the steps as they are parsed,
/// beside the loop detector (see [`trace_prepared_watched`]).
pub fn trace_rebuilt_watched(
    input: &Input,
    prepared: Prepared,
    func: &RebuiltFunction,
    counts: RegisterCounts,
    by: Allocator,
    limits: CaptureLimits,
    watch: impl StepObserver + 'static,
) -> EngineResult<FunctionTrace> {
    let env = realloc::reduced_env(&func.env, counts)
        .map_err(|m| compile_error(&input.path, &prepared.label, m))?;
    let started = Instant::now();
    let (traced, output) =
        realloc::allocate_traced(func, &env, by, limits, (LoopDetector::default(), watch));
    let trace_elapsed = started.elapsed();
    match (&traced.end, output) {
        (CompileEnd::Error(e), None) if counts.is_full() => {
            return Err(compile_error(&input.path, &prepared.label, e.clone()));
        }
        (CompileEnd::Error(e), None) => {
            return Err(compile_error(
                &input.path,
                &prepared.label,
                format!("with {}: {e}", counts.text()),
            ));
        }
        (CompileEnd::Panicked(p), _) => {
            return Err(panicked(&input.path, &prepared.label, p));
        }
        _ => {}
    }
    let replay = Replay::new(Arc::clone(&traced.trace));
    Ok(FunctionTrace {
        origin: TraceOrigin::Compiled(Box::new(prepared)),
        traced,
        replay,
        trace_elapsed,
    })
}

/// The prepared function allocated with `class` reduced from all its
/// registers down to the fewest `by` manages (see [`realloc::sweep`]).
pub fn register_sweep(
    input: &Input,
    prepared: &Prepared,
    class: regalloc2::RegClass,
    by: Allocator,
) -> EngineResult<Vec<SweepPoint>> {
    let func = rebuild_function(input, prepared)?;
    Ok(realloc::sweep(&func, class, by, prepared.default_limits()))
}

/// A regalloc2 reproducer file (`SerializableFunction` in bincode 1, what
/// `regalloc2-tool` reads), read by `read_as`'s deserializer (or the release
/// whose format alone reads it, see [`crate::releases::read_bin`]), and
/// allocated by `by`, traced.
pub fn trace_reproducer(
    path: &Path,
    read_as: Option<Release>,
    by: Allocator,
    limits: CaptureLimits,
) -> EngineResult<FunctionTrace> {
    let bytes = crate::input::file::read(path, crate::input::file::FileKind::Module)?;
    trace_reproducer_bytes(path, &bytes, read_as, by, limits)
}

/// [`trace_reproducer`] for a file already read (`path` names it).
pub fn trace_reproducer_bytes(
    path: &Path,
    bytes: &[u8],
    read_as: Option<Release>,
    by: Allocator,
    limits: CaptureLimits,
) -> EngineResult<FunctionTrace> {
    let (written_by, func) = reproducer_from_bytes(path, bytes, read_as)?;
    let label = format!(
        "{} (regalloc2 {written_by} reproducer)",
        path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned()
        )
    );
    let started = Instant::now();
    let (traced, _) =
        realloc::allocate_traced(&func, &func.env, by, limits, LoopDetector::default());
    let trace_elapsed = started.elapsed();
    match &traced.end {
        CompileEnd::Error(e) => return Err(compile_error(path, &label, e.clone())),
        CompileEnd::Panicked(p) => return Err(panicked(path, &label, p)),
        _ => {}
    }
    let replay = Replay::new(Arc::clone(&traced.trace));
    Ok(FunctionTrace {
        origin: TraceOrigin::Reproducer { label, written_by },
        traced,
        replay,
        trace_elapsed,
    })
}

/// A reproducer file's function, and the release whose format it is.
fn reproducer_from_bytes(
    path: &Path,
    bytes: &[u8],
    read_as: Option<Release>,
) -> EngineResult<(Release, RebuiltFunction)> {
    if bytes.is_empty() {
        return Err(EngineError::Empty {
            path: path.to_path_buf(),
        });
    }
    crate::compile::releases::read_bin(read_as, bytes).map_err(|message| {
        EngineError::InvalidReproducer {
            path: path.to_path_buf(),
            message,
        }
    })
}

/// The function Cranelift gave regalloc2, allocated by a runner built
/// against a regalloc2 source tree: a row beside `versions`' table.
pub fn versions_tree(
    input: &Input,
    prepared: &Prepared,
    tree: &crate::compile::releases::tree::Tree,
    limits: CaptureLimits,
) -> EngineResult<crate::releases::versions::TreeRow> {
    let func = rebuild_function(input, prepared)?;
    Ok(crate::releases::versions::tree_row(tree, &func, limits))
}

/// The prepared function allocated by a user's own regalloc2 source tree,
/// through a runner built against it (see [`crate::compile::releases::tree`]).
pub fn trace_tree(
    input: &Input,
    prepared: Prepared,
    tree: &crate::compile::releases::tree::Tree,
    limits: CaptureLimits,
) -> EngineResult<FunctionTrace> {
    use crate::compile::releases::tree::{self, TreeEnd};
    let func = rebuild_function(input, &prepared)?;
    let runner =
        tree::build_runner(tree).map_err(|m| compile_error(&input.path, &prepared.label, m))?;
    let started = Instant::now();
    let (trace, end) = tree::allocate(tree, &runner, &func, limits, LoopDetector::default())
        .map_err(|m| compile_error(&input.path, &prepared.label, m))?;
    let trace_elapsed = started.elapsed();
    let (end, checker) = match end {
        TreeEnd::Allocated { checker } if checker == "ok" => {
            (CompileEnd::AllocatedOnly, CheckerVerdict::Ok)
        }
        TreeEnd::Allocated { checker } => {
            (CompileEnd::AllocatedOnly, CheckerVerdict::Failed(checker))
        }
        TreeEnd::Stopped(s) => (CompileEnd::Stopped(s), CheckerVerdict::NotRun),
        TreeEnd::Failed(why) => {
            return Err(compile_error(
                &input.path,
                &prepared.label,
                format!(
                    "regalloc2 {} at {}: {why}",
                    tree.version,
                    tree.path.display()
                ),
            ));
        }
    };
    let records = trace.records;
    let trace = Arc::new(trace);
    let replay = Replay::new(Arc::clone(&trace));
    Ok(FunctionTrace {
        origin: TraceOrigin::Compiled(Box::new(prepared)),
        traced: TracedCompile {
            end,
            trace,
            checker,
            records,
        },
        replay,
        trace_elapsed,
    })
}

/// The prepared function allocated by every built-in regalloc2 release
/// with `algorithm`, each traced under `limits` with the loop detector.
pub fn versions(
    input: &Input,
    prepared: &Prepared,
    algorithm: Algorithm,
    limits: CaptureLimits,
) -> EngineResult<crate::releases::versions::Versions> {
    versions_each(input, prepared, algorithm, limits, |_| true)
}

/// [`versions`], showing the table to `each` after every release (see
/// [`crate::releases::versions::versions_each`]).
pub fn versions_each(
    input: &Input,
    prepared: &Prepared,
    algorithm: Algorithm,
    limits: CaptureLimits,
    each: impl FnMut(&crate::releases::versions::Versions) -> bool,
) -> EngineResult<crate::releases::versions::Versions> {
    let func = rebuild_function(input, prepared)?;
    Ok(crate::releases::versions::versions_each(
        &func,
        &func.env,
        algorithm,
        limits,
        &Release::ALL,
        each,
    ))
}

/// An untraced compile of one function.
pub struct FunctionCompile {
    pub prepared: Prepared,
    pub code: CompiledCode,
    pub checker: CheckerVerdict,
    /// Spill slots in use (known when the checker ran).
    pub spill_slots: usize,
}

/// Translates and compiles one function without tracing.
pub fn compile_function(
    input: &Input,
    func_index: u32,
    settings: Settings,
    checker: bool,
) -> EngineResult<FunctionCompile> {
    let prepared = prepare(input, func_index, settings)?;
    compile_prepared(input, prepared, settings, checker)
}

/// [`compile_function`] for a function already prepared.
pub fn compile_prepared(
    input: &Input,
    prepared: Prepared,
    settings: Settings,
    checker: bool,
) -> EngineResult<FunctionCompile> {
    let mut prepared = prepared;
    let job = prepared.job(&input.path, settings.algorithm, checker)?;
    let (end, verdict, spill_slots) = if checker {
        compile::compile_checked(&*job)
    } else {
        (compile::compile_untraced(&*job), CheckerVerdict::NotRun, 0)
    };
    let written = job.written_clif();
    drop(job);
    prepared.keep_written_clif(written);
    match end {
        CompileEnd::Done(code) => Ok(FunctionCompile {
            prepared,
            code,
            checker: verdict,
            spill_slots,
        }),
        CompileEnd::Panicked(p) if matches!(verdict, CheckerVerdict::Failed(_)) => {
            Err(compile_error(
                &input.path,
                &prepared.label,
                format!("regalloc2's checker failed: {p}"),
            ))
        }
        CompileEnd::Error(e) => Err(compile_error(&input.path, &prepared.label, e)),
        CompileEnd::Panicked(p) => Err(panicked(&input.path, &prepared.label, &p)),
        // Untraced compiles have no budget, and a compile emits code.
        end @ (CompileEnd::Stopped(_) | CompileEnd::AllocatedOnly | CompileEnd::NotCompiled) => {
            Err(compile_error(
                &input.path,
                &prepared.label,
                format!("the compile gave no code: {end}"),
            ))
        }
    }
}

/// The function as CLIF: the CLIF route's own, or on the Wasm route what
/// Wasmtime's compiler writes for it, from an untraced compile with its
/// single-pass allocator (which cannot loop, so the file is always written).
pub fn clif_function<'p>(
    path: &Path,
    prepared: &'p Prepared,
) -> EngineResult<std::borrow::Cow<'p, Function>> {
    if let Some(f) = prepared.function() {
        return Ok(std::borrow::Cow::Borrowed(f));
    }
    let job = prepared.job(path, Algorithm::SinglePass, false)?;
    if let CompileEnd::Panicked(p) = compile::compile_untraced(&*job) {
        return Err(panicked(path, &prepared.label, &p));
    }
    let text = job
        .written_clif()
        .ok_or_else(|| compile_error(path, &prepared.label, "Wasmtime's compiler wrote no CLIF"))?;
    parse_wasmtime_clif(path, &prepared.label, &text).map(std::borrow::Cow::Owned)
}

/// The default limits for a CLIF function: a record budget scaled to its text.
pub fn default_limits(clif: &str) -> CaptureLimits {
    limits_for_size(clif.len())
}

/// A record budget for a function of `clif_bytes` bytes of CLIF text.
fn limits_for_size(clif_bytes: usize) -> CaptureLimits {
    CaptureLimits {
        max_records: 2_000_000u64.max(clif_bytes as u64 * 400),
        deadline: None,
    }
}

/// regalloc2's records for one compile, as `env_logger` would print them;
/// the allocation stops once the text reaches `max_bytes` (at a whole record).
pub fn raw_log(
    prepared: &Prepared,
    path: &Path,
    by: Allocator,
    limits: CaptureLimits,
    max_bytes: usize,
) -> EngineResult<String> {
    let sink = crate::capture::raw_log::RawLogSink::new(max_bytes);
    raw_log_into(prepared, path, by, limits, sink).map(|s| s.text)
}

/// regalloc2's records for one compile, given to `sink` (which may stop the
/// allocation); the sink back.
pub fn raw_log_into<S: crate::capture::RecordSink>(
    prepared: &Prepared,
    path: &Path,
    by: Allocator,
    limits: CaptureLimits,
    sink: S,
) -> EngineResult<S> {
    if by.release != Release::CRANELIFT {
        let job = prepared.job(path, Algorithm::SinglePass, false)?;
        let func = rebuild::rebuild(&*job, &prepared.flags.triple)
            .map_err(|m| compile_error(path, &prepared.label, m))?;
        drop(job);
        let mut held =
            crate::compile::releases::port(by.release, &func, &func.env).map_err(|why| {
                compile_error(
                    path,
                    &prepared.label,
                    format!("regalloc2 {} cannot take the function: {why}", by.release),
                )
            })?;
        let (_, sink, _) =
            crate::capture::capture(sink, limits, || held.allocate(by.algorithm, false));
        return Ok(sink);
    }
    let job = prepared.job(path, by.algorithm, true)?;
    let (_, sink, _) = crate::capture::capture(sink, limits, || job.compile(false));
    Ok(sink)
}

/// A [`FunctionTrace`] for the steps so far of an allocation still running
/// (a snapshot a watcher took) for `target`: no code yet, but the target's
/// register names.
pub fn trace_so_far(label: String, target: Target, trace: crate::trace::Trace) -> FunctionTrace {
    let triple = target
        .triple()
        .map_or_else(|| target_lexicon::HOST.to_string(), str::to_string);
    uncompiled(TraceOrigin::Running { label, triple }, trace)
}

/// A [`FunctionTrace`] for a trace imported from a log: there is no function
/// to show (the log does not carry its CLIF) and no compile result, only the
/// allocator's steps. `label` names the log.
pub fn trace_from_log(label: String, trace: crate::trace::Trace) -> FunctionTrace {
    uncompiled(TraceOrigin::Log { label }, trace)
}

fn uncompiled(origin: TraceOrigin, trace: crate::trace::Trace) -> FunctionTrace {
    let records = trace.records;
    let end = match trace.stopped.clone() {
        Some(stop) => CompileEnd::Stopped(stop),
        None => CompileEnd::NotCompiled,
    };
    let trace = Arc::new(trace);
    let replay = Replay::new(Arc::clone(&trace));
    FunctionTrace {
        origin,
        traced: TracedCompile {
            end,
            trace,
            checker: CheckerVerdict::NotRun,
            records,
        },
        replay,
        trace_elapsed: Duration::ZERO,
    }
}

/// The link map of one function (see [`link`]): Wasm operators, CLIF, VCode
/// and machine code, linked. It comes from a compile of its own with
/// Cranelift's lowering records captured (they cost, so traced compiles do
/// without); compiles are deterministic, so its code is the traced one's.
pub fn link_map(input: &Input, prepared: &Prepared, settings: Settings) -> EngineResult<LinkMap> {
    let (func, translated) = match (&prepared.route, input.wasm()) {
        (Route::Wasm { .. }, Some(wasm)) => (
            Some(func_text::function_text(
                &input.path,
                wasm,
                prepared.func_index,
            )?),
            Some(translated_clif(
                input,
                prepared.func_index,
                settings.target,
            )?),
        ),
        _ => (None, None),
    };
    link_map_with(
        input,
        prepared,
        settings,
        func.as_ref(),
        translated.as_deref(),
    )
}

/// [`link_map`] with the function's Wasm text and translated CLIF already
/// at hand (the app has them for its code tabs).
pub fn link_map_with(
    input: &Input,
    prepared: &Prepared,
    settings: Settings,
    func: Option<&func_text::FuncText>,
    translated: Option<&str>,
) -> EngineResult<LinkMap> {
    use crate::capture::{self, CaptureOutcome, Sources};
    let path = &input.path;
    let job = prepared.job(path, settings.algorithm, false)?;
    let limits = CaptureLimits {
        max_records: u64::MAX,
        deadline: None,
    };
    let (outcome, lowering, _) =
        capture::capture_sources(LoweringSink::default(), limits, Sources::LOWERING, || {
            job.compile(true)
        });
    let code = match outcome {
        CaptureOutcome::Finished(Ok(c)) => c,
        CaptureOutcome::Finished(Err(e)) => return Err(compile_error(path, &prepared.label, e)),
        CaptureOutcome::Panicked(p) => {
            return Err(compile_error(
                path,
                &prepared.label,
                format!("Cranelift panicked: {p}"),
            ));
        }
        CaptureOutcome::Stopped(s) => {
            return Err(compile_error(path, &prepared.label, s.to_string()));
        }
        CaptureOutcome::NoLogger(why) => return Err(compile_error(path, &prepared.label, why)),
    };
    let clif = job.written_clif().unwrap_or_else(|| prepared.clif.clone());
    let mut map = link::build(LinkInputs {
        func,
        clif: &clif,
        clif_translated: translated,
        lowering: &lowering,
        code_bytes: code.code.len(),
        srclocs: &code.srclocs,
    });
    map.listing = code.final_vcode;
    Ok(map)
}
