//! Reducing a CLIF function while it stays "interesting": a hang and failure
//! reducer, because `clif-util bugpoint` only treats panics as failures.
//!
//! An [`Oracle`] says whether a candidate is interesting: [`BudgetOracle`] when
//! our allocator runs past a record budget (a hang, seen as unbounded trace
//! records), [`CommandOracle`] when an external command (run by
//! [`CommandRunner`]) times out or exits with a chosen code. Candidates reach
//! the oracle as CLIF text in [`Options::dialect`], the input's by default,
//! so that a command built on an older Cranelift reads them.
//!
//! [`reduce`] runs passes to a fixpoint; each pass lists "atoms" and tries to
//! remove them in the delta-debugging way: all at once, then
//! halves, quarters… down to one at a time, last atoms first, restarting at the
//! same place after each success. The passes, in order: remove blocks (branches
//! to them go to another target or trap), turn `brif`/`br_table` into `jump`,
//! remove dead code, remove instructions with their results replaced by zero
//! constants at the top of the entry block (`iconst`, `f32const`, `vconst`…) or
//! by an earlier value of the same type, remove block parameters, merge a
//! block into its only predecessor, drop unused signatures / function
//! references / global values / stack slots.
//!
//! A candidate is tested only when it passes Cranelift's verifier with the
//! ISA's flags, is strictly smaller than the current function in the order
//! (instructions, blocks, block parameters, operands, bytes) so that the search
//! ends, and its text was not tried before. Ideas from Cranelift's
//! `bugpoint.rs`, not its code.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::ir::immediates::{Ieee16, Ieee32, Ieee64};
use cranelift_codegen::ir::{
    self, Block, BlockArg, BlockCall, Function, Inst, InstBuilder, InstructionData, Opcode,
    TrapCode, Type, Value, ValueDef, types,
};
use cranelift_codegen::isa::{OwnedTargetIsa, TargetIsa};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::capture::{self, CaptureLimits, CaptureStop};
use crate::compile::{self, CompileEnd, realloc, rebuild};
use crate::input::clif::ClifDialect;
use crate::input::isa::Algorithm;
use crate::input::release::Release;
use crate::replay::diagnose::LoopDetector;
use crate::triage::runner::{CommandEnd, CommandRun, CommandRunner, RunnerError};

/// An error of the reducer, with what a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum ReduceError {
    #[error("the input function does not pass Cranelift's verifier: {0}")]
    InvalidInput(String),
    #[error("the input is not interesting, nothing to reduce: {0}")]
    NotInteresting(String),
    /// The test command could not be run at all.
    #[error(transparent)]
    Runner(#[from] RunnerError),
}

/// An oracle's answer for one candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judgement {
    pub interesting: bool,
    /// Why, in a few words ("exit code 3", "stopped after 5000 records").
    pub reason: String,
}

/// Decides whether a candidate still shows the behaviour being reduced.
pub trait Oracle {
    /// Judges `func`, whose CLIF file text (header included) is `text`.
    fn judge(&mut self, func: &Function, text: &str) -> Result<Judgement, ReduceError>;
    /// What the oracle tests, for reports.
    fn describe(&self) -> String;
}

/// Interesting when compiling with our Cranelift and regalloc2 produces more
/// allocator records than a budget: the allocator runs away. The checker is
/// off, so a function over budget here is over the same budget in
/// `spillscope trace`, which adds the checker's records.
pub struct BudgetOracle {
    pub isa: OwnedTargetIsa,
    pub max_records: u64,
}

/// Records logged in one compile of `func` (checker off), stopping past
/// `max_records` as `spillscope trace --budget` does.
pub fn count_records(func: &Function, isa: &dyn TargetIsa, max_records: u64) -> (CompileEnd, u64) {
    compile::compile_counted(
        &compile::ClifJob { func, isa },
        CaptureLimits {
            max_records,
            deadline: None,
        },
    )
}

impl Oracle for BudgetOracle {
    fn judge(&mut self, func: &Function, _text: &str) -> Result<Judgement, ReduceError> {
        let (end, records) = count_records(func, &*self.isa, self.max_records);
        Ok(match end {
            CompileEnd::Stopped(CaptureStop::RecordBudget { .. }) => Judgement {
                interesting: true,
                reason: format!("the allocator passed {} records", self.max_records),
            },
            CompileEnd::Done(_) => Judgement {
                interesting: false,
                reason: format!(
                    "the compile finished after {records} records, within the budget of {}",
                    self.max_records
                ),
            },
            CompileEnd::Error(e) => Judgement {
                interesting: false,
                reason: format!("Cranelift returned an error: {e}"),
            },
            CompileEnd::Panicked(p) => Judgement {
                interesting: false,
                reason: format!("the compiler panicked: {p}"),
            },
            other @ (CompileEnd::Stopped(_)
            | CompileEnd::AllocatedOnly
            | CompileEnd::NotCompiled) => Judgement {
                interesting: false,
                reason: other.to_string(),
            },
        })
    }

    fn describe(&self) -> String {
        format!("allocator records > {}", self.max_records)
    }
}

/// Interesting when a regalloc2 release, in-process, does not finish the
/// function Cranelift lowers from the candidate within a record budget: the
/// candidate is lowered by this build's Cranelift (its single-pass log gives
/// regalloc2's input, see [`rebuild`]), then allocated by `release`, traced
/// with the loop detector. No external command: "still loops under 0.11.3"
/// is judged here.
pub struct ReleaseOracle {
    /// The ISA with the single-pass allocator (whose log carries the function).
    pub isa: OwnedTargetIsa,
    pub triple: String,
    pub release: Release,
    pub algorithm: Algorithm,
    pub max_records: u64,
}

