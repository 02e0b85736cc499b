//! Compiling one CLIF function with cranelift-codegen, traced or not.
//!
//! A traced compile runs inside [`capture::capture`] with the regalloc2 checker
//! on; its records go to a [`TraceBuilder`] that parses them into events as they
//! arrive. The untraced compile is the one we compare with Wasmtime's code.

pub mod fidelity;

use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cranelift_codegen::ir::Function;
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::{Context, FinalizedMachReloc};

use crate::engine::capture::{
    self, CaptureLimits, CaptureOutcome, CaptureStop, RecordSink, Source, Verdict,
};
use crate::engine::trace::{StepObserver, Trace, TraceBuilder};

/// What regalloc2's checker said.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "verdict", content = "detail", rename_all = "snake_case")]
pub enum CheckerVerdict {
    Ok,
    Failed(String),
    NotRun,
}

impl CheckerVerdict {
    /// `"ok"`, `"not run"`, or the checker's error.
    pub fn text(&self) -> String {
        match self {
            CheckerVerdict::Ok => "ok".into(),
            CheckerVerdict::NotRun => "not run".into(),
            CheckerVerdict::Failed(e) => e.clone(),
        }
    }
}

/// The machine code and final VCode of one compile.
#[derive(Clone, Debug)]
pub struct CompiledCode {
    pub code: Vec<u8>,
    /// Byte ranges of the code that relocations patch (placeholders here).
    pub reloc_sites: Vec<Range<usize>>,
    /// VCode after register allocation, as Cranelift prints it.
    pub final_vcode: String,
    pub vcode_insts: usize,
    pub elapsed: Duration,
}

/// How a compile ended.
#[derive(Clone, Debug)]
pub enum CompileEnd {
    Done(CompiledCode),
    /// Cranelift returned an error (verifier, lowering, regalloc).
    Error(String),
    /// Cranelift or regalloc2 panicked; the checker's failure arrives this way.
    Panicked(String),
    /// The capture's budget stopped the allocation.
    Stopped(CaptureStop),
}

/// A traced compile: the outcome, the parsed trace and the checker verdict.
pub struct TracedCompile {
    pub end: CompileEnd,
    /// Shared with the replay built from it.
    pub trace: Arc<Trace>,
    pub checker: CheckerVerdict,
    pub records: u64,
}

fn reloc_size(reloc: &FinalizedMachReloc) -> usize {
    use cranelift_codegen::binemit::Reloc;
    match reloc.kind {
        Reloc::Abs8 => 8,
        Reloc::S390xPCRel32Dbl | Reloc::S390xPLTRel32Dbl => 4,
        Reloc::RiscvCallPlt => 8,
        _ => 4,
    }
}

/// Cranelift's error in words. Its `Display` says only "Verifier errors" for
/// a function the verifier rejects, so the verifier's own list is used there.
fn codegen_error_text(e: &cranelift_codegen::CodegenError) -> String {
    use cranelift_codegen::CodegenError;
    match e {
        CodegenError::Verifier(errors) => {
            let list: Vec<String> = errors.0.iter().map(|e| e.to_string()).collect();
            format!("the verifier rejects the function: {}", list.join("; "))
        }
        other => other.to_string(),
    }
}

/// Number of instructions in Cranelift's VCode listing.
fn count_vcode_insts(vcode: &str) -> usize {
    vcode
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            l.starts_with(char::is_whitespace)
                && !t.is_empty()
                && !t.starts_with(';')
                && !t.starts_with("block")
        })
        .count()
}

fn run(func: &Function, isa: &dyn TargetIsa) -> Result<CompiledCode, String> {
    run_with(func, isa, true)
}

/// One compile; without `disasm` the final VCode text stays empty (printing
/// it costs more than a small function's allocation).
fn run_with(func: &Function, isa: &dyn TargetIsa, disasm: bool) -> Result<CompiledCode, String> {
    let started = Instant::now();
    let mut ctx = Context::for_function(func.clone());
    ctx.set_disasm(disasm);
    let mut ctrl = cranelift_codegen::control::ControlPlane::default();
    let compiled = ctx
        .compile(isa, &mut ctrl)
        .map_err(|e| codegen_error_text(&e.inner))?;
    let final_vcode = compiled.vcode.clone().unwrap_or_default();
    let reloc_sites = compiled
        .buffer
        .relocs()
        .iter()
        .map(|r| r.offset as usize..r.offset as usize + reloc_size(r))
        .collect();
    Ok(CompiledCode {
        code: compiled.code_buffer().to_vec(),
        reloc_sites,
        vcode_insts: count_vcode_insts(&final_vcode),
        final_vcode,
        elapsed: started.elapsed(),
    })
}

