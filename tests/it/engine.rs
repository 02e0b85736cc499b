//! Facts about real traces of the sample modules: the parser understands every
//! record, the replay ends where regalloc2's own final dump says it ended, the
//! checker passes, and the goldens hold.

use crate::common;

use std::sync::{Arc, OnceLock};

use spillscope::engine::capture::CaptureLimits;
use spillscope::engine::compile::CheckerVerdict;
use spillscope::engine::input::Input;
use spillscope::engine::input::isa::{Algorithm, Target};
use spillscope::engine::replay::explain;
use spillscope::engine::replay::{Replay, Status};
use spillscope::engine::session::{self, FunctionTrace, Settings};
use spillscope::engine::trace::{Event, Outcome, Requirement};

pub(crate) fn trace(input: &Input, index: u32, target: Target) -> FunctionTrace {
    let settings = Settings {
        target,
        ..Settings::default()
    };
    session::trace_function(input, index, settings, CaptureLimits::default())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Every function of every sample traced for one target, once per test run:
/// several tests read the same traces, and tracing is the expensive part.
pub(crate) struct SampleTrace {
    pub(crate) input: Arc<Input>,
    pub(crate) index: u32,
    pub(crate) trace: FunctionTrace,
}

pub(crate) fn sample_traces(target: Target) -> &'static [SampleTrace] {
    static CACHE: [OnceLock<Vec<SampleTrace>>; 5] = [const { OnceLock::new() }; 5];
    let slot = Target::ALL
        .iter()
        .position(|&t| t == target)
        .expect("a known target");
    CACHE[slot].get_or_init(|| {
        let mut out = Vec::new();
        for input in common::samples() {
            // A .clif file with a `target` line compiles for that target only.
            if input.kind() == spillscope::engine::input::InputKind::Clif
                && target != Target::X86_64
            {
                continue;
            }
            let input = Arc::new(input);
            for func in input.functions.iter().filter(|f| !f.imported) {
                out.push(SampleTrace {
                    input: Arc::clone(&input),
                    index: func.index,
                    trace: trace(&input, func.index, target),
                });
            }
        }
        out
    })
}

fn each_sample_trace(targets: &[Target], mut f: impl FnMut(&Input, u32, Target, &FunctionTrace)) {
    for &target in targets {
        for s in sample_traces(target) {
            f(&s.input, s.index, target, &s.trace);
        }
    }
}

#[test]
fn every_sample_function_traces_fully_and_the_checker_passes() {
    let mut traced = 0;
    each_sample_trace(
        &[
            Target::X86_64,
            Target::Aarch64,
            Target::Riscv64,
            Target::S390x,
        ],
        |input, index, target, t| {
            let what = format!("{} #{index} {target:?}", input.path.display());
            assert_eq!(t.traced.checker, CheckerVerdict::Ok, "{what}");
            assert_eq!(
                t.traced.trace.unparsed, 0,
                "{what}: {:?}",
                t.traced.trace.unparsed_samples
            );
            assert!(
                t.traced.trace.final_state.is_some(),
                "{what}: no final dump"
            );
            assert!(
                t.traced
                    .trace
                    .vcode_before
                    .as_deref()
                    .is_some_and(|v| v.contains("Inst 0")),
                "{what}"
            );
            assert!(
                !t.replay.is_empty() || t.traced.trace.initial_queue.is_empty(),
                "{what}: bundles were queued but no step was seen"
            );
            traced += 1;
        },
    );
    assert!(traced >= 20);
}

/// A Wasm function is traced in Wasmtime's own compile of it alone: the
/// traced compile's machine code is, byte for byte outside relocations,
/// Wasmtime's code for the function in its compile of the whole module, and
/// the CLIF it wrote is the CLIF Wasmtime writes there.
#[test]
fn the_traced_compile_is_wasmtimes_own_code_for_every_sample_function() {
    use spillscope::engine::compile::fidelity;
    use spillscope::engine::input::translate;
    let mut compared = 0;
    for target in [
        Target::X86_64,
        Target::Aarch64,
        Target::Riscv64,
        Target::S390x,
    ] {
        let mut whole: std::collections::HashMap<std::path::PathBuf, Vec<translate::Translation>> =
            Default::default();
        for s in sample_traces(target) {
            let Some(wasm) = s.input.wasm() else {
                assert_eq!(s.trace.compiled_by(), "cranelift");
                continue;
            };
            let what = format!("{} #{} {target:?}", s.input.path.display(), s.index);
            assert_eq!(s.trace.compiled_by(), "wasmtime", "{what}");
            let module = whole.entry(s.input.path.clone()).or_insert_with(|| {
                let settings = Settings {
                    target,
                    ..Settings::default()
                };
                translate::translate_module(&s.input.path, wasm, settings.wasmtime())
                    .unwrap_or_else(|e| panic!("{e}"))
            });
            let theirs = module.iter().find(|t| t.func_index == s.index).unwrap();
            let code = s.trace.code().unwrap_or_else(|| panic!("{what}: no code"));
            let report = fidelity::compare(code, theirs.wasmtime_code.as_deref().unwrap());
            assert!(report.identical(), "{what}: {}", report.text());
            assert_eq!(
                s.trace.clif(),
                Ok(theirs.clif_optimized.as_str()),
                "{what}: CLIF"
            );
            compared += 1;
        }
    }
    assert!(compared >= 100, "compared only {compared} functions");
}

