//! `spillscope moves FILE --func SEL`: every move, spill and reload regalloc2
//! inserted into one function, each with the allocator step that caused it.

use clap::Args;

use crate::engine::input::Input;
use crate::engine::replay::moves::{self, MoveItem, MoveSummary};
use crate::engine::session;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  spillscope moves sample-modules/pressure.wat --func pressure\n  spillscope moves module.wasm --func 12 --target aarch64 --json"
)]
pub struct MovesArgs {
    #[command(flatten)]
    pub common: super::FunctionArgs,
}

#[derive(serde::Serialize)]
pub struct MovesReport {
    pub function: String,
    pub index: u32,
    pub target: String,
    pub moves: Vec<MoveItem>,
    pub summary: MoveSummary,
    pub note: Option<String>,
}

pub fn run(args: MovesArgs) -> anyhow::Result<()> {
    let a = &args.common;
    let input = Input::load(&a.file)?;
    let index = input.select(&a.func)?.index;
    let prepared = session::prepare(&input, index, a.settings())?;
    let limits = prepared.default_limits();
    let t = session::trace_prepared(&input, prepared, a.settings(), limits)?;
    if let Some(stop) = &t.traced.trace.stopped {
        anyhow::bail!(
            "{}: the allocation of {} {stop}, so its moves were never inserted",
            input.path.display(),
            t.label()
        );
    }
    let names = t.reg_names();
    let report = moves::attribute(&t.replay, names);
    let out = MovesReport {
        function: t.label().to_string(),
        index,
        target: t.target().to_string(),
        moves: report.moves,
        summary: report.summary,
        note: report.note,
    };
    if a.json {
        return super::print_json(&out);
    }
    outln!("{} (index {}) on {}", out.function, out.index, out.target);
    let s = &out.summary;
    outln!(
        "{} moves, {} spills, {} reloads, {} stack-to-stack; {} without a cause step; {} look redundant; {} forced by reuse; {} elided by regalloc2",
        s.moves,
        s.spills,
        s.reloads,
        s.stack_moves,
        s.unattributed,
        s.redundant,
        s.reuse,
        s.elided
    );
    if let Some(note) = &out.note {
        outln!("note: {note}");
    }
    for m in &out.moves {
        let step = m
            .cause
            .as_ref()
            .map_or_else(|| "      ".into(), |c| format!("step {:<5}", c.step));
        outln!(
            "{:>9}  {:<10} {:>8} -> {:<8} {}  {}",
            m.point.text(),
            m.kind.word(),
            m.from,
            m.to,
            step,
            m.why
        );
    }
    Ok(())
}
