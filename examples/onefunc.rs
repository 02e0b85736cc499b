//! Prototype for issue 11: compile only the chosen function, once, with
//! Wasmtime's own Cranelift compiler (`wasmtime-environ` +
//! `wasmtime-internal-cranelift` 48.0.8), capturing regalloc2's records during
//! that compile, and compare its machine code with Wasmtime's full-module code.
//!
//! Not wired into the app. Run with
//! `cargo run --example onefunc [-- <module> [<function index or name>]]`;
//! without arguments it runs `sample-modules/c/kernels.wasm`'s `printf_core` and
//! every function of `sample-modules/calls.wat`, then times the module-environment
//! translation of a synthetic 14 MB module.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use spillscope::engine::capture::{self, CaptureLimits, CaptureOutcome};
use spillscope::engine::compile::{CompiledCode, fidelity};
use spillscope::engine::input::Input;
use spillscope::engine::input::isa::{Algorithm, OptLevel, Target};
use spillscope::engine::input::translate::{self, WasmtimeSettings};
use spillscope::engine::session::{self, Settings};
use spillscope::engine::trace::TraceBuilder;
use wasmtime_environ::wasmparser;
use wasmtime_environ::{
    CompiledFunctionBody, EntityRef, FuncIndex, FuncKey, FunctionBodyData, ModuleEnvironment,
    ModuleTranslation, ModuleTypesBuilder, StaticModuleIndex, Tunables,
};

type Res<T> = Result<T, String>;

/// Wasmtime's `Metadata` (wasmtime 48 `src/engine/serialization.rs`): the
/// settings of the engine that wrote an artifact, after `Config` processing.
#[derive(serde::Deserialize)]
struct EngineMetadata<'a> {
    target: String,
    #[serde(borrow)]
    shared_flags: Vec<(&'a str, wasmtime_environ::FlagValue<'a>)>,
    #[serde(borrow)]
    isa_flags: Vec<(&'a str, wasmtime_environ::FlagValue<'a>)>,
    tunables: Tunables,
    features: u64,
}

/// What one compile needs from Wasmtime's configuration.
struct EngineSettings {
    triple: String,
    flags: Vec<(String, String)>,
    tunables: Tunables,
    features: wasmparser::WasmFeatures,
    dense_image_size: u64,
}

/// Reads Wasmtime's settings from the artifact of an empty module compiled
/// with the same `Config`.
fn engine_settings(settings: WasmtimeSettings) -> Res<(EngineSettings, Duration)> {
    use object::{Object, ObjectSection};
    let started = Instant::now();
    let mut config = wasmtime::Config::new();
    if let Some(triple) = settings.target.triple() {
        config.target(triple).map_err(|e| format!("{e:#}"))?;
    }
    config.cranelift_opt_level(settings.opt.wasmtime());
    let engine = wasmtime::Engine::new(&config).map_err(|e| format!("{e:#}"))?;
    let artifact = engine
        .precompile_module(b"\0asm\x01\0\0\0")
        .map_err(|e| format!("{e:#}"))?;
    let file = object::File::parse(&*artifact).map_err(|e| e.to_string())?;
    let data = file
        .section_by_name(".wasmtime.engine")
        .ok_or("no engine section")?
        .data()
        .map_err(|e| e.to_string())?;
    // Version byte 0, then a length-prefixed version string, then postcard.
    let len = usize::from(*data.get(1).ok_or("short engine section")?);
    let (meta, _): (EngineMetadata, _) =
        postcard::take_from_bytes(data.get(2 + len..).ok_or("short engine section")?)
            .map_err(|e| format!("engine metadata: {e}"))?;
    let flags = meta
        .shared_flags
        .iter()
        .chain(&meta.isa_flags)
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    Ok((
        EngineSettings {
            triple: meta.target,
            flags,
            tunables: meta.tunables,
            features: wasmparser::WasmFeatures::from_bits_retain(meta.features),
            dense_image_size: engine.get_memory_guaranteed_dense_image_size(),
        },
        started.elapsed(),
    ))
}

