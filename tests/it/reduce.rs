//! `spillscope reduce`, driven as a user would: the built-in record-budget
//! test on a real function, external test commands (exit codes, timeouts),
//! and clear errors. Every reduced file is re-read and checked independently
//! of the reducer: it parses, passes the verifier, and keeps its property.

use crate::common;

use std::path::{Path, PathBuf};

use spillscope::engine::capture::CaptureLimits;
use spillscope::engine::compile::{self, CompileEnd};
use spillscope::engine::input::Input;
use spillscope::engine::input::isa::{Algorithm, Target};
use spillscope::engine::session::{self, Prepared, Settings};
use spillscope::engine::triage::reduce;

fn settings() -> Settings {
    Settings {
        target: Target::X86_64,
        ..Settings::default()
    }
}

fn kernels() -> String {
    common::samples_dir()
        .join("c/kernels.wasm")
        .display()
        .to_string()
}

/// Loads function 0 of a CLIF file (or `func` of a module) as our pipeline does.
fn prepare(path: &Path, func: &str) -> (Input, Prepared) {
    let input = Input::load(path).unwrap_or_else(|e| panic!("{e}"));
    let index = input.select(func).unwrap_or_else(|e| panic!("{e}")).index;
    let prepared =
        session::prepare_clif(&input, index, settings()).unwrap_or_else(|e| panic!("{e}"));
    (input, prepared)
}

fn instructions(p: &Prepared) -> usize {
    let f = p.function().unwrap();
    f.layout
        .blocks()
        .map(|b| f.layout.block_insts(b).count())
        .sum()
}

/// Runs `reduce` with `args`; returns the JSON report, or panics with stderr.
fn run_reduce(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["reduce"];
    all.extend_from_slice(args);
    all.push("--json");
    common::json(&all)
}

