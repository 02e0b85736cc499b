//! Fewer registers: the regalloc2 function rebuilt from regalloc2's own
//! records, proved by allocating it again in Cranelift's environment (every
//! record of the allocation and its verbose results dump, which lists each
//! operand's allocation and each edit, equal to Cranelift's own run), then
//! allocated with fewer registers and checked by regalloc2's checker.

use crate::common;

use spillscope::engine::capture::{self, CaptureLimits, RecordSink, Source, Verdict};
use spillscope::engine::compile::CheckerVerdict;
use spillscope::engine::compile::realloc::{self, RegisterCounts};
use spillscope::engine::input::Input;
use spillscope::engine::input::isa::{Algorithm, Target};
use spillscope::engine::session::{self, Settings};

/// Every regalloc2 record of one allocation, in order (Cranelift's own and
/// the checker's left out). The state dump's `vreg12:` headings are left out
/// too: regalloc2 lists every vreg number below `num_vregs`, and Cranelift
/// counts numbers it never used (aliases, its 192 register numbers), which
/// the log does not carry; the rebuilt function counts to the highest number
/// used. Each used vreg's ranges still follow in order.
#[derive(Default)]
struct Records(Vec<String>);

impl RecordSink for Records {
    fn record(&mut self, source: Source, level: log::Level, message: &str) -> Verdict {
        let heading = source == Source::Dump
            && message
                .strip_prefix("vreg")
                .and_then(|m| m.strip_suffix(':'))
                .is_some_and(|n| n.parse::<u32>().is_ok());
        if !heading && !matches!(source, Source::Compile | Source::Lower | Source::Checker) {
            self.0.push(format!("{level} {source:?} {message}"));
        }
        Verdict::Continue
    }
}

fn unlimited() -> CaptureLimits {
    CaptureLimits {
        max_records: u64::MAX,
        deadline: None,
    }
}

/// Checks one function's round trip; the number of records compared.
fn round_trip(input: &Input, index: u32, target: Target) -> usize {
    let what = format!("{} #{index} {target:?}", input.path.display());
    let settings = Settings {
        target,
        ..Settings::default()
    };
    let prepared = session::prepare(input, index, settings).unwrap_or_else(|e| panic!("{e}"));
    // Cranelift's allocation, verbose: its results dump lists each operand's
    // allocation and each edit.
    let job = prepared
        .job_with(
            &input.path,
            Algorithm::Backtracking,
            false,
            &[("regalloc_verbose_logs", "true")],
        )
        .unwrap();
    let (_, cranelift, _) =
        capture::capture(Records::default(), unlimited(), || job.compile(false));
    let func = session::rebuild_function(input, &prepared).unwrap_or_else(|e| panic!("{e}"));
    let (out, ours, _) = capture::capture(Records::default(), unlimited(), || {
        realloc::allocate_with(&func, &func.env, true)
    });
    let output = match out {
        capture::CaptureOutcome::Finished(Ok(o)) => o,
        _ => panic!("{what}: the rebuilt function did not allocate"),
    };
    let (a, b) = (&cranelift.0, &ours.0);
    assert!(
        a.iter().any(|r| r.contains("=== REGALLOC RESULTS ===")),
        "{what}: no results dump"
    );
    if let Some(i) = (0..a.len().min(b.len())).find(|&i| a[i] != b[i]) {
        panic!(
            "{what}: record {i} differs\n cranelift: {}\n rebuilt:   {}",
            a[i], b[i]
        );
    }
    assert_eq!(a.len(), b.len(), "{what}: record counts");
    assert_eq!(
        realloc::check(&func, &func.env, &output),
        CheckerVerdict::Ok,
        "{what}"
    );
    a.len()
}

#[test]
fn the_rebuilt_function_allocates_exactly_as_cranelift_did() {
    let mut functions = 0;
    let mut records = 0;
    for target in [
        Target::X86_64,
        Target::Aarch64,
        Target::Riscv64,
        Target::S390x,
    ] {
        for input in common::samples() {
            if input.kind() == spillscope::engine::input::InputKind::Clif
                && target != Target::X86_64
            {
                continue;
            }
            for f in input.functions.iter().filter(|f| !f.imported) {
                records += round_trip(&input, f.index, target);
                functions += 1;
            }
        }
    }
    eprintln!("{functions} functions, {records} regalloc2 records identical");
    assert!(functions >= 20, "only {functions} functions");
}

