//! `spillscope gate`, driven as a user would: 0.11.3 against 0.12.2 on the
//! real hang fails with a new loop; a release against itself finds no
//! difference on any sample function; shards merged give the unsharded
//! report; `--shard auto` reads what schedulers set.

use crate::common;

use serde_json::Value;
use spillscope::engine::triage::scan::Shard;

/// Runs `spillscope gate ARGS --json`; the exit code and the report.
fn gate_json(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["gate", "--json", "--target", "x86_64"];
    all.extend_from_slice(args);
    let out = common::spillscope(&all);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{all:?}: not JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().expect("exited"), report)
}

fn functions(report: &Value) -> Vec<&Value> {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["functions"].as_array().unwrap())
        .collect()
}

#[test]
fn the_yanked_release_fails_the_gate_with_a_new_loop() {
    let hang = common::samples_dir().join("hang/loop.clif");
    let small = common::samples_dir().join("lessons/pressure.wat");
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("gate.html");
    let (code, report) = gate_json(&[
        hang.to_str().unwrap(),
        small.to_str().unwrap(),
        "--candidate",
        "0.11.3",
        "--baseline",
        "0.12.2",
        "--budget",
        "300000",
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{report:#}");
    let g = &report["gate"];
    assert_eq!(g["candidate"], "0.11.3");
    assert_eq!(g["baseline"], "0.12.2");
    assert_eq!(g["new_loops"], 1, "{g:#}");
    assert_eq!(g["new_panics"], 0);
    assert_eq!(g["new_checker_failures"], 0);
    let hung = &report["files"][0]["functions"][0];
    assert_eq!(hung["status"], "over_budget");
    let sides = &hung["gate"];
    assert_eq!(sides["candidate"]["outcome"]["kind"], "loops", "{sides:#}");
    let diagnosis = sides["candidate"]["outcome"]["diagnosis"].as_str().unwrap();
    assert!(
        diagnosis.contains("minimal-bundle split loop"),
        "{diagnosis}"
    );
    assert_eq!(sides["baseline"]["outcome"]["kind"], "ok");
    assert!(sides["baseline"]["edits"]["spills"].as_u64().is_some());
    // The other functions are allocated by both and checked.
    let rest: Vec<_> = functions(&report).into_iter().skip(1).collect();
    assert!(!rest.is_empty());
    for f in rest {
        assert_eq!(f["status"], "ok", "{f:#}");
        assert_eq!(f["gate"]["candidate"]["outcome"]["kind"], "ok");
    }
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("Failed"), "the page says the gate failed");
    assert!(page.contains("minimal-bundle split loop"));
    assert!(page.matches("<svg").count() >= 3, "scatter and histograms");
}

/// A source tree as the candidate: regalloc2 0.11.3's own crate source,
/// run by a runner built against it, loops on the real hang (a new loop
/// against 0.12.2) and on every other function counts exactly what the
/// built-in 0.11.3 counts.
#[test]
fn a_source_tree_candidate_is_gated_like_its_release() {
    let Some(tree) = common::ra0113_source_or_skip() else {
        return;
    };
    let samples = common::samples_dir();
    let hang = samples.join("hang/loop.clif");
    let small = samples.join("lessons/pressure.wat");
    let kernels = samples.join("c/kernels.wasm");
    let (code, report) = gate_json(&[
        hang.to_str().unwrap(),
        small.to_str().unwrap(),
        "--candidate",
        tree.to_str().unwrap(),
        "--baseline",
        "0.12.2",
        "--budget",
        "300000",
    ]);
    assert_eq!(code, 2, "{report:#}");
    let g = &report["gate"];
    assert_eq!(g["new_loops"], 1, "{g:#}");
    assert!(
        g["candidate_tree"]
            .as_str()
            .unwrap()
            .starts_with("0.11.3 source tree at ")
    );
    let hung = &functions(&report)[0]["gate"]["candidate"];
    assert_eq!(hung["source_tree"], true);
    assert!(
        hung["outcome"]["diagnosis"]
            .as_str()
            .unwrap()
            .contains("minimal-bundle split loop"),
        "{hung:#}"
    );

    // Against the built-in 0.11.3: the loop is in both, nothing is new, and
    // every count of every other function is the same.
    let (_, report) = gate_json(&[
        hang.to_str().unwrap(),
        kernels.to_str().unwrap(),
        "--candidate",
        tree.to_str().unwrap(),
        "--baseline",
        "0.11.3",
        "--budget",
        "300000",
    ]);
    let g = &report["gate"];
    assert_eq!(g["new_loops"], 0, "{g:#}");
    assert!(g["both_fail"].as_u64().unwrap() >= 1, "{g:#}");
    for f in functions(&report) {
        let sides = &f["gate"];
        assert_eq!(
            sides["baseline"]["outcome"]["kind"], sides["candidate"]["outcome"]["kind"],
            "{f:#}"
        );
    }
    assert!(g["compared"].as_u64().unwrap() >= 5, "{g:#}");
    for m in g["metrics"].as_array().unwrap() {
        if m["metric"] == "allocation_ms" {
            continue;
        }
        assert_eq!((&m["better"], &m["worse"]), (&0.into(), &0.into()), "{m:#}");
        assert_eq!(m["baseline_total"], m["candidate_total"], "{m:#}");
    }
}

/// Every sample function allocated by 0.15.2 twice: the same allocation
/// each time, no failure, no delta in any count.
#[test]
fn a_release_against_itself_finds_no_difference() {
    let samples = common::samples_dir();
    let (code, report) = gate_json(&[
        samples.to_str().unwrap(),
        "--candidate",
        "0.15.2",
        "--baseline",
        "0.15.2",
    ]);
    let g = &report["gate"];
    // The only module errors are inputs this build cannot read at all.
    let lowered = g["functions"].as_u64().unwrap() - g["not_lowered"].as_u64().unwrap();
    assert!(lowered >= 60, "{g:#}");
    assert_eq!(
        g["new_loops"].as_u64().unwrap() + g["new_panics"].as_u64().unwrap(),
        0
    );
    assert_eq!(g["new_checker_failures"], 0);
    assert_eq!(g["compared"], g["same_allocation"], "{g:#}");
    assert_eq!(g["compared"].as_u64().unwrap(), lowered);
    for m in g["metrics"].as_array().unwrap() {
        if m["metric"] == "allocation_ms" {
            continue;
        }
        assert_eq!(m["better"], 0, "{m:#}");
        assert_eq!(m["worse"], 0, "{m:#}");
        assert_eq!(m["baseline_total"], m["candidate_total"]);
    }
    assert_eq!(
        code,
        if report["summary"]["module_errors"] == 0 && g["not_lowered"] == 0 {
            0
        } else {
            2
        }
    );
}

/// What a report says of each function, times left out.
fn outcomes(report: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for file in report["files"].as_array().unwrap() {
        for f in file["functions"].as_array().unwrap() {
            let mut g = f["gate"].clone();
            for side in ["baseline", "candidate"] {
                if let Some(s) = g.get_mut(side).and_then(Value::as_object_mut) {
                    s.remove("allocation_ms");
                }
            }
            out.push(format!(
                "{} {} {} {}",
                file["path"], f["index"], f["status"], g
            ));
        }
    }
    out
}

#[test]
fn shards_merged_equal_the_unsharded_gate() {
    let inputs = [
        common::samples_dir().join("c/kernels.wasm"),
        common::samples_dir().join("lessons"),
    ];
    let inputs: Vec<&str> = inputs.iter().map(|p| p.to_str().unwrap()).collect();
    let run = |extra: &[&str]| {
        let mut args = inputs.clone();
        args.extend_from_slice(&["--candidate", "0.13.5", "--baseline", "0.12.2"]);
        args.extend_from_slice(extra);
        gate_json(&args)
    };
    let (code, whole) = run(&[]);
    assert_eq!(code, 0, "{:#}", whole["gate"]);
    let dir = tempfile::tempdir().unwrap();
    let mut shard_files = Vec::new();
    for i in 1..=3 {
        let (_, shard) = run(&["--shard", &format!("{i}/3")]);
        let path = dir.path().join(format!("shard-{i}.json"));
        std::fs::write(&path, serde_json::to_vec(&shard).unwrap()).unwrap();
        shard_files.push(path.to_str().unwrap().to_string());
    }
    let mut args = vec!["gate", "--merge", "--json"];
    args.extend(shard_files.iter().map(String::as_str));
    let out = common::spillscope(&args);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let merged: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outcomes(&merged), outcomes(&whole));
    let counts = |r: &Value| {
        let g = &r["gate"];
        let metrics: Vec<Value> = g["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["metric"] != "allocation_ms")
            .cloned()
            .collect();
        (
            g["functions"].clone(),
            g["compared"].clone(),
            g["same_allocation"].clone(),
            metrics,
        )
    };
    assert_eq!(counts(&merged), counts(&whole));
    // `scan --merge` of a gate's shards is a merge too; `gate --merge` of a
    // scan's is refused in words.
    let scan = common::spillscope(&["scan", "--json", "--target", "x86_64", inputs[0]]);
    let scan_file = dir.path().join("scan.json");
    std::fs::write(&scan_file, &scan.stdout).unwrap();
    let out = common::spillscope(&["gate", "--merge", scan_file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a gate"), "{err}");
}

#[test]
fn shard_auto_reads_what_schedulers_set() {
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    };
    let shard = |spec, vars| Shard::auto(spec, env(vars)).map(|(s, _)| s.to_string());
    // Kubernetes counts from 0 and does not say how many.
    assert_eq!(
        shard("auto/4", &[("JOB_COMPLETION_INDEX", "0")]),
        Ok("1/4".into())
    );
    let err = shard("auto", &[("JOB_COMPLETION_INDEX", "2")]).unwrap_err();
    assert!(err.contains("auto/N"), "{err}");
    assert_eq!(
        shard(
            "auto",
            &[
                ("JOB_COMPLETION_INDEX", "2"),
                ("SPILLSCOPE_SHARD_COUNT", "3")
            ]
        ),
        Ok("3/3".into())
    );
    // Slurm arrays may start anywhere.
    assert_eq!(
        shard(
            "auto",
            &[
                ("SLURM_ARRAY_TASK_ID", "5"),
                ("SLURM_ARRAY_TASK_MIN", "1"),
                ("SLURM_ARRAY_TASK_COUNT", "8")
            ]
        ),
        Ok("5/8".into())
    );
    // GitLab counts from 1.
    assert_eq!(
        shard("auto", &[("CI_NODE_INDEX", "2"), ("CI_NODE_TOTAL", "2")]),
        Ok("2/2".into())
    );
    assert_eq!(
        shard(
            "auto",
            &[
                ("SPILLSCOPE_SHARD_INDEX", "1"),
                ("SPILLSCOPE_SHARD_COUNT", "6")
            ]
        ),
        Ok("1/6".into())
    );
    // Mistakes are refused in words.
    let err = shard("auto/5", &[("CI_NODE_INDEX", "1"), ("CI_NODE_TOTAL", "4")]).unwrap_err();
    assert!(err.contains("4 shards, not 5"), "{err}");
    let err = shard("auto/4", &[("JOB_COMPLETION_INDEX", "4")]).unwrap_err();
    assert!(err.contains("at most N"), "{err}");
    let err = shard("auto", &[("CI_NODE_INDEX", "x")]).unwrap_err();
    assert!(err.contains("not a whole number"), "{err}");
    let err = shard("auto", &[]).unwrap_err();
    assert!(err.contains("JOB_COMPLETION_INDEX"), "{err}");
    assert!(shard("autox", &[]).is_err());
    // The command line takes it from the environment and says so.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_spillscope"))
        .args([
            "gate",
            common::samples_dir().join("lessons").to_str().unwrap(),
            "--candidate",
            "0.12.2",
            "--shard",
            "auto",
            "--json",
        ])
        .env("CI_NODE_INDEX", "2")
        .env("CI_NODE_TOTAL", "2")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("shard 2/2, from CI_NODE_INDEX=2"), "{err}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["shard"], "2/2");
}

#[test]
fn an_unchecked_scan_compiles_without_checker_or_budget() {
    let out = common::spillscope(&[
        "scan",
        "--json",
        "--unchecked",
        "--target",
        "x86_64",
        common::samples_dir()
            .join("c/kernels.wasm")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["conditions"]["unchecked"], true);
    let funcs = functions(&report);
    assert!(funcs.len() >= 10);
    for f in funcs {
        assert_eq!(f["status"], "ok");
        assert_eq!(f["records"], 0, "nothing was captured: {f:#}");
        assert!(f["code_bytes"].as_u64().unwrap() > 0);
        assert!(f.get("spill_slots").is_none(), "{f:#}");
    }
}
