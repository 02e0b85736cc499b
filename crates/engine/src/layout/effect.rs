//! What a memory profile does to one function's code: the function is
//! translated by Wasmtime under each profile's knobs and compiled through the
//! traced pipeline, and the explicit bounds checks in the CLIF are counted
//! next to what the allocator did (steps, splits, evictions, spills, moves).
//!
//! Counting checks in Wasmtime 48.0.8's CLIF (see `bounds_checks.rs` in
//! wasmtime-internal-cranelift 48.0.8, and `trap`/`trapnz` lowering in
//! `func_environ.rs` when signals-based traps are off):
//! - with signals-based traps, a failed check selects a null address with
//!   `select_spectre_guard`: one per check;
//! - without them, a check is a `brif` to a cold block that calls Wasmtime's
//!   trap libcall with trap code 1 (`Trap::MemoryOutOfBounds`, wasmtime-environ
//!   `src/trap_encoding.rs`) and ends in `trap`: one per `brif` (an
//!   overflow-checked access has two);
//! - a `trapnz`/`trapz`/`uadd_overflow_trap` with the `heap_oob` code also
//!   counts, for targets that keep trap instructions.
//!
//! Every CLIF line carries `@xxxx`, the Wasm byte offset of the instruction it
//! comes from; checks are grouped by that offset and matched with the
//! module's access sites and the model's decision for each (`checks.rs`).

use std::collections::{BTreeMap, HashMap};

use crate::capture::{self, CaptureLimits, RecordSink, Source, Sources, Verdict};
use crate::compile;
use crate::error::EngineError;
use crate::input::Input;
use crate::input::isa::Target;
use crate::session::{self, FunctionTrace, Prepared, Settings};

use super::checks::{self, CheckKind};
use super::model::ModuleLayout;
use super::profile::{Profile, Runtime};

/// Wasmtime's `Trap::MemoryOutOfBounds` as the trap libcall receives it.
const TRAP_CODE_MEMORY_OUT_OF_BOUNDS: i64 = 1;

/// The checks at one Wasm instruction.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CheckSite {
    /// Byte offset of the Wasm instruction in the module (the CLIF `@xxxx`).
    pub module_offset: u32,
    /// Its text name (`i32.load offset=8`), when the model scanned it.
    pub instruction: Option<String>,
    /// The model's decision for it under this profile.
    pub modelled: Option<CheckKind>,
    /// Check instructions found in the CLIF at this offset.
    pub check_instructions: u32,
}

/// Moves regalloc2 inserted (its `Edit::Move`s), by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct MoveCounts {
    pub total: u64,
    pub reg_to_reg: u64,
    /// Register → spill slot.
    pub spill_stores: u64,
    /// Spill slot → register.
    pub reloads: u64,
    pub stack_to_stack: u64,
}

/// The numbers for one profile's compile.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CodeEffect {
    /// Explicit bounds-check instructions in Wasmtime's CLIF.
    pub bounds_checks: u32,
    /// Accesses of this function the model says keep an explicit check.
    pub modelled_explicit_checks: u32,
    /// Where the checks come from, by Wasm offset.
    pub check_sites: Vec<CheckSite>,
    pub clif_insts: usize,
    pub machine_insts: usize,
    pub code_size_bytes: usize,
    pub allocator_steps: usize,
    pub splits: usize,
    pub evictions: usize,
    pub spilled_bundles: usize,
    pub spill_slots: usize,
    pub inserted_moves: MoveCounts,
    pub checker: String,
}

/// One profile's row.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum EffectOutcome {
    Compiled(CodeEffect),
    /// The profile models another runtime: nothing to compile it with.
    NotCompiled {
        reason: String,
    },
    Failed {
        message: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ProfileEffect {
    pub profile: String,
    pub name: String,
    pub target: String,
    pub outcome: EffectOutcome,
}

impl ProfileEffect {
    pub fn effect(&self) -> Option<&CodeEffect> {
        match &self.outcome {
            EffectOutcome::Compiled(e) => Some(e),
            _ => None,
        }
    }
}

/// A function under several profiles.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CompareReport {
    pub function: String,
    pub func_index: u32,
    pub rows: Vec<ProfileEffect>,
}