/// Wasmtime's Cranelift compiler with its settings, the checker on and CLIF
/// written into `clif_dir`.
fn build_compiler(
    es: &EngineSettings,
    clif_dir: &Path,
) -> Res<Box<dyn wasmtime_environ::Compiler>> {
    let triple: target_lexicon::Triple = es.triple.parse().map_err(|e| format!("{e}"))?;
    let mut b = wasmtime_internal_cranelift::builder(Some(triple)).map_err(|e| format!("{e:#}"))?;
    b.set_tunables(es.tunables.clone())
        .map_err(|e| format!("{e:#}"))?;
    for (n, v) in &es.flags {
        b.set(n, v).map_err(|e| format!("setting {n}={v}: {e:#}"))?;
    }
    b.set("regalloc_checker", "true")
        .map_err(|e| format!("{e:#}"))?;
    b.clif_dir(clif_dir).map_err(|e| format!("{e:#}"))?;
    b.build().map_err(|e| format!("{e:#}"))
}

/// The module environment as Wasmtime's `build_module_artifacts` and
/// `prepare_translation` make it.
fn translate_env<'d>(
    es: &EngineSettings,
    compiler: &dyn wasmtime_environ::Compiler,
    wasm: &'d [u8],
) -> Res<(ModuleTranslation<'d>, ModuleTypesBuilder)> {
    let mut validator = wasmparser::Validator::new_with_features(es.features);
    let mut parser = wasmparser::Parser::new(0);
    parser.set_features(*validator.features());
    let mut types = ModuleTypesBuilder::new(&validator);
    let mut translation = ModuleEnvironment::new(
        &es.tunables,
        &mut validator,
        &mut types,
        StaticModuleIndex::from_u32(0),
    )
    .translate(parser, wasm)
    .map_err(|e| format!("{e:#}"))?;
    translation.finalize_memory_init(
        &es.tunables,
        compiler.page_size_align(),
        es.dense_image_size,
        &mut types,
    );
    translation.finalize_table_init(&es.tunables, &mut types);
    Ok((translation, types))
}

fn reloc_size(kind: cranelift_codegen::binemit::Reloc) -> usize {
    use cranelift_codegen::binemit::Reloc;
    // As spillscope's `compile` stage sizes them.
    match kind {
        Reloc::Abs8 => 8,
        Reloc::S390xPCRel32Dbl | Reloc::S390xPLTRel32Dbl => 4,
        Reloc::RiscvCallPlt => 8,
        _ => 4,
    }
}

struct OneFunc {
    env_elapsed: Duration,
    clif_elapsed: Duration,
    alloc_elapsed: Duration,
    steps: usize,
    /// Every record the logger saw, and those delivered to the trace builder.
    records: u64,
    delivered: u64,
    checker: String,
    code: Option<CompiledCode>,
    clif_files: Vec<String>,
    /// The CLIF Wasmtime's compiler wrote (after its e-graph pass).
    clif: Option<String>,
}

