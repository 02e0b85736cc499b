//! Compiling one function, traced or not, by one of two routes: a Wasm
//! function alone with Wasmtime's own compiler ([`wasm::WasmJob`]: the code is
//! Wasmtime's by construction), or a CLIF function with cranelift-codegen
//! ([`ClifJob`]: CLIF files, the reducer, and checking Wasmtime's CLIF).
//!
//! [`releases`] runs any built-in regalloc2 release on the rebuilt function.
//!
//! A traced compile runs inside [`capture::capture`] with the regalloc2 checker
//! on; its records go to a [`TraceBuilder`] that parses them into events as they
//! arrive.

pub mod fidelity;
pub mod link;
pub mod realloc;
pub mod rebuild;
pub mod releases;
pub mod wasm;

use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cranelift_codegen::ir::Function;
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::{Context, FinalizedMachReloc};

use crate::capture::{
    self, CaptureLimits, CaptureOutcome, CaptureStop, RecordSink, Source, Verdict,
};
use crate::input::isa::Algorithm;
use crate::input::release::Release;
use crate::trace::{StepObserver, Trace, TraceBuilder};

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

/// The machine code and final listing of one compile.
#[derive(Clone, Debug)]
pub struct CompiledCode {
    pub code: Vec<u8>,
    /// Byte ranges of the code that relocations patch (placeholders here).
    pub reloc_sites: Vec<Range<usize>>,
    /// The final code as text: VCode after register allocation as Cranelift
    /// prints it (CLIF route), or the machine code disassembled with offsets
    /// (Wasm route, where Wasmtime's compiler keeps its VCode to itself).
    pub final_vcode: String,
    /// Instructions in the machine code, disassembled (0 for a compile that
    /// asked for no listing).
    pub machine_insts: usize,
    /// Code byte ranges and the source location (for Wasm, the module byte
    /// offset of the operator) each came from, in code order.
    pub srclocs: Vec<(Range<u32>, u32)>,
    pub elapsed: Duration,
}

/// One compile of one function, repeatable: the traced, counted and checked
/// compiles below run it inside their captures.
pub trait CompileJob {
    /// Whether regalloc2's checker runs in this compile.
    fn checker_on(&self) -> bool;
    /// Which of regalloc2's allocators this compile runs.
    fn algorithm(&self) -> Algorithm;
    /// Compiles once; `listing` asks for [`CompiledCode::final_vcode`].
    fn compile(&self, listing: bool) -> Result<CompiledCode, String>;
    /// The CLIF the last compile wrote, for routes where the CLIF is an output.
    fn written_clif(&self) -> Option<String> {
        None
    }
}

/// A CLIF function compiled by cranelift-codegen for `isa`.
pub struct ClifJob<'a> {
    pub func: &'a Function,
    pub isa: &'a dyn TargetIsa,
}

impl CompileJob for ClifJob<'_> {
    fn checker_on(&self) -> bool {
        self.isa.flags().regalloc_checker()
    }

    fn algorithm(&self) -> Algorithm {
        match self.isa.flags().regalloc_algorithm() {
            cranelift_codegen::settings::RegallocAlgorithm::Backtracking => Algorithm::Backtracking,
            cranelift_codegen::settings::RegallocAlgorithm::SinglePass => Algorithm::SinglePass,
        }
    }

    fn compile(&self, listing: bool) -> Result<CompiledCode, String> {
        run_with(self.func, self.isa, listing)
    }
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
    /// regalloc2 alone allocated the rebuilt function: the allocation
    /// finished and nothing was emitted.
    AllocatedOnly,
    /// No compile ran here: the trace was read from a log, or is a snapshot
    /// of a compile still running.
    NotCompiled,
}

impl std::fmt::Display for CompileEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompileEnd::Done(c) => write!(f, "compiled to {} bytes", c.code.len()),
            CompileEnd::Error(e) => write!(f, "Cranelift returned an error: {e}"),
            CompileEnd::Panicked(p) => write!(f, "the compiler panicked: {p}"),
            CompileEnd::Stopped(s) => write!(f, "the compile {s}"),
            CompileEnd::AllocatedOnly => {
                f.write_str("regalloc2 alone allocated the function; nothing was emitted")
            }
            CompileEnd::NotCompiled => f.write_str("nothing was compiled here"),
        }
    }
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
    reloc_kind_size(reloc.kind)
}