impl Oracle for ReleaseOracle {
    fn judge(&mut self, func: &Function, _text: &str) -> Result<Judgement, ReduceError> {
        let job = compile::ClifJob {
            func,
            isa: &*self.isa,
        };
        let rebuilt = match rebuild::rebuild(&job, &self.triple) {
            Ok(f) => f,
            Err(e) => {
                return Ok(Judgement {
                    interesting: false,
                    reason: format!("Cranelift did not lower it: {e}"),
                });
            }
        };
        let limits = CaptureLimits {
            max_records: self.max_records,
            deadline: None,
        };
        let r = self.release;
        let by = realloc::Allocator {
            release: r,
            algorithm: self.algorithm,
        };
        // Traced with the loop detector: a loop is seen within a few hundred
        // steps, long before the budget.
        let (traced, _) =
            realloc::allocate_traced(&rebuilt, &rebuilt.env, by, limits, LoopDetector::default());
        Ok(match traced.end {
            CompileEnd::Stopped(CaptureStop::LoopDetected { steps }) => Judgement {
                interesting: true,
                reason: format!("regalloc2 {r} loops (seen at step {steps})"),
            },
            CompileEnd::Stopped(CaptureStop::RecordBudget { records }) => Judgement {
                interesting: true,
                reason: format!("regalloc2 {r} passed {records} records without finishing"),
            },
            CompileEnd::AllocatedOnly => Judgement {
                interesting: false,
                reason: format!(
                    "regalloc2 {r} finished it within {} records",
                    self.max_records
                ),
            },
            other => Judgement {
                interesting: false,
                reason: format!("regalloc2 {r}: {other}"),
            },
        })
    }

    fn describe(&self) -> String {
        format!(
            "regalloc2 {} ({}) loops or passes {} records",
            self.release,
            self.algorithm.name(),
            self.max_records
        )
    }
}

/// Interesting when a shell command, given the candidate's file, times out or
/// exits with a non-zero code (or only `expect_exit`, when set). The command
/// runs as [`CommandRunner`] runs it: `sh -c` in its own process group,
/// which is killed at the timeout.
pub struct CommandOracle {
    runner: CommandRunner,
    expect_exit: Option<i32>,
}

impl CommandOracle {
    /// `template` must contain `{}`, replaced by the candidate file's path.
    pub fn new(
        template: &str,
        timeout: Duration,
        expect_exit: Option<i32>,
    ) -> Result<CommandOracle, ReduceError> {
        Ok(CommandOracle {
            runner: CommandRunner::new(template, timeout)?,
            expect_exit,
        })
    }

    /// Whether `run` counts as interesting, and why.
    pub fn judgement(&self, run: &CommandRun) -> Judgement {
        let stderr = if run.stderr.trim().is_empty() {
            String::new()
        } else {
            format!(": {}", run.stderr_tail())
        };
        match &run.end {
            CommandEnd::Timeout => Judgement {
                interesting: true,
                reason: format!(
                    "timed out after {:.1} s",
                    self.runner.timeout().as_secs_f64()
                ),
            },
            CommandEnd::Exit(0) => Judgement {
                interesting: false,
                reason: "exit code 0".into(),
            },
            CommandEnd::Exit(code) if Some(*code) == self.expect_exit => Judgement {
                interesting: true,
                reason: format!("exit code {code}"),
            },
            CommandEnd::Exit(code) => Judgement {
                interesting: self.expect_exit.is_none(),
                reason: format!("exit code {code}{stderr}"),
            },
            CommandEnd::Signal(sig) => Judgement {
                interesting: self.expect_exit.is_none(),
                reason: format!("killed by signal {sig}"),
            },
            CommandEnd::SpawnError { message, .. } => Judgement {
                interesting: false,
                reason: format!("{message}{stderr}"),
            },
        }
    }
}

impl Oracle for CommandOracle {
    fn judge(&mut self, _func: &Function, text: &str) -> Result<Judgement, ReduceError> {
        let run = self.runner.run(text)?;
        Ok(self.judgement(&run))
    }

    fn describe(&self) -> String {
        let (template, timeout_s) = (self.runner.template(), self.runner.timeout().as_secs_f64());
        match self.expect_exit {
            Some(code) => format!("`{template}` exits with {code} or runs over {timeout_s:.1} s"),
            None => format!("`{template}` fails or runs over {timeout_s:.1} s"),
        }
    }
}

/// Size of a function, before or after.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Size {
    pub instructions: usize,
    pub blocks: usize,
    /// Bytes of the CLIF text (header included).
    pub bytes: usize,
}

/// Progress after each test.
#[derive(Clone, Debug)]
pub struct Progress {
    pub pass: &'static str,
    pub round: usize,
    pub tests: u64,
    pub accepted: u64,
    pub size: Size,
}

/// Limits and context of a reduction.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Text written before the function: `set` and `target` lines.
    pub header: String,
    /// The CLIF syntax of the candidates and the result: the input's, so
    /// that a test command built on the input's Cranelift reads them.
    pub dialect: ClifDialect,
    /// Stop after this many oracle tests.
    pub max_tests: Option<u64>,
}

/// The result of a reduction.
#[derive(Clone, Debug)]
pub struct Reduced {
    pub function: Function,
    /// The reduced function as a CLIF file (header included).
    pub text: String,
    pub before: Size,
    pub after: Size,
    /// Oracle runs, the check of the input included.
    pub tests: u64,
    /// Candidates the oracle found interesting (each one became the current function).
    pub accepted: u64,
    /// Candidates the verifier refused (never tested).
    pub invalid: u64,
    /// Candidates skipped because the same text was tried before.
    pub repeats: u64,
    pub rounds: usize,
    /// Whether `max_tests` ended the reduction.
    pub hit_max_tests: bool,
    pub elapsed: Duration,
    /// The oracle's reason for the final function.
    pub reason: String,
    /// Tests and successes of each pass, in pass order.
    pub passes: Vec<PassStats>,
}

/// What one pass did over the whole reduction.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PassStats {
    pub pass: &'static str,
    pub tests: u64,
    pub accepted: u64,
}