/// Compiles function `func_index` alone: Wasm → CLIF outside the capture,
/// then optimization, lowering, allocation and emission inside it.
/// `traced = false` runs the same compile outside any capture, for timing.
fn compile_one(es: &EngineSettings, wasm: &[u8], func_index: u32, traced: bool) -> Res<OneFunc> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let compiler = build_compiler(es, dir.path())?;
    let started = Instant::now();
    let (mut translation, types) = translate_env(es, &*compiler, wasm)?;
    let env_elapsed = started.elapsed();

    let def = translation
        .module
        .defined_func_index(FuncIndex::from_u32(func_index))
        .ok_or("an imported function")?;
    let inputs = std::mem::take(&mut translation.function_body_inputs);
    let data: FunctionBodyData = inputs
        .into_iter()
        .nth(def.index())
        .map(|(_, d)| d)
        .ok_or("no body")?;
    let body = data.body.clone();
    let key = FuncKey::DefinedWasmFunction(StaticModuleIndex::from_u32(0), def);
    // Our own symbol: it names the CLIF file and changes no code.
    let symbol = format!("wasm[0]::function[{func_index}]");

    let started = Instant::now();
    let mut out: CompiledFunctionBody = compiler
        .compile_function(&translation, key, data, &types, &symbol)
        .map_err(|e| format!("{e:?}"))?;
    let clif_elapsed = started.elapsed();

    let inliner = compiler.inlining_compiler().ok_or("no inlining compiler")?;
    let started = Instant::now();
    let (outcome, builder, records) = if traced {
        capture::capture(TraceBuilder::new(), CaptureLimits::default(), || {
            inliner.finish_compiling(&mut out, Some(body), &symbol)
        })
    } else {
        let r = inliner.finish_compiling(&mut out, Some(body), &symbol);
        (CaptureOutcome::Finished(r), TraceBuilder::new(), 0)
    };
    let alloc_elapsed = started.elapsed();
    let trace = builder.finish();
    let (code, checker) = match outcome {
        CaptureOutcome::Finished(Ok(())) => {
            let f = out
                .code
                .downcast_ref::<wasmtime_internal_cranelift::CompiledFunction>()
                .ok_or("not a CompiledFunction")?;
            let code = CompiledCode {
                code: f.buffer.data().to_vec(),
                reloc_sites: f
                    .buffer
                    .relocs()
                    .iter()
                    .map(|r| r.offset as usize..r.offset as usize + reloc_size(r.kind))
                    .collect(),
                final_vcode: String::new(),
                vcode_insts: 0,
                elapsed: alloc_elapsed,
            };
            let checker = trace.checker_error.clone().unwrap_or_else(|| "ok".into());
            (Some(code), checker)
        }
        CaptureOutcome::Finished(Err(e)) => (None, format!("error: {e:#}")),
        CaptureOutcome::Panicked(p) => (None, format!("panicked: {p}")),
        CaptureOutcome::Stopped(s) => (None, format!("stopped: {s}")),
    };
    let clif_files: Vec<String> = std::fs::read_dir(dir.path())
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let clif = std::fs::read_to_string(
        dir.path()
            .join(format!("wasm[0]--function[{func_index}].clif")),
    )
    .ok();
    Ok(OneFunc {
        env_elapsed,
        clif_elapsed,
        alloc_elapsed,
        steps: trace.steps.len(),
        records,
        delivered: trace.records,
        checker,
        code,
        clif_files,
        clif,
    })
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// One module: the chosen functions compiled alone, compared with Wasmtime's
/// full-module code and with today's pipeline (stubbed precompile + recompile).
fn run_module(path: &Path, only: Option<&str>, target: Target) -> Res<()> {
    let input = Input::load(path).map_err(|e| e.to_string())?;
    let wasm = input.wasm.as_deref().ok_or("not a module")?;
    let ws = WasmtimeSettings {
        target,
        opt: OptLevel::Speed,
    };
    let (es, probe_elapsed) = engine_settings(ws)?;
    println!(
        "{}: {} bytes; engine settings from an empty module's artifact in {} (inlining {:?})",
        path.display(),
        wasm.len(),
        ms(probe_elapsed),
        es.tunables.inlining
    );
    let started = Instant::now();
    let full = translate::translate_module(path, wasm, ws).map_err(|e| e.to_string())?;
    println!(
        "  Wasmtime full-module precompile: {}",
        ms(started.elapsed())
    );

    let chosen: Vec<_> = input
        .functions
        .iter()
        .filter(|f| !f.imported)
        .filter(|f| match only {
            None => true,
            Some(o) => o == f.index.to_string() || f.name.as_deref() == Some(o),
        })
        .collect();
    for f in chosen {
        let label = f.name.clone().unwrap_or_else(|| f.index.to_string());
        let one = compile_one(&es, wasm, f.index, true)?;
        let again = compile_one(&es, wasm, f.index, true)?;
        let untraced = compile_one(&es, wasm, f.index, false)?;
        println!(
            "  function {} ({label}): env {} + Wasm→CLIF {} + traced compile {} (again {}, untraced {}); {} steps, {} records ({} delivered), checker {}; CLIF files {:?}",
            f.index,
            ms(one.env_elapsed),
            ms(one.clif_elapsed),
            ms(one.alloc_elapsed),
            ms(again.alloc_elapsed),
            ms(untraced.alloc_elapsed),
            one.steps,
            one.records,
            one.delivered,
            one.checker,
            one.clif_files
        );
        println!(
            "    untraced one-function code equals the traced one: {}",
            match (&one.code, &untraced.code) {
                (Some(a), Some(b)) => (a.code == b.code).to_string(),
                _ => "n/a".into(),
            }
        );
        let wasmtime_code = full
            .iter()
            .find(|t| t.func_index == f.index)
            .and_then(|t| t.wasmtime_code.as_deref());
        match (&one.code, wasmtime_code) {
            (Some(code), Some(theirs)) => {
                let fid = fidelity::compare(code, theirs);
                println!(
                    "    code {} bytes, {} relocations; {}",
                    code.code.len(),
                    code.reloc_sites.len(),
                    fid.text()
                );
            }
            (None, _) => println!("    no code"),
            (_, None) => println!("    Wasmtime's code not found"),
        }
        // Today's pipeline, for comparison: stubbed precompile, CLIF re-parsed,
        // recompiled at opt level none with the trace captured.
        let settings = Settings {
            target,
            opt: OptLevel::Speed,
            algorithm: Algorithm::Backtracking,
        };
        let started = Instant::now();
        let today = session::trace_function(&input, f.index, settings, CaptureLimits::default())
            .map_err(|e| e.to_string())?;
        let today_elapsed = started.elapsed();
        let today_code = today.code().map(|c| c.code.len());
        // Today's records as the trace builder saw them (the session
        // overwrites `records` with the logger's count).
        let isa = today
            .prepared
            .isa(path, Algorithm::Backtracking, true)
            .map_err(|e| e.to_string())?;
        let (_, b, all) = capture::capture(TraceBuilder::new(), CaptureLimits::default(), || {
            spillscope::engine::compile::compile_untraced(&today.prepared.function, &*isa)
        });
        println!(
            "    today's records: {all} seen by the logger, {} delivered",
            b.finish().records
        );
        println!(
            "    today's pipeline: {} in all (translate {}, trace {}); {} steps, {} records, code {:?} bytes, same code as the one-function compile: {}, same CLIF: {}",
            ms(today_elapsed),
            ms(today.prepared.translate_elapsed),
            ms(today.trace_elapsed),
            today.traced.trace.steps.len(),
            today.traced.records,
            today_code,
            match (today.code(), &one.code) {
                (Some(a), Some(b)) => (a.code == b.code).to_string(),
                _ => "n/a".into(),
            },
            one.clif.as_deref() == Some(today.prepared.clif.as_str())
        );
    }
    Ok(())
}