/// The engine's `Target` for a profile's target, `Host` when it is none of
/// the named ones (the profile's config hook sets the triple anyway).
pub fn target_for(profile: &Profile) -> Target {
    Target::ALL
        .into_iter()
        .find(|t| t.triple() == Some(profile.target.as_str()) || t.name() == profile.target)
        .unwrap_or(Target::Host)
}

/// Translates `func_index` under `profile`'s knobs.
pub fn prepare_for_profile(
    input: &Input,
    func_index: u32,
    profile: &Profile,
    settings: Settings,
) -> Result<(Prepared, Settings), EngineError> {
    let settings = Settings {
        target: target_for(profile),
        ..settings
    };
    let hook = |c: &mut wasmtime::Config| profile.apply_to_config(c).map_err(|e| e.to_string());
    let prepared = session::prepare_with(input, func_index, settings, Some(&hook))?;
    Ok((prepared, settings))
}

/// Compiles `func_index` under every profile; returns the report and, per
/// row, the trace (for opening that profile's allocator view).
pub fn compare(
    input: &Input,
    module: &ModuleLayout,
    func_index: u32,
    profiles: &[Profile],
    settings: Settings,
) -> Result<(CompareReport, Vec<Option<FunctionTrace>>), EngineError> {
    let function = input.select(&func_index.to_string())?.label();
    let mut rows = Vec::new();
    let mut traces = Vec::new();
    for p in profiles {
        let (outcome, trace) = effect_for(input, module, func_index, p, settings);
        rows.push(ProfileEffect {
            profile: p.key.clone(),
            name: p.name.clone(),
            target: p.target.clone(),
            outcome,
        });
        traces.push(trace);
    }
    Ok((
        CompareReport {
            function,
            func_index,
            rows,
        },
        traces,
    ))
}

fn effect_for(
    input: &Input,
    module: &ModuleLayout,
    func_index: u32,
    profile: &Profile,
    settings: Settings,
) -> (EffectOutcome, Option<FunctionTrace>) {
    if profile.runtime != Runtime::Wasmtime {
        return (
            EffectOutcome::NotCompiled {
                reason: format!(
                    "'{}' models {}{}; spillscope compiles with Wasmtime only",
                    profile.name,
                    profile.runtime.name(),
                    if profile.runtime == Runtime::WasmEdgeModel {
                        "'s documented behaviour"
                    } else {
                        " from its sources"
                    }
                ),
            },
            None,
        );
    }
    let failed = |e: EngineError| EffectOutcome::Failed {
        message: e.to_string(),
    };
    let (prepared, settings) = match prepare_for_profile(input, func_index, profile, settings) {
        Ok(p) => p,
        Err(e) => return (failed(e), None),
    };
    let limits = prepared.default_limits();
    let trace = match session::trace_prepared(input, prepared, settings, limits) {
        Ok(t) => t,
        Err(e) => return (failed(e), None),
    };
    // `trace_prepared` compiles: its trace always has the function.
    let Some(prepared) = trace.prepared() else {
        return (
            EffectOutcome::Failed {
                message: "the trace has no compiled function".into(),
            },
            None,
        );
    };
    // Wasm inputs: the CLIF is what Wasmtime's compiler wrote in that compile.
    let clif_insts = clif_instructions(&input.path, &prepared.clif);
    let per_offset = check_instructions_by_offset(&prepared.clif);
    let inserted_moves = match prepared.job(&input.path, settings.algorithm, false) {
        Ok(job) => count_inserted_moves(&*job),
        Err(e) => return (failed(e), None),
    };
    let (check_sites, modelled) = check_sites(module, func_index, profile, &per_offset);
    let counts = trace.traced.trace.counts();
    let code = trace.code();
    let effect = CodeEffect {
        bounds_checks: per_offset.values().sum(),
        modelled_explicit_checks: modelled,
        check_sites,
        clif_insts,
        machine_insts: code.map_or(0, |c| c.machine_insts),
        code_size_bytes: code.map_or(0, |c| c.code.len()),
        allocator_steps: counts.steps,
        splits: counts.splits,
        evictions: counts.evictions,
        spilled_bundles: counts.spilled,
        spill_slots: counts.spill_slots,
        inserted_moves,
        checker: trace.checker().text(),
    };
    (EffectOutcome::Compiled(effect), Some(trace))
}

