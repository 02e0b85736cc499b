//! The single-pass allocator stepped: the steps parsed from a real traced
//! compile (Wasmtime's compiler, `--algorithm single_pass`) replay to the
//! allocation regalloc2 returns for the same function: every operand's
//! allocation and every edit, step by step, equal regalloc2's output when
//! its single-pass allocator runs on the function rebuilt from the log.

use crate::common;

use regalloc2::Function as _;
use spillscope::engine::capture::CaptureLimits;
use spillscope::engine::compile::realloc;
use spillscope::engine::input::Input;
use spillscope::engine::input::isa::{Algorithm, Target};
use spillscope::engine::replay::single_pass;
use spillscope::engine::session::{self, Settings};
use spillscope::engine::trace::Loc;
use spillscope::engine::trace::{SpAt, SpEvent};

fn loc_of(a: regalloc2::Allocation) -> Loc {
    match a.kind() {
        regalloc2::AllocationKind::Reg => Loc::Reg(a.as_reg().unwrap().into()),
        regalloc2::AllocationKind::Stack => Loc::Stack(a.as_stack().unwrap().index() as u32),
        regalloc2::AllocationKind::None => Loc::None,
    }
}

/// Checks one function; the number of steps.
fn replays(input: &Input, index: u32, target: Target) -> usize {
    let what = format!("{} #{index} {target:?}", input.path.display());
    let settings = Settings {
        target,
        algorithm: Algorithm::SinglePass,
        ..Settings::default()
    };
    let prepared = session::prepare(input, index, settings).unwrap_or_else(|e| panic!("{e}"));
    let func = session::rebuild_function(input, &prepared).unwrap_or_else(|e| panic!("{e}"));
    let limits = CaptureLimits {
        max_records: u64::MAX,
        deadline: None,
    };
    let t = session::trace_prepared(input, prepared, settings, limits)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let log = &t.traced.trace.single_pass;
    assert!(log.finished, "{what}: no end of allocation");
    assert_eq!(log.attribution, None, "{what}");
    assert!(
        log.steps.iter().all(|s| s.complete),
        "{what}: a step without its state"
    );

    let out = realloc::allocate_by(
        &func,
        &func.env,
        spillscope::engine::input::isa::Algorithm::SinglePass,
        false,
    )
    .unwrap_or_else(|e| panic!("{what}: {e}"));

    // One step per instruction, one per block start, in reverse order.
    let insts: Vec<u32> = log
        .steps
        .iter()
        .filter_map(|s| match s.at {
            SpAt::Inst { inst } => Some(inst),
            SpAt::BlockStart => None,
        })
        .collect();
    let expected: Vec<u32> = (0..func.num_insts() as u32).rev().collect();
    assert_eq!(insts, expected, "{what}: instruction steps");
    let starts = log
        .steps
        .iter()
        .filter(|s| s.at == SpAt::BlockStart)
        .count();
    assert_eq!(starts, func.num_blocks(), "{what}: block starts");

    // Every operand's allocation, in the order regalloc2 allocates them
    // (late operands, then early ones).
    for s in &log.steps {
        let SpAt::Inst { inst } = s.at else { continue };
        let i = regalloc2::Inst::new(inst as usize);
        let ops = func.inst_operands(i);
        let allocs = out.inst_allocs(i);
        let order = (0..ops.len())
            .filter(|&k| ops[k].pos() == regalloc2::OperandPos::Late)
            .chain((0..ops.len()).filter(|&k| ops[k].pos() == regalloc2::OperandPos::Early));
        let want: Vec<Loc> = order.map(|k| loc_of(allocs[k])).collect();
        assert_eq!(
            single_pass::operand_allocs(s),
            want,
            "{what}: operands of inst {inst}"
        );
    }

    // Every edit, made by the step that made it: the steps' edits in order,
    // read backwards, are regalloc2's output edits.
    let mut ours: Vec<(u32, Loc, Loc)> = log
        .steps
        .iter()
        .flat_map(|s| s.edits.iter().map(|e| (e.pos.0, e.from, e.to)))
        .collect();
    ours.reverse();
    let theirs: Vec<(u32, Loc, Loc)> = out
        .edits
        .iter()
        .map(|(p, e)| {
            let regalloc2::Edit::Move { from, to } = e;
            let point =
                p.inst().index() as u32 * 2 + u32::from(p.pos() == regalloc2::InstPosition::After);
            (point, loc_of(*from), loc_of(*to))
        })
        .collect();
    assert_eq!(ours, theirs, "{what}: edits");
    for s in &log.steps {
        let at = match s.at {
            SpAt::Inst { inst } => Some(inst),
            SpAt::BlockStart => None,
        };
        if let Some(inst) = at {
            assert!(
                s.edits.iter().all(|e| e.pos.inst() == inst),
                "{what}: a move of inst {inst} placed elsewhere"
            );
        }
    }

    // The replayed state after each instruction: every value the step
    // freed (a definition) is gone, every value a use placed is where the
    // use found it (or elsewhere, joined by a move).
    for (k, s) in log.steps.iter().enumerate() {
        let state = single_pass::state_at(log, k + 1);
        for e in &s.events {
            if let SpEvent::Freed { vreg } = e
                && !s.events.iter().any(|e| matches!(e, SpEvent::Operand { operand, .. } if operand.vreg == Some(*vreg) && !operand.def))
            {
                assert!(
                    !state.allocs.contains_key(vreg),
                    "{what}: v{vreg} defined at step {} is still live above",
                    k + 1
                );
            }
        }
        for (preg, vreg) in &state.occupied {
            assert_eq!(
                state.allocs.get(vreg),
                Some(&Loc::Reg(*preg)),
                "{what}: step {}: register {} holds v{vreg}",
                k + 1,
                preg.text()
            );
        }
    }
    log.steps.len()
}

