//! `spillscope trace FILE --func SEL`: a traced compile, every allocator step.

use std::path::PathBuf;

use clap::Args;

use crate::engine::compile::realloc::{self, RegisterCounts};
use crate::engine::compile::rebuild::RebuiltFunction;
use crate::engine::input::Input;
use crate::engine::opening::OpenedLog;
use crate::engine::releases::Release;
use crate::engine::replay::Replay;
use crate::engine::replay::diagnose::{self, Diagnosis};
use crate::engine::replay::pressure::{self, ClassPressure};
use crate::engine::replay::{explain, narrate, single_pass};
use crate::engine::session;
use crate::engine::trace::{Outcome, RegNames, StepCounts, Trace};
use crate::engine::trace::{SpAt, SpCounts, SpEvent};

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  spillscope trace sample-modules/pressure.wat --func pressure\n  spillscope trace module.wasm --func 3 --target aarch64 --json\n  spillscope trace sample-modules/fib.clif --func fib --raw-log fib.log\n  spillscope trace sample-modules/lessons/pressure.wat --func 0 --registers int=6"
)]
pub struct TraceArgs {
    /// Input: .wasm, .wat or .clif
    #[arg(required_unless_present_any = ["log", "reproducer"])]
    pub file: Option<PathBuf>,
    /// Function: an index in the module's function index space, or a name
    #[arg(
        long = "func",
        required_unless_present_any = ["log", "reproducer"],
        allow_hyphen_values = true
    )]
    pub func: Option<String>,
    /// Target: host, x86_64, aarch64, riscv64, s390x
    #[arg(long, default_value = "host")]
    pub target: crate::engine::input::isa::Target,
    /// Cranelift opt level: none, speed, speed_and_size
    #[arg(long, default_value = "speed")]
    pub opt: crate::engine::input::isa::OptLevel,
    /// Register allocator: backtracking or single_pass
    #[arg(long, default_value = "backtracking", value_parser = super::parse_algorithm)]
    pub algorithm: crate::engine::input::isa::Algorithm,
    /// regalloc2 release that allocates: 0.9.3, 0.10.2, 0.11.3, 0.12.2, 0.13.5,
    /// 0.14.0, 0.15.2 (Cranelift's), oldest or newest; or the path of your own
    /// regalloc2 source tree (a runner is built against it once). Another than
    /// Cranelift's allocates the function Cranelift gave regalloc2 again,
    /// without machine code
    #[arg(long = "regalloc2", value_name = "VERSION|PATH", default_value = "0.15.2", value_parser = super::parse_regalloc, conflicts_with_all = ["log"])]
    pub regalloc2: super::RegallocArg,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
    /// Replay a regalloc2 trace log (RUST_LOG=regalloc2=trace output of any
    /// build) instead of compiling
    #[arg(long, conflicts_with_all = ["file", "func", "raw_log", "budget"])]
    pub log: Option<PathBuf>,
    /// Allocate a regalloc2 reproducer file (its SerializableFunction in
    /// bincode, as `export --reproducer` and regalloc2's fuzzers write it)
    /// with the --regalloc2 release, instead of compiling
    #[arg(long, value_name = "FILE.bin", conflicts_with_all = ["file", "func", "log", "raw_log", "registers"])]
    pub reproducer: Option<PathBuf>,
    /// The release whose format the reproducer file is (default: the one
    /// whose deserializer alone reads it)
    #[arg(long, value_name = "VERSION", value_parser = super::parse_release, requires = "reproducer")]
    pub written_by: Option<crate::engine::releases::Release>,
    /// Stop the allocation after this many log records (default: scaled to
    /// the function's size)
    #[arg(long, value_parser = super::parse_budget)]
    pub budget: Option<u64>,
    /// Stop the allocation after this many seconds
    #[arg(long, default_value = "60", conflicts_with = "log")]
    pub timeout: super::Seconds,
    /// Also write regalloc2's records as text, in env_logger's format
    #[arg(long)]
    pub raw_log: Option<PathBuf>,
    /// Allocate again with fewer registers per class, e.g. int=4,float=8:
    /// regalloc2 alone on the function Cranelift lowered (no machine code)
    #[arg(long, value_parser = parse_registers, conflicts_with_all = ["log", "raw_log"])]
    pub registers: Option<RegisterCounts>,
    /// Teaching mode: tell each step plainly (JSON: `narration` per step and
    /// the `glossary`)
    #[arg(long)]
    pub narrate: bool,
}

