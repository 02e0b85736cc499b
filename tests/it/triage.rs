//! Hang triage on the real regalloc2 0.11.3 case (sample-modules/hang/): the
//! loop diagnosis on its log, the same function under this build's regalloc2,
//! and the reducer driven by the 0.11.3 tool as an external test.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn hang(name: &str) -> PathBuf {
    common::samples_dir().join("hang").join(name)
}

fn json_of(args: &[&str]) -> serde_json::Value {
    common::json(args)
}

/// `trace FILE --func 0 --target x86_64 --json` with this build's regalloc2.
fn trace_json(clif: &Path) -> serde_json::Value {
    json_of(&[
        "trace",
        clif.to_str().unwrap(),
        "--func",
        "0",
        "--target",
        "x86_64",
        "--json",
    ])
}

#[test]
fn the_0_11_3_log_is_diagnosed_as_a_split_loop_naming_bundle_vreg_and_range() {
    let log = hang("loop-0.11.3.log");
    let v = json_of(&["trace", "--log", log.to_str().unwrap(), "--json"]);
    let d = &v["diagnosis"];
    assert_eq!(d["looping"], true, "{d}");
    let bundle = d["bundle"].as_u64().expect("a bundle is named");
    let vreg = d["vreg"].as_u64().expect("a vreg is named");
    let from = d["from_step"].as_u64().expect("a start step") as usize;
    assert!(from >= 1, "steps count from 1");
    let range = d["range"].as_str().expect("a range is named");
    let text = d["description"].as_str().unwrap();
    assert!(
        text.contains(&format!("bundle {bundle} (v{vreg}")),
        "{text}"
    );
    assert!(text.contains(range), "{text}");

    // Check against the log's own text, without our parser: regalloc2 split
    // the named bundle into minimal bundles, and so every bundle after it in
    // the chain; the vreg's use sits at the named range's start.
    let raw = std::fs::read_to_string(&log).unwrap();
    let split_line = |b: u64| format!("Splitting bundle LiveBundleIndex({b}) into minimal bundles");
    assert!(raw.contains(&split_line(bundle)));
    let chain: Vec<u64> = d["cycle_bundles"]
        .as_array()
        .expect("the cycle's bundles")
        .iter()
        .map(|b| b.as_u64().unwrap())
        .collect();
    assert!(chain.len() >= 10, "chain {chain:?}");
    for b in &chain[..chain.len() - 1] {
        assert!(raw.contains(&split_line(*b)), "bundle {b} split in the log");
    }
    let start = range
        .trim_start_matches('[')
        .split(',')
        .next()
        .unwrap()
        .trim();
    let use_at = format!("v{vreg}i reg, pos: progpoint{start}");
    assert!(raw.contains(&use_at), "the log has `{use_at}`");

    // The steps from the loop's start on are that chain, and the log was cut
    // inside it.
    let steps = v["steps"].as_array().unwrap();
    assert!(from <= steps.len());
    assert_eq!(steps[from - 1]["step"].as_u64(), Some(from as u64));
    assert_eq!(steps[from - 1]["bundle"].as_u64(), Some(bundle));
    assert_eq!(steps.last().unwrap()["outcome"], "incomplete");
    assert_eq!(v["import"]["truncated"], true);
    assert_eq!(v["import"]["not_understood"], 0);
}

#[test]
fn the_same_function_allocates_and_ends_under_this_builds_regalloc2() {
    let clif = hang("loop.clif");
    let v = trace_json(&clif);
    assert_eq!(v["summary"]["checker"], "ok");
    assert!(v["summary"]["stopped"].is_null());
    assert_eq!(v["diagnosis"]["looping"], false);
    let steps = v["summary"]["steps"].as_u64().unwrap();
    assert!(steps > 100, "{steps} steps");
}

#[test]
fn current_regalloc2_logs_are_not_called_loops() {
    let dir = common::samples_dir()
        .join("..")
        .join("tests/fixtures/regalloc2-logs");
    let log = dir.join("regalloc2-0.15.2.log");
    let v = json_of(&["trace", "--log", log.to_str().unwrap(), "--json"]);
    assert_eq!(v["diagnosis"]["looping"], false, "{}", v["diagnosis"]);
    assert_eq!(v["import"]["truncated"], false);
}

