//! Logs from other regalloc2 releases import into the same replay model: real
//! `RUST_LOG=regalloc2=trace` logs of 0.9.3, 0.10.2, 0.11.2, 0.12.2, 0.13.1 and
//! 0.15.2 (tests/fixtures/regalloc2-logs/, made by tools/ra-logs) parse with
//! every record understood, the replay keeps the allocator's invariants, and the
//! messages narrow the release down. The 0.11.3 split-loop log, when present,
//! imports too.

use std::path::{Path, PathBuf};

use spillscope::engine::replay::Replay;
use spillscope::engine::replay::invariants::{self, Invariant};
use spillscope::engine::trace::import::{self, ImportedLog};
use spillscope::engine::trace::{Event, Outcome, Trace};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/regalloc2-logs")
}

/// (file, release minor version, the release prints a final dump).
const LOGS: &[(&str, u32, bool)] = &[
    ("regalloc2-0.9.3.log", 9, false),
    ("regalloc2-0.10.2.log", 10, false),
    ("regalloc2-0.11.2.log", 11, false),
    ("regalloc2-0.12.2.log", 12, true),
    ("regalloc2-0.13.1.log", 13, true),
    ("regalloc2-0.15.2.log", 15, true),
];

fn import(path: &Path) -> ImportedLog {
    let text = std::fs::read_to_string(path).unwrap();
    import::import_log(path, &text).unwrap()
}

#[test]
fn every_release_imports_with_every_record_understood() {
    for &(file, _, _) in LOGS {
        let log = import(&fixtures().join(file));
        let t = &log.trace;
        let c = t.counts();
        assert!(c.steps > 20, "{file}: {c:?}");
        // The fixtures were chosen to exercise splitting (normal and minimal),
        // eviction and spill bundles.
        assert!(
            c.splits >= 4 && c.evictions >= 1 && c.spilled >= 1,
            "{file}: {c:?}"
        );
        assert!(
            t.steps
                .iter()
                .flat_map(|s| &s.events)
                .any(|e| matches!(e, Event::MinimalSplit { .. })),
            "{file}: a minimal split"
        );
        assert!(
            t.steps
                .iter()
                .flat_map(|s| &s.events)
                .any(|e| matches!(e, Event::ToSpillBundle { .. })),
            "{file}: ranges moved to a spill bundle"
        );
        assert_eq!(t.unparsed, 0, "{file}: {:#?}", t.unparsed_samples);
        assert!(
            log.stats.other_targets == 0 && log.stats.stray_lines == 0,
            "{file}"
        );
        assert!(
            !log.stats.truncated && t.finished,
            "{file}: the allocation ran to its end"
        );
        assert!(
            t.steps.iter().all(|s| s.outcome != Outcome::Incomplete),
            "{file}"
        );
        assert!(
            !t.initial.bundles.is_empty() && !t.initial_queue.is_empty(),
            "{file}"
        );
    }
}

