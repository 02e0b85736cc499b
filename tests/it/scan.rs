//! `spillscope scan`, driven as a user would on the real samples: every function
//! compiles ok, a small budget catches a real function with a diagnosis, shards
//! partition the work, and a broken input is reported without stopping the scan.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use spillscope::engine::input::translate;
use spillscope::engine::input::{Input, InputKind};
use spillscope::engine::session::Settings;
use spillscope::engine::triage::scan;

/// Runs `spillscope scan ARGS --json`; returns the exit code and the report.
fn scan_json(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["scan", "--json", "--target", "x86_64"];
    all.extend_from_slice(args);
    let out = common::spillscope(&all);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "{all:?}: not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().expect("exited"), report)
}

fn files(report: &Value) -> &Vec<Value> {
    report["files"].as_array().expect("files is a list")
}

/// Every (path, function index) a report lists.
fn function_keys(report: &Value) -> BTreeSet<(String, u64)> {
    let mut keys = BTreeSet::new();
    for f in files(report) {
        for func in f["functions"].as_array().unwrap() {
            let key = (
                f["path"].as_str().unwrap().to_string(),
                func["index"].as_u64().unwrap(),
            );
            assert!(keys.insert(key.clone()), "{key:?} listed twice");
        }
    }
    keys
}

/// The path a sample appears under in reports (relative to the project).
fn relative(path: &Path) -> String {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap()
        .display()
        .to_string()
}

/// `spillscope list FILE --json`: the defined functions' indices, or the
/// error when the file cannot be read (such as `hang/loop.clif`, kept in
/// Cranelift 0.118's syntax as Wasmtime 31 wrote it).
fn listed(path: &str) -> Result<Vec<u64>, String> {
    let list = common::spillscope(&["list", path, "--json"]);
    if !list.status.success() {
        return Err(String::from_utf8(list.stderr).unwrap());
    }
    let rows: Vec<Value> = serde_json::from_slice(&list.stdout).unwrap();
    Ok(rows
        .iter()
        .filter(|r| r["imported"] == false)
        .map(|r| r["index"].as_u64().unwrap())
        .collect())
}

#[test]
fn scanning_the_samples_finds_every_function_ok_as_list_counts_them() {
    let (code, report) = scan_json(&["sample-modules"]);
    let samples = common::sample_paths();
    assert_eq!(files(&report).len(), samples.len(), "{report:#}");
    let mut total = 0;
    let mut readable = Vec::new();
    let mut unreadable = 0;
    for sample in &samples {
        let path = relative(sample);
        let entry = files(&report)
            .iter()
            .find(|f| f["path"] == path.as_str())
            .unwrap_or_else(|| panic!("{path} missing from the scan"));
        let defined = match listed(&path) {
            Ok(defined) => defined,
            Err(list_error) => {
                // What `list` cannot read, the scan reports as a module error,
                // with the same message.
                let error = entry["error"].as_str().expect("a module error");
                assert!(list_error.contains(error), "{list_error} / {error}");
                unreadable += 1;
                continue;
            }
        };
        assert!(entry["error"].is_null(), "{entry:#}");
        readable.push(path.clone());
        let scanned: Vec<u64> = entry["functions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                assert_eq!(f["status"], "ok", "{path}: {f:#}");
                assert!(f["code_bytes"].as_u64().unwrap() > 0, "{path}: {f:#}");
                // Every allocation logs; the budget counted its records.
                let records = f["records"].as_u64().unwrap();
                assert!(records > 0 && records < f["budget"].as_u64().unwrap());
                f["index"].as_u64().unwrap()
            })
            .collect();
        assert_eq!(scanned, defined, "{path}");
        total += defined.len();
    }
    assert_eq!(code, if unreadable == 0 { 0 } else { 2 }, "{report:#}");
    let summary = &report["summary"];
    assert_eq!(summary["functions"], total);
    assert_eq!(summary["ok"], total);
    assert_eq!(summary["module_errors"], unreadable);
    assert_eq!(summary["modules"], samples.len());
    assert!(total > 50, "the samples define {total} functions");

    // The readable samples, named one by one: all ok, exit 0, and in text
    // form only the summary line.
    let mut args = vec!["scan", "--jobs", "1"];
    args.extend(readable.iter().map(String::as_str));
    let out = common::spillscope(&args);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with(&format!(
            "scanned {total} functions in {} modules: {total} ok, 0 over budget, 0 checker failed, 0 panicked, 0 module errors",
            readable.len()
        )),
        "{text}"
    );
}