/// The CLIF file for `func` in `dialect`: [`render`]'s text, rewritten for
/// an older Cranelift's reader when asked.
pub fn render_in(header: &str, func: &Function, dialect: ClifDialect) -> String {
    dialect.write(&render(header, func))
}

/// The CLIF file for `func`: `header`, then the function as Cranelift prints it.
pub fn render(header: &str, func: &Function) -> String {
    let mut text = String::new();
    if !header.trim().is_empty() {
        text.push_str(header.trim_end());
        text.push_str("\n\n");
    }
    text.push_str(&func.display().to_string());
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// The `set` and `target` lines of a CLIF file, up to its first target, so
/// the reduced function keeps the input's flags and target.
pub fn header_of(clif_text: &str) -> String {
    let mut out = String::new();
    for line in clif_text.lines() {
        let t = line.trim_start();
        if t.starts_with("function") {
            break;
        }
        if t.starts_with("set ") {
            out.push_str(t.trim_end());
            out.push('\n');
        } else if t.starts_with("target ") {
            out.push_str(t.trim_end());
            out.push('\n');
            break;
        }
    }
    out
}

/// `set` and `target` lines reproducing `isa`'s flags where they differ from
/// Cranelift's defaults (for functions from Wasm, whose flags are Wasmtime's).
pub fn header_for_isa(isa: &dyn TargetIsa) -> String {
    use cranelift_codegen::settings;
    let defaults: FxHashMap<String, String> = settings::Flags::new(settings::builder())
        .iter()
        .map(|v| (v.name.to_string(), v.value_string()))
        .collect();
    let mut out = String::new();
    for v in isa.flags().iter() {
        if v.name == "regalloc_checker" {
            continue;
        }
        if defaults.get(v.name) != Some(&v.value_string()) {
            out.push_str(&format!("set {}={}\n", v.name, v.value_string()));
        }
    }
    let triple = isa.triple().clone();
    let default_isa = cranelift_codegen::isa::lookup(triple.clone())
        .ok()
        .and_then(|b| b.finish(settings::Flags::new(settings::builder())).ok());
    let isa_defaults: FxHashMap<String, String> = default_isa
        .map(|d| {
            d.isa_flags()
                .into_iter()
                .map(|v| (v.name.to_string(), v.value_string()))
                .collect()
        })
        .unwrap_or_default();
    let mut target = format!("target {}", triple.architecture);
    for v in isa.isa_flags() {
        if isa_defaults.get(v.name) != Some(&v.value_string()) {
            if v.value_string() == "true" {
                target.push_str(&format!(" {}", v.name));
            } else {
                target.push_str(&format!(" {}={}", v.name, v.value_string()));
            }
        }
    }
    out.push_str(&target);
    out.push('\n');
    out
}

/// The blocks in layout order.
fn blocks(func: &Function) -> Vec<Block> {
    func.layout.blocks().collect()
}

/// Every instruction in layout order.
fn insts(func: &Function) -> Vec<Inst> {
    func.layout
        .blocks()
        .flat_map(|b| func.layout.block_insts(b))
        .collect()
}

/// What the reducer compares: a candidate must be smaller in this order.
fn complexity(func: &Function, text_bytes: usize) -> (usize, usize, usize, usize, usize) {
    let mut n_insts = 0;
    let mut operands = 0;
    let mut params = 0;
    let mut n_blocks = 0;
    for b in func.layout.blocks() {
        n_blocks += 1;
        params += func.dfg.num_block_params(b);
        for i in func.layout.block_insts(b) {
            n_insts += 1;
            operands += func.dfg.inst_values(i).count();
        }
    }
    (n_insts, n_blocks, params, operands, text_bytes)
}

fn size_of(func: &Function, text: &str) -> Size {
    let (instructions, blocks, ..) = complexity(func, 0);
    Size {
        instructions,
        blocks,
        bytes: text.len(),
    }
}

/// Zero constants of each type at the top of the entry block, made on demand:
/// the entry block dominates every use, so any removed value can become one.
struct Zeros {
    entry: Block,
    made: FxHashMap<Type, Value>,
}

impl Zeros {
    fn new(func: &Function) -> Option<Zeros> {
        let entry = func.layout.entry_block()?;
        let mut made = FxHashMap::default();
        // Only the constants at the very top: a zero defined further down
        // would not dominate uses before it in the entry block.
        for inst in func.layout.block_insts(entry) {
            let data = &func.dfg.insts[inst];
            if !matches!(
                data,
                InstructionData::UnaryImm { .. }
                    | InstructionData::UnaryIeee16 { .. }
                    | InstructionData::UnaryIeee32 { .. }
                    | InstructionData::UnaryIeee64 { .. }
                    | InstructionData::UnaryConst { .. }
            ) {
                break;
            }
            let zero = match data {
                InstructionData::UnaryImm { imm, .. } => imm.bits() == 0,
                InstructionData::UnaryIeee32 { imm, .. } => imm.bits() == 0,
                InstructionData::UnaryIeee64 { imm, .. } => imm.bits() == 0,
                InstructionData::UnaryConst {
                    constant_handle, ..
                } => func
                    .dfg
                    .constants
                    .get(*constant_handle)
                    .as_slice()
                    .iter()
                    .all(|b| *b == 0),
                _ => false,
            };
            if zero && let [r] = func.dfg.inst_results(inst) {
                made.entry(func.dfg.value_type(*r)).or_insert(*r);
            }
        }
        Some(Zeros { entry, made })
    }

    /// A zero of type `ty`, or `None` for types without a simple constant.
    fn get(&mut self, func: &mut Function, ty: Type) -> Option<Value> {
        if let Some(v) = self.made.get(&ty) {
            return Some(*v);
        }
        let mut pos = FuncCursor::new(func).at_first_insertion_point(self.entry);
        let v = if ty.is_int() && ty.bits() <= 64 {
            pos.ins().iconst(ty, 0)
        } else if ty == types::I128 {
            let low = pos.ins().iconst(types::I64, 0);
            pos.ins().uextend(types::I128, low)
        } else if ty == types::F16 {
            pos.ins().f16const(Ieee16::with_bits(0))
        } else if ty == types::F32 {
            pos.ins().f32const(Ieee32::with_bits(0))
        } else if ty == types::F64 {
            pos.ins().f64const(Ieee64::with_bits(0))
        } else if ty.is_vector() && !ty.is_dynamic_vector() {
            let c = pos
                .func
                .dfg
                .constants
                .insert(vec![0u8; ty.bytes() as usize].into());
            pos.ins().vconst(ty, c)
        } else {
            return None;
        };
        self.made.insert(ty, v);
        Some(v)
    }
}

/// Rewrites every use of the keys of `map` in the layout.
fn replace_uses(func: &mut Function, map: &FxHashMap<Value, Value>) {
    if map.is_empty() {
        return;
    }
    for inst in insts(func) {
        func.dfg
            .map_inst_values(inst, |v| map.get(&v).copied().unwrap_or(v));
    }
}

/// Values used anywhere in the layout.
fn used_values(func: &Function) -> FxHashSet<Value> {
    let mut used = FxHashSet::default();
    for inst in insts(func) {
        used.extend(func.dfg.inst_values(inst));
    }
    used
}

/// The block where `v` is defined.
fn def_block(func: &Function, v: Value) -> Option<Block> {
    match func.dfg.value_def(v) {
        ValueDef::Result(inst, _) => func.layout.inst_block(inst),
        ValueDef::Param(block, _) => Some(block),
        ValueDef::Union(..) => None,
    }
}

/// Replaces a terminator by a trap.
fn make_trap(func: &mut Function, inst: Inst) {
    func.dfg.insts[inst] = InstructionData::Trap {
        opcode: Opcode::Trap,
        code: TrapCode::HEAP_OUT_OF_BOUNDS,
    };
}

/// A fresh copy of a block call (so no two branches share an argument list).
fn copy_call(func: &mut Function, call: BlockCall) -> BlockCall {
    let block = call.block(&func.dfg.value_lists);
    let args: Vec<BlockArg> = call.args(&func.dfg.value_lists).collect();
    BlockCall::new(block, args, &mut func.dfg.value_lists)
}

/// One reduction pass: a list of atoms and a way to remove some of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pass {
    /// Remove whole blocks; branches to them go elsewhere or trap.
    Blocks,
    /// Turn `brif` / `br_table` into a `jump` to one of its targets.
    Branches,
    /// Remove instructions whose results nobody uses.
    DeadCode,
    /// Remove instructions; their results become zero constants.
    InstsToZero,
    /// Remove instructions; their results become an earlier value of the type.
    InstsToValue,
    /// Remove block parameters; their uses become zero constants.
    BlockParams,
    /// Merge a block into its only predecessor when that one jumps to it.
    MergeBlocks,
    /// Drop unused signatures, function references, global values and stack
    /// slots (one candidate).
    Entities,
}

