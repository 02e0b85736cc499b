//! `moves`: every edit regalloc2 inserted, each traced to the step that caused
//! it. The edits are checked against regalloc2's own list of them (its
//! `regalloc_verbose_logs` results dump, a route that shares nothing with the
//! parser of the move records), on every sample function for two targets and
//! on modules of the spec corpus.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use spillscope::engine::capture::{self, CaptureLimits, RecordSink, Source, Verdict};
use spillscope::engine::input::isa::{Algorithm, Target};
use spillscope::engine::replay::moves::{self, MoveKind, MoveReport};
use spillscope::engine::session::FunctionTrace;

/// regalloc2's results dump: `inst29-pre: move p12i -> stack11`, one line per
/// edit, printed from its final edit list when verbose logs are on.
#[derive(Default)]
struct ResultsDump {
    edits: Vec<(String, String, String)>,
}

impl RecordSink for ResultsDump {
    fn record(&mut self, source: Source, level: log::Level, message: &str) -> Verdict {
        if source == Source::Dump
            && level == log::Level::Info
            && let Some((at, rest)) = message.trim().split_once(": move ")
            && let Some((from, to)) = rest.split_once(" -> ")
        {
            let point = at.trim_start_matches("inst").to_string();
            self.edits.push((point, from.to_string(), to.to_string()));
        }
        Verdict::Continue
    }
}

/// The edits regalloc2 lists for this compile, sorted.
fn regalloc2_edits(path: &Path, t: &FunctionTrace) -> Vec<(String, String, String)> {
    let job = t
        .prepared()
        .unwrap()
        .job_with(
            path,
            Algorithm::Backtracking,
            true,
            &[("regalloc_verbose_logs", "true")],
        )
        .unwrap();
    let limits = CaptureLimits {
        max_records: u64::MAX,
        deadline: None,
    };
    let (_, dump, _) = capture::capture(ResultsDump::default(), limits, || job.compile(false));
    let mut edits = dump.edits;
    edits.sort();
    edits
}

/// What one function's check found.
#[derive(Default)]
struct Tally {
    edits: usize,
    attributed: usize,
    kinds: BTreeMap<&'static str, usize>,
}

/// Checks one traced function's move report against regalloc2's own list
/// and its trace.
fn check(what: &str, path: &Path, t: &FunctionTrace, tally: &mut Tally) -> MoveReport {
    let report = moves::attribute(&t.replay, t.reg_names());
    assert!(report.note.is_none(), "{what}: {:?}", report.note);
    // Exactly regalloc2's edits, counted by a route of its own.
    let mut ours: Vec<(String, String, String)> = report
        .moves
        .iter()
        .map(|m| {
            (
                m.point.text(),
                m.from_regalloc2.clone(),
                m.to_regalloc2.clone(),
            )
        })
        .collect();
    ours.sort();
    assert_eq!(ours, regalloc2_edits(path, t), "{what}: edits");
    let s = &report.summary;
    assert_eq!(
        s.moves + s.spills + s.reloads + s.stack_moves,
        report.moves.len(),
        "{what}"
    );
    assert_eq!(
        s.unattributed,
        report.moves.iter().filter(|m| m.cause.is_none()).count(),
        "{what}"
    );
    let steps = t.replay.len();
    for m in &report.moves {
        assert_eq!(m.inst, m.point.inst(), "{what}");
        let expected = match (
            m.from_regalloc2.starts_with("stack"),
            m.to_regalloc2.starts_with("stack"),
        ) {
            (false, false) => MoveKind::Move,
            (false, true) => MoveKind::Spill,
            (true, false) => MoveKind::Reload,
            (true, true) => MoveKind::StackMove,
        };
        assert_eq!(m.kind, expected, "{what}: {m:?}");
        assert!(!m.why.is_empty(), "{what}: {m:?}");
        *tally.kinds.entry(m.reason).or_default() += 1;
        if let Some(c) = &m.cause {
            assert!(
                c.step >= 1 && c.step <= steps,
                "{what}: step {} of {steps}",
                c.step
            );
            let v = m.vreg.expect("a move with a cause names its vreg");
            // The cause's step began with the vreg in its bundle.
            assert!(
                t.replay.vregs_at_start(c.step - 1).contains(&v),
                "{what}: step {} does not touch v{v}: {m:?}",
                c.step
            );
            assert!(m.why.contains(&format!("step {}", c.step)), "{what}: {m:?}");
            tally.attributed += 1;
        }
    }
    tally.edits += report.moves.len();
    report
}

#[test]
fn every_edit_is_one_regalloc2_lists_and_each_cause_touches_its_vreg() {
    let mut tally = Tally::default();
    for target in [Target::X86_64, Target::Aarch64] {
        for s in crate::engine::sample_traces(target) {
            if s.trace.traced.trace.stopped.is_some() {
                continue;
            }
            let what = format!("{} #{} {target:?}", s.input.path.display(), s.index);
            check(&what, &s.input.path, &s.trace, &mut tally);
        }
    }
    eprintln!(
        "{} edits, {} attributed, by reason {:?}",
        tally.edits, tally.attributed, tally.kinds
    );
    // The samples are made to spill, split and copy: every kind of reason
    // shows, and nearly every split-made move finds its step.
    assert!(tally.edits >= 500, "only {} edits", tally.edits);
    for reason in ["split", "edge", "reuse", "block_param"] {
        assert!(
            tally.kinds.contains_key(reason),
            "no {reason} move: {:?}",
            tally.kinds
        );
    }
    let split_made = tally.kinds["split"] + tally.kinds["edge"];
    assert!(
        tally.attributed * 100 >= split_made * 95,
        "{} of {split_made} split-made moves attributed",
        tally.attributed
    );
}

#[test]
fn spec_corpus_modules_list_regalloc2s_edits_with_causes() {
    let mut tally = Tally::default();
    let scripts = ["fac.wast", "call_indirect.wast", "left-to-right.wast"];
    let found = crate::spec_corpus::each_traced_function(
        &scripts,
        usize::MAX,
        usize::MAX,
        |what, path, _, t| {
            check(what, path, t, &mut tally);
        },
    );
    if !found {
        return;
    }
    eprintln!(
        "{} edits, {} attributed, by reason {:?}",
        tally.edits, tally.attributed, tally.kinds
    );
    assert!(tally.edits >= 50, "only {} edits", tally.edits);
}

#[test]
fn moves_json_names_registers_and_causes() {
    let v = common::sample_json("moves", "pressure.wat", "pressure");
    assert_eq!(v["function"], "pressure");
    let list = v["moves"].as_array().unwrap();
    let spills = list.iter().filter(|m| m["kind"] == "spill").count();
    let reloads = list.iter().filter(|m| m["kind"] == "reload").count();
    assert_eq!(v["summary"]["spills"], spills);
    assert_eq!(v["summary"]["reloads"], reloads);
    assert!(spills > 0 && reloads > 0);
    let x86 = [
        "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12",
        "r13", "r14", "r15",
    ];
    for m in list {
        for side in ["from", "to"] {
            let name = m[side].as_str().unwrap();
            assert!(
                x86.contains(&name) || name.starts_with("stack") || name.starts_with("xmm"),
                "{m}"
            );
        }
        if m["kind"] == "reload" {
            let cause = &m["cause"];
            assert!(cause["step"].as_u64().unwrap() >= 1, "{m}");
            assert!(
                cause["sentence"].as_str().unwrap().contains("bundle"),
                "{m}"
            );
        }
    }
}
