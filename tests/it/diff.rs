//! `diff`: two runs of one function and their differences, on real
//! allocations: fewer registers (values sent to the stack, named), the
//! single-pass allocator (its edits read from its own log), another target
//! (not aligned), and a regalloc2 log of the same allocation (no difference).

use crate::common;

fn diff_json(a: &str, b: &str) -> serde_json::Value {
    let sample = common::samples_dir().join("lessons/pressure.wat");
    common::json(&[
        "diff",
        sample.to_str().unwrap(),
        "--func",
        "0",
        "--target",
        "x86_64",
        "--a",
        a,
        "--b",
        b,
        "--json",
    ])
}

fn kinds<'a>(d: &'a serde_json::Value, kind: &str) -> Vec<&'a serde_json::Value> {
    d["differences"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["kind"] == kind)
        .collect()
}

#[test]
fn fewer_registers_name_the_values_sent_to_the_stack() {
    let d = diff_json("", "int=6");
    assert_eq!(d["aligned"], true);
    let (a, b) = (&d["a"], &d["b"]);
    assert!(b["spills"].as_u64() > a["spills"].as_u64());
    assert_eq!(b["checker"], "ok");
    // Each value spilled in b only is on the stack in b's own final
    // locations, by the moves report of that run: its spill is listed at a
    // point where a has no such edit.
    let spilled = kinds(&d, "spilled");
    assert!(!spilled.is_empty());
    let extra = (b["spilled"].as_u64().unwrap() - a["spilled"].as_u64().unwrap()) as usize;
    assert!(
        spilled.len() <= extra + 1,
        "{} values for {extra} more spilled bundles",
        spilled.len()
    );
    for s in &spilled {
        let v = s["vreg"].as_u64().unwrap();
        let text = s["text"].as_str().unwrap();
        assert!(
            text.starts_with(&format!("v{v} goes to the stack in b only")),
            "{text}"
        );
        let spill = kinds(&d, "moves").into_iter().any(|m| {
            let t = m["text"].as_str().unwrap();
            t.contains("a no edit") && t.contains(&format!("b spills v{v} "))
        });
        assert!(spill, "v{v}'s spill in b");
    }
    let steps = kinds(&d, "steps");
    assert!(
        steps[0]["text"]
            .as_str()
            .unwrap()
            .contains("take the same first")
    );
}

#[test]
fn the_single_pass_allocators_edits_come_from_its_log() {
    let d = diff_json("", "algorithm=single_pass");
    let b = &d["b"];
    // Its steps are instructions and block starts, counted like bundle steps.
    assert!(b["steps"].as_u64().unwrap() > 0, "{b}");
    // Its edits are parsed from its own `Final edits` record: 24 values live
    // for 14 registers need spills there too.
    assert!(b["spills"].as_u64().unwrap() > 0 && b["reloads"].as_u64().unwrap() > 0);
    // The same counts as `moves` finds in the same allocation, and the same
    // code size as `compile` reports.
    let sample = common::samples_dir().join("lessons/pressure.wat");
    let args = |sub| {
        [
            sub,
            sample.to_str().unwrap(),
            "--func",
            "0",
            "--target",
            "x86_64",
            "--algorithm",
            "single_pass",
            "--json",
        ]
    };
    let moves = common::json(&args("moves"));
    for kind in ["spills", "reloads", "moves", "stack_moves"] {
        assert_eq!(b[kind], moves["summary"][kind], "{kind}");
    }
    let compiled = common::json(&args("compile"));
    assert_eq!(b["code_bytes"], compiled["code_bytes"]);
    assert!(d["note"].as_str().unwrap().contains("single-pass"));
    assert!(!kinds(&d, "moves").is_empty());
}

#[test]
fn another_target_is_compared_by_totals_and_steps() {
    let d = diff_json("", "target=aarch64");
    assert_eq!(d["aligned"], false);
    assert!(d["note"].as_str().unwrap().contains("different code"));
    assert!(kinds(&d, "spilled").is_empty() && kinds(&d, "moves").is_empty());
    // aarch64 has 26 integer registers: the lesson does not spill there.
    assert_eq!(d["b"]["spills"], 0);
    assert!(d["a"]["spills"].as_u64().unwrap() > 0);
}

#[test]
fn a_log_of_the_same_allocation_differs_in_nothing_it_records() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("pressure.log");
    let sample = common::samples_dir().join("lessons/pressure.wat");
    let out = common::spillscope(&[
        "trace",
        sample.to_str().unwrap(),
        "--func",
        "0",
        "--target",
        "x86_64",
        "--raw-log",
        log.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let d = diff_json("", &format!("log={}", log.display()));
    assert_eq!(d["aligned"], true);
    for kind in [
        "spilled",
        "allocation",
        "registers",
        "moves",
        "move_locations",
    ] {
        assert!(kinds(&d, kind).is_empty(), "{kind}: {:?}", kinds(&d, kind));
    }
    let steps = kinds(&d, "steps");
    assert!(
        steps[0]["text"]
            .as_str()
            .unwrap()
            .starts_with("the allocations take the same")
    );
    assert_eq!(d["a"]["spills"], d["b"]["spills"]);
}

#[test]
fn bad_run_specs_are_refused_by_name() {
    let sample = common::samples_dir().join("lessons/pressure.wat");
    for (spec, says) in [
        ("colour=red", "unknown key `colour`"),
        ("target=mips", "mips"),
        ("int=0", "at least one register"),
        ("log=x.log,target=x86_64", "give it alone"),
    ] {
        let out = common::spillscope(&[
            "diff",
            sample.to_str().unwrap(),
            "--func",
            "0",
            "--a",
            "",
            "--b",
            spec,
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(says), "{spec}: {err}");
    }
}