impl Pass {
    const ALL: [Pass; 8] = [
        Pass::Blocks,
        Pass::Branches,
        Pass::DeadCode,
        Pass::InstsToZero,
        Pass::InstsToValue,
        Pass::BlockParams,
        Pass::MergeBlocks,
        Pass::Entities,
    ];

    fn name(self) -> &'static str {
        match self {
            Pass::Blocks => "remove blocks",
            Pass::Branches => "branches to jumps",
            Pass::DeadCode => "remove dead code",
            Pass::InstsToZero => "instructions to zeros",
            Pass::InstsToValue => "instructions to earlier values",
            Pass::BlockParams => "remove block parameters",
            Pass::MergeBlocks => "merge blocks",
            Pass::Entities => "remove unused entities",
        }
    }
}

/// A thing a pass can remove.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Atom {
    Block(Block),
    Inst(Inst),
    /// A branch and the index of the destination it should keep.
    Branch(Inst, usize),
    Param(Value),
    /// All unused entities at once.
    Entities,
}

/// The atoms of `pass`, last first: removing uses before definitions needs
/// fewer replacement constants.
fn atoms(func: &Function, pass: Pass) -> Vec<Atom> {
    let entry = func.layout.entry_block();
    let mut out = Vec::new();
    match pass {
        Pass::Blocks => {
            out.extend(
                blocks(func)
                    .into_iter()
                    .filter(|b| Some(*b) != entry)
                    .map(Atom::Block),
            );
        }
        Pass::Branches => {
            for inst in insts(func) {
                let data = &func.dfg.insts[inst];
                if !matches!(data.opcode(), Opcode::Brif | Opcode::BrTable) {
                    continue;
                }
                let dests =
                    data.branch_destination(&func.dfg.jump_tables, &func.dfg.exception_tables);
                let mut seen = Vec::new();
                for (k, d) in dests.iter().enumerate() {
                    let b = d.block(&func.dfg.value_lists);
                    if !seen.contains(&b) && seen.len() < 4 {
                        seen.push(b);
                        out.push(Atom::Branch(inst, k));
                    }
                }
            }
        }
        Pass::DeadCode => {
            let used = used_values(func);
            for inst in insts(func) {
                if removable(func, inst)
                    && func
                        .dfg
                        .inst_results(inst)
                        .iter()
                        .all(|r| !used.contains(r))
                {
                    out.push(Atom::Inst(inst));
                }
            }
        }
        Pass::InstsToZero | Pass::InstsToValue => {
            let zeros = Zeros::new(func);
            for inst in insts(func) {
                let op = func.dfg.insts[inst].opcode();
                if op.is_terminator() || op.is_branch() {
                    continue;
                }
                // The zeros themselves are what removed values become.
                if zeros.as_ref().is_some_and(|z| {
                    func.dfg
                        .inst_results(inst)
                        .iter()
                        .any(|r| z.made.get(&func.dfg.value_type(*r)) == Some(r))
                }) {
                    continue;
                }
                if pass == Pass::InstsToValue && func.dfg.inst_results(inst).is_empty() {
                    continue;
                }
                out.push(Atom::Inst(inst));
            }
        }
        Pass::BlockParams => {
            for b in blocks(func) {
                if Some(b) == entry {
                    continue;
                }
                out.extend(func.dfg.block_params(b).iter().map(|p| Atom::Param(*p)));
            }
        }
        Pass::Entities => out.push(Atom::Entities),
        Pass::MergeBlocks => {
            let preds = predecessors(func);
            for b in blocks(func) {
                let Some(last) = func.layout.last_inst(b) else {
                    continue;
                };
                if let InstructionData::Jump { destination, .. } = func.dfg.insts[last] {
                    let target = destination.block(&func.dfg.value_lists);
                    if target != b
                        && Some(target) != entry
                        && preds.get(&target).is_some_and(|p| p.len() == 1)
                    {
                        out.push(Atom::Inst(last));
                    }
                }
            }
        }
    }
    out.reverse();
    out
}