fn leb(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn section(out: &mut Vec<u8>, id: u8, data: &[u8]) {
    out.push(id);
    leb(out, data.len() as u32);
    out.extend_from_slice(data);
}

/// A synthetic module of about `target` bytes: `n` functions of `nop`s with
/// names, one memory and a 1 MiB data segment (a stand-in for a big
/// Emscripten module: translation time depends on section sizes and counts,
/// not on the bodies, which it does not parse).
fn synthetic_module(n: u32, body_len: usize) -> Vec<u8> {
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    section(&mut m, 1, &[1, 0x60, 0, 0]);
    let mut funcs = Vec::new();
    leb(&mut funcs, n);
    funcs.extend(std::iter::repeat_n(0u8, n as usize));
    section(&mut m, 3, &funcs);
    section(&mut m, 5, &[1, 0, 17]);
    let mut code = Vec::new();
    leb(&mut code, n);
    for _ in 0..n {
        leb(&mut code, body_len as u32 + 2);
        code.push(0);
        code.extend(std::iter::repeat_n(0x01u8, body_len));
        code.push(0x0b);
    }
    section(&mut m, 10, &code);
    let mut data = vec![1, 0, 0x41, 0x80, 0x08, 0x0b];
    leb(&mut data, 1 << 20);
    data.extend(std::iter::repeat_n(7u8, 1 << 20));
    section(&mut m, 11, &data);
    let mut names = Vec::new();
    leb(&mut names, 4);
    names.extend_from_slice(b"name");
    let mut sub = Vec::new();
    leb(&mut sub, n);
    for i in 0..n {
        leb(&mut sub, i);
        let name = format!("synthetic_function_{i}");
        leb(&mut sub, name.len() as u32);
        sub.extend_from_slice(name.as_bytes());
    }
    names.push(1);
    leb(&mut names, sub.len() as u32);
    names.extend_from_slice(&sub);
    section(&mut m, 0, &names);
    m
}

fn run_synthetic() -> Res<()> {
    let ws = WasmtimeSettings {
        target: Target::X86_64,
        opt: OptLevel::Speed,
    };
    let (es, _) = engine_settings(ws)?;
    let wasm = synthetic_module(5307, 2400);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let compiler = build_compiler(&es, dir.path())?;
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        let (t, _) = translate_env(&es, &*compiler, &wasm)?;
        best = best.min(started.elapsed());
        assert_eq!(t.function_body_inputs.len(), 5307);
    }
    println!(
        "synthetic module: {:.1} MB, 5,307 functions: module environment translated in {} (best of 3)",
        wasm.len() as f64 / 1e6,
        ms(best)
    );
    let one = compile_one(&es, &wasm, 4000, true)?;
    println!(
        "  one function of it: env {} + Wasm→CLIF {} + traced compile {}; checker {}",
        ms(one.env_elapsed),
        ms(one.clif_elapsed),
        ms(one.alloc_elapsed),
        one.checker
    );
    // Today: Wasmtime precompiles a copy with every other body stubbed.
    let path = Path::new("synthetic.wasm");
    let started = Instant::now();
    let t =
        translate::translate_function(path, &wasm, 4000, ws, true).map_err(|e| e.to_string())?;
    println!(
        "  today's stubbed precompile of it: {} ({} bytes of CLIF)",
        ms(started.elapsed()),
        t.clif_optimized.len()
    );
    Ok(())
}