/// The replay's last state must be the state regalloc2 dumped after allocating:
/// same live ranges in every bundle, same register for every allocated bundle.
#[test]
fn replay_ends_in_regalloc2s_own_final_state() {
    each_sample_trace(
        &[Target::X86_64, Target::Aarch64],
        |input, index, target, t| {
            let what = format!("{} #{index} {target:?}", input.path.display());
            let dump = t.traced.trace.final_state.as_ref().unwrap();
            let last = t.replay.state_at(t.replay.len());
            assert!(last.bundles.len() >= dump.bundles.len(), "{what}");
            for (i, b) in dump.bundles.iter().enumerate() {
                let ours = &last.bundles[i];
                let mut want: Vec<_> = b.segs.iter().map(|s| (s.from, s.to)).collect();
                let mut got: Vec<_> = last.segs(i as u32).iter().map(|s| (s.from, s.to)).collect();
                want.sort();
                got.sort();
                assert_eq!(got, want, "{what}: ranges of bundle {i}");
                match ours.status {
                    Status::Allocated(p) => assert_eq!(b.alloc, p.text(), "{what}: bundle {i}"),
                    _ => assert_eq!(b.alloc, "none", "{what}: bundle {i} is {:?}", ours.status),
                }
            }
        },
    );
}

#[test]
fn at_the_last_step_every_bundle_is_allocated_or_spilled() {
    each_sample_trace(&[Target::X86_64], |input, index, _, t| {
        let last = t.replay.state_at(t.replay.len());
        for (i, b) in last.bundles.iter().enumerate() {
            if last.segs(i as u32).is_empty() {
                continue;
            }
            assert!(
                matches!(b.status, Status::Allocated(_) | Status::Spilled(_)),
                "{} #{index}: bundle {i} ends {:?}",
                input.path.display(),
                b.status
            );
        }
    });
}

#[test]
fn stepping_back_then_forward_returns_identical_state() {
    each_sample_trace(&[Target::X86_64], |_, _, _, t| {
        let r = &t.replay;
        let mut state = r.state_at(0);
        for k in 0..=r.len() {
            r.seek(&mut state, k);
            let forward = state.clone();
            if k > 0 {
                r.seek(&mut state, k - 1);
                assert_eq!(state, r.state_at(k - 1), "back to {}", k - 1);
                r.seek(&mut state, k);
            }
            assert_eq!(state, forward, "forward again to {k}");
            assert_eq!(state, r.state_at(k), "jump to {k}");
        }
        // A far jump backwards goes through a checkpoint and still agrees.
        r.seek(&mut state, 0);
        assert_eq!(&state, r.initial());
    });
}

#[test]
fn lineage_is_a_forest() {
    each_sample_trace(&[Target::X86_64, Target::Aarch64], |input, _, _, t| {
        let r: &Replay = &t.replay;
        let mut parent_of = std::collections::HashMap::new();
        for e in &r.lineage {
            assert_ne!(e.parent, e.child);
            assert!(
                parent_of.insert(e.child, e.parent).is_none(),
                "{}: bundle {} has two parents",
                input.path.display(),
                e.child
            );
            assert_eq!(
                r.steps()[e.step].bundle,
                e.parent,
                "a child is created by its parent's step"
            );
        }
        for &start in parent_of.keys() {
            let mut seen = std::collections::HashSet::new();
            let mut b = start;
            while let Some(&p) = parent_of.get(&b) {
                assert!(seen.insert(p), "cycle through bundle {p}");
                b = p;
            }
        }
    });
}