/// Whether an instruction may go when its results are unused.
fn removable(func: &Function, inst: Inst) -> bool {
    let op = func.dfg.insts[inst].opcode();
    !(op.is_terminator()
        || op.is_branch()
        || op.is_call()
        || op.can_store()
        || op.other_side_effects()
        || op.can_trap())
        || (op.can_load() && !op.can_store() && !op.other_side_effects() && !op.is_call())
}

/// Branch instructions targeting each block (once per instruction).
fn predecessors(func: &Function) -> FxHashMap<Block, Vec<Inst>> {
    let mut preds: FxHashMap<Block, Vec<Inst>> = FxHashMap::default();
    for inst in insts(func) {
        let data = &func.dfg.insts[inst];
        for d in data.branch_destination(&func.dfg.jump_tables, &func.dfg.exception_tables) {
            let list = preds.entry(d.block(&func.dfg.value_lists)).or_default();
            if list.last() != Some(&inst) {
                list.push(inst);
            }
        }
    }
    preds
}

/// `func` with `chosen` removed, or `None` when the change cannot be built.
fn apply(func: &Function, pass: Pass, chosen: &[Atom]) -> Option<Function> {
    if pass == Pass::Entities {
        return remove_unused_entities(func);
    }
    let mut f = func.clone();
    match pass {
        // Handled above, without the clone.
        Pass::Entities => return None,
        Pass::Blocks => remove_blocks(&mut f, chosen)?,
        Pass::Branches => {
            let mut done = FxHashSet::default();
            for atom in chosen {
                let Atom::Branch(inst, k) = *atom else {
                    return None;
                };
                if !done.insert(inst) {
                    continue;
                }
                let dest = *f.dfg.insts[inst]
                    .branch_destination(&f.dfg.jump_tables, &f.dfg.exception_tables)
                    .get(k)?;
                let destination = copy_call(&mut f, dest);
                f.dfg.insts[inst] = InstructionData::Jump {
                    opcode: Opcode::Jump,
                    destination,
                };
            }
        }
        Pass::DeadCode => {
            for atom in chosen {
                let Atom::Inst(inst) = *atom else { return None };
                f.layout.remove_inst(inst);
            }
        }
        Pass::InstsToZero => {
            let mut zeros = Zeros::new(&f)?;
            let used = used_values(&f);
            let mut map = FxHashMap::default();
            for atom in chosen {
                let Atom::Inst(inst) = *atom else { return None };
                for r in f.dfg.inst_results(inst).to_vec() {
                    if used.contains(&r) {
                        let ty = f.dfg.value_type(r);
                        map.insert(r, zeros.get(&mut f, ty)?);
                    }
                }
                f.layout.remove_inst(inst);
            }
            replace_uses(&mut f, &map);
        }
        Pass::InstsToValue => {
            let mut map = FxHashMap::default();
            for atom in chosen {
                let Atom::Inst(inst) = *atom else { return None };
                for r in f.dfg.inst_results(inst).to_vec() {
                    let other = earlier_value(&f, inst, f.dfg.value_type(r))?;
                    // Removed instructions earlier in the same chunk may be
                    // what `other` names; follow the chain.
                    let mut target = other;
                    while let Some(t) = map.get(&target) {
                        target = *t;
                    }
                    map.insert(r, target);
                }
                f.layout.remove_inst(inst);
            }
            // Resolve chains fully before rewriting.
            let keys: Vec<Value> = map.keys().copied().collect();
            for k in keys {
                let mut t = map[&k];
                let mut hops = 0;
                while let Some(n) = map.get(&t) {
                    t = *n;
                    hops += 1;
                    if hops > map.len() {
                        return None;
                    }
                }
                map.insert(k, t);
            }
            replace_uses(&mut f, &map);
        }
        Pass::BlockParams => {
            let mut zeros = Zeros::new(&f)?;
            let mut map = FxHashMap::default();
            // Per block, parameter indexes, removed from the last.
            let mut per_block: FxHashMap<Block, Vec<usize>> = FxHashMap::default();
            for atom in chosen {
                let Atom::Param(p) = *atom else { return None };
                let ValueDef::Param(block, num) = f.dfg.value_def(p) else {
                    return None;
                };
                let ty = f.dfg.value_type(p);
                map.insert(p, zeros.get(&mut f, ty)?);
                per_block.entry(block).or_default().push(num);
            }
            replace_uses(&mut f, &map);
            let all = insts(&f);
            for (block, mut nums) in per_block {
                nums.sort_unstable_by(|a, b| b.cmp(a));
                for inst in &all {
                    let dfg = &mut f.dfg;
                    for d in dfg.insts[*inst]
                        .branch_destination_mut(&mut dfg.jump_tables, &mut dfg.exception_tables)
                    {
                        if d.block(&dfg.value_lists) == block {
                            for &n in &nums {
                                if n >= d.len(&dfg.value_lists) {
                                    return None;
                                }
                                d.remove(n, &mut dfg.value_lists);
                            }
                        }
                    }
                }
                for &n in &nums {
                    let p = f.dfg.block_params(block)[n];
                    f.dfg.remove_block_param(p);
                }
            }
        }
        Pass::MergeBlocks => {
            for atom in chosen {
                let Atom::Inst(jump) = *atom else { return None };
                merge_into(&mut f, jump)?;
            }
        }
    }
    Some(f)
}