/// Every function of every module of the spec test suite's scripts, compiled
/// alone (checker on, untraced) and compared with Wasmtime's full-module code.
fn run_spec(dir: &Path, target: Target, opt: OptLevel) -> Res<()> {
    use wast::parser::{self, ParseBuffer};
    use wast::{QuoteWat, Wast, WastDirective};
    let ws = WasmtimeSettings { target, opt };
    let (es, _) = engine_settings(ws)?;
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wast"))
        .collect();
    scripts.sort();
    let (mut modules, mut refused, mut functions, mut identical) = (0, 0, 0, 0);
    let mut differing = Vec::new();
    let mut failed = Vec::new();
    let started = Instant::now();
    for script in &scripts {
        let Ok(text) = std::fs::read_to_string(script) else {
            continue;
        };
        let Ok(buf) = ParseBuffer::new(&text) else {
            continue;
        };
        let Ok(wast) = parser::parse::<Wast>(&buf) else {
            continue;
        };
        let stem = script.file_stem().map(|s| s.to_string_lossy().into_owned());
        let stem = stem.unwrap_or_default();
        for (m, d) in wast.directives.into_iter().enumerate() {
            let (WastDirective::Module(mut q) | WastDirective::ModuleDefinition(mut q)) = d else {
                continue;
            };
            if !matches!(
                q,
                QuoteWat::Wat(wast::Wat::Module(_)) | QuoteWat::QuoteModule(..)
            ) {
                continue;
            }
            let Ok(wasm) = q.encode() else {
                continue;
            };
            modules += 1;
            let label = format!("{stem}#{m}");
            let path = PathBuf::from(&label);
            let Ok(full) = translate::translate_module(&path, &wasm, ws) else {
                refused += 1;
                continue;
            };
            for t in &full {
                functions += 1;
                let one = match compile_one(&es, &wasm, t.func_index, false) {
                    Ok(one) => one,
                    Err(e) => {
                        failed.push(format!("{label} function {}: {e}", t.func_index));
                        continue;
                    }
                };
                match (&one.code, &t.wasmtime_code) {
                    (Some(code), Some(theirs)) => {
                        let fid = fidelity::compare(code, theirs);
                        if fid.identical() {
                            identical += 1;
                        } else {
                            differing.push(format!(
                                "{label} function {}: {}",
                                t.func_index,
                                fid.text()
                            ));
                        }
                    }
                    _ => failed.push(format!(
                        "{label} function {}: {} / Wasmtime code {}",
                        t.func_index,
                        one.checker,
                        t.wasmtime_code.is_some()
                    )),
                }
            }
        }
    }
    println!(
        "spec suite, {} at {}: {} scripts, {modules} modules ({refused} refused by Wasmtime), {functions} functions: {identical} identical, {} differing, {} failed, in {:.1} s",
        target.name(),
        opt.name(),
        scripts.len(),
        differing.len(),
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    for d in differing.iter().chain(&failed).take(20) {
        println!("  {d}");
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let target = std::env::var("ONEFUNC_TARGET")
        .ok()
        .map(|t| t.parse::<Target>())
        .transpose()
        .unwrap_or_else(|e| {
            eprintln!("onefunc: {e}");
            std::process::exit(2)
        })
        .unwrap_or(Target::X86_64);
    let opt = std::env::var("ONEFUNC_OPT")
        .ok()
        .map(|o| o.parse::<OptLevel>())
        .transpose()
        .unwrap_or_else(|e| {
            eprintln!("onefunc: {e}");
            std::process::exit(2)
        })
        .unwrap_or(OptLevel::Speed);
    let result = match args.first().map(String::as_str) {
        Some("--spec") => match args.get(1) {
            Some(dir) => run_spec(Path::new(dir), target, opt),
            None => Err("--spec needs the folder of .wast scripts".into()),
        },
        Some(path) => run_module(
            &PathBuf::from(path),
            args.get(1).map(String::as_str),
            target,
        ),
        None => run_module(
            Path::new("sample-modules/c/kernels.wasm"),
            Some("printf_core"),
            target,
        )
        .and_then(|()| run_module(Path::new("sample-modules/calls.wat"), None, target))
        .and_then(|()| run_synthetic()),
    };
    if let Err(e) = result {
        eprintln!("onefunc: {e}");
        std::process::exit(1);
    }
}