#[test]
fn samples_show_what_they_are_for() {
    let load = |name: &str| Input::load(&common::samples_dir().join(name)).unwrap();
    let steps_of = |input: &Input, func: &str| {
        let index = input.select(func).unwrap().index;
        trace(input, index, Target::X86_64)
    };
    // Register pressure: splits, evictions and spill slots.
    let p = steps_of(&load("pressure.wat"), "pressure");
    let outcomes: Vec<_> = p.replay.steps().iter().map(|s| s.outcome.name()).collect();
    assert!(outcomes.contains(&"split"));
    assert!(p.replay.steps().iter().any(|s| !s.evicted().is_empty()));
    assert!(
        p.traced.trace.spill_slots.len() >= 4,
        "{:?}",
        p.traced.trace.spill_slots
    );
    // Calls: fixed-register requirements from the ABI.
    let c = steps_of(&load("calls.wat"), "calls");
    assert!(
        c.replay
            .steps()
            .iter()
            .any(|s| s.events.iter().any(|e| matches!(
                e,
                Event::Attempt {
                    req: Requirement::FixedReg(_),
                    ..
                }
            )))
    );
    assert!(c.replay.steps().iter().any(|s| {
        s.events
            .iter()
            .any(|e| matches!(e, Event::ConflictFixed { .. }))
    }));
    // The loop: bundles split around the call inside the loop.
    let l = steps_of(&load("loop.wat"), "loop");
    assert!(
        l.replay
            .steps()
            .iter()
            .any(|s| matches!(s.outcome, Outcome::Split { .. }))
    );
    // The CLIF file keeps its own target.
    let f = steps_of(&load("fib.clif"), "fib");
    assert!(f.target().starts_with("x86_64"));
}

#[test]
fn single_pass_compiles_and_logs_no_backtracking_steps() {
    let input = Input::load(&common::samples_dir().join("pressure.wat")).unwrap();
    let settings = Settings {
        target: Target::X86_64,
        algorithm: Algorithm::SinglePass,
        ..Settings::default()
    };
    let t = session::trace_function(&input, 0, settings, CaptureLimits::default()).unwrap();
    assert_eq!(t.traced.checker, CheckerVerdict::Ok);
    assert!(t.code().is_some_and(|c| !c.code.is_empty()));
    assert!(t.replay.is_empty());
}

#[test]
fn a_record_budget_stops_the_allocation_and_keeps_the_trace() {
    let input = Input::load(&common::samples_dir().join("pressure.wat")).unwrap();
    let limits = CaptureLimits {
        max_records: 8_000,
        deadline: None,
    };
    let settings = Settings {
        target: Target::X86_64,
        ..Settings::default()
    };
    let t = session::trace_function(&input, 0, settings, limits).unwrap();
    assert!(t.traced.trace.stopped.is_some());
    assert!(t.code().is_none());
    assert!(!t.replay.is_empty(), "steps before the stop are kept");
    assert!(t.traced.trace.final_state.is_none());
    assert_eq!(
        t.replay.steps().last().unwrap().outcome,
        Outcome::Incomplete
    );
}

/// Goldens: one line per step, for every function of the hand-written samples
/// and three kernels of the C sample, on x86_64.
/// Re-bless with `BLESS=1 cargo test --test it engine::golden`.
#[test]
fn golden_step_lists() {
    let kernels = ["sha256_block", "lz_compress", "run_vm"];
    each_sample_trace(&[Target::X86_64], |input, index, _, t| {
        let stem = input.path.file_stem().unwrap().to_string_lossy();
        // Named by the sample's path (`hang/loop.clif`, `loop.wat`), not its stem.
        let rel = input
            .path
            .strip_prefix(common::samples_dir())
            .unwrap()
            .to_string_lossy()
            .replace('/', "-");
        // The memory-layout samples are checked by the layout tests.
        if input.path.parent().is_some_and(|p| p.ends_with("memory")) {
            return;
        }
        if stem == "kernels" {
            let name = input.functions[index as usize]
                .name
                .as_deref()
                .unwrap_or("");
            if !kernels.contains(&name) {
                return;
            }
        }
        let mut text = String::new();
        for (i, s) in t.replay.steps().iter().enumerate() {
            text.push_str(&format!(
                "{:>4} {}\n",
                i + 1,
                explain::headline(s, t.reg_names())
            ));
        }
        common::golden("steps", &format!("{rel}-{index}-x86_64.txt"), &text);
    });
}

