//! `ra0113`: run regalloc2 0.11.3 (the yanked release with the infinite split
//! loop, regalloc2 issues #218/#219) on the functions of a CLIF file, through
//! Cranelift 0.118 configured the way Wasmtime 31 configures it on x86_64.
//!
//! ```text
//! ra0113 check FILE.clif [--budget N] [--log OUT.log] [--timeout SECS] [--opt-level L] [--strict-reader]
//! ra0113 settings [--opt-level L]
//! ```
//!
//! `--strict-reader` parses the file with cranelift-reader 0.118 exactly as
//! it is, without the alias-region rewrite of `compat.rs`: it stands for a
//! test command built on an unmodified older Cranelift, which accepts only
//! that release's own CLIF dialect.
//!
//! The input is a function as Wasmtime's `Config::emit_clif` writes it: after
//! Cranelift's mid-end (egraph) optimizations. So by default the egraph pass
//! is not run again (`opt_level=none`, the only thing that setting changes in
//! Cranelift 0.118), and lowering and register allocation then see exactly
//! what they saw inside Wasmtime. `--opt-level speed` runs the mid-end as
//! Wasmtime did, for CLIF taken before it.
//!
//! Exit codes of `check`:
//! * 0: every function allocated;
//! * 1: usage, I/O, parse, verifier or other compile error;
//! * 3: a function logged more than N regalloc2 records (the allocation does
//!   not terminate, or at least not within the budget);
//! * 4: the wall-clock timeout expired before the budget was reached;
//! * 101: a panic inside Cranelift or regalloc2.

