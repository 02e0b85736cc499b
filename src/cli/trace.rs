//! `spillscope trace FILE --func SEL`: a traced compile, every allocator step.

use std::path::PathBuf;

use clap::Args;

use crate::engine::explain;
use crate::engine::input::Input;
use crate::engine::replay::Replay;
use crate::engine::session;
use crate::engine::trace::{Outcome, Trace};

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  spillscope trace sample-modules/pressure.wat --func pressure\n  spillscope trace module.wasm --func 3 --target aarch64 --json\n  spillscope trace sample-modules/fib.clif --func fib --raw-log fib.log"
)]
pub struct TraceArgs {
    #[command(flatten)]
    pub common: super::FunctionArgs,
    /// Stop the allocation after this many log records
    #[arg(long)]
    pub budget: Option<u64>,
    /// Also write regalloc2's records as text, in env_logger's format
    #[arg(long)]
    pub raw_log: Option<PathBuf>,
}

#[derive(serde::Serialize)]
pub struct StepRow {
    pub step: usize,
    pub bundle: u32,
    pub vreg: Option<u32>,
    pub vregs: Vec<u32>,
    pub phase: &'static str,
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preg: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evicted: Vec<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub children: Option<Vec<u32>>,
    pub explanation: String,
}

#[derive(serde::Serialize)]
pub struct Summary {
    pub steps: usize,
    pub allocated: usize,
    pub splits: usize,
    pub evictions: usize,
    pub spilled: usize,
    pub spill_slots: usize,
    pub bundles: usize,
    pub records: u64,
    pub unparsed_records: u64,
    pub stopped: Option<String>,
    pub checker: String,
}

#[derive(serde::Serialize)]
pub struct TraceReport {
    pub function: String,
    pub index: u32,
    pub target: String,
    pub steps: Vec<StepRow>,
    pub summary: Summary,
}

/// Builds the report rows from a trace and its replay.
pub fn step_rows(trace: &Trace, replay: &Replay) -> Vec<StepRow> {
    let mut state = replay.initial().clone();
    trace
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            // vregs of the bundle as it was when the step began
            let segs = state
                .bundles
                .get(s.bundle as usize)
                .map(|b| b.segs.clone())
                .unwrap_or_default();
            let vregs = replay.vregs_of(&segs);
            replay.seek(&mut state, i + 1);
            StepRow {
                step: i + 1,
                bundle: s.bundle,
                vreg: vregs.first().copied(),
                vregs,
                phase: match s.phase {
                    crate::engine::trace::Phase::Main => "main",
                    crate::engine::trace::Phase::SpillBundles => "spill_bundles",
                },
                outcome: s.outcome.name(),
                preg: match &s.outcome {
                    Outcome::Allocated { preg } => Some(preg.text()),
                    _ => None,
                },
                evicted: s.evicted(),
                split_at: match &s.outcome {
                    Outcome::Split { at, .. } => Some(at.text()),
                    _ => None,
                },
                children: match &s.outcome {
                    Outcome::Split { children, .. } => Some(children.clone()),
                    _ => None,
                },
                explanation: explain::headline(s),
            }
        })
        .collect()
}

/// Counts for the summary.
pub fn summarize(trace: &Trace, checker: String, bundles: usize) -> Summary {
    let count = |name: &str| {
        trace
            .steps
            .iter()
            .filter(|s| s.outcome.name() == name)
            .count()
    };
    Summary {
        steps: trace.steps.len(),
        allocated: count("allocated"),
        splits: count("split"),
        evictions: trace.steps.iter().map(|s| s.evicted().len()).sum(),
        spilled: count("spilled"),
        spill_slots: trace.spill_slots.len(),
        bundles,
        records: trace.records,
        unparsed_records: trace.unparsed,
        stopped: trace.stopped.as_ref().map(|s| format!("{s:?}")),
        checker,
    }
}

pub fn run(args: TraceArgs) -> anyhow::Result<()> {
    let a = &args.common;
    let input = Input::load(&a.file)?;
    let index = input.select(&a.func)?.index;
    let prepared = session::prepare(&input, index, a.settings())?;
    let mut limits = session::default_limits(&prepared.clif);
    if let Some(b) = args.budget {
        limits.max_records = b;
    }
    if let Some(path) = &args.raw_log {
        let isa = prepared.isa(&input.path, a.algorithm, true)?;
        let text = session::raw_log(&prepared, &*isa, limits);
        std::fs::write(path, text)
            .map_err(|e| anyhow::anyhow!("{}: cannot write the log: {e}", path.display()))?;
    }
    let t = session::trace_prepared(&input, prepared, a.settings(), limits)?;
    let trace = &t.traced.trace;
    let report = TraceReport {
        function: t.prepared.label.clone(),
        index,
        target: t.prepared.flags.triple.clone(),
        steps: step_rows(trace, &t.replay),
        summary: summarize(
            trace,
            t.checker().text(),
            t.replay.state_at(t.replay.len()).bundles.len(),
        ),
    };
    if a.json {
        return super::print_json(&report);
    }
    println!(
        "{} (index {}) on {}",
        report.function, report.index, report.target
    );
    for s in &report.steps {
        println!("{:>5}  {}", s.step, s.explanation);
    }
    let m = &report.summary;
    println!(
        "{} steps: {} allocated, {} splits, {} evictions, {} spilled; {} spill slots; checker: {}",
        m.steps, m.allocated, m.splits, m.evictions, m.spilled, m.spill_slots, m.checker
    );
    if let Some(s) = &m.stopped {
        println!("stopped early: {s}");
    }
    Ok(())
}
