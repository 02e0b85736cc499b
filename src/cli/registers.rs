//! `spillscope registers FILE --func SEL`: the function allocated again by
//! regalloc2 with one register class cut from all its registers down to the
//! fewest it manages; splits, evictions, moves, spills and reloads per count
//! (the CLI twin of the app's register-count plot).

use clap::Args;

use crate::engine::compile::realloc::{self, SweepPoint};
use crate::engine::input::Input;
use crate::engine::replay::explain;
use crate::engine::session;
use crate::engine::trace::RegNames;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  spillscope registers sample-modules/lessons/pressure.wat --func 0 --target x86_64\n  spillscope registers module.wasm --func 12 --class float --json"
)]
pub struct RegistersArgs {
    #[command(flatten)]
    pub common: super::FunctionArgs,
    /// Register class to cut: int, float or vector
    #[arg(long, default_value = "int", value_parser = parse_class)]
    pub class: regalloc2::RegClass,
}

fn parse_class(s: &str) -> Result<regalloc2::RegClass, String> {
    realloc::CLASSES
        .into_iter()
        .find(|&c| realloc::class_name(c) == s)
        .ok_or_else(|| format!("unknown class `{s}` (int, float, vector)"))
}

#[derive(serde::Serialize)]
pub struct RegistersReport {
    pub function: String,
    pub index: u32,
    pub target: String,
    pub class: &'static str,
    /// The class's allocatable registers on the target, by name, in the
    /// order a reduced count keeps them (preferred first).
    pub allocatable: Vec<String>,
    /// One allocation per count, from all the registers down.
    pub points: Vec<SweepPoint>,
}

pub fn run(args: RegistersArgs) -> anyhow::Result<()> {
    let a = &args.common;
    if a.algorithm != crate::engine::input::isa::Algorithm::Backtracking {
        anyhow::bail!("registers re-runs the backtracking allocator; leave --algorithm out");
    }
    let input = Input::load(&a.file)?;
    let index = input.select(&a.func)?.index;
    let prepared = session::prepare(&input, index, a.settings())?;
    let func = session::rebuild_function(&input, &prepared)?;
    let names = RegNames::for_triple(&prepared.flags.triple);
    let allocatable = func
        .allocatable(args.class)
        .iter()
        .map(|&p| explain::reg(p.into(), names))
        .collect();
    let report = RegistersReport {
        function: prepared.label.clone(),
        index,
        target: prepared.flags.triple.clone(),
        class: realloc::class_name(args.class),
        allocatable,
        points: realloc::sweep(
            &func,
            args.class,
            a.settings().allocator(),
            prepared.default_limits(),
        ),
    };
    if a.json {
        return super::print_json(&report);
    }
    outln!(
        "{} (index {}) on {}: {} registers cut from {} ({})",
        report.function,
        report.index,
        report.target,
        report.class,
        report.allocatable.len(),
        report.allocatable.join(" ")
    );
    outln!("registers  splits  evictions  moves  spills  reloads  slots  checker");
    for p in &report.points {
        if let Some(e) = &p.error {
            outln!("{:>9}  {e}", p.registers);
            continue;
        }
        outln!(
            "{:>9}  {:>6}  {:>9}  {:>5}  {:>6}  {:>7}  {:>5}  {}",
            p.registers,
            p.splits,
            p.evictions,
            p.edits.moves,
            p.edits.spills,
            p.edits.reloads,
            p.spill_slots,
            if p.checked { "ok" } else { "FAILED" }
        );
    }
    Ok(())
}