/// The nearest value of type `ty` defined before `inst` in its block (its
/// parameters included), else a parameter of the entry block.
fn earlier_value(func: &Function, inst: Inst, ty: Type) -> Option<Value> {
    let block = func.layout.inst_block(inst)?;
    let mut cur = func.layout.prev_inst(inst);
    while let Some(i) = cur {
        if let Some(v) = func
            .dfg
            .inst_results(i)
            .iter()
            .rev()
            .find(|v| func.dfg.value_type(**v) == ty)
        {
            return Some(*v);
        }
        cur = func.layout.prev_inst(i);
    }
    let params = func.dfg.block_params(block);
    if let Some(v) = params.iter().rev().find(|v| func.dfg.value_type(**v) == ty) {
        return Some(*v);
    }
    let entry = func.layout.entry_block()?;
    func.dfg
        .block_params(entry)
        .iter()
        .find(|v| func.dfg.value_type(**v) == ty)
        .copied()
}

/// Removes `chosen` blocks: values they define become zeros where still used;
/// branches to them go to another target or become traps.
fn remove_blocks(f: &mut Function, chosen: &[Atom]) -> Option<()> {
    let removed: FxHashSet<Block> = chosen
        .iter()
        .map(|a| match a {
            Atom::Block(b) => Some(*b),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let mut zeros = Zeros::new(f)?;
    if removed.contains(&zeros.entry) {
        return None;
    }
    let kept: Vec<Inst> = insts(f)
        .into_iter()
        .filter(|i| {
            f.layout
                .inst_block(*i)
                .is_some_and(|b| !removed.contains(&b))
        })
        .collect();
    // Values defined in removed blocks but used in kept ones.
    let mut map = FxHashMap::default();
    for inst in &kept {
        let vals: Vec<Value> = f.dfg.inst_values(*inst).collect();
        for v in vals {
            if !map.contains_key(&v) && def_block(f, v).is_some_and(|b| removed.contains(&b)) {
                let ty = f.dfg.value_type(v);
                map.insert(v, zeros.get(f, ty)?);
            }
        }
    }
    replace_uses(f, &map);
    for inst in kept {
        let data = f.dfg.insts[inst];
        let dests: Vec<BlockCall> = data
            .branch_destination(&f.dfg.jump_tables, &f.dfg.exception_tables)
            .to_vec();
        if dests.is_empty() {
            continue;
        }
        let gone = |d: &BlockCall, f: &Function| removed.contains(&d.block(&f.dfg.value_lists));
        if !dests.iter().any(|d| gone(d, f)) {
            continue;
        }
        match data.opcode() {
            Opcode::Jump => make_trap(f, inst),
            Opcode::Brif => match dests.iter().find(|d| !gone(d, f)) {
                Some(keep) => {
                    let destination = copy_call(f, *keep);
                    f.dfg.insts[inst] = InstructionData::Jump {
                        opcode: Opcode::Jump,
                        destination,
                    };
                }
                None => make_trap(f, inst),
            },
            Opcode::BrTable => match dests.iter().find(|d| !gone(d, f)).copied() {
                Some(keep) => {
                    let InstructionData::BranchTable { table, .. } = data else {
                        return None;
                    };
                    let n = f.dfg.jump_tables[table].all_branches().len();
                    for k in 0..n {
                        let d = f.dfg.jump_tables[table].all_branches()[k];
                        if gone(&d, f) {
                            let fresh = copy_call(f, keep);
                            f.dfg.jump_tables[table].all_branches_mut()[k] = fresh;
                        }
                    }
                }
                None => make_trap(f, inst),
            },
            // try_call and friends: not rewritten.
            _ => return None,
        }
    }
    for b in removed {
        while let Some(i) = f.layout.first_inst(b) {
            f.layout.remove_inst(i);
        }
        f.layout.remove_block(b);
    }
    Some(())
}

/// Merges the block that `jump` targets into the jump's block.
fn merge_into(f: &mut Function, jump: Inst) -> Option<()> {
    let from = f.layout.inst_block(jump)?;
    let InstructionData::Jump { destination, .. } = f.dfg.insts[jump] else {
        return None;
    };
    let to = destination.block(&f.dfg.value_lists);
    if to == from || Some(to) == f.layout.entry_block() || !f.layout.is_block_inserted(to) {
        return None;
    }
    let preds = predecessors(f);
    if preds.get(&to).map(|p| p.as_slice()) != Some(&[jump][..]) {
        return None;
    }
    let args: Vec<Value> = destination
        .args(&f.dfg.value_lists)
        .map(|a| a.as_value())
        .collect::<Option<_>>()?;
    let params = f.dfg.block_params(to).to_vec();
    if args.len() != params.len() {
        return None;
    }
    let map: FxHashMap<Value, Value> = params.into_iter().zip(args).collect();
    f.layout.remove_inst(jump);
    let moved: Vec<Inst> = f.layout.block_insts(to).collect();
    for i in moved {
        f.layout.remove_inst(i);
        f.layout.append_inst(i, from);
    }
    f.layout.remove_block(to);
    replace_uses(f, &map);
    Some(())
}

/// Renumbers the entities an instruction names; records which ones it saw.
#[derive(Default)]
struct EntityMap {
    sigs: FxHashMap<ir::SigRef, ir::SigRef>,
    funcs: FxHashMap<ir::FuncRef, ir::FuncRef>,
    gvs: FxHashMap<ir::GlobalValue, ir::GlobalValue>,
    slots: FxHashMap<ir::StackSlot, ir::StackSlot>,
    /// Collecting rather than renumbering: every entity maps to itself and
    /// is remembered as used.
    collect: bool,
}

impl EntityMap {
    fn get<K: Copy + Eq + std::hash::Hash>(map: &mut FxHashMap<K, K>, k: K, collect: bool) -> K {
        if collect {
            map.insert(k, k);
            k
        } else {
            map.get(&k).copied().unwrap_or(k)
        }
    }
}

impl ir::instructions::InstructionMapper for EntityMap {
    fn map_value(&mut self, value: Value) -> Value {
        value
    }
    fn map_value_list(&mut self, value_list: ir::ValueList) -> ir::ValueList {
        value_list
    }
    fn map_global_value(&mut self, gv: ir::GlobalValue) -> ir::GlobalValue {
        Self::get(&mut self.gvs, gv, self.collect)
    }
    fn map_jump_table(&mut self, jt: ir::JumpTable) -> ir::JumpTable {
        jt
    }
    fn map_exception_table(&mut self, et: ir::ExceptionTable) -> ir::ExceptionTable {
        et
    }
    fn map_block_call(&mut self, block_call: BlockCall) -> BlockCall {
        block_call
    }
    fn map_block(&mut self, block: Block) -> Block {
        block
    }
    fn map_func_ref(&mut self, func_ref: ir::FuncRef) -> ir::FuncRef {
        Self::get(&mut self.funcs, func_ref, self.collect)
    }
    fn map_sig_ref(&mut self, sig_ref: ir::SigRef) -> ir::SigRef {
        Self::get(&mut self.sigs, sig_ref, self.collect)
    }
    fn map_stack_slot(&mut self, slot: ir::StackSlot) -> ir::StackSlot {
        Self::get(&mut self.slots, slot, self.collect)
    }
    fn map_dynamic_stack_slot(&mut self, slot: ir::DynamicStackSlot) -> ir::DynamicStackSlot {
        slot
    }
    fn map_constant(&mut self, constant: ir::Constant) -> ir::Constant {
        constant
    }
    fn map_immediate(&mut self, immediate: ir::Immediate) -> ir::Immediate {
        immediate
    }
}

/// Keeps the entries of `map` whose keys are in `used`, in order; fills
/// `renumber` with old → new keys.
fn keep_used<K: cranelift_codegen::entity::EntityRef + std::hash::Hash, V: Clone>(
    map: &cranelift_codegen::entity::PrimaryMap<K, V>,
    used: &FxHashMap<K, K>,
    renumber: &mut FxHashMap<K, K>,
) -> cranelift_codegen::entity::PrimaryMap<K, V> {
    let mut out = cranelift_codegen::entity::PrimaryMap::new();
    for (k, v) in map.iter() {
        if used.contains_key(&k) {
            renumber.insert(k, out.push(v.clone()));
        }
    }
    out
}

/// `func` without the signatures, function references, global values and
/// stack slots nothing uses, renumbered; `None` when there are none, or when
/// the function has what this does not rewrite (exception tables, dynamic
/// types).
fn remove_unused_entities(func: &Function) -> Option<Function> {
    let all = insts(func);
    if !func.dfg.dynamic_types.is_empty()
        || all
            .iter()
            .any(|i| func.dfg.insts[*i].exception_table().is_some())
    {
        return None;
    }
    let mut used = EntityMap {
        collect: true,
        ..EntityMap::default()
    };
    for inst in &all {
        let _ = func.dfg.insts[*inst].map(&mut used);
    }
    for f in used.funcs.keys().copied().collect::<Vec<_>>() {
        let sig = func.dfg.ext_funcs[f].signature;
        used.sigs.insert(sig, sig);
    }
    let mut pending: Vec<ir::GlobalValue> = used.gvs.keys().copied().collect();
    pending.extend(func.stack_limit);
    while let Some(gv) = pending.pop() {
        used.gvs.insert(gv, gv);
        if let ir::GlobalValueData::Load { base, .. } | ir::GlobalValueData::IAddImm { base, .. } =
            func.global_values[gv]
            && !used.gvs.contains_key(&base)
        {
            pending.push(base);
        }
    }
    if used.sigs.len() == func.dfg.signatures.len()
        && used.funcs.len() == func.dfg.ext_funcs.len()
        && used.gvs.len() == func.global_values.len()
        && used.slots.len() == func.sized_stack_slots.len()
    {
        return None;
    }
    let mut f = func.clone();
    let mut map = EntityMap::default();
    f.dfg.signatures = keep_used(&func.dfg.signatures, &used.sigs, &mut map.sigs);
    f.dfg.ext_funcs = keep_used(&func.dfg.ext_funcs, &used.funcs, &mut map.funcs);
    f.global_values = keep_used(&func.global_values, &used.gvs, &mut map.gvs);
    f.sized_stack_slots = keep_used(&func.sized_stack_slots, &used.slots, &mut map.slots);
    for ext in f.dfg.ext_funcs.values_mut() {
        ext.signature = map.sigs[&ext.signature];
    }
    for gv in f.global_values.values_mut() {
        match gv {
            ir::GlobalValueData::Load { base, .. } | ir::GlobalValueData::IAddImm { base, .. } => {
                *base = map.gvs[base];
            }
            _ => {}
        }
    }
    f.stack_limit = f.stack_limit.map(|gv| map.gvs[&gv]);
    for inst in all {
        f.dfg.insts[inst] = f.dfg.insts[inst].map(&mut map);
    }
    Some(f)
}

fn hash_text(text: &str) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    text.hash(&mut h);
    h.finish()
}

/// The state of one reduction.
struct Reducer<'a, P: FnMut(&Progress)> {
    isa: &'a dyn TargetIsa,
    oracle: &'a mut dyn Oracle,
    options: &'a Options,
    progress: P,
    current: Function,
    current_key: (usize, usize, usize, usize, usize),
    current_text: String,
    reason: String,
    tried: HashSet<u64>,
    tests: u64,
    accepted: u64,
    invalid: u64,
    repeats: u64,
    round: usize,
    pass: &'static str,
    stats: Vec<PassStats>,
}