/// Compiles without capturing; panics are caught.
pub fn compile_untraced(func: &Function, isa: &dyn TargetIsa) -> CompileEnd {
    let r = capture::quietly(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(func, isa)))
    });
    match r {
        Ok(Ok(c)) => CompileEnd::Done(c),
        Ok(Err(e)) => CompileEnd::Error(e),
        Err(p) => CompileEnd::Panicked(capture::panic_message(&p)),
    }
}

fn end_of(outcome: CaptureOutcome<Result<CompiledCode, String>>) -> CompileEnd {
    match outcome {
        CaptureOutcome::Finished(Ok(c)) => CompileEnd::Done(c),
        CaptureOutcome::Finished(Err(e)) => CompileEnd::Error(e),
        CaptureOutcome::Panicked(p) => CompileEnd::Panicked(p),
        CaptureOutcome::Stopped(s) => CompileEnd::Stopped(s),
    }
}

/// The checker's verdict: its error if it logged one, ok if the compile
/// finished with it on.
fn verdict(checker_on: bool, trace: &Trace, end: &CompileEnd) -> CheckerVerdict {
    match (&trace.checker_error, end) {
        _ if !checker_on => CheckerVerdict::NotRun,
        (Some(err), _) => CheckerVerdict::Failed(err.clone()),
        (None, CompileEnd::Done(_)) => CheckerVerdict::Ok,
        (None, _) => CheckerVerdict::NotRun,
    }
}

/// Compiles with regalloc2's records captured and parsed. `isa` should have the
/// `regalloc_checker` flag on for a verdict. `watch` sees each step as it is
/// parsed (the replay stage's loop detector, passed in so this stage does not
/// depend on a later one); when it stops the capture, the stop is reported as
/// [`CaptureStop::LoopDetected`].
pub fn compile_traced(
    func: &Function,
    isa: &dyn TargetIsa,
    limits: CaptureLimits,
    watch: impl StepObserver + 'static,
) -> TracedCompile {
    let checker_on = isa.flags().regalloc_checker();
    let (outcome, builder, records) =
        capture::capture(TraceBuilder::new().observed_by(watch), limits, || {
            run(func, isa)
        });
    // The loop detector watched the steps as they came and stopped the capture.
    let looped = builder.stopped_by_observer();
    let mut trace = builder.finish();
    // Every record counts, including those whose call site the parser skips.
    trace.records = records;
    let mut end = end_of(outcome);
    if looped && matches!(end, CompileEnd::Stopped(CaptureStop::SinkStopped)) {
        end = CompileEnd::Stopped(CaptureStop::LoopDetected {
            steps: trace.steps.len(),
        });
    }
    if let CompileEnd::Stopped(s) = &end {
        trace.stopped = Some(s.clone());
    }
    let checker = verdict(checker_on, &trace, &end);
    TracedCompile {
        end,
        trace: Arc::new(trace),
        checker,
        records,
    }
}

/// A sink that wants no record text: each call site is skipped after its first
/// record, so a capture with it costs little more than the `trace!` calls
/// themselves (formatting every record costs ten times the compile), and the
/// capture still counts every record.
struct CountingSink;

impl RecordSink for CountingSink {
    fn record(&mut self, _: Source, _: log::Level, _: &str) -> Verdict {
        Verdict::IgnoreSite
    }
}

/// Compiles under `limits` counting regalloc2's records without keeping
/// them (the reducer's budget test): the end and the number of records. No
/// checker verdict, no final VCode text. Not [`compile_untraced`] inside a
/// capture: its own `catch_unwind` would take the capture's stop for a panic.
pub fn compile_counted(
    func: &Function,
    isa: &dyn TargetIsa,
    limits: CaptureLimits,
) -> (CompileEnd, u64) {
    let (outcome, _, records) =
        capture::capture(CountingSink, limits, || run_with(func, isa, false));
    (end_of(outcome), records)
}

/// Compiles with only the move-insertion and compile records captured: no
/// allocator trace, but the checker verdict and the spill slots in use.
pub fn compile_checked(
    func: &Function,
    isa: &dyn TargetIsa,
) -> (CompileEnd, CheckerVerdict, usize) {
    let (end, checker, spill_slots, _) =
        compile_checked_within(func, isa, CaptureLimits::default());
    (end, checker, spill_slots)
}

/// [`compile_checked`] under `limits`, also giving the number of records: every
/// regalloc2 record counts towards the budget (the logger sees them all),
/// though only the summary sources are parsed.
pub fn compile_checked_within(
    func: &Function,
    isa: &dyn TargetIsa,
    limits: CaptureLimits,
) -> (CompileEnd, CheckerVerdict, usize, u64) {
    let (outcome, builder, records) = capture::capture_sources(
        TraceBuilder::new(),
        limits,
        capture::Sources::SUMMARY_ONLY,
        || run(func, isa),
    );
    let trace = builder.finish();
    let end = end_of(outcome);
    let checker = verdict(isa.flags().regalloc_checker(), &trace, &end);
    (end, checker, trace.spill_slots.len(), records)
}