/// Joins the CLIF's check offsets with the module's access sites.
fn check_sites(
    module: &ModuleLayout,
    func_index: u32,
    profile: &Profile,
    per_offset: &BTreeMap<u32, u32>,
) -> (Vec<CheckSite>, u32) {
    let mut sites: BTreeMap<u32, CheckSite> = BTreeMap::new();
    let mut modelled = 0;
    for a in module.accesses.iter().filter(|a| a.function == func_index) {
        let Some(memory) = module.memory(a.memory) else {
            continue;
        };
        let decision = checks::check_for_site(profile, memory, a);
        let kind = decision.map(|d| d.kind);
        let explicit = kind.is_some_and(CheckKind::is_explicit);
        modelled += u32::from(explicit);
        let offset = a.module_offset as u32;
        let found = per_offset.get(&offset).copied().unwrap_or(0);
        if explicit || found > 0 {
            sites.insert(
                offset,
                CheckSite {
                    module_offset: offset,
                    instruction: Some(if a.offset_bytes == 0 {
                        a.instruction.clone()
                    } else {
                        format!("{} offset={}", a.instruction, a.offset_bytes)
                    }),
                    modelled: kind,
                    check_instructions: found,
                },
            );
        }
    }
    for (&offset, &n) in per_offset {
        sites.entry(offset).or_insert(CheckSite {
            module_offset: offset,
            instruction: None,
            modelled: None,
            check_instructions: n,
        });
    }
    (sites.into_values().collect(), modelled)
}

/// `@004a  v19 = icmp ...` → `(Some(0x4a), "v19 = icmp ...")`.
fn split_srcloc(line: &str) -> (Option<u32>, &str) {
    let t = line.trim_start();
    if let Some(rest) = t.strip_prefix('@') {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let offset = u32::from_str_radix(&rest[..end], 16).ok();
        return (offset, strip_comment(&rest[end..]));
    }
    (None, strip_comment(t))
}

/// A CLIF line without its `; v5 = 0` comment.
fn strip_comment(text: &str) -> &str {
    text.split(';').next().unwrap_or_default().trim()
}

/// Explicit bounds-check instructions in Wasmtime's CLIF text, by the Wasm
/// offset on their line (rules in the module comment).
pub fn check_instructions_by_offset(clif: &str) -> BTreeMap<u32, u32> {
    // First pass: cold blocks that raise MemoryOutOfBounds.
    let mut oob_blocks: Vec<String> = Vec::new();
    let mut current: Option<(String, bool)> = None;
    let mut consts: HashMap<String, i64> = HashMap::new();
    let mut raises_oob = false;
    let lines: Vec<&str> = clif.lines().collect();
    let mut close = |current: &mut Option<(String, bool)>, raises: bool| {
        if let Some((name, cold)) = current.take()
            && cold
            && raises
        {
            oob_blocks.push(name);
        }
    };
    for line in &lines {
        let (_, body) = split_srcloc(line);
        if body.starts_with("block") && body.ends_with(':') {
            close(&mut current, raises_oob);
            raises_oob = false;
            consts.clear();
            let head = body.trim_end_matches(':');
            let name: String = head
                .split(|c: char| c == '(' || c.is_whitespace())
                .next()
                .unwrap_or_default()
                .to_string();
            current = Some((name, head.ends_with(" cold")));
            continue;
        }
        if let Some((lhs, rhs)) = body.split_once(" = iconst.i8 ") {
            let value = rhs
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<i64>().ok());
            if let Some(v) = value {
                consts.insert(lhs.trim().to_string(), v);
            }
        }
        if let Some(args) = body
            .strip_prefix("call ")
            .and_then(|c| c.split_once('('))
            .map(|(_, a)| a.trim_end_matches(')'))
        {
            let args: Vec<&str> = args.split(',').map(str::trim).collect();
            if args.len() == 2 && consts.get(args[1]) == Some(&TRAP_CODE_MEMORY_OUT_OF_BOUNDS) {
                raises_oob = true;
            }
        }
        if body == "}" {
            close(&mut current, raises_oob);
            raises_oob = false;
        }
    }
    let mut out = BTreeMap::new();
    for line in &lines {
        let (offset, body) = split_srcloc(line);
        let Some(offset) = offset else { continue };
        let rhs = body.split_once(" = ").map_or(body, |(_, r)| r);
        let op = rhs.split_whitespace().next().unwrap_or_default();
        let is_check = match op {
            "select_spectre_guard" => true,
            "trapnz" | "trapz" | "uadd_overflow_trap" => rhs.contains("heap_oob"),
            "brif" => rhs
                .split(',')
                .nth(1)
                .map(|t| t.trim())
                .map(|t| t.split('(').next().unwrap_or(t))
                .is_some_and(|target| oob_blocks.iter().any(|b| b == target)),
            _ => false,
        };
        if is_check {
            *out.entry(offset).or_insert(0) += 1;
        }
    }
    out
}