mod compat;
mod logger;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::isa::{self, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::Context;
use cranelift_reader::{parse_test, IsaSpec, ParseOptions};

/// Default per-function budget of regalloc2 trace records. A split loop
/// crosses it within a second or two. Most functions stay far below it
/// (with regalloc2 0.11.2, esbuild's largest logs 1.3 million), but the very
/// largest functions of real modules can exceed it (swc's 2.4 MB `u0:68`
/// logs 20.7 million): give those a budget relative to a 0.11.2 run.
const DEFAULT_BUDGET: u64 = 2_000_000;

/// Cranelift shared settings that Wasmtime 31.0.0 applies by default
/// (`wasmtime::Config::new` and `Config::build_compiler`, plus
/// `wasmtime_cranelift::isa_builder::IsaBuilder::new`). Everything not listed
/// keeps Cranelift's default, as in Wasmtime.
/// (`opt_level` is Wasmtime's `speed` but set from `--opt-level`.)
const WASMTIME31_SHARED: &[(&str, &str)] = &[
    ("enable_verifier", "false"),
    ("probestack_strategy", "inline"),
    ("enable_probestack", "true"),
    ("enable_multi_ret_implicit_sret", "true"),
    ("preserve_frame_pointers", "true"),
    // Wasmtime requires this whenever the reference-types proposal is on
    // (it is by default).
    ("enable_safepoints", "true"),
];

/// x86_64 ISA flags that `cranelift_native::infer_native_flags` (used by
/// Wasmtime when no target is given) detected on the machine where the
/// sample loop was found (AMD EPYC, AVX-512 without BITALG). They are fixed
/// here so that the allocator input does not depend on the host running the
/// check.
const WASMTIME31_X86_64_ISA: &[&str] = &[
    "has_cmpxchg16b",
    "has_sse3",
    "has_ssse3",
    "has_sse41",
    "has_sse42",
    "has_popcnt",
    "has_avx",
    "has_avx2",
    "has_fma",
    "has_bmi1",
    "has_bmi2",
    "has_avx512dq",
    "has_avx512f",
    "has_avx512vl",
    "has_avx512vbmi",
    "has_lzcnt",
];

struct CheckArgs {
    file: PathBuf,
    budget: u64,
    log: Option<PathBuf>,
    timeout: Option<u64>,
    opt_level: String,
    /// Parse with cranelift-reader 0.118 as is (no `compat` rewrite).
    strict_reader: bool,
}

const USAGE: &str = "usage: ra0113 check FILE.clif [--budget N] [--log OUT.log] [--timeout SECS] [--opt-level none|speed|speed_and_size] [--strict-reader]\n       ra0113 settings [--opt-level L]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("check") => parse_check_args(&args[1..], true).and_then(check),
        Some("settings") => parse_check_args(&args[1..], false).and_then(print_settings),
        _ => Err(anyhow::anyhow!("{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            logger::flush();
            eprintln!("ra0113: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn parse_check_args(args: &[String], need_file: bool) -> Result<CheckArgs> {
    let mut file = None;
    let mut opt_level = "none".to_string();
    let mut budget = DEFAULT_BUDGET;
    let mut log = None;
    let mut timeout = None;
    let mut strict_reader = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .with_context(|| format!("{name} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--budget" => budget = value("--budget")?.parse().context("--budget")?,
            "--log" => log = Some(PathBuf::from(value("--log")?)),
            "--timeout" => timeout = Some(value("--timeout")?.parse().context("--timeout")?),
            "--opt-level" => opt_level = value("--opt-level")?,
            "--strict-reader" => strict_reader = true,
            s if s.starts_with("--") => bail!("unknown option {s}\n{USAGE}"),
            s if file.is_none() => file = Some(PathBuf::from(s)),
            s => bail!("unexpected argument {s}\n{USAGE}"),
        }
    }
    if need_file && file.is_none() {
        bail!("{USAGE}");
    }
    Ok(CheckArgs {
        file: file.unwrap_or_default(),
        budget,
        log,
        timeout,
        opt_level,
        strict_reader,
    })
}

/// The x86_64 ISA with Wasmtime 31's default settings, except `opt_level`.
fn wasmtime31_isa(opt_level: &str) -> Result<OwnedTargetIsa> {
    let mut shared = settings::builder();
    shared.set("opt_level", opt_level)?;
    for (name, value) in WASMTIME31_SHARED {
        shared.set(name, value)?;
    }
    // Wasmtime targets the host triple; the OS part selects the default
    // (libcall) calling convention.
    let mut isa = isa::lookup_by_name("x86_64-unknown-linux-gnu")?;
    for flag in WASMTIME31_X86_64_ISA {
        isa.enable(flag)?;
    }
    Ok(isa.finish(settings::Flags::new(shared))?)
}

fn print_settings(args: CheckArgs) -> Result<()> {
    let isa = wasmtime31_isa(&args.opt_level)?;
    println!("target {}", isa.triple());
    for v in isa.flags().iter() {
        println!("set {v}");
    }
    for v in isa.isa_flags() {
        println!("isa {v}");
    }
    Ok(())
}

fn check(args: CheckArgs) -> Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    // CLIF printed by Cranelift 0.135 (spillscope's reducer) uses alias-region
    // declarations that 0.118 does not know; see compat.rs. With
    // `--strict-reader` the text goes to the 0.118 reader untouched.
    let text = if args.strict_reader {
        std::borrow::Cow::Borrowed(text.as_str())
    } else {
        compat::alias_regions_to_0118(&text)
    };
    let test = parse_test(&text, ParseOptions::default())
        .map_err(|e| anyhow::anyhow!("{}:{e}", args.file.display()))?;

    // A file that names its own target (`target x86_64 ...`) is compiled for
    // that; plain function text gets Wasmtime 31's x86_64 settings.
    let isa = match &test.isa_spec {
        IsaSpec::Some(isas) => isas[0].clone(),
        IsaSpec::None(_) => wasmtime31_isa(&args.opt_level)?,
    };
    if test.functions.is_empty() {
        bail!("{}: no functions", args.file.display());
    }

    logger::install(args.budget, args.log.as_deref())?;
    if let Some(secs) = args.timeout {
        logger::start_watchdog(Duration::from_secs(secs));
    }

    for (func, _) in test.functions {
        let name = func.name.to_string();
        // Verify first: Wasmtime runs with the verifier off, but a reducer
        // must learn that its candidate is invalid CLIF rather than see a
        // panic or a bogus result.
        cranelift_codegen::verify_function(&func, isa.flags())
            .map_err(|e| anyhow::anyhow!("verifier errors in {name}:\n{e}"))?;

        logger::start_function(&name);
        let start = Instant::now();
        let mut ctx = Context::for_function(func);
        ctx.compile(&*isa, &mut ControlPlane::default())
            .map_err(|e| anyhow::anyhow!("compiling {name}: {:?}", e.inner))?;
        let records = logger::records();
        eprintln!(
            "ok: {name}: {records} regalloc2 records, {:.1} ms",
            start.elapsed().as_secs_f64() * 1e3
        );
    }
    logger::flush();
    Ok(())
}