fn parse_registers(s: &str) -> Result<RegisterCounts, String> {
    s.parse()
}

/// The registers an allocation with `--registers` kept.
#[derive(serde::Serialize)]
pub struct RegistersKept {
    /// As given: `int=6`.
    pub counts: String,
    pub classes: Vec<ClassKept>,
}

#[derive(serde::Serialize)]
pub struct ClassKept {
    pub class: &'static str,
    /// The registers the target may allocate in the class.
    pub allocatable: usize,
    /// The ones kept, by name (preferred first).
    pub kept: Vec<String>,
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
    /// The register's name on the target (`rbx`, `x19`, `a0`); absent for a
    /// trace from a log, which names no target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preg_name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evicted: Vec<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub children: Option<Vec<u32>>,
    pub explanation: String,
    /// With `--narrate`: the step told plainly, one sentence per entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub narration: Option<Vec<String>>,
}

#[derive(serde::Serialize)]
pub struct Summary {
    #[serde(flatten)]
    pub counts: StepCounts,
    pub bundles: usize,
    pub records: u64,
    pub unparsed_records: u64,
    pub stopped: Option<String>,
    /// The verdict of regalloc2's checker, run in the traced compile itself.
    pub checker: String,
    /// Who compiled the traced function: `"wasmtime"` (a Wasm function,
    /// compiled alone by Wasmtime's own compiler), `"cranelift"` (a CLIF
    /// function), or `"log"` (imported from a regalloc2 log, nothing compiled).
    pub compiled_by: &'static str,
    /// The regalloc2 release that allocated, when it ran here (none for a
    /// log: see the import's dialect).
    pub regalloc2: Option<crate::engine::releases::Release>,
    /// The regalloc2 source tree that allocated, when one did: `VERSION at PATH`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regalloc2_tree: Option<String>,
    /// Per register class: the most values live at one program point, the
    /// registers regalloc2 may allocate, and the points where more are live.
    pub max_pressure: Vec<ClassPressure>,
}

#[derive(serde::Serialize)]
pub struct TraceReport {
    pub function: String,
    pub index: u32,
    pub target: String,
    pub steps: Vec<StepRow>,
    pub summary: Summary,
    /// Loop detection over the steps: does this allocation look like it never ends?
    pub diagnosis: Diagnosis,
    /// For `--log`: what the import read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import: Option<ImportSummary>,
    /// For `--registers`: the registers kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registers: Option<RegistersKept>,
    /// With `--narrate`: the terms the narration uses, defined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub glossary: Option<Vec<GlossaryEntry>>,
    /// With `--algorithm single_pass`: the single-pass allocator's steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub single_pass: Option<SinglePassReport>,
}

/// The single-pass allocator stepped.
#[derive(serde::Serialize)]
pub struct SinglePassReport {
    /// The order of the steps, in words (it is backwards).
    pub direction: &'static str,
    #[serde(flatten)]
    pub counts: SpCounts,
    /// regalloc2 logged the end of the allocation.
    pub finished: bool,
    /// Why some final edits matched no step, if any did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribution: Option<String>,
    pub steps: Vec<SinglePassRow>,
}

#[derive(serde::Serialize)]
pub struct SinglePassRow {
    pub step: usize,
    pub block: u32,
    /// The instruction, or absent for a block's start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inst: Option<u32>,
    pub headline: String,
    pub explanation: Vec<String>,
    pub events: Vec<SpEvent>,
    /// Moves the step added: `{pos, from, to}`.
    pub edits: Vec<crate::engine::trace::EditRecord>,
    /// Which value each register holds after the step.
    pub registers: Vec<Holding>,
    /// Per class, registers from most to least recently used.
    pub lru: Vec<String>,
}

#[derive(serde::Serialize)]
pub struct Holding {
    pub reg: String,
    pub vreg: u32,
}