#[test]
fn fewer_registers_spill_more_and_pass_the_checker() {
    let input = Input::load(&common::samples_dir().join("lessons/pressure.wat")).unwrap();
    let index = input.select("0").unwrap().index;
    let settings = Settings {
        target: Target::X86_64,
        ..Settings::default()
    };
    let prepared = session::prepare(&input, index, settings).unwrap();
    let points = session::register_sweep(
        &input,
        &prepared,
        regalloc2::RegClass::Int,
        Default::default(),
    )
    .unwrap();
    // x86_64 allocates 14 integer registers.
    assert_eq!(points[0].registers, 14);
    let full = &points[0];
    let few = points
        .iter()
        .find(|p| p.registers == 6)
        .expect("6 registers allocate");
    assert!(few.checked && full.checked);
    assert!(
        few.edits.spills > full.edits.spills && few.splits > full.splits,
        "14: {full:?}\n6: {few:?}"
    );
    // Down to the fewest that allocate, every allocation passes the checker;
    // the sweep ends at a count regalloc2 refuses, saying why.
    let last = points.last().unwrap();
    assert!(points[..points.len() - 1].iter().all(|p| p.checked));
    if let Some(e) = &last.error {
        assert!(e.contains("more registers"), "{e}");
    }

    // The traced allocation with 6 registers: its steps replay, and its
    // checker verdict and spills match the sweep's.
    let counts: RegisterCounts = "int=6".parse().unwrap();
    let prepared = session::prepare(&input, index, settings).unwrap();
    let t = session::trace_with_registers(
        &input,
        prepared,
        counts,
        Default::default(),
        CaptureLimits::default(),
    )
    .unwrap();
    assert_eq!(t.traced.checker, CheckerVerdict::Ok);
    let c = t.traced.trace.counts();
    assert_eq!(
        c.splits, few.splits,
        "splits in the trace and regalloc2's stats"
    );
    let state = t.replay.state_at(t.replay.len());
    assert!(!state.bundles.is_empty());
}

#[test]
fn registers_and_trace_registers_json_agree() {
    let sweep = common::sample_json("registers", "lessons/calls.wat", "1");
    let names: Vec<&str> = sweep["allocatable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 14);
    assert_eq!(
        &names[..3],
        ["rax", "rcx", "rdx"],
        "preferred registers first"
    );
    let points = sweep["points"].as_array().unwrap();
    assert_eq!(points[0]["registers"], 14);
    let at = |n: u64| points.iter().find(|p| p["registers"] == n).unwrap();

    let sample = common::samples_dir().join("lessons/calls.wat");
    let t = common::json(&[
        "trace",
        sample.to_str().unwrap(),
        "--func",
        "1",
        "--target",
        "x86_64",
        "--registers",
        "int=5",
        "--json",
    ]);
    let s = &t["summary"];
    assert_eq!(s["compiled_by"], "regalloc2");
    assert_eq!(s["checker"], "ok");
    assert_eq!(s["splits"], at(5)["splits"]);
    let kept = &t["registers"]["classes"][0];
    assert_eq!(kept["class"], "int");
    assert_eq!(kept["kept"].as_array().unwrap().len(), 5);
    let int = s["max_pressure"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["class"] == "int")
        .unwrap();
    assert_eq!(int["registers"], 5);

    // Counts the target does not have, and a bad class, are refused by name.
    let out = common::spillscope(&[
        "trace",
        sample.to_str().unwrap(),
        "--func",
        "1",
        "--target",
        "x86_64",
        "--registers",
        "int=40",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("14 allocatable int registers"),
        "{err}"
    );
}

/// The register counts the pressure view and the app's Registers tab use
/// (from a one-instruction probe per target) are those of the machine
/// environment Cranelift gives regalloc2 for a real function of Wasmtime's,
/// read from regalloc2's own records of that compile, on every target.
#[test]
fn pressure_counts_are_each_targets_machine_env() {
    use spillscope::engine::replay::pressure;
    use spillscope::engine::trace::RegClass;
    let input = Input::load(&common::samples_dir().join("lessons/pressure.wat")).unwrap();
    let index = input.select("0").unwrap().index;
    for target in [
        Target::X86_64,
        Target::Aarch64,
        Target::Riscv64,
        Target::S390x,
    ] {
        let settings = Settings {
            target,
            ..Settings::default()
        };
        let prepared = session::prepare(&input, index, settings).unwrap();
        let func = session::rebuild_function(&input, &prepared).unwrap();
        for class in [RegClass::Int, RegClass::Float, RegClass::Vector] {
            let env = func.allocatable(class.into()).len() as u32;
            let probed = pressure::allocatable(&prepared.flags.triple, class);
            match probed {
                Some(n) => assert_eq!(n, env, "{target:?} {class:?}: probe vs the function's"),
                // None only for a class without allocatable registers.
                None => assert_eq!(env, 0, "{target:?} {class:?}: no count"),
            }
        }
    }
}
