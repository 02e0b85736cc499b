//! `spillscope export FILE --func SEL (--html OUT | --svg OUT | --png OUT |
//! --bundle DIR | --reproducer OUT.bin)`: the chart at a step as SVG or PNG,
//! a self-contained HTML report of the trace, a bug bundle for an allocator
//! report, or the allocator's input in regalloc2's own reproducer format.

use std::path::PathBuf;

use clap::Args;

use crate::engine::export::{bundle, html, png, scene, svg};
use crate::engine::input::Input;
use crate::engine::replay::{diagnose, moves};
use crate::engine::session;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  spillscope export sample-modules/pressure.wat --func pressure --svg chart.svg --step 20\n  spillscope export module.wasm --func 12 --html report.html\n  spillscope export hang.wasm --func 3384 --bundle report-3384 --budget 2000000\n  spillscope export sample-modules/hang/loop.clif --func 0 --reproducer loop.bin --regalloc2 0.11.3"
)]
#[group(id = "out", required = true, multiple = false)]
pub struct ExportArgs {
    #[command(flatten)]
    pub common: super::FunctionArgs,
    /// Write a self-contained HTML report of the trace
    #[arg(long, group = "out")]
    pub html: Option<PathBuf>,
    /// Write the chart at --step as SVG
    #[arg(long, group = "out")]
    pub svg: Option<PathBuf>,
    /// Write the chart at --step as PNG
    #[arg(long, group = "out")]
    pub png: Option<PathBuf>,
    /// Write a bug bundle (CLIF, flags, the log cut at the budget, the diagnosis, a README) into this folder
    #[arg(long, group = "out")]
    pub bundle: Option<PathBuf>,
    /// Write the allocator's input as regalloc2's own reproducer file (its
    /// SerializableFunction in bincode) for the --regalloc2 release: what that
    /// release's regalloc2-tool reads
    #[arg(long, group = "out", value_name = "OUT.bin")]
    pub reproducer: Option<PathBuf>,
    /// The chart after this many steps (default: all of them)
    #[arg(long)]
    pub step: Option<usize>,
    /// Rows of the chart at most (a window around the step's bundle)
    #[arg(long, default_value_t = 600)]
    pub rows: usize,
    /// Stop the allocation after this many log records (default: scaled to the function's size)
    #[arg(long, value_parser = super::parse_budget)]
    pub budget: Option<u64>,
}

fn write(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    Ok(crate::engine::export::write_whole(path, bytes)?)
}

pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let a = &args.common;
    let input = Input::load(&a.file)?;
    let index = input.select(&a.func)?.index;
    if let Some(path) = &args.reproducer {
        let prepared = session::prepare(&input, index, a.settings())?;
        let func = session::rebuild_function(&input, &prepared)?;
        let bytes = crate::engine::releases::to_bin(a.regalloc2, &func, &func.env)
            .map_err(|e| anyhow::anyhow!("{}: {e}", input.path.display()))?;
        write(path, &bytes)?;
        outln!("{}", path.display());
        return Ok(());
    }
    if let Some(dir) = &args.bundle {
        for f in bundle::write_function(&input, index, a.settings(), args.budget, dir)? {
            outln!("{}", f.display());
        }
        return Ok(());
    }
    let prepared = session::prepare(&input, index, a.settings())?;
    let mut limits = prepared.default_limits();
    if let Some(b) = args.budget {
        limits.max_records = b;
    }
    let t = session::trace_prepared(&input, prepared, a.settings(), limits)?;
    let names = t.reg_names();
    let title = format!("{} · {}", t.label(), input.path.display());
    if let Some(path) = &args.html {
        let report = moves::attribute(&t.replay, names);
        let diagnosis = diagnose::diagnose(&t.traced.trace);
        let text = html::write(&html::Report {
            title,
            target: t.target().to_string(),
            replay: &t.replay,
            names,
            checker: t.checker().text(),
            diagnosis: &diagnosis,
            moves: &report,
            vcode: t.traced.trace.vcode_before.as_deref(),
            final_code: t.code().map(|c| c.final_vcode.as_str()),
        });
        write(path, text.as_bytes())?;
        outln!("{}", path.display());
        return Ok(());
    }
    let step = args.step.unwrap_or(t.replay.len());
    if step > t.replay.len() {
        anyhow::bail!("--step {step}: the trace has {} steps", t.replay.len());
    }
    let chart = scene::chart(&t.replay, step, &title, names, args.rows.max(1));
    if let Some(path) = &args.svg {
        write(path, svg::write(&chart).as_bytes())?;
        outln!("{}", path.display());
    }
    if let Some(path) = &args.png {
        let bytes = png::write(&chart).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        write(path, &bytes)?;
        outln!("{}", path.display());
    }
    Ok(())
}