/// Runs `reduce` expecting failure; returns stderr.
fn reduce_error(args: &[&str]) -> String {
    let mut all = vec!["reduce"];
    all.extend_from_slice(args);
    let out = common::spillscope(&all);
    assert!(!out.status.success(), "{all:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}

fn out_path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

fn count(report: &serde_json::Value, side: &str, what: &str) -> u64 {
    report[side][what]
        .as_u64()
        .unwrap_or_else(|| panic!("no {side}.{what} in {report}"))
}

/// regalloc2's records in a full compile of `p` with the checker off.
fn allocator_records(p: &Prepared, input: &Input) -> u64 {
    let isa = p.isa(&input.path, Algorithm::Backtracking, false).unwrap();
    match reduce::count_records(p.function().unwrap(), &*isa, u64::MAX) {
        (CompileEnd::Done(_), n) => n,
        (end, _) => panic!("the compile did not finish: {end:?}"),
    }
}

#[test]
fn budget_reduction_keeps_the_function_over_budget() {
    let (input, original) = prepare(Path::new(&kernels()), "sha256_block");
    let full = allocator_records(&original, &input);
    // Over budget, but by a margin that a much smaller function still passes.
    let budget = full / 2;
    let dir = tempfile::tempdir().unwrap();
    let out = out_path(&dir, "sha.clif");
    let budget_arg = budget.to_string();
    let report = run_reduce(&[
        &kernels(),
        "--func",
        "sha256_block",
        "--target",
        "x86_64",
        "--budget",
        &budget_arg,
        "-o",
        out.to_str().unwrap(),
    ]);
    let (before, after) = (
        count(&report, "before", "instructions"),
        count(&report, "after", "instructions"),
    );
    assert_eq!(before as usize, instructions(&original));
    assert!(after < before / 2, "{before} -> {after} instructions");
    assert!(count(&report, "after", "bytes") < count(&report, "before", "bytes"));
    assert!(report["tests"].as_u64().unwrap() > 1);

    // The file parses on its own (its header carries Wasmtime's flags) and
    // passes the verifier with its ISA.
    let (input2, reduced) = prepare(&out, "0");
    assert_eq!(instructions(&reduced) as u64, after);
    let isa = reduced
        .isa(&input2.path, Algorithm::Backtracking, true)
        .unwrap();
    cranelift_codegen::verify_function(reduced.function().unwrap(), &*isa)
        .unwrap_or_else(|e| panic!("the reduced function fails the verifier: {e}"));

    // A traced compile of it, as `spillscope trace --budget` does, still
    // stops at the same budget...
    let traced = compile::compile_traced(
        &compile::ClifJob {
            func: reduced.function().unwrap(),
            isa: &*isa,
        },
        CaptureLimits {
            max_records: budget,
            deadline: None,
        },
        spillscope::engine::replay::diagnose::LoopDetector::default(),
    );
    assert!(
        matches!(traced.end, CompileEnd::Stopped(_)),
        "the reduced function no longer exceeds {budget} records"
    );
    // ...while the allocator does less work than on the original: a budget
    // the original exceeds is enough for it.
    let reduced_records = allocator_records(&reduced, &input2);
    assert!(
        reduced_records >= budget && reduced_records < full,
        "{reduced_records} records (budget {budget}, original {full})"
    );
}

#[test]
fn external_test_keeps_its_property_and_shrinks() {
    let dir = tempfile::tempdir().unwrap();
    let out = out_path(&dir, "lz.clif");
    // Exits non-zero (interesting) while the candidate still multiplies.
    let report = run_reduce(&[
        &kernels(),
        "--func",
        "lz_compress",
        "--target",
        "x86_64",
        "--test",
        "! grep -q imul {}",
        "-o",
        out.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("imul"), "the property is lost:\n{text}");
    let (before, after) = (
        count(&report, "before", "instructions"),
        count(&report, "after", "instructions"),
    );
    assert!(after * 10 <= before, "{before} -> {after} instructions");
    assert!(count(&report, "after", "blocks") < count(&report, "before", "blocks"));
    // The output re-parses and verifies.
    let (input, reduced) = prepare(&out, "0");
    let isa = reduced
        .isa(&input.path, Algorithm::Backtracking, false)
        .unwrap();
    cranelift_codegen::verify_function(reduced.function().unwrap(), &*isa).unwrap();
    // The function keeps its name, as an older cranelift-reader expects.
    assert!(text.contains("function u0:"), "{text}");
}

#[test]
fn expected_exit_code_ignores_other_failures() {
    let dir = tempfile::tempdir().unwrap();
    let out = out_path(&dir, "lz.clif");
    // Exit 3 while the candidate multiplies; every other candidate fails
    // with 1, as a tool that cannot parse it would. Only 3 counts.
    let report = run_reduce(&[
        &kernels(),
        "--func",
        "lz_compress",
        "--target",
        "x86_64",
        "--test",
        "grep -q imul {} && exit 3; exit 1",
        "--expect-exit",
        "3",
        "-o",
        out.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("imul"), "{text}");
    assert_eq!(report["reason"], "exit code 3");
    assert!(count(&report, "after", "instructions") < count(&report, "before", "instructions"));

    // With another expected code the input itself is not interesting.
    let err = reduce_error(&[
        &kernels(),
        "--func",
        "lz_compress",
        "--target",
        "x86_64",
        "--test",
        "grep -q imul {} && exit 3; exit 1",
        "--expect-exit",
        "4",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        err.contains("not interesting") && err.contains("exit code 3"),
        "{err}"
    );
}

/// Processes whose command line contains `needle`.
fn processes_with(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(needle) {
                found.push(cmd);
            }
        }
    }
    found
}

#[test]
fn timeout_counts_as_interesting() {
    let dir = tempfile::tempdir().unwrap();
    let out = out_path(&dir, "fib.clif");
    // An unusual duration marks this test's processes. The pipeline keeps
    // `sh` from exec'ing `sleep`: only killing the whole process group ends it.
    let marker = format!("30.{}", std::process::id());
    let command = format!("sleep {marker} | cat; test -f {{}}");
    let report = run_reduce(&[
        "sample-modules/fib.clif",
        "--test",
        &command,
        "--timeout",
        "0.3",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        report["reason"].as_str().unwrap().starts_with("timed out"),
        "{report}"
    );
    let tests = report["tests"].as_u64().unwrap();
    assert!(tests > 1);
    assert!(count(&report, "after", "instructions") < count(&report, "before", "instructions"));
    // No `sleep` outlives its test.
    let needle = format!("sleep {marker}");
    let mut left = processes_with(&needle);
    for _ in 0..50 {
        if left.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        left = processes_with(&needle);
    }
    assert!(left.is_empty(), "still running: {left:?}");
    // The header of the input is kept.
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("set opt_level=speed\n"), "{text}");
    assert!(text.contains("target x86_64\n"), "{text}");
    assert!(text.contains("function %fib(i32) -> i64"), "{text}");
    prepare(&out, "0");
}

#[test]
fn errors_name_the_file_and_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let out = out_path(&dir, "out.clif");
    let out_s = out.to_str().unwrap();

    // Not interesting: the whole function stays within a generous budget.
    let err = reduce_error(&[
        "sample-modules/fib.clif",
        "--budget",
        "100000000",
        "-o",
        out_s,
    ]);
    assert!(
        err.contains("sample-modules/fib.clif") && err.contains("not interesting"),
        "{err}"
    );
    assert!(!out.exists());

    // A command that succeeds is not interesting either.
    let err = reduce_error(&[
        "sample-modules/fib.clif",
        "--test",
        "test -f {}",
        "-o",
        out_s,
    ]);
    assert!(
        err.contains("not interesting") && err.contains("exit code 0"),
        "{err}"
    );

    // A command that does not exist is reported as such.
    let err = reduce_error(&[
        "sample-modules/fib.clif",
        "--test",
        "spillscope-no-such-tool {}",
        "-o",
        out_s,
    ]);
    assert!(err.contains("could not run the command"), "{err}");

    // Garbage CLIF names the file and the line.
    let bad = dir.path().join("bad.clif");
    std::fs::write(&bad, "function %f() {\nblock0:\n    v0 = frobnicate 1\n}\n").unwrap();
    let err = reduce_error(&[bad.to_str().unwrap(), "-o", out_s]);
    assert!(
        err.contains("bad.clif") && err.contains("cannot parse CLIF"),
        "{err}"
    );

    // A function the verifier refuses is reported with the verifier's words.
    let invalid = dir.path().join("invalid.clif");
    std::fs::write(
        &invalid,
        "target x86_64\nfunction %f(i32) -> i64 {\nblock0(v0: i32):\n    return v0\n}\n",
    )
    .unwrap();
    let err = reduce_error(&[invalid.to_str().unwrap(), "--test", "false {}", "-o", out_s]);
    assert!(
        err.contains("invalid.clif") && err.contains("verifier") && err.contains("signature"),
        "{err}"
    );

    // A missing file too.
    let missing = dir.path().join("missing.clif");
    let err = reduce_error(&[missing.to_str().unwrap(), "-o", out_s]);
    assert!(err.contains("missing.clif"), "{err}");

    // `{}` is required in a test command.
    let err = reduce_error(&["sample-modules/fib.clif", "--test", "true", "-o", out_s]);
    assert!(err.contains("{}"), "{err}");
}

#[test]
fn engine_header_and_render_round_trip() {
    let text = std::fs::read_to_string(common::samples_dir().join("fib.clif")).unwrap();
    let header = reduce::header_of(&text);
    assert_eq!(
        header,
        "set opt_level=speed\nset preserve_frame_pointers=true\ntarget x86_64\n"
    );
    let (_, p) = prepare(&common::samples_dir().join("fib.clif"), "0");
    let rendered = reduce::render(&header, p.function().unwrap());
    let file = spillscope::engine::input::clif::parse(Path::new("fib.clif"), &rendered).unwrap();
    assert_eq!(file.functions.len(), 1);
    assert_eq!(file.isas().len(), 1);
    assert_eq!(
        file.functions[0].0.display().to_string(),
        p.function().unwrap().display().to_string()
    );
}

/// Interesting while `keep` holds; counts its calls.
struct Holds<F: FnMut(&cranelift_codegen::ir::Function) -> bool>(F);

impl<F: FnMut(&cranelift_codegen::ir::Function) -> bool> reduce::Oracle for Holds<F> {
    fn judge(
        &mut self,
        func: &cranelift_codegen::ir::Function,
        _text: &str,
    ) -> Result<reduce::Judgement, reduce::ReduceError> {
        let interesting = (self.0)(func);
        Ok(reduce::Judgement {
            interesting,
            reason: if interesting { "holds" } else { "lost" }.into(),
        })
    }

    fn describe(&self) -> String {
        "a property of the function".into()
    }
}

fn has_call(func: &cranelift_codegen::ir::Function) -> bool {
    func.layout.blocks().any(|b| {
        func.layout
            .block_insts(b)
            .any(|i| func.dfg.insts[i].opcode().is_call())
    })
}

/// Every pass on every function of every Wasm sample: whatever the oracle
/// accepts, each step is a valid function that prints and re-parses.
#[test]
fn engine_reductions_of_every_sample_function_stay_valid() {
    let mut reduced_any_call = false;
    for input in common::wasm_samples() {
        for info in input.functions.iter().filter(|f| !f.imported) {
            let p = session::prepare_clif(&input, info.index, settings()).unwrap();
            let isa = p.isa(&input.path, Algorithm::Backtracking, false).unwrap();
            let header = reduce::header_for_isa(&*isa);
            let options = reduce::Options {
                header: header.clone(),
                max_tests: Some(400),
                ..Default::default()
            };
            let before = instructions(&p);
            // Anything goes: the function shrinks to almost nothing.
            let r = reduce::reduce(
                p.function().unwrap(),
                &*isa,
                &mut Holds(|_| true),
                &options,
                |_| {},
            )
            .unwrap_or_else(|e| panic!("{} {}: {e}", input.path.display(), info.label()));
            cranelift_codegen::verify_function(&r.function, &*isa)
                .unwrap_or_else(|e| panic!("{} {}: {e}", input.path.display(), info.label()));
            assert_eq!(r.before.instructions, before);
            assert_eq!(r.after.blocks, 1, "{}:\n{}", info.label(), r.text);
            assert!(r.after.instructions <= 3, "{}:\n{}", info.label(), r.text);
            let file = spillscope::engine::input::clif::parse(Path::new("reduced.clif"), &r.text)
                .unwrap_or_else(|e| panic!("{}: {e}\n{}", info.label(), r.text));
            assert_eq!(
                file.functions[0].0.display().to_string(),
                r.function.display().to_string()
            );
            // A property that needs some of the function: a call survives.
            if has_call(p.function().unwrap()) {
                let r = reduce::reduce(
                    p.function().unwrap(),
                    &*isa,
                    &mut Holds(has_call),
                    &options,
                    |_| {},
                )
                .unwrap();
                assert!(has_call(&r.function), "{}", info.label());
                cranelift_codegen::verify_function(&r.function, &*isa).unwrap();
                assert!(r.after.instructions < before || before <= 3);
                reduced_any_call = true;
            }
        }
    }
    assert!(reduced_any_call);
}

/// Values of every kind become zeros of their type (floats, vectors, i128).
#[test]
fn engine_zeros_of_every_type() {
    let text = "target x86_64\n\n\
function %mix(f32, f64, i8x16, i64) -> f32, f64, i8x16, i128 {\n\
block0(v0: f32, v1: f64, v2: i8x16, v3: i64):\n\
    v4 = fadd v0, v0\n\
    v5 = fmul v1, v1\n\
    v6 = iadd v2, v2\n\
    v7 = uextend.i128 v3\n\
    v8 = iadd v7, v7\n\
    brif v3, block1, block2\n\
block1:\n\
    return v4, v5, v6, v8\n\
block2:\n\
    v9 = fsub v4, v4\n\
    return v9, v5, v6, v8\n\
}\n";
    let file = spillscope::engine::input::clif::parse(Path::new("mix.clif"), text).unwrap();
    let isa = &file.isas()[0];
    let func = &file.functions[0].0;
    let options = reduce::Options {
        header: reduce::header_of(text),
        max_tests: None,
        ..Default::default()
    };
    // Interesting while a block still returns: everything else can go.
    let returns = |f: &cranelift_codegen::ir::Function| {
        f.layout.blocks().any(|b| {
            f.layout
                .last_inst(b)
                .is_some_and(|i| f.dfg.insts[i].opcode().is_return())
        })
    };
    let r = reduce::reduce(func, &**isa, &mut Holds(returns), &options, |_| {}).unwrap();
    cranelift_codegen::verify_function(&r.function, &**isa).unwrap();
    assert!(r.after.instructions < r.before.instructions, "{}", r.text);
    assert_eq!(r.after.blocks, 1, "{}", r.text);
    for constant in ["f32const", "f64const", "vconst", "iconst"] {
        assert!(r.text.contains(constant), "no {constant}:\n{}", r.text);
    }
    let reparsed = spillscope::engine::input::clif::parse(Path::new("mix.clif"), &r.text).unwrap();
    assert_eq!(
        reparsed.functions[0].0.display().to_string(),
        r.function.display().to_string()
    );
}

/// The real reproducer from Wasmtime 31 (Cranelift 0.118's syntax): every
/// candidate and the result are written in that syntax, which a command
/// sees; told to write the current syntax, the very first test fails.
#[test]
fn candidates_are_written_in_the_input_s_clif_dialect() {
    let input = common::samples_dir().join("hang/loop.clif");
    let original = std::fs::read_to_string(&input).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = out_path(&dir, "reduced.clif");
    let (input_s, out_s) = (input.to_str().unwrap(), out.to_str().unwrap());
    // Interesting while 0.118's flag words are there and 0.135's regions are not.
    let test = "grep -q 'little heap' {} && ! grep -q region {} && exit 3";
    let args = |dialect: Option<&'static str>| {
        let mut a = vec![
            input_s,
            "-o",
            out_s,
            "--target",
            "x86_64",
            "--test",
            test,
            "--expect-exit",
            "3",
            "--max-tests",
            "40",
        ];
        if let Some(d) = dialect {
            a.extend(["--clif-dialect", d]);
        }
        a
    };
    let report = run_reduce(&args(None));
    assert_eq!(report["clif_dialect"], "0.118", "{report}");
    assert!(count(&report, "after", "instructions") < count(&report, "before", "instructions"));
    // The input, written back, is Wasmtime 31's text but for `checked`.
    assert_eq!(
        count(&report, "before", "bytes") as usize,
        original.replace(" checked ", " ").len()
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("little heap") && !text.contains("region"),
        "{text}"
    );
    // spillscope reads the result (through its 0.118 rewrite), and it verifies.
    let (reduced_input, reduced) = prepare(&out, "0");
    let isa = reduced
        .isa(&reduced_input.path, Algorithm::Backtracking, false)
        .unwrap();
    cranelift_codegen::verify_function(reduced.function().unwrap(), &*isa).unwrap();

    let err = reduce_error(&args(Some("current")));
    assert!(err.contains("the input is not interesting"), "{err}");
    // `0.118` by name is what the input gave.
    assert_eq!(run_reduce(&args(Some("0.118")))["clif_dialect"], "0.118");
}