impl<P: FnMut(&Progress)> Reducer<'_, P> {
    fn out_of_tests(&self) -> bool {
        self.options.max_tests.is_some_and(|m| self.tests >= m)
    }

    /// Tests `cand`; makes it current when it is valid, smaller and interesting.
    fn try_candidate(&mut self, cand: Function) -> Result<bool, ReduceError> {
        if self.out_of_tests() {
            return Ok(false);
        }
        // Verified first: printing an invalid function may panic. Panics in
        // either count as an invalid candidate.
        let checked = capture::quietly(|| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                cranelift_codegen::verify_function(&cand, self.isa)
                    .ok()
                    .map(|_| render_in(&self.options.header, &cand, self.options.dialect))
            }))
        });
        let Ok(Some(text)) = checked else {
            self.invalid += 1;
            return Ok(false);
        };
        let key = complexity(&cand, text.len());
        if key >= self.current_key {
            return Ok(false);
        }
        if !self.tried.insert(hash_text(&text)) {
            self.repeats += 1;
            return Ok(false);
        }
        self.tests += 1;
        let j = self.oracle.judge(&cand, &text)?;
        if let Some(s) = self.stats.iter_mut().find(|s| s.pass == self.pass) {
            s.tests += 1;
            s.accepted += u64::from(j.interesting);
        }
        if j.interesting {
            self.accepted += 1;
            self.current = cand;
            self.current_key = key;
            self.current_text = text;
            self.reason = j.reason;
        }
        let p = Progress {
            pass: self.pass,
            round: self.round,
            tests: self.tests,
            accepted: self.accepted,
            size: size_of(&self.current, &self.current_text),
        };
        (self.progress)(&p);
        Ok(j.interesting)
    }

    /// Runs one pass in the delta-debugging way; true when something went.
    fn run_pass(&mut self, pass: Pass) -> Result<bool, ReduceError> {
        self.pass = pass.name();
        let mut progress = false;
        let mut list = atoms(&self.current, pass);
        let mut chunk = list.len();
        while chunk >= 1 && !list.is_empty() && !self.out_of_tests() {
            let mut i = 0;
            while i < list.len() && !self.out_of_tests() {
                let end = (i + chunk).min(list.len());
                // A mutation that trips an assertion in Cranelift's IR code
                // is a candidate we cannot build, not a reason to stop.
                let built = capture::quietly(|| {
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        apply(&self.current, pass, &list[i..end])
                    }))
                });
                let accepted = match built.ok().flatten() {
                    Some(cand) => self.try_candidate(cand)?,
                    None => false,
                };
                if accepted {
                    progress = true;
                    // The chosen atoms are gone; the next ones slid into place.
                    list = atoms(&self.current, pass);
                } else {
                    i += chunk;
                }
            }
            if chunk == 1 {
                break;
            }
            chunk = chunk.div_ceil(2);
        }
        Ok(progress)
    }
}