/// Register names are the machine code's: every register a bundle holds at
/// the end of the allocation shows up, under that name (or its narrower
/// alias), in the disassembled code of the same compile.
#[test]
fn register_names_are_the_ones_in_the_machine_code() {
    use spillscope::engine::replay::Status;
    fn aliases(name: &str) -> Vec<String> {
        let x86 = [
            ("rax", "eax", "ax", "al"),
            ("rcx", "ecx", "cx", "cl"),
            ("rdx", "edx", "dx", "dl"),
            ("rbx", "ebx", "bx", "bl"),
            ("rsp", "esp", "sp", "spl"),
            ("rbp", "ebp", "bp", "bpl"),
            ("rsi", "esi", "si", "sil"),
            ("rdi", "edi", "di", "dil"),
        ];
        if let Some(&(q, d, w, b)) = x86.iter().find(|a| a.0 == name) {
            return [q, d, w, b].iter().map(|s| format!("%{s}")).collect();
        }
        if name.starts_with('r') && name[1..].parse::<u8>().is_ok() {
            return ["", "d", "w", "b"]
                .iter()
                .map(|s| format!("%{name}{s}"))
                .collect();
        }
        if let Some(n) = name.strip_prefix("xmm") {
            return vec![format!("%xmm{n}")];
        }
        if let Some(n) = name.strip_prefix('x') {
            return vec![format!("x{n}"), format!("w{n}")];
        }
        if let Some(n) = name.strip_prefix('v') {
            return ["v", "q", "d", "s", "h", "b"]
                .iter()
                .map(|p| format!("{p}{n}"))
                .collect();
        }
        vec![name.to_string()]
    }
    let mut checked = 0;
    let mut missed = Vec::new();
    for target in [Target::X86_64, Target::Aarch64] {
        for s in sample_traces(target) {
            if s.input.wasm().is_none() {
                continue;
            }
            let names = s.trace.reg_names().unwrap();
            let listing = &s.trace.code().unwrap().final_vcode;
            let words: std::collections::HashSet<&str> = listing
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '%'))
                .collect();
            let last = s.trace.replay.state_at(s.trace.replay.len());
            for (b, state) in last.bundles.iter().enumerate() {
                let Status::Allocated(p) = state.status else {
                    continue;
                };
                let Some(first) = last.segs(b as u32).first() else {
                    continue;
                };
                let name = names.name(p);
                if first.from.inst() == 0 {
                    // A parameter, defined by the entry's `args`, which names
                    // no register: it arrives in an argument register of the
                    // ABI (Wasmtime passes the vmctx pair first).
                    let args: &[&str] = match target {
                        Target::X86_64 => &["rdi", "rsi", "rdx", "rcx", "r8", "r9"],
                        _ => &["x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7"],
                    };
                    if p.class == spillscope::engine::trace::RegClass::Int {
                        assert!(
                            args.contains(&name.as_str()),
                            "parameter bundle {b} in {name}"
                        );
                    }
                    continue;
                }
                // A call's result arriving in the return register and going
                // straight back out through it: `call` and `ret` name no register.
                let returned = matches!(name.as_str(), "rax" | "x0");
                if !returned && !aliases(&name).iter().any(|a| words.contains(a.as_str())) {
                    missed.push(format!(
                        "{} #{} {target:?}: bundle {b} holds {name} ({})",
                        s.input.path.display(),
                        s.index,
                        p.text()
                    ));
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "checked only {checked} bundles");
    assert!(
        missed.is_empty(),
        "{} of {checked}:\n{}",
        missed.len(),
        missed.join("\n")
    );
}

/// Register pressure: at the last step, no program point has more registers
/// of a class taken than regalloc2 may allocate (bundles in one register never
/// overlap); where more values are live than there are registers, the
/// allocation spilled; and the samples do press on the registers.
#[test]
fn register_pressure_is_bounded_by_the_registers_and_forces_spills() {
    use spillscope::engine::replay::pressure;
    let mut over = 0;
    for target in [Target::X86_64, Target::Aarch64] {
        for s in sample_traces(target) {
            let t = &s.trace;
            if t.traced.trace.stopped.is_some() || t.replay.is_empty() {
                continue;
            }
            let what = format!("{} #{} {target:?}", s.input.path.display(), s.index);
            let tracks = pressure::pressure(&t.replay, t.target());
            let last = t.replay.state_at(t.replay.len());
            for c in &tracks {
                let regs = c.registers.expect("a known target");
                let taken = pressure::allocated(&last, c.class, c.live.len());
                let most = taken.iter().copied().max().unwrap_or(0);
                assert!(
                    most <= regs,
                    "{what}: {most} {:?} registers taken of {regs}",
                    c.class
                );
                if c.points_over > 0 {
                    over += 1;
                    let spilled = t.traced.trace.counts().spilled > 0
                        || t.traced.trace.moves.edits.iter().any(|e| e.to.is_stack());
                    assert!(
                        spilled,
                        "{what}: {} live, {regs} registers, no spill",
                        c.max_live
                    );
                }
            }
        }
    }
    assert!(
        over >= 2,
        "only {over} functions need more registers than they have"
    );
}