#[test]
fn the_reducer_shrinks_the_real_reproducer_and_it_still_loops_under_0_11_3() {
    let Some(tool) = common::ra0113_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("reduced.clif");
    let test = format!("{} check {{}} --budget 400000", tool.display());
    let input = hang("loop.clif");
    let report = common::json(&[
        "reduce",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--target",
        "x86_64",
        "--test",
        &test,
        "--expect-exit",
        "3",
        "--timeout",
        "20",
        "--max-tests",
        "400",
        "--json",
    ]);
    let size = |when: &str, what: &str| report[when][what].as_u64().unwrap();
    assert!(
        size("after", "instructions") < size("before", "instructions"),
        "{report}"
    );
    assert!(size("after", "bytes") < size("before", "bytes"));

    // The result still loops under 0.11.3 (exit 3: over its budget) ...
    let run = |path: &Path| {
        Command::new(&tool)
            .arg("check")
            .arg(path)
            .args(["--budget", "400000"])
            .output()
            .expect("ra0113 runs")
    };
    let r = run(&out);
    assert_eq!(
        r.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    // ... and this build's regalloc2 allocates it to the end.
    let v = trace_json(&out);
    assert_eq!(v["summary"]["checker"], "ok");
    assert_eq!(v["diagnosis"]["looping"], false);
}

/// The test command's reader is an unmodified cranelift-reader 0.118
/// (`ra0113 check --strict-reader`, no rewriting of its own): the reducer
/// must write every candidate in 0.118's syntax, which it takes from the input.
#[test]
fn the_reducer_writes_0_118_syntax_for_an_unmodified_0_118_reader() {
    let Some(tool) = common::ra0113_or_skip() else {
        return;
    };
    let strict = |path: &Path| {
        Command::new(&tool)
            .arg("check")
            .arg(path)
            .args(["--strict-reader", "--budget", "400000"])
            .output()
            .expect("ra0113 runs")
    };
    let input = hang("loop.clif");
    // The checked-in file is 0.118's own text: read as is, and 0.11.3 loops.
    let r = strict(&input);
    assert_eq!(
        r.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("reduced.clif");
    let test = format!(
        "{} check {{}} --strict-reader --budget 400000",
        tool.display()
    );
    let reduce = |dialect: Option<&str>| {
        let mut args = vec![
            "reduce",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--target",
            "x86_64",
            "--test",
            &test,
            "--expect-exit",
            "3",
            "--timeout",
            "20",
            "--max-tests",
            "120",
            "--json",
        ];
        if let Some(d) = dialect {
            args.extend(["--clif-dialect", d]);
        }
        common::spillscope(&args)
    };
    let done = reduce(None);
    assert!(
        done.status.success(),
        "reduce failed: {}",
        String::from_utf8_lossy(&done.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&done.stdout).unwrap();
    assert_eq!(report["clif_dialect"], "0.118", "{report}");
    let size = |when: &str, what: &str| report[when][what].as_u64().unwrap();
    assert!(
        size("after", "instructions") < size("before", "instructions"),
        "{report}"
    );
    assert!(size("after", "bytes") < size("before", "bytes"));
    assert!(report["accepted"].as_u64().unwrap() > 0, "{report}");
    // The result is smaller and still loops under the unmodified 0.118 reader.
    let r = strict(&out);
    assert_eq!(
        r.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );

    // Written in today's syntax instead, the very first candidate (the input
    // itself) does not parse there: nothing to reduce.
    let refused = reduce(Some("current"));
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("the input is not interesting") && err.contains("exit code 1"),
        "{err}"
    );
}

#[test]
fn live_detection_stops_the_0_11_3_loop_soon_after_it_starts() {
    use spillscope::engine::capture::CaptureStop;
    use spillscope::engine::replay::diagnose::import_log_until_loop;
    use spillscope::engine::replay::diagnose::{self, LIVE_CHAIN};
    use spillscope::engine::trace::import::import_log;
    let path = hang("loop-0.11.3.log");
    let text = std::fs::read_to_string(&path).unwrap();
    let full = import_log(&path, &text).unwrap();
    let live = import_log_until_loop(&path, &text).unwrap();
    let d = diagnose::diagnose(&full.trace);
    let from = d.from_step.unwrap();
    let steps = live.trace.steps.len();
    assert!(
        matches!(live.trace.stopped, Some(CaptureStop::LoopDetected { .. })),
        "{:?}",
        live.trace.stopped
    );
    // It stops once the chain is LIVE_CHAIN splits long, before the log ends.
    assert!(
        (from - 1 + LIVE_CHAIN..=from + LIVE_CHAIN).contains(&steps),
        "stopped at {steps}, loop from {from}"
    );
    assert!(steps < full.trace.steps.len());
    assert!(live.stats.records < full.stats.records);
    let dl = diagnose::diagnose(&live.trace);
    assert!(dl.looping);
    assert_eq!(
        (dl.bundle, dl.vreg, dl.from_step),
        (d.bundle, d.vreg, d.from_step)
    );

    // Logs of allocations that end are read to the end.
    let dir = common::samples_dir()
        .join("..")
        .join("tests/fixtures/regalloc2-logs");
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "log") && !p.to_string_lossy().contains("loop") {
            let t = std::fs::read_to_string(&p).unwrap();
            let l = import_log_until_loop(&p, &t).unwrap();
            assert!(l.trace.stopped.is_none(), "{}", p.display());
            assert!(l.trace.finished, "{}", p.display());
        }
    }
}