/// The single-pass steps of `trace`, when the single-pass allocator made it.
fn single_pass_report(trace: &Trace, names: Option<RegNames>) -> Option<SinglePassReport> {
    let crate::engine::trace::Allocation::SinglePass(log) = trace.allocation() else {
        return None;
    };
    let steps = log
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| SinglePassRow {
            step: i + 1,
            block: s.block,
            inst: match s.at {
                SpAt::Inst { inst } => Some(inst),
                SpAt::BlockStart => None,
            },
            headline: single_pass::headline(s, names),
            explanation: single_pass::explain(s, names),
            events: s.events.clone(),
            edits: s.edits.clone(),
            registers: s
                .occupied
                .iter()
                .map(|&(p, vreg)| Holding {
                    reg: explain::reg(p, names),
                    vreg,
                })
                .collect(),
            lru: single_pass::lru_text(&s.lru, names),
        })
        .collect();
    Some(SinglePassReport {
        direction: single_pass::DIRECTION,
        counts: log.counts(),
        finished: log.finished,
        attribution: log.attribution.clone(),
        steps,
    })
}

#[derive(serde::Serialize)]
pub struct GlossaryEntry {
    pub term: &'static str,
    pub definition: &'static str,
}

/// Adds each step's narration and the glossary to `report`.
fn narrate_into(report: &mut TraceReport, replay: &Replay, names: Option<RegNames>) {
    for (i, row) in report.steps.iter_mut().enumerate() {
        let step = &replay.steps()[i];
        row.narration = Some(
            narrate::narrate(
                step,
                replay.vregs_at_start(i),
                names,
                replay.props_at_start(i),
            )
            .iter()
            .map(narrate::plain)
            .collect(),
        );
    }
    report.glossary = Some(
        narrate::GLOSSARY
            .iter()
            .map(|&(term, definition)| GlossaryEntry { term, definition })
            .collect(),
    );
}

/// What `counts` keeps of `func`'s environment, named on the target.
fn kept(func: &RebuiltFunction, counts: RegisterCounts, names: Option<RegNames>) -> RegistersKept {
    let classes = realloc::CLASSES
        .into_iter()
        .filter_map(|class| {
            let all = func.allocatable(class);
            let n = counts.get(class)?;
            let kept = all[..n.min(all.len())]
                .iter()
                .map(|&p| explain::reg(p.into(), names))
                .collect();
            Some(ClassKept {
                class: realloc::class_name(class),
                allocatable: all.len(),
                kept,
            })
        })
        .collect();
    RegistersKept {
        counts: counts.text(),
        classes,
    }
}

#[derive(serde::Serialize)]
pub struct ImportSummary {
    pub lines: u64,
    pub records: u64,
    pub other_targets: u64,
    pub stray_lines: u64,
    pub not_understood: u64,
    pub not_understood_samples: Vec<String>,
    pub truncated: bool,
    /// The log ends inside a line, which was not read (a cut file).
    pub cut_mid_line: bool,
    /// The regalloc2 releases whose messages fit the log, e.g. `0.9–0.11`.
    pub releases: String,
}

/// Builds the report rows from a trace and its replay.
pub fn step_rows(trace: &Trace, replay: &Replay, names: Option<RegNames>) -> Vec<StepRow> {
    trace
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            // vregs of the bundle as it was when the step began
            let vregs = replay.vregs_at_start(i).to_vec();
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
                preg_name: match (&s.outcome, names) {
                    (Outcome::Allocated { preg }, Some(n)) => Some(n.name(*preg)),
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
                explanation: explain::headline(s, names),
                narration: None,
            }
        })
        .collect()
}

/// Counts for the summary.
pub fn summarize(
    replay: &Replay,
    triple: &str,
    checker: String,
    bundles: usize,
    compiled_by: &'static str,
) -> Summary {
    let trace = replay.trace();
    Summary {
        max_pressure: pressure::pressure(replay, triple),
        counts: trace.counts(),
        bundles,
        records: trace.records,
        unparsed_records: trace.unparsed,
        stopped: trace.stopped.as_ref().map(ToString::to_string),
        checker,
        compiled_by,
        regalloc2: trace.release,
        regalloc2_tree: None,
    }
}