/// Reduces `func` while `oracle` finds it interesting.
///
/// Fails when `func` does not pass the verifier or is not interesting to
/// begin with. `progress` hears about every test.
pub fn reduce(
    func: &Function,
    isa: &dyn TargetIsa,
    oracle: &mut dyn Oracle,
    options: &Options,
    progress: impl FnMut(&Progress),
) -> Result<Reduced, ReduceError> {
    let started = Instant::now();
    if let Err(errors) = cranelift_codegen::verify_function(func, isa) {
        let shown: Vec<String> = errors.0.iter().take(3).map(|e| e.to_string()).collect();
        let more = errors.0.len().saturating_sub(shown.len());
        return Err(ReduceError::InvalidInput(format!(
            "{}{}",
            shown.join("; "),
            if more > 0 {
                format!(" (and {more} more)")
            } else {
                String::new()
            }
        )));
    }
    let text = render_in(&options.header, func, options.dialect);
    let first = oracle.judge(func, &text)?;
    if !first.interesting {
        return Err(ReduceError::NotInteresting(format!(
            "{} ({})",
            first.reason,
            oracle.describe()
        )));
    }
    let before = size_of(func, &text);
    let mut r = Reducer {
        isa,
        oracle,
        options,
        progress,
        current: func.clone(),
        current_key: complexity(func, text.len()),
        tried: HashSet::from([hash_text(&text)]),
        current_text: text,
        reason: first.reason,
        tests: 1,
        accepted: 0,
        invalid: 0,
        repeats: 0,
        round: 0,
        pass: "",
        stats: Pass::ALL
            .iter()
            .map(|p| PassStats {
                pass: p.name(),
                tests: 0,
                accepted: 0,
            })
            .collect(),
    };
    loop {
        r.round += 1;
        let mut any = false;
        for pass in Pass::ALL {
            any |= r.run_pass(pass)?;
        }
        if !any || r.out_of_tests() {
            break;
        }
    }
    let after = size_of(&r.current, &r.current_text);
    Ok(Reduced {
        hit_max_tests: r.out_of_tests(),
        function: r.current,
        text: r.current_text,
        before,
        after,
        tests: r.tests,
        accepted: r.accepted,
        invalid: r.invalid,
        repeats: r.repeats,
        rounds: r.round,
        elapsed: started.elapsed(),
        reason: r.reason,
        passes: r.stats,
    })
}