#[test]
fn replays_of_every_release_keep_the_allocators_invariants() {
    for &(file, _, has_final_dump) in LOGS {
        let log = import(&fixtures().join(file));
        assert_eq!(log.trace.final_state.is_some(), has_final_dump, "{file}");
        let replay = Replay::new(log.trace.clone());
        let broken = invariants::check(&log.trace, &replay);
        assert!(
            broken.is_empty(),
            "{file}:\n{}",
            broken
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[test]
fn the_messages_narrow_down_the_release() {
    // What each fixture's messages allow (see the table in engine::trace).
    let expected = [
        // Old minimal splitting (`-> use .. (last_live_pos ..)`), no final
        // dump, and the eviction set printed as `Some([..])`.
        ("regalloc2-0.9.3.log", "0.9\u{2013}0.10"),
        ("regalloc2-0.10.2.log", "0.9\u{2013}0.10"),
        // The same, with the set printed as a plain list.
        ("regalloc2-0.11.2.log", "0.11"),
        // A final dump; nothing in these functions tells 0.12 to 0.15 apart
        // (no stack-constrained operands, no register limits).
        ("regalloc2-0.12.2.log", "0.12\u{2013}0.15"),
        ("regalloc2-0.13.1.log", "0.12\u{2013}0.15"),
        ("regalloc2-0.15.2.log", "0.12\u{2013}0.15"),
    ];
    let mut got = Vec::new();
    for &(file, minor, _) in LOGS {
        let d = import(&fixtures().join(file)).stats.dialect;
        assert!(d.fits(minor), "{file}: {}", d.text());
        got.push((file, d.text()));
    }
    let want: Vec<_> = expected.iter().map(|&(f, d)| (f, d.to_string())).collect();
    assert_eq!(got, want);
}

/// The invariant checker is not vacuous: a replay whose split lost a piece, or
/// whose bundles share a register, is caught.
#[test]
fn a_misparsed_trace_breaks_invariants() {
    let log = import(&fixtures().join("regalloc2-0.15.2.log"));
    let mut trace = log.trace.clone();
    // Drop the new ranges of the first split's child.
    let (i, child) = trace
        .steps
        .iter()
        .enumerate()
        .find_map(|(i, s)| match &s.outcome {
            Outcome::Split { children, .. } if !children.is_empty() => Some((i, children[0])),
            _ => None,
        })
        .unwrap();
    // (The split is stored as a cut point; an empty list after it loses the
    // child's part.)
    assert!(
        trace.steps[i]
            .events
            .iter()
            .any(|e| matches!(e, Event::RangesSplit { new_bundle, .. } if *new_bundle == child))
    );
    trace.steps[i].events.push(Event::Ranges {
        bundle: child,
        segs: Box::default(),
    });
    let broken = invariants::check(&trace, &Replay::new(trace.clone()));
    assert!(
        broken
            .iter()
            .any(|v| v.invariant == Invariant::SplitCoverage),
        "{broken:?}"
    );

    // Give every allocation the same register.
    let mut trace = log.trace.clone();
    let first = trace
        .steps
        .iter()
        .find_map(|s| match s.outcome {
            Outcome::Allocated { preg } => Some(preg),
            _ => None,
        })
        .unwrap();
    for s in &mut trace.steps {
        if let Outcome::Allocated { preg } = &mut s.outcome {
            *preg = first;
        }
        for e in &mut s.events {
            if let Event::Assigned { preg, .. } = e {
                *preg = first;
            }
        }
    }
    let broken = invariants::check(&trace, &Replay::new(trace.clone()));
    assert!(
        broken.iter().any(|v| v.invariant == Invariant::Overlap),
        "{broken:?}"
    );
    assert!(
        broken.iter().any(|v| v.invariant == Invariant::FinalState),
        "{broken:?}"
    );
}

/// A log cut short claims nothing about the end but keeps the rest.
#[test]
fn a_truncated_old_log_keeps_its_invariants() {
    for &(file, _, _) in LOGS {
        let text = std::fs::read_to_string(fixtures().join(file)).unwrap();
        let start = text.find("process_bundle").unwrap();
        let cut = start + (text.len() - start) / 3;
        let log = import::import_log(Path::new(file), &text[..cut]).unwrap();
        assert!(log.stats.truncated && !log.trace.finished, "{file}");
        assert_eq!(
            log.trace.steps.last().map(|s| &s.outcome),
            Some(&Outcome::Incomplete),
            "{file}"
        );
        let broken = invariants::check(&log.trace, &Replay::new(log.trace.clone()));
        assert!(broken.is_empty(), "{file}: {broken:?}");
    }
}

/// The last `n` complete steps of `t` are a split loop: each splits its bundle
/// into minimal bundles, and the next step takes the one new bundle that holds
/// the same program points again.
fn assert_split_loop(t: &Trace, n: usize) {
    let complete = &t.steps[..t.steps.len() - 1];
    assert!(complete.len() > n, "{} steps", t.steps.len());
    let replay = Replay::new(t.clone());
    let first = complete.len() - n;
    let mut state = replay.state_at(first);
    for (i, w) in complete[first..].windows(2).enumerate() {
        let Outcome::Split { children, .. } = &w[0].outcome else {
            panic!(
                "step {}: bundle {} is {:?}",
                first + i,
                w[0].bundle,
                w[0].outcome
            );
        };
        assert_eq!(children, &vec![w[1].bundle], "step {}", first + i);
        assert!(
            w[0].events
                .iter()
                .any(|e| matches!(e, Event::MinimalSplit { bundle } if *bundle == w[0].bundle)),
            "step {}",
            first + i
        );
        let points = |s: &spillscope::engine::replay::State, b: u32| {
            let mut v: Vec<_> = s.segs(b).iter().map(|s| (s.from, s.to)).collect();
            v.sort();
            v
        };
        let before = points(&state, w[0].bundle);
        replay.seek(&mut state, first + i + 1);
        assert_eq!(points(&state, w[1].bundle), before, "step {}", first + i);
    }
}

/// regalloc2 0.11.3 (yanked) splitting the same two-range bundle into minimal
/// bundles forever, on a function 0.11.2 allocates; the log stops at 300 KB.
#[test]
fn the_0_11_3_minimal_split_loop_replays_as_a_loop() {
    let log = import(&fixtures().join("regalloc2-0.11.3-loop.log"));
    let t = &log.trace;
    assert_eq!(t.unparsed, 0, "{:#?}", t.unparsed_samples);
    assert!(log.stats.truncated && !t.finished && t.final_state.is_none());
    assert_eq!(log.stats.dialect.text(), "0.11");
    // A use and a reused-input def at the same instruction: two ranges, which
    // 0.11.3 does not count as minimal.
    assert_split_loop(t, 20);
    let replay = Replay::new(t.clone());
    let last = replay.state_at(replay.len());
    let looping = t.steps.last().unwrap().bundle as usize;
    assert_eq!(
        last.segs(looping as u32).len(),
        2,
        "{:?}",
        last.bundles[looping]
    );
    let broken = invariants::check(t, &replay);
    assert!(broken.is_empty(), "{broken:?}");
}

/// The log of regalloc2 0.11.3's endless split loop (sample-modules/hang/),
/// cut off by its budget: it imports, its steps parse and the invariants that
/// need no end hold.
#[test]
fn the_0_11_3_split_loop_log_imports() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-modules/hang/loop-0.11.3.log");
    if !path.exists() {
        eprintln!("{} not there yet: skipped", path.display());
        return;
    }
    let log = import(&path);
    let t = &log.trace;
    let c = t.counts();
    assert!(c.steps > 0 && c.splits > 0, "{c:?}");
    assert!(
        log.stats.truncated && log.stats.dialect.fits(11),
        "{}",
        log.stats.dialect.text()
    );
    assert!(!log.stats.dialect.fits(12), "{}", log.stats.dialect.text());
    assert_split_loop(t, 10);
    assert!(
        t.unparsed * 1000 <= log.stats.records,
        "{} of {} records not understood: {:#?}",
        t.unparsed,
        log.stats.records,
        t.unparsed_samples
    );
    let broken = invariants::check(t, &Replay::new(t.clone()));
    assert!(broken.is_empty(), "{broken:?}");
}

/// A sweep over many logs (e.g. made by tools/ra-logs over many seeds):
/// `RA_LOGS_DIR=dir cargo test --test it regalloc2_versions -- --ignored`.
#[test]
#[ignore = "needs RA_LOGS_DIR"]
fn every_log_in_ra_logs_dir_imports_and_keeps_invariants() {
    // Run on purpose (`--ignored`): without the folder it has nothing to
    // check, which is a failure, not a pass.
    let dir = std::env::var("RA_LOGS_DIR")
        .expect("RA_LOGS_DIR must name a folder of regalloc2 logs for this test");
    let mut failures = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no .log files in {dir}");
    for path in paths {
        let log = import(&path);
        let t = &log.trace;
        let broken = invariants::check(t, &Replay::new(t.clone()));
        eprintln!(
            "{}: {} steps, regalloc2 {}",
            path.display(),
            t.steps.len(),
            log.stats.dialect.text()
        );
        if t.unparsed > 0 || !broken.is_empty() || log.stats.truncated {
            failures.push(format!(
                "{}: {} not understood {:?}; truncated {}; {:?}",
                path.display(),
                t.unparsed,
                t.unparsed_samples.first(),
                log.stats.truncated,
                broken.first().map(|v| v.to_string())
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
