//! `spillscope fidelity FILE|DIR...`: is the code of our CLIF recompile
//! Wasmtime's own code, function by function?

use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;

use crate::engine::input::isa::{OptLevel, Target};
use crate::engine::session::Settings;
use crate::engine::triage::fidelity::{self, FidelityReport, FidelityStatus};
use crate::engine::triage::scan;

#[derive(Args, Debug)]
#[command(after_help = "\
Each module is compiled once, whole, by Wasmtime; each function's CLIF (as
Wasmtime wrote it) is then compiled here with Wasmtime's Cranelift flags, and
the two machine codes are compared byte for byte outside relocations (the calls
Wasmtime patches when it links). Status per function: identical, differs (with
the first differing instruction in both disassemblies), error. Folders are
searched for .wasm and .wat files.

Exit status: 0 every function identical; 2 a difference or an error; 1 a usage
or I/O error before comparing.

Examples:
  spillscope fidelity sample-modules/c/kernels.wasm
  spillscope fidelity corpus/ --target aarch64 --opt none --jobs 8 --json")]
pub struct FidelityArgs {
    /// Inputs: .wasm or .wat files, or folders to search
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Target: host, x86_64, aarch64, riscv64, s390x
    #[arg(long, default_value = "host")]
    pub target: Target,
    /// Cranelift opt level: none, speed, speed_and_size
    #[arg(long, default_value = "speed")]
    pub opt: OptLevel,
    /// Which compile to compare: clif (Wasmtime's CLIF recompiled, as scans and
    /// the reducer do) or wasmtime (the function alone in Wasmtime's compiler,
    /// as trace and the app do)
    #[arg(long, default_value = "clif")]
    pub route: fidelity::FidelityRoute,
    /// Worker threads for our compiles (default: the available parallelism)
    #[arg(long)]
    pub jobs: Option<usize>,
    /// List identical functions too (text output)
    #[arg(long)]
    pub all: bool,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: FidelityArgs) -> anyhow::Result<()> {
    if args.jobs == Some(0) {
        anyhow::bail!("--jobs must be at least 1");
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let paths: Vec<PathBuf> = scan::collect_inputs(&args.paths)?
        .into_iter()
        // CLIF found in a folder has nothing to compare with; named, it is an error.
        .filter(|p| args.paths.contains(p) || p.extension().is_none_or(|e| e != "clif"))
        .collect();
    if paths.is_empty() {
        anyhow::bail!("no .wasm or .wat files under the given paths");
    }
    let settings = Settings {
        target: args.target,
        opt: args.opt,
        ..Settings::default()
    };
    let report = fidelity::check_route(&paths, settings, jobs, args.route);
    if args.json {
        super::print_json(&report)?;
    } else {
        print_text(&mut std::io::stdout().lock(), &report, args.all)?;
    }
    if report.summary.any_difference() {
        let _ = std::io::stdout().flush();
        std::process::exit(2);
    }
    Ok(())
}

fn print_text(
    out: &mut impl std::io::Write,
    report: &FidelityReport,
    all: bool,
) -> std::io::Result<()> {
    for m in &report.modules {
        if let Some(e) = &m.error {
            // The engine's message starts with the path.
            writeln!(out, "module error: {e}")?;
        }
        for f in &m.functions {
            let name = f.name.as_deref().unwrap_or("");
            match f.status {
                FidelityStatus::Identical if all => writeln!(
                    out,
                    "{}: function {} {name}: identical ({} bytes)",
                    m.path, f.index, f.ours_bytes
                )?,
                FidelityStatus::Identical => {}
                FidelityStatus::Differs => {
                    writeln!(
                        out,
                        "{}: function {} {name}: differs: {} vs {} bytes (ours vs Wasmtime's), {} bytes differ",
                        m.path, f.index, f.ours_bytes, f.wasmtime_bytes, f.differing_bytes
                    )?;
                    if let Some(d) = &f.first_difference {
                        writeln!(out, "    ours:     {}", d.ours)?;
                        writeln!(out, "    Wasmtime: {}", d.wasmtime)?;
                    }
                    if let Some(why) = &f.explanation {
                        writeln!(out, "    why:      {why}")?;
                    }
                }
                FidelityStatus::Error => writeln!(
                    out,
                    "{}: function {} {name}: error: {}",
                    m.path,
                    f.index,
                    f.error.as_deref().unwrap_or("")
                )?,
            }
        }
    }
    let s = &report.summary;
    writeln!(
        out,
        "compared {} functions in {} modules ({}, opt {}, {} route): {} identical, {} differ, {} errors, {} module errors in {:.2} s ({} jobs)",
        s.functions,
        s.modules,
        s.target,
        s.opt,
        match s.route {
            fidelity::FidelityRoute::Clif => "CLIF",
            fidelity::FidelityRoute::Wasmtime => "Wasmtime",
        },
        s.identical,
        s.differs,
        s.errors,
        s.module_errors,
        s.elapsed_ms as f64 / 1000.0,
        s.jobs
    )
}