#[test]
fn single_pass_steps_replay_to_its_final_allocation() {
    let mut functions = 0;
    let mut steps = 0;
    for target in [Target::X86_64, Target::Aarch64] {
        for input in common::samples() {
            if input.kind() == spillscope::engine::input::InputKind::Clif
                && target != Target::X86_64
            {
                continue;
            }
            for f in input.functions.iter().filter(|f| !f.imported) {
                steps += replays(&input, f.index, target);
                functions += 1;
            }
        }
    }
    eprintln!("{functions} functions, {steps} single-pass steps replayed");
    assert!(functions >= 20, "only {functions} functions");
}

#[test]
fn the_cli_steps_single_pass_backwards_with_explanations() {
    let v = common::json(&[
        "trace",
        "sample-modules/loop.wat",
        "--func",
        "loop",
        "--target",
        "x86_64",
        "--algorithm",
        "single_pass",
        "--json",
    ]);
    let sp = &v["single_pass"];
    assert!(sp["direction"].as_str().unwrap().contains("last to first"));
    let steps = sp["steps"].as_array().unwrap();
    // Step 1 is the last instruction; instruction numbers fall.
    let insts: Vec<u64> = steps.iter().filter_map(|s| s["inst"].as_u64()).collect();
    assert!(insts.windows(2).all(|w| w[0] > w[1]), "{insts:?}");
    assert_eq!(steps[0]["step"], 1);
    assert!(steps.iter().any(|s| {
        s["inst"].is_null()
            && s["headline"]
                .as_str()
                .unwrap()
                .starts_with("start of block")
    }));
    // The loop's values cross blocks: some go through spill slots.
    assert!(sp["spill_slots"].as_u64().unwrap() > 0);
    assert_eq!(
        sp["edits"].as_u64().unwrap() as usize,
        steps
            .iter()
            .map(|s| s["edits"].as_array().unwrap().len())
            .sum::<usize>()
    );
    assert!(
        steps
            .iter()
            .flat_map(|s| s["explanation"].as_array().unwrap())
            .any(|e| e.as_str().unwrap().contains("least recently used"))
    );
}