/// The code's source locations (for Wasm, operator offsets), without the
/// default one of code that has none.
pub(crate) fn srclocs_of(
    buffer: &cranelift_codegen::MachBufferFinalized<cranelift_codegen::Final>,
) -> Vec<(Range<u32>, u32)> {
    buffer
        .get_srclocs_sorted()
        .iter()
        .filter(|s| !s.loc.is_default())
        .map(|s| (s.start..s.end, s.loc.bits()))
        .collect()
}

/// Bytes a relocation of `kind` patches.
pub(crate) fn reloc_kind_size(kind: cranelift_codegen::binemit::Reloc) -> usize {
    use cranelift_codegen::binemit::Reloc;
    match kind {
        Reloc::Abs8 => 8,
        Reloc::S390xPCRel32Dbl | Reloc::S390xPLTRel32Dbl => 4,
        Reloc::RiscvCallPlt => 8,
        _ => 4,
    }
}

/// Cranelift's error in words. Its `Display` says only "Verifier errors" for
/// a function the verifier rejects, so the verifier's own list is used there.
pub(crate) fn codegen_error_text(e: &cranelift_codegen::CodegenError) -> String {
    use cranelift_codegen::CodegenError;
    match e {
        CodegenError::Verifier(errors) => {
            let list: Vec<String> = errors.0.iter().map(|e| e.to_string()).collect();
            format!("the verifier rejects the function: {}", list.join("; "))
        }
        other => other.to_string(),
    }
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
    let code = compiled.code_buffer().to_vec();
    let machine_insts = if disasm {
        fidelity::listing(&code, isa).1
    } else {
        0
    };
    let srclocs = srclocs_of(&compiled.buffer);
    Ok(CompiledCode {
        code,
        reloc_sites,
        machine_insts,
        final_vcode,
        srclocs,
        elapsed: started.elapsed(),
    })
}

/// Compiles without capturing; panics are caught.
pub fn compile_untraced(job: &dyn CompileJob) -> CompileEnd {
    compile_untraced_listing(job, true)
}

/// [`compile_untraced`], with the machine code's listing (a disassembly,
/// which costs) or without.
pub fn compile_untraced_listing(job: &dyn CompileJob, listing: bool) -> CompileEnd {
    let r = capture::quietly(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.compile(listing)))
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
        CaptureOutcome::NoLogger(why) => CompileEnd::Error(why),
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
    job: &dyn CompileJob,
    limits: CaptureLimits,
    watch: impl StepObserver + 'static,
) -> TracedCompile {
    let checker_on = job.checker_on();
    let (outcome, builder, records) = capture::capture(
        TraceBuilder::new()
            .allocated_by(job.algorithm())
            .released_by(Release::CRANELIFT)
            .observed_by(watch),
        limits,
        || job.compile(true),
    );
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
pub fn compile_counted(job: &dyn CompileJob, limits: CaptureLimits) -> (CompileEnd, u64) {
    let (outcome, _, records) = capture::capture(CountingSink, limits, || job.compile(false));
    (end_of(outcome), records)
}

/// Compiles with only the move-insertion and compile records captured: no
/// allocator trace, but the checker verdict and the spill slots in use.
pub fn compile_checked(job: &dyn CompileJob) -> (CompileEnd, CheckerVerdict, usize) {
    // No budget: this compile is not traced, and a big function's allocation
    // logs more records than any trace budget allows.
    let unlimited = CaptureLimits {
        max_records: u64::MAX,
        deadline: None,
    };
    let (end, checker, spill_slots, _) = compile_checked_within(job, unlimited, true);
    (end, checker, spill_slots)
}

/// [`compile_checked`] under `limits`, also giving the number of records: every
/// regalloc2 record counts towards the budget (the logger sees them all),
/// though only the summary sources are parsed. `listing`: disassemble the
/// code (it costs; a corpus scan does without).
pub fn compile_checked_within(
    job: &dyn CompileJob,
    limits: CaptureLimits,
    listing: bool,
) -> (CompileEnd, CheckerVerdict, usize, u64) {
    let (outcome, builder, records) = capture::capture_sources(
        TraceBuilder::new()
            .allocated_by(job.algorithm())
            .released_by(Release::CRANELIFT)
            .spill_slots_only(),
        limits,
        capture::Sources::SUMMARY_ONLY,
        || job.compile(listing),
    );
    let trace = builder.finish();
    let end = end_of(outcome);
    let checker = verdict(job.checker_on(), &trace, &end);
    (end, checker, trace.spill_slots.len(), records)
}