fn run_compile(args: &TraceArgs) -> anyhow::Result<TraceReport> {
    let (Some(file), Some(func)) = (&args.file, &args.func) else {
        anyhow::bail!("trace needs FILE and --func, or --log FILE");
    };
    let settings = crate::engine::session::Settings {
        target: args.target,
        opt: args.opt,
        algorithm: args.algorithm,
        release: args.regalloc2.release(),
    };
    let input = Input::load(file)?;
    let index = input.select(func)?.index;
    let prepared = session::prepare(&input, index, settings)?;
    let mut limits = prepared.default_limits();
    if let Some(b) = args.budget {
        limits.max_records = b;
    }

    limits.deadline = Some(std::time::Instant::now() + args.timeout.0);
    if let Some(path) = &args.raw_log {
        // Asked for by name: as long as the budget lets it be.
        let text = session::raw_log(
            &prepared,
            &input.path,
            settings.allocator(),
            limits,
            usize::MAX,
        )?;
        crate::engine::export::write_whole(path, text.as_bytes())?;
    }
    let names = RegNames::for_triple(&prepared.flags.triple);
    if let super::RegallocArg::Tree(path) = &args.regalloc2 {
        if args.registers.is_some() || args.raw_log.is_some() {
            anyhow::bail!("a regalloc2 source tree takes neither --registers nor --raw-log");
        }
        if args.algorithm != crate::engine::input::isa::Algorithm::Backtracking {
            anyhow::bail!(
                "a regalloc2 source tree runs its backtracking allocator; leave --algorithm out"
            );
        }
        let tree = crate::engine::compile::releases::tree::Tree::open(path)
            .map_err(|e| anyhow::anyhow!(e))?;
        let t = session::trace_tree(&input, prepared, &tree, limits)?;
        let mut report = compiled_report(&t, index, names, "regalloc2", None, args.narrate);
        report.summary.regalloc2_tree =
            Some(format!("{} at {}", tree.version, tree.path.display()));
        return Ok(report);
    }
    let (t, registers) = match args.registers {
        Some(counts) => {
            let func = session::rebuild_function(&input, &prepared)?;
            let t = session::trace_rebuilt(
                &input,
                prepared,
                &func,
                counts,
                settings.allocator(),
                limits,
            )?;
            (t, Some((counts, kept(&func, counts, names))))
        }
        None => (
            session::trace_prepared(&input, prepared, settings, limits)?,
            None,
        ),
    };
    let compiled_by = if registers.is_some() || settings.release != Release::CRANELIFT {
        "regalloc2"
    } else {
        t.compiled_by()
    };
    Ok(compiled_report(
        &t,
        index,
        names,
        compiled_by,
        registers,
        args.narrate,
    ))
}

/// The report of a trace made here (a compile, or an allocation made again),
/// its pressure limited to the registers kept, if fewer.
fn compiled_report(
    t: &session::FunctionTrace,
    index: u32,
    names: Option<RegNames>,
    compiled_by: &'static str,
    registers: Option<(RegisterCounts, RegistersKept)>,
    narrate: bool,
) -> TraceReport {
    let trace = &t.traced.trace;
    let mut summary = summarize(
        &t.replay,
        t.target(),
        t.checker().text(),
        t.replay.state_at(t.replay.len()).bundles.len(),
        compiled_by,
    );
    if let Some((counts, _)) = &registers {
        for p in &mut summary.max_pressure {
            if let Some(n) = counts.get(p.class.into()) {
                p.limit_to(n as u32);
            }
        }
    }
    let mut report = TraceReport {
        function: t.label().to_string(),
        index,
        target: t.target().to_string(),
        steps: step_rows(trace, &t.replay, names),
        summary,
        diagnosis: diagnose::diagnose(trace),
        import: None,
        registers: registers.map(|(_, k)| k),
        glossary: None,
        single_pass: single_pass_report(trace, names),
    };
    if narrate {
        narrate_into(&mut report, &t.replay, names);
    }
    report
}

fn run_log(path: &std::path::Path, narrate: bool) -> anyhow::Result<TraceReport> {
    let log = OpenedLog::read(path)?;
    if log.stats.cut_mid_line {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "warning: {}: the log ends inside a line, as a file cut while it was written does; that last line was not read",
            path.display()
        );
    }
    let trace = &log.trace.traced.trace;
    let replay = &log.trace.replay;
    let mut report = TraceReport {
        function: path.display().to_string(),
        index: 0,
        target: "from log".into(),
        steps: step_rows(trace, replay, None),
        summary: summarize(
            replay,
            "",
            log.checker_text(),
            replay.state_at(replay.len()).bundles.len(),
            "log",
        ),
        diagnosis: diagnose::diagnose(trace),
        import: Some(ImportSummary {
            lines: log.stats.lines,
            records: log.stats.records,
            other_targets: log.stats.other_targets,
            stray_lines: log.stats.stray_lines,
            not_understood: trace.unparsed,
            not_understood_samples: trace.unparsed_samples.clone(),
            truncated: log.stats.truncated,
            cut_mid_line: log.stats.cut_mid_line,
            releases: String::from(log.stats.dialect),
        }),
        registers: None,
        glossary: None,
        single_pass: single_pass_report(trace, None),
    };
    if narrate {
        narrate_into(&mut report, replay, None);
    }
    Ok(report)
}

