//! `spillscope compare FILE --func SEL --profile A --profile B`: one function
//! compiled under several memory profiles, side by side: explicit bounds
//! checks and where they come from, code size, and the allocator's work.

use std::path::PathBuf;

use clap::Args;

use crate::engine::input::Input;
use crate::engine::input::isa::OptLevel;
use crate::engine::layout::Profile;
use crate::engine::layout::effect::{self, CompareReport, EffectOutcome};
use crate::engine::layout::model::ModuleLayout;
use crate::engine::session::Settings;

#[derive(Args, Debug)]
#[command(
    after_help = "Profiles: as for `spillscope layout` (jit, aot:<target>, explicit[:<target>],
limit:<pages>[:<target>], wasmedge[:<pages>], v8, wamr, wasmer, wasm3, ...). WasmEdge, V8,
WAMR, Wasmer and wasm3 profiles are models and are not compiled; their rows say so.
Without --profile: jit and explicit.

Examples:
  spillscope compare sample-modules/memory.wat --func copy_sum --profile jit --profile explicit
  spillscope compare sample-modules/c/kernels.wasm --func lz_compress --profile aot:x86_64 --profile explicit:x86_64 --json"
)]
pub struct CompareArgs {
    /// Input: .wasm or .wat
    pub file: PathBuf,
    /// Function: an index in the module's function index space, or a name
    #[arg(long = "func", allow_hyphen_values = true)]
    pub func: String,
    /// A profile to compile under (repeatable)
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,
    /// Cranelift opt level: none, speed, speed_and_size
    #[arg(long, default_value = "speed")]
    pub opt: OptLevel,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: CompareArgs) -> anyhow::Result<()> {
    let input = Input::load(&args.file)?;
    let profiles = if args.profiles.is_empty() {
        vec![Profile::from_spec("jit")?, Profile::from_spec("explicit")?]
    } else {
        args.profiles
            .iter()
            .map(|s| Profile::from_spec(s))
            .collect::<Result<Vec<_>, _>>()?
    };
    let wasm = input.wasm().ok_or_else(|| {
        anyhow::anyhow!(
            "{}: compare needs a WebAssembly module; this is CLIF text",
            args.file.display()
        )
    })?;
    let module = ModuleLayout::from_wasm(&input.path, wasm)?;
    let index = input.select(&args.func)?.index;
    let settings = Settings {
        opt: args.opt,
        ..Settings::default()
    };
    let (report, _) = effect::compare(&input, &module, index, &profiles, settings)?;
    if args.json {
        return super::print_json(&report);
    }
    out!("{}", render_text(&report));
    Ok(())
}

/// The text table (also used by tests).
pub fn render_text(report: &CompareReport) -> String {
    let mut out = format!("{} (function {})\n", report.function, report.func_index);
    out.push_str(&format!(
        "{:<50} {:>7} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6}\n",
        "profile", "checks", "clif", "bytes", "steps", "splits", "evict", "spill", "slots", "moves"
    ));
    for r in &report.rows {
        match &r.outcome {
            EffectOutcome::Compiled(e) => out.push_str(&format!(
                "{:<50} {:>7} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6}\n",
                r.name,
                e.bounds_checks,
                e.clif_insts,
                e.code_size_bytes,
                e.allocator_steps,
                e.splits,
                e.evictions,
                e.spilled_bundles,
                e.spill_slots,
                e.inserted_moves.total
            )),
            EffectOutcome::NotCompiled { reason } => {
                out.push_str(&format!("{:<50} not compiled: {reason}\n", r.name))
            }
            EffectOutcome::Failed { message } => {
                out.push_str(&format!("{:<50} failed: {message}\n", r.name))
            }
        }
    }
    for r in &report.rows {
        let Some(e) = r.effect() else { continue };
        if e.check_sites.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "\nExplicit checks under '{}' ({} in the CLIF, {} modelled):\n",
            r.name, e.bounds_checks, e.modelled_explicit_checks
        ));
        for s in &e.check_sites {
            out.push_str(&format!(
                "  0x{:04x}  {:<28} {} check instruction(s); model: {}\n",
                s.module_offset,
                s.instruction.as_deref().unwrap_or("(not a scanned access)"),
                s.check_instructions,
                s.modelled.map_or("-", |k| k.describe())
            ));
        }
    }
    out
}