#[test]
fn a_small_budget_stops_a_real_function_and_diagnoses_it() {
    // sha256_block logs about 60,000 records while allocating; _start a few hundred.
    let (code, report) = scan_json(&["sample-modules/c/kernels.wasm", "--budget", "30000"]);
    assert_eq!(code, 2, "{report:#}");
    let funcs = files(&report)[0]["functions"].as_array().unwrap();
    let by_name = |name: &str| {
        funcs
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    let sha = by_name("sha256_block");
    assert_eq!(sha["status"], "over_budget", "{sha:#}");
    // The stop comes at the budget; a record or two may be logged on the way out.
    assert!(sha["records"].as_u64().unwrap() >= 30000, "{sha:#}");
    assert!(
        sha["details"]
            .as_str()
            .unwrap()
            .starts_with("stopped after 30,000 regalloc2 records (budget)"),
        "{sha:#}"
    );
    assert_eq!(sha["budget"], 30000, "{sha:#}");
    // The traced re-run got into the allocation before the same budget stopped it.
    assert!(sha["steps"].as_u64().unwrap() > 0, "{sha:#}");
    assert!(sha["traced_records"].as_u64().unwrap() >= 30000, "{sha:#}");
    let diagnosis = sha["diagnosis"].as_object().expect("a diagnosis object");
    for field in ["looping", "bundle", "vreg", "from_step", "description"] {
        assert!(diagnosis.contains_key(field), "{field} missing: {sha:#}");
    }
    assert!(diagnosis["looping"].is_boolean());
    assert!(!diagnosis["description"].as_str().unwrap().is_empty());

    let start = by_name("_start");
    assert_eq!(start["status"], "ok", "{start:#}");
    assert!(start.get("diagnosis").is_none(), "{start:#}");
    let summary = &report["summary"];
    assert!(summary["over_budget"].as_u64().unwrap() >= 1);
    assert_eq!(
        summary["ok"].as_u64().unwrap() + summary["over_budget"].as_u64().unwrap(),
        summary["functions"].as_u64().unwrap()
    );

    // The text form names the function and its status.
    let out = common::spillscope(&[
        "scan",
        "sample-modules/c/kernels.wasm",
        "--budget",
        "30000",
        "--target",
        "x86_64",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.lines().any(|l| l.starts_with(
            "sample-modules/c/kernels.wasm: function 8 sha256_block: over_budget: stopped after 30,000 regalloc2 records"
        )),
        "{text}"
    );
}

#[test]
fn shards_are_disjoint_and_cover_the_whole_scan() {
    let (_, whole) = scan_json(&["sample-modules"]);
    let whole = function_keys(&whole);
    let mut union = BTreeSet::new();
    for i in 1..=3 {
        let shard = format!("{i}/3");
        let (code, report) = scan_json(&["sample-modules", "--shard", &shard, "--jobs", "2"]);
        assert_eq!(code, 0, "{report:#}");
        assert_eq!(report["summary"]["shard"], shard.as_str());
        let keys = function_keys(&report);
        assert!(!keys.is_empty(), "shard {shard} is empty");
        // About a third each: positions are dealt round-robin.
        assert!(keys.len() <= whole.len() / 3 + 1, "shard {shard}: {keys:?}");
        for k in &keys {
            assert!(union.insert(k.clone()), "{k:?} in two shards");
        }
    }
    assert_eq!(union, whole);

    for bad in ["0/3", "4/3", "3", "a/3", "1/0"] {
        let out = common::spillscope(&["scan", "sample-modules", "--shard", bad]);
        assert_eq!(out.status.code(), Some(1), "--shard {bad}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains("--shard") && err.contains(bad), "{err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn a_broken_module_is_reported_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("garbage.wasm"),
        b"\0asm\x01\0\0\0\x0a\xff\xff",
    )
    .unwrap();
    std::fs::copy(
        common::samples_dir().join("calls.wat"),
        dir.path().join("calls.wat"),
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not an input").unwrap();
    let dir_arg = dir.path().to_str().unwrap();
    let (code, report) = scan_json(&[dir_arg]);
    assert_eq!(code, 2, "{report:#}");
    let listed = files(&report);
    assert_eq!(listed.len(), 2, "only .wasm/.wat/.clif: {report:#}");
    // Sorted: calls.wat, then garbage.wasm.
    let calls = &listed[0];
    assert!(calls["path"].as_str().unwrap().ends_with("calls.wat"));
    assert!(calls["error"].is_null());
    let funcs = calls["functions"].as_array().unwrap();
    assert!(!funcs.is_empty());
    assert!(funcs.iter().all(|f| f["status"] == "ok"), "{calls:#}");
    let garbage = &listed[1];
    let error = garbage["error"].as_str().expect("an error");
    assert!(error.contains("garbage.wasm"), "{error}");
    assert!(error.contains("invalid WebAssembly"), "{error}");
    assert!(garbage["functions"].as_array().unwrap().is_empty());
    assert_eq!(report["summary"]["module_errors"], 1);
    assert_eq!(report["summary"]["ok"], funcs.len());

    let out = common::spillscope(&["scan", dir_arg]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.lines()
            .any(|l| l.contains("garbage.wasm: module error: invalid WebAssembly")),
        "{text}"
    );
    assert!(text.contains("1 module errors"), "{text}");
}

#[test]
fn a_missing_path_is_an_error_before_scanning() {
    let out = common::spillscope(&["scan", "sample-modules/no-such-file.wasm"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("no-such-file.wasm"), "{err}");
    assert!(out.stdout.is_empty());
}

/// The scan compiles each function alone inside Wasmtime's compiler, in the
/// module's environment translated once: its verdicts are about Wasmtime's
/// own code, whose size every function's report gives.
#[test]
fn the_scan_compiles_every_function_as_wasmtime_does() {
    let settings = Settings {
        target: spillscope::engine::input::isa::Target::X86_64,
        ..Settings::default()
    };
    let paths: Vec<_> = common::sample_paths()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e != "clif"))
        .collect();
    let options = scan::ScanOptions {
        settings,
        jobs: 2,
        ..scan::ScanOptions::default()
    };
    let report = scan::scan(&paths, &options);
    let mut compared = 0;
    for (path, file) in paths.iter().zip(&report.files) {
        let input = Input::load(path).unwrap();
        assert_ne!(input.kind(), InputKind::Clif);
        let wasmtime =
            translate::translate_module(path, input.wasm().unwrap(), settings.wasmtime());
        // A module Wasmtime refuses is a module error of the scan too.
        let Ok(wasmtime) = wasmtime else {
            assert!(file.error.is_some(), "{}: {file:?}", path.display());
            continue;
        };
        assert_eq!(file.functions.len(), wasmtime.len(), "{}", path.display());
        for (f, t) in file.functions.iter().zip(&wasmtime) {
            assert_eq!(f.index, t.func_index);
            if f.status != scan::Status::Ok {
                continue;
            }
            let theirs = t.wasmtime_code.as_ref().map(Vec::len);
            assert_eq!(
                f.code_bytes,
                theirs,
                "{} function {}: {}",
                path.display(),
                f.index,
                f.details
            );
            compared += 1;
        }
    }
    assert!(compared >= 60, "only {compared} functions compared");
}

/// The one function a report lists for `path`.
fn only_function<'a>(report: &'a Value, path: &str) -> &'a Value {
    let file = files(report)
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("{path} missing: {report:#}"));
    assert!(file["error"].is_null(), "{file:#}");
    let funcs = file["functions"].as_array().unwrap();
    assert_eq!(funcs.len(), 1, "{file:#}");
    &funcs[0]
}

#[test]
fn the_0_11_3_tool_as_test_command_finds_the_real_loop() {
    let Some(tool) = common::ra0113_or_skip() else {
        return;
    };
    let test = format!("{} check {{}} --budget 400000", tool.display());
    let with_tool = |paths: &[&str]| {
        let mut args = paths.to_vec();
        args.extend(["--test", &test, "--expect-exit", "3", "--timeout", "60"]);
        scan_json(&args)
    };

    // The real looping function: 0.11.3 passes its budget (exit 3), which
    // this build's own compile would never show (it allocates it).
    let loop_clif = "sample-modules/hang/loop.clif";
    let (code, report) = with_tool(&[loop_clif, "sample-modules/pressure.wat"]);
    assert_eq!(code, 2, "{report:#}");
    assert_eq!(report["summary"]["test"], test.as_str(), "{report:#}");
    let f = only_function(&report, loop_clif);
    assert_eq!(f["name"], "u0:3384", "{f:#}");
    assert_eq!(f["status"], "over_budget", "{f:#}");
    assert_eq!(f["test"]["exit_code"], 3, "{f:#}");
    assert_eq!(f["test"]["timed_out"], false, "{f:#}");
    assert!(f["test"]["elapsed_ms"].is_u64(), "{f:#}");
    let head = f["test"]["stderr_head"].as_str().unwrap();
    assert!(
        head.contains("over budget") && head.contains("u0:3384"),
        "{f:#}"
    );
    let details = f["details"].as_str().unwrap();
    assert!(
        details.starts_with("test command exited 3") && details.contains(head),
        "{f:#}"
    );
    // The test replaced the built-in compile.
    assert!(f.get("diagnosis").is_none() && f["records"] == 0, "{f:#}");
    // pressure.wat was judged too, whatever 0.11.3's reader makes of it; a
    // failure other than exit 3 is never called a hang.
    let p = only_function(&report, "sample-modules/pressure.wat");
    let exit = p["test"]["exit_code"].as_i64();
    match exit {
        Some(0) => assert_eq!(p["status"], "ok", "{p:#}"),
        Some(3) => assert_eq!(p["status"], "over_budget", "{p:#}"),
        _ => {
            assert!(
                p["status"] == "compile_error" || p["status"] == "panicked",
                "{p:#}"
            );
            assert!(
                p["details"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("test command exited {}", exit.unwrap())),
                "{p:#}"
            );
        }
    }

    // The reduced reproducer, in Cranelift 0.135's syntax, still loops.
    let reduced = "sample-modules/hang/loop-reduced.clif";
    let (code, report) = with_tool(&[reduced]);
    assert_eq!(code, 2, "{report:#}");
    let f = only_function(&report, reduced);
    assert_eq!(f["status"], "over_budget", "{f:#}");
    assert_eq!(f["test"]["exit_code"], 3, "{f:#}");

    // A function 0.11.3 allocates: ok, exit 0, also in text form.
    let fib = "sample-modules/fib.clif";
    let (code, report) = with_tool(&[fib]);
    assert_eq!(code, 0, "{report:#}");
    let f = only_function(&report, fib);
    assert_eq!(f["status"], "ok", "{f:#}");
    assert_eq!(f["test"]["exit_code"], 0, "{f:#}");
    let out = common::spillscope(&["scan", fib, "--test", &test, "--expect-exit", "3"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("scanned 1 functions in 1 modules: 1 ok"),
        "{text}"
    );
}

#[test]
fn a_test_command_timeout_is_over_budget_and_other_failures_are_told_apart() {
    let fib = "sample-modules/fib.clif";
    // Killed at the timeout, with the shell's children (its process group).
    let started = std::time::Instant::now();
    let (code, report) = scan_json(&[fib, "--test", "sleep 30 # {}", "--timeout", "0.5"]);
    assert!(
        started.elapsed().as_secs() < 20,
        "the command was not killed"
    );
    assert_eq!(code, 2, "{report:#}");
    let f = only_function(&report, fib);
    assert_eq!(f["status"], "over_budget", "{f:#}");
    assert_eq!(f["test"]["timed_out"], true, "{f:#}");
    assert!(f["test"]["exit_code"].is_null(), "{f:#}");
    assert!(
        f["details"]
            .as_str()
            .unwrap()
            .starts_with("test command timed out after 0.5 s"),
        "{f:#}"
    );

    // A failure other than the expected code: told apart, with its stderr.
    let (code, report) = scan_json(&[
        fib,
        "--test",
        "echo cannot parse {} >&2; echo more >&2; exit 1",
        "--expect-exit",
        "3",
    ]);
    assert_eq!(code, 2, "{report:#}");
    let f = only_function(&report, fib);
    assert_eq!(f["status"], "compile_error", "{f:#}");
    assert_eq!(f["test"]["exit_code"], 1, "{f:#}");
    let head = f["test"]["stderr_head"].as_str().unwrap();
    assert!(
        head.starts_with("cannot parse ") && head.ends_with(".clif"),
        "{f:#}"
    );
    assert!(
        f["details"]
            .as_str()
            .unwrap()
            .starts_with("test command exited 1 after "),
        "{f:#}"
    );
    assert_eq!(report["summary"]["compile_errors"], 1);
    assert_eq!(report["summary"]["over_budget"], 0);

    // The file holds the function with the input's own `set`/`target` lines,
    // as `reduce` writes candidates: the command sees both.
    let (code, report) = scan_json(&[
        fib,
        "--test",
        "grep -q '^target x86_64' {} && grep -q '^function %fib' {} && exit 3",
        "--expect-exit",
        "3",
    ]);
    assert_eq!(code, 2, "{report:#}");
    assert_eq!(only_function(&report, fib)["status"], "over_budget");

    // Usage errors: no `{}`, or a built-in budget alongside the test.
    let out = common::spillscope(&["scan", fib, "--test", "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`{}`"));
    let out = common::spillscope(&["scan", fib, "--test", "true {}", "--budget", "9"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn a_test_command_gets_each_function_in_its_input_s_clif_dialect() {
    // Wasmtime 31's file comes back as Wasmtime 31 wrote it, but for the
    // `checked` flag this build does not keep.
    let loop_clif = "sample-modules/hang/loop.clif";
    let same_as_0_118 = format!(
        "sed 's/ checked / /' {}/{loop_clif} | cmp -s - {{}} && exit 3",
        env!("CARGO_MANIFEST_DIR")
    );
    let (code, report) = scan_json(&[loop_clif, "--test", &same_as_0_118, "--expect-exit", "3"]);
    assert_eq!(code, 2, "{report:#}");
    assert_eq!(only_function(&report, loop_clif)["status"], "over_budget");

    // Told otherwise, it gets the current syntax: declared alias regions.
    let regions = "grep -q '^ *region0 = 0 \"heap\"' {} && exit 3";
    let (_, report) = scan_json(&[loop_clif, "--test", regions, "--expect-exit", "3"]);
    let f = only_function(&report, loop_clif);
    assert_eq!(f["status"], "compile_error", "{f:#}");
    assert_eq!(f["test"]["exit_code"], 1, "{f:#}");
    let (_, report) = scan_json(&[
        loop_clif,
        "--test",
        regions,
        "--expect-exit",
        "3",
        "--clif-dialect",
        "current",
    ]);
    assert_eq!(only_function(&report, loop_clif)["status"], "over_budget");

    // The dialect goes with a test command only.
    let out = common::spillscope(&["scan", loop_clif, "--clif-dialect", "0.118"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

/// The report without what differs between runs: wall-clock times, and the
/// number of worker threads.
fn without_timings(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|k, _| !k.ends_with("_ms") && k != "jobs");
            map.values_mut().for_each(without_timings);
        }
        Value::Array(items) => items.iter_mut().for_each(without_timings),
        _ => {}
    }
}

/// `scan --merge` of the shards' reports is the report of one whole scan: the
/// same files in the same order, the same functions with the same statuses,
/// details and diagnoses, the same counts (timings aside).
#[test]
fn merged_shards_equal_the_whole_scan() {
    let dir = tempfile::tempdir().unwrap();
    // A module error and an over-budget function with its diagnosis, too.
    let broken = dir.path().join("garbage.wasm");
    std::fs::write(&broken, b"\0asm\x01\0\0\0\x0a\xff\xff").unwrap();
    let inputs = [
        "sample-modules",
        broken.to_str().unwrap(),
        "--budget",
        "30000",
    ];
    let (whole_code, mut whole) = scan_json(&inputs);
    assert_eq!(whole_code, 2, "the budget stops something: {whole:#}");
    let mut shard_files = Vec::new();
    for i in 1..=3 {
        let shard = format!("{i}/3");
        let mut args = inputs.to_vec();
        args.extend(["--shard", &shard]);
        let (_, report) = scan_json(&args);
        let path = dir.path().join(format!("shard-{i}.json"));
        std::fs::write(&path, report.to_string()).unwrap();
        shard_files.push(path.to_string_lossy().to_string());
    }
    // In any order.
    shard_files.reverse();
    let mut merge_args: Vec<&str> = vec!["--merge"];
    merge_args.extend(shard_files.iter().map(String::as_str));
    let (code, mut merged) = scan_json(&merge_args);
    assert_eq!(code, whole_code);
    assert_eq!(merged["summary"]["shard"], "1/1");
    without_timings(&mut whole);
    without_timings(&mut merged);
    assert_eq!(merged, whole);

    // `--jsonl` writes the same results as they come, the summary last.
    let mut args = vec!["scan", "--jsonl", "--target", "x86_64"];
    args.extend(inputs);
    let out = common::spillscope(&args);
    assert_eq!(out.status.code(), Some(whole_code));
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let (last, results) = lines.split_last().unwrap();
    let mut summary = last["summary"].clone();
    without_timings(&mut summary);
    assert_eq!(summary, whole["summary"]);
    let mut streamed = BTreeSet::new();
    for line in results {
        let file = line["file"].as_str().unwrap().to_string();
        match line.get("function") {
            Some(f) => {
                assert!(streamed.insert((file, f["index"].as_u64().unwrap())));
            }
            None => assert!(line["module_error"].is_string(), "{line}"),
        }
    }
    assert_eq!(streamed, function_keys(&whole));

    // Shards missing, repeated, or from another split are refused by name.
    let out = common::spillscope(&["scan", "--merge", &shard_files[0], &shard_files[1]]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing shard 1/3"), "{err}");
    let out = common::spillscope(&["scan", "--merge", &shard_files[0], &shard_files[0]]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("shard-3.json") && err.contains("shard 3/3 is also"),
        "{err}"
    );
    let (_, other) = scan_json(&["sample-modules", "--shard", "1/2"]);
    let other_path = dir.path().join("other.json");
    std::fs::write(&other_path, other.to_string()).unwrap();
    let out = common::spillscope(&[
        "scan",
        "--merge",
        &shard_files[0],
        other_path.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("other.json") && err.contains("one of 2 shards"),
        "{err}"
    );

    // What does not belong together is refused, naming the report, never
    // merged into a wrong report with exit 0.
    let refused = |reports: &[&str], wanted: &[&str]| {
        let mut args = vec!["scan", "--merge"];
        args.extend(reports);
        let out = common::spillscope(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(out.stdout.is_empty());
        for w in wanted {
            assert!(err.contains(w), "`{w}` not in: {err}");
        }
    };
    let edited = |name: &str, edit: &dyn Fn(&mut Value)| {
        let mut v: Value =
            serde_json::from_str(&std::fs::read_to_string(&shard_files[2]).unwrap()).unwrap();
        edit(&mut v);
        let path = dir.path().join(name);
        std::fs::write(&path, v.to_string()).unwrap();
        path.to_string_lossy().to_string()
    };
    let (s2, s3) = (shard_files[1].as_str(), shard_files[0].as_str());
    // A shard count no machine ran: refused before anything is sized by it.
    let huge = edited("huge.json", &|v| {
        v["summary"]["shard"] = "1/18446744073709551615".into()
    });
    refused(
        &[&huge, s2, s3],
        &["huge.json", "more than the 1000000 shards"],
    );
    let many = edited("many.json", &|v| v["summary"]["shard"] = "1/1000".into());
    let many2 = edited("many2.json", &|v| v["summary"]["shard"] = "2/1000".into());
    refused(
        &[&many, &many2],
        &[
            "2 reports given for 1000 shards",
            "missing shards 3/1000",
            "… and 990 more",
        ],
    );
    // Shards of another module.
    let (_, calls) = scan_json(&[
        "sample-modules/calls.wat",
        "--budget",
        "30000",
        "--shard",
        "1/3",
    ]);
    let calls_path = dir.path().join("calls.json");
    std::fs::write(&calls_path, calls.to_string()).unwrap();
    refused(
        &[s2, s3, calls_path.to_str().unwrap()],
        &["scanned other inputs than", "inputs here"],
    );
    // The same module with other bytes.
    let changed = edited("changed.json", &|v| {
        v["summary"]["inputs"][0]["sha256"] = "00".repeat(32).into()
    });
    refused(
        &[s2, s3, &changed],
        &["changed.json", "content hash", "not the same file"],
    );
    // A shard run under another budget.
    let mut args = inputs.to_vec();
    args[3] = "40000";
    args.extend(["--shard", "1/3"]);
    let (_, budget) = scan_json(&args);
    let budget_path = dir.path().join("budget.json");
    std::fs::write(&budget_path, budget.to_string()).unwrap();
    refused(
        &[s2, s3, budget_path.to_str().unwrap()],
        &[
            "budget.json",
            "other conditions",
            "budget 40000 here, 30000 there",
        ],
    );
    // A function removed: the summary no longer adds up.
    let first_with = |v: &Value| {
        v["files"]
            .as_array()
            .unwrap()
            .iter()
            .position(|f| f["functions"].as_array().is_some_and(|a| a.len() > 1))
            .unwrap()
    };
    let removed = edited("removed.json", &|v| {
        let at = first_with(v);
        v["files"][at]["functions"].as_array_mut().unwrap().pop();
    });
    refused(
        &[&removed, s2, s3],
        &["removed.json", "changed after the scan"],
    );
    // ... and with the summary made to add up, the deal says what is missing.
    let recounted = edited("recounted.json", &|v| {
        let at = first_with(v);
        let gone = v["files"][at]["functions"]
            .as_array_mut()
            .unwrap()
            .pop()
            .unwrap();
        let n = v["summary"]["functions"].as_u64().unwrap();
        v["summary"]["functions"] = (n - 1).into();
        if gone["status"] == "ok" {
            let ok = v["summary"]["ok"].as_u64().unwrap();
            v["summary"]["ok"] = (ok - 1).into();
        } else {
            let key = gone["status"].as_str().unwrap().to_string();
            let k = v["summary"][&key].as_u64().unwrap();
            v["summary"][&key] = (k - 1).into();
        }
    });
    refused(
        &[&recounted, s2, s3],
        &["recounted.json", "where the deal gives it"],
    );
    // An index that another shard holds.
    let other_shard: Value = serde_json::from_str(&std::fs::read_to_string(s2).unwrap()).unwrap();
    let duplicated = edited("duplicated.json", &|v| {
        let at = first_with(v);
        let path = v["files"][at]["path"].clone();
        let theirs = other_shard["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path)
            .unwrap()["functions"][0]["index"]
            .clone();
        v["files"][at]["functions"][0]["index"] = theirs;
    });
    refused(&[&duplicated, s2, s3], &["duplicated.json", "holds too"]);
    // The file list emptied, the summary to match.
    let emptied = edited("emptied.json", &|v| {
        v["files"] = Value::Array(vec![]);
        for key in [
            "functions",
            "modules",
            "ok",
            "over_budget",
            "checker_failed",
            "panicked",
            "compile_errors",
            "module_errors",
        ] {
            v["summary"][key] = 0.into();
        }
    });
    refused(&[&emptied, s2, s3], &["emptied.json", "lists no report of"]);
    // A report of a build that recorded neither.
    let older = edited("older.json", &|v| {
        let summary = v["summary"].as_object_mut().unwrap();
        summary.remove("conditions");
        summary.remove("inputs");
    });
    refused(&[&older, s2, s3], &["older.json", "older spillscope"]);
}