/// Instructions of the (first) function in CLIF text; 0 when it does not parse.
fn clif_instructions(path: &std::path::Path, clif: &str) -> usize {
    let Ok(file) = crate::input::clif::parse(path, clif) else {
        return 0;
    };
    file.functions.first().map_or(0, |(f, _)| {
        f.layout
            .blocks()
            .map(|b| f.layout.block_insts(b).count())
            .sum()
    })
}

/// Counts regalloc2's inserted moves from its `moves` records: every
/// `resolved: A -> B` not followed by `redundant move elided` becomes an
/// `Edit::Move` (regalloc2 0.15.2 `src/ion/moves.rs:975–985`). Allocations
/// print as `p3i` (register) or `stack5` (spill slot).
fn count_inserted_moves(job: &dyn compile::CompileJob) -> MoveCounts {
    #[derive(Default)]
    struct MoveSink {
        counts: MoveCounts,
        pending: Option<(bool, bool)>,
        elided: u64,
    }
    impl MoveSink {
        fn commit(&mut self) {
            if let Some((from_stack, to_stack)) = self.pending.take() {
                let c = &mut self.counts;
                c.total += 1;
                match (from_stack, to_stack) {
                    (false, false) => c.reg_to_reg += 1,
                    (false, true) => c.spill_stores += 1,
                    (true, false) => c.reloads += 1,
                    (true, true) => c.stack_to_stack += 1,
                }
            }
        }
    }
    impl RecordSink for MoveSink {
        fn record(&mut self, _: Source, _: log::Level, message: &str) -> Verdict {
            let t = message.trim();
            if let Some(rest) = t.strip_prefix("resolved: ") {
                self.commit();
                let mut parts = rest.split(" -> ");
                let from = parts.next().unwrap_or_default().trim();
                let to = parts.next().unwrap_or_default().trim();
                self.pending = Some((from.starts_with("stack"), to.starts_with("stack")));
            } else if t.contains("redundant move elided") {
                if self.pending.take().is_some() {
                    self.elided += 1;
                }
            } else {
                self.commit();
            }
            Verdict::Continue
        }
    }
    let (_, mut sink, _) = capture::capture_sources(
        MoveSink::default(),
        CaptureLimits::default(),
        Sources(1 << Source::Moves as u32),
        || compile::compile_untraced(job),
    );
    sink.commit();
    sink.counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srclocs_parse() {
        assert_eq!(
            split_srcloc("@004a    v19 = icmp uge v17, v18"),
            (Some(0x4a), "v19 = icmp uge v17, v18")
        );
        assert_eq!(
            split_srcloc("   v82 = iconst.i8 1"),
            (None, "v82 = iconst.i8 1")
        );
    }
}
