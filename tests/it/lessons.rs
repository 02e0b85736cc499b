//! The lesson samples (`sample-modules/lessons/`) each say in one sentence
//! what they teach, and their real allocation on x86_64 shows it.

use crate::common;

use spillscope::engine::capture::CaptureLimits;
use spillscope::engine::input::Input;
use spillscope::engine::input::isa::Target;
use spillscope::engine::replay::moves::{self, MoveKind};
use spillscope::engine::replay::pressure;
use spillscope::engine::session::{self, FunctionTrace, Settings};
use spillscope::engine::trace::{Constraint, Event, Outcome};

fn lessons_dir() -> std::path::PathBuf {
    common::samples_dir().join("lessons")
}

/// The lesson's one defined function, traced for x86_64.
fn traced(file: &str) -> FunctionTrace {
    let input = Input::load(&lessons_dir().join(file)).unwrap();
    let f = input.default_function().unwrap().index;
    let settings = Settings {
        target: Target::X86_64,
        ..Settings::default()
    };
    let t = session::trace_function(&input, f, settings, CaptureLimits::default()).unwrap();
    assert_eq!(t.checker().text(), "ok", "{file}");
    t
}

/// Registers a step gave out, by x86_64 name.
fn registers_given(t: &FunctionTrace) -> Vec<String> {
    let names = t.reg_names().unwrap();
    t.replay
        .steps()
        .iter()
        .filter_map(|s| match s.outcome {
            Outcome::Allocated { preg } => Some(names.name(preg)),
            _ => None,
        })
        .collect()
}

#[test]
fn every_lesson_says_what_it_teaches_in_its_first_line() {
    let mut n = 0;
    for e in std::fs::read_dir(lessons_dir()).unwrap().flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap();
        assert!(
            text.starts_with(";; Lesson: "),
            "{}: no lesson sentence",
            e.path().display()
        );
        n += 1;
    }
    assert!((3..=5).contains(&n), "{n} lessons");
}

#[test]
fn each_lesson_shows_what_it_teaches() {
    // More values live than registers: spills and reloads.
    let t = traced("pressure.wat");
    let p = pressure::pressure(&t.replay, t.target());
    assert!(p[0].max_live > p[0].registers.unwrap(), "{:?}", p[0]);
    let m = moves::attribute(&t.replay, None);
    assert!(m.moves.iter().any(|m| m.kind == MoveKind::Spill));
    assert!(m.moves.iter().any(|m| m.kind == MoveKind::Reload));

    // A call clobbers caller-saved registers: the values live across it
    // conflict with the clobbers and end in callee-saved registers.
    let t = traced("calls.wat");
    let clobbered = t.replay.steps().iter().any(|s| {
        s.events
            .iter()
            .any(|e| matches!(e, Event::ConflictFixed { .. }))
    });
    assert!(clobbered, "no step met the call's clobbers");
    let given = registers_given(&t);
    let callee_saved = ["rbx", "r12", "r13", "r14", "r15"];
    assert!(
        given.iter().any(|r| callee_saved.contains(&r.as_str())),
        "{given:?}"
    );

    // A loop with a call: values live through the loop are split.
    let t = traced("loop.wat");
    assert!(t.traced.trace.counts().splits > 0);

    // Fixed-register operands: the shift count in rcx, division in rax/rdx.
    let t = traced("fixed-registers.wat");
    let names = t.reg_names().unwrap();
    let fixed: Vec<String> = t
        .traced
        .trace
        .initial
        .ranges
        .iter()
        .flat_map(|r| r.uses.iter())
        .filter_map(|u| match u.constraint {
            Constraint::FixedReg(p) | Constraint::Fixed(p) => Some(names.name(p)),
            _ => None,
        })
        .collect();
    for r in ["rcx", "rax", "rdx"] {
        assert!(
            fixed.iter().any(|f| f == r),
            "no use fixed to {r}: {fixed:?}"
        );
    }

    // The calls lesson also cuts a bundle into minimal bundles (one per use,
    // each covering one instruction), the case behind regalloc2 0.11.3's loop.
    let t = traced("calls.wat");
    let minimal = t.replay.steps().iter().any(|s| {
        s.events
            .iter()
            .any(|e| matches!(e, Event::MinimalSplit { .. }))
            || matches!(&s.outcome, Outcome::Split { children, .. } if children.len() > 1)
    });
    assert!(minimal, "no bundle was cut into minimal bundles");
}

#[test]
fn every_lesson_step_is_narrated_and_every_glossary_term_is_met() {
    use spillscope::engine::replay::narrate::{self, Piece};
    let mut met = std::collections::BTreeSet::new();
    for file in [
        "pressure.wat",
        "calls.wat",
        "loop.wat",
        "fixed-registers.wat",
    ] {
        let t = traced(file);
        let names = t.reg_names();
        for (i, step) in t.replay.steps().iter().enumerate() {
            let told = narrate::narrate(
                step,
                t.replay.vregs_at_start(i),
                names,
                t.replay.props_at_start(i),
            );
            let last = narrate::plain(told.last().unwrap());
            assert!(
                last.starts_with("Result: "),
                "{file} step {}: {last}",
                i + 1
            );
            // The result names the step's bundle, as the headline does.
            assert!(last.contains(&format!("bundle {}", step.bundle)), "{last}");
            for piece in told.iter().flatten() {
                if let Piece::Term { term, .. } = piece {
                    met.insert(*term);
                }
            }
        }
    }
    let all: std::collections::BTreeSet<&str> = narrate::GLOSSARY.iter().map(|g| g.0).collect();
    let missing: Vec<_> = all.difference(&met).collect();
    assert!(missing.is_empty(), "terms no lesson step uses: {missing:?}");
}

#[test]
fn trace_narrate_json_tells_each_step_and_defines_the_terms() {
    let t = common::json(&[
        "trace",
        lessons_dir().join("pressure.wat").to_str().unwrap(),
        "--func",
        "0",
        "--target",
        "x86_64",
        "--narrate",
        "--json",
    ]);
    let steps = t["steps"].as_array().unwrap();
    assert!(
        steps
            .iter()
            .all(|s| s["narration"].as_array().is_some_and(|n| n.len() >= 2))
    );
    let glossary = t["glossary"].as_array().unwrap();
    assert_eq!(
        glossary.len(),
        spillscope::engine::replay::narrate::GLOSSARY.len()
    );
    assert!(glossary.iter().any(|g| g["term"] == "spill weight"));
}