fn run_reproducer(path: &std::path::Path, args: &TraceArgs) -> anyhow::Result<TraceReport> {
    let mut limits = crate::engine::capture::CaptureLimits::default();
    if let Some(b) = args.budget {
        limits.max_records = b;
    }
    limits.deadline = Some(std::time::Instant::now() + args.timeout.0);
    let by = crate::engine::compile::realloc::Allocator {
        release: args.regalloc2.release(),
        algorithm: args.algorithm,
    };
    let t = session::trace_reproducer(path, args.written_by, by, limits)?;
    let trace = &t.traced.trace;
    let replay = &t.replay;
    let mut report = TraceReport {
        function: t.label().to_string(),
        index: 0,
        target: t.target().to_string(),
        steps: step_rows(trace, replay, None),
        summary: summarize(
            replay,
            "",
            t.checker().text(),
            replay.state_at(replay.len()).bundles.len(),
            "reproducer",
        ),
        diagnosis: diagnose::diagnose(trace),
        import: None,
        registers: None,
        glossary: None,
        single_pass: single_pass_report(trace, None),
    };
    if args.narrate {
        narrate_into(&mut report, replay, None);
    }
    Ok(report)
}

pub fn run(args: TraceArgs) -> anyhow::Result<()> {
    let report = if let Some(log) = &args.log {
        run_log(log, args.narrate)?
    } else if let Some(path) = &args.reproducer {
        run_reproducer(path, &args)?
    } else {
        run_compile(&args)?
    };
    if args.json {
        return super::print_json(&report);
    }
    outln!(
        "{} (index {}) on {}, compiled by {}",
        report.function,
        report.index,
        report.target,
        match report.summary.compiled_by {
            "wasmtime" => "Wasmtime's compiler (the function alone)".into(),
            "cranelift" => "Cranelift from CLIF".into(),
            "regalloc2" => match &report.summary.regalloc2_tree {
                Some(tree) => format!("Cranelift, then allocated again by your regalloc2 {tree}"),
                None => format!(
                    "Cranelift, then allocated again by regalloc2 {} alone",
                    report.summary.regalloc2.unwrap_or_default()
                ),
            },
            "reproducer" => format!(
                "nobody (a regalloc2 reproducer file), allocated by regalloc2 {}",
                report.summary.regalloc2.unwrap_or_default()
            ),
            _ => "nobody here (imported from a log)".into(),
        }
    );
    if let Some(r) = &report.registers {
        for c in &r.classes {
            outln!(
                "{} registers: {} of {} ({})",
                c.class,
                c.kept.len(),
                c.allocatable,
                c.kept.join(" ")
            );
        }
    }
    if let Some(sp) = &report.single_pass {
        outln!("{}", sp.direction);
        for s in &sp.steps {
            outln!("{:>5}  {}", s.step, s.headline);
            if args.narrate {
                for sentence in &s.explanation {
                    outln!("       {sentence}");
                }
            }
        }
        let c = &sp.counts;
        outln!(
            "{} single-pass steps: {} instructions, {} block starts, {} evictions, {} spill slots, {} moves",
            c.steps,
            c.instructions,
            c.block_starts,
            c.evictions,
            c.spill_slots,
            c.edits
        );
        if let Some(a) = &sp.attribution {
            outln!("note: {a}");
        }
    }
    for s in &report.steps {
        outln!("{:>5}  {}", s.step, s.explanation);
        for sentence in s.narration.iter().flatten() {
            outln!("       {sentence}");
        }
    }
    let m = &report.summary;
    let c = &m.counts;
    outln!(
        "{} steps: {} allocated, {} splits, {} evictions, {} spilled; {} spill slots; checker: {}",
        c.steps,
        c.allocated,
        c.splits,
        c.evictions,
        c.spilled,
        c.spill_slots,
        m.checker
    );
    if let Some(s) = &m.stopped {
        outln!("trace {s}");
    }
    outln!("{}", report.diagnosis.description);
    if let Some(glossary) = &report.glossary {
        outln!();
        for g in glossary {
            outln!("{}: {}", g.term, g.definition);
        }
    }
    Ok(())
}
