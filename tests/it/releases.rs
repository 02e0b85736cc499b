//! Every built-in regalloc2 release, in-process: each allocates every sample
//! function (its own checker passes, or the outcome is named), 0.11.3 loops
//! on the real hang and 0.12.2 does not, and each release's reproducer file
//! reads back through that release's own deserializer into the same
//! allocation.

use crate::common;

use spillscope::engine::compile::CheckerVerdict;
use spillscope::engine::compile::realloc::{self, Allocator};
use spillscope::engine::input::Input;
use spillscope::engine::input::isa::{Algorithm, Target};
use spillscope::engine::releases::versions::{self, Outcome};
use spillscope::engine::releases::{self, Refused, Release};
use spillscope::engine::session::{self, Settings};

fn x86() -> Settings {
    Settings {
        target: Target::X86_64,
        ..Settings::default()
    }
}

fn hang() -> Input {
    Input::load(&common::samples_dir().join("hang/loop.clif")).unwrap()
}

#[test]
fn the_lockfile_holds_every_release_and_the_yanked_one() {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock")).unwrap();
    for r in Release::ALL {
        let entry = format!("name = \"regalloc2\"\nversion = \"{}\"", r.version());
        assert!(lock.contains(&entry), "Cargo.lock has no regalloc2 {r}");
    }
    // 0.11.2 cannot sit beside 0.11.3; the lockfile keeps the yanked one.
    assert!(!lock.contains("name = \"regalloc2\"\nversion = \"0.11.2\""));
}

#[test]
fn releases_are_named_as_users_write_them() {
    assert_eq!("0.11.3".parse::<Release>(), Ok(Release::V0_11));
    assert_eq!("0.11".parse::<Release>(), Ok(Release::V0_11));
    assert_eq!("v0.12.2".parse::<Release>(), Ok(Release::V0_12));
    assert_eq!("oldest".parse::<Release>(), Ok(Release::V0_9));
    assert_eq!("newest".parse::<Release>(), Ok(Release::V0_15));
    let e = "0.11.2".parse::<Release>().unwrap_err();
    assert!(e.contains("built in as 0.11.3"), "{e}");
    let e = "0.8.0".parse::<Release>().unwrap_err();
    assert!(e.contains("not a built-in"), "{e}");
    assert_eq!(Release::CRANELIFT, Release::V0_15);
    assert!(!Release::V0_10.has_single_pass() && Release::V0_11.has_single_pass());
}

/// Every release on every sample function (x86-64, both allocators): the
/// release's own checker passes, or the outcome is named; never a crash.
/// The allocation through the release's port equals the untraced one.
#[test]
fn every_release_allocates_every_sample_function() {
    let mut finished = 0;
    let mut named = 0;
    for input in common::samples() {
        for f in input.functions.iter().filter(|f| !f.imported) {
            let prepared = session::prepare(&input, f.index, x86()).unwrap();
            let func = session::rebuild_function(&input, &prepared).unwrap();
            let what = format!("{} #{}", input.path.display(), f.index);
            for algorithm in Algorithm::ALL {
                let v = versions::versions(
                    &func,
                    &func.env,
                    algorithm,
                    prepared.default_limits(),
                    &Release::ALL,
                );
                assert_eq!(v.rows.len(), Release::ALL.len());
                // Cranelift's release has steps exactly when there is
                // something to allocate (`abort` has nothing); so do the rest.
                let newest = &v.rows[v.rows.len() - 1];
                assert_eq!(newest.outcome, Outcome::Ok, "{what}");
                let has_steps = newest.counts.steps > 0;
                for row in &v.rows {
                    let what = format!("{what} {} {}", row.release, algorithm.name());
                    match &row.outcome {
                        Outcome::Ok => {
                            assert_eq!(row.checker, "ok", "{what}");
                            assert_eq!(row.counts.steps > 0, has_steps, "{what}: steps");
                            assert!(row.edits.is_some() && row.allocation_ms.is_some(), "{what}");
                            finished += 1;
                        }
                        Outcome::CannotTake { why } => {
                            // Only the releases before the single-pass
                            // allocator existed, or an operand they lack.
                            assert!(
                                why.contains("single-pass") || why.contains("constraint"),
                                "{what}: {why}"
                            );
                            if why.contains("single-pass") {
                                assert!(!row.release.has_single_pass(), "{what}");
                            }
                            named += 1;
                        }
                        Outcome::Loops { diagnosis, .. } => {
                            // The one release with the split loop.
                            assert_eq!(row.release, Release::V0_11, "{what}: {diagnosis}");
                            named += 1;
                        }
                        other => panic!("{what}: {other:?}"),
                    }
                }
            }
        }
    }
    eprintln!("{finished} allocations finished and checked, {named} outcomes named");
    assert!(finished >= 200, "only {finished}");
}

#[test]
fn the_real_hang_loops_under_0_11_3_and_allocates_under_0_12_2() {
    let input = hang();
    let prepared = session::prepare(&input, 0, x86()).unwrap();
    let func = session::rebuild_function(&input, &prepared).unwrap();
    let limits = prepared.default_limits();
    let v = versions::versions(
        &func,
        &func.env,
        Algorithm::Backtracking,
        limits,
        &[Release::V0_11, Release::V0_12],
    );
    match &v.rows[0].outcome {
        Outcome::Loops {
            diagnosis,
            detected_at,
            ..
        } => {
            assert!(
                diagnosis.contains("minimal-bundle split loop"),
                "{diagnosis}"
            );
            // Detected long before the record budget.
            assert!(*detected_at < 1000, "{detected_at}");
        }
        other => panic!("0.11.3: {other:?}"),
    }
    assert_eq!(v.rows[1].outcome, Outcome::Ok);
    assert_eq!(v.rows[1].checker, "ok");
    // A trace of the 0.11.3 run says which release made it.
    let t = session::trace_rebuilt(
        &input,
        session::prepare(&input, 0, x86()).unwrap(),
        &func,
        Default::default(),
        Allocator {
            release: Release::V0_11,
            algorithm: Algorithm::Backtracking,
        },
        limits,
    )
    .unwrap();
    assert_eq!(t.traced.trace.release, Some(Release::V0_11));
    assert_eq!(t.traced.trace.dialect.minors(), vec![11]);
    assert!(t.traced.trace.stopped.is_some());
}

/// The reproducer file of each release, read back by that release's own
/// deserializer, is the same function and allocates into the same output as
/// the rebuilt function, on every sample function.
#[test]
fn reproducer_files_round_trip_through_each_release() {
    let mut files = 0;
    for input in common::samples() {
        for f in input.functions.iter().filter(|f| !f.imported) {
            let prepared = session::prepare(&input, f.index, x86()).unwrap();
            let func = session::rebuild_function(&input, &prepared).unwrap();
            let limits = prepared.default_limits();
            for release in Release::ALL {
                let what = format!("{} #{} {release}", input.path.display(), f.index);
                let direct = match releases::allocate(
                    release,
                    &func,
                    &func.env,
                    Algorithm::Backtracking,
                    false,
                    Some(limits),
                ) {
                    Ok(a) => a.output,
                    // The hang under 0.11.3: stopped by the budget, and its
                    // file stops the same way.
                    Err(Refused::Stopped(_)) if release == Release::V0_11 => {
                        let bytes = releases::to_bin(release, &func, &func.env).unwrap();
                        let back = releases::from_bin(release, &bytes).unwrap();
                        let again = releases::allocate(
                            release,
                            &back,
                            &back.env,
                            Algorithm::Backtracking,
                            false,
                            Some(limits),
                        );
                        assert!(matches!(again, Err(Refused::Stopped(_))), "{what}");
                        files += 1;
                        continue;
                    }
                    Err(e) => panic!("{what}: {}", e.text()),
                };
                let bytes = releases::to_bin(release, &func, &func.env).unwrap();
                let back =
                    releases::from_bin(release, &bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
                assert!(back.same_input(&func), "{what}: read back differs");
                let again = releases::allocate(
                    release,
                    &back,
                    &back.env,
                    Algorithm::Backtracking,
                    true,
                    Some(limits),
                )
                .unwrap_or_else(|e| panic!("{what}: {}", e.text()));
                assert!(
                    versions::same_allocation(&direct, &again.output),
                    "{what}: the file's allocation differs"
                );
                assert_eq!(again.checker, CheckerVerdict::Ok, "{what}");
                // Told nothing, the reader names a release that reads it as
                // the same function.
                let (named, guessed) = releases::read_bin(None, &bytes).unwrap();
                assert!(guessed.same_input(&func), "{what}: read as {named}");
                files += 1;
            }
        }
    }
    assert!(files >= 100, "only {files}");
}

#[test]
fn a_damaged_reproducer_is_refused_in_words() {
    let input = Input::load(&common::samples_dir().join("fib.clif")).unwrap();
    let prepared = session::prepare(&input, 0, x86()).unwrap();
    let func = session::rebuild_function(&input, &prepared).unwrap();
    let bytes = releases::to_bin(Release::V0_12, &func, &func.env).unwrap();
    for cut in [0, 1, 17, bytes.len() / 2, bytes.len() - 1] {
        let e = releases::from_bin(Release::V0_12, &bytes[..cut]).unwrap_err();
        assert!(e.contains("0.12.2"), "{e}");
    }
    // Flipped bytes: an error or a function that holds together, never a
    // panic reaching the caller.
    for i in (0..bytes.len()).step_by(7) {
        let mut b = bytes.clone();
        b[i] ^= 0xa5;
        if let Ok(f) = releases::from_bin(Release::V0_12, &b) {
            assert!(f.validate().is_ok());
            let _ = releases::allocate(
                Release::V0_12,
                &f,
                &f.env,
                Algorithm::Backtracking,
                true,
                Some(prepared.default_limits()),
            );
        }
    }
}

#[test]
fn register_sweeps_run_on_any_release() {
    let input = Input::load(&common::samples_dir().join("lessons/pressure.wat")).unwrap();
    let prepared = session::prepare(&input, 0, x86()).unwrap();
    let func = session::rebuild_function(&input, &prepared).unwrap();
    for release in [Release::V0_9, Release::V0_12] {
        let points = realloc::sweep(
            &func,
            regalloc2::RegClass::Int,
            Allocator {
                release,
                algorithm: Algorithm::Backtracking,
            },
            prepared.default_limits(),
        );
        assert!(points.len() > 3, "{release}");
        assert!(points[0].checked, "{release}");
        // Fewer registers, more spills at the low end.
        let last_ok = points.iter().rev().find(|p| p.error.is_none()).unwrap();
        assert!(last_ok.edits.spills > points[0].edits.spills, "{release}");
    }
}

#[test]
fn versions_json_and_reproducer_files_from_the_command_line() {
    let hang = common::samples_dir().join("hang/loop.clif");
    let hang = hang.to_str().unwrap();
    let v = common::json(&[
        "versions", hang, "--func", "0", "--target", "x86_64", "--json",
    ]);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 7);
    assert_eq!(rows[2]["release"], "0.11.3");
    assert_eq!(rows[2]["outcome"]["kind"], "loops");
    assert_eq!(rows[3]["outcome"]["kind"], "ok");
    assert_eq!(rows[3]["checker"], "ok");
    assert!(v["first_difference"].is_string());

    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("loop.bin");
    let out = common::spillscope(&[
        "export",
        hang,
        "--func",
        "0",
        "--target",
        "x86_64",
        "--reproducer",
        bin.to_str().unwrap(),
        "--regalloc2",
        "0.11.3",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The 0.11.3 file, stepped by a release.
    let step_with = |release: &str| {
        common::json(&[
            "trace",
            "--reproducer",
            bin.to_str().unwrap(),
            "--written-by",
            "0.11.3",
            "--regalloc2",
            release,
            "--json",
        ])
    };
    let t = step_with("0.11.3");
    assert_eq!(t["summary"]["regalloc2"], "0.11.3");
    assert!(t["diagnosis"]["looping"].as_bool().unwrap());
    assert_eq!(step_with("0.12.2")["summary"]["checker"], "ok");

    // Not a reproducer: one line naming the file.
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, b"\x07not bincode at all").unwrap();
    let out = common::spillscope(&["trace", "--reproducer", junk.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("junk.bin") && err.contains("reproducer"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    // A release that is not built in, and machine code asked of another.
    let out = common::spillscope(&["trace", hang, "--func", "0", "--regalloc2", "0.11.2"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("built in as 0.11.3"));
    let out = common::spillscope(&["compile", hang, "--func", "0", "--regalloc2", "0.12"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("without emitting code"));
}

#[test]
fn a_run_spec_names_the_release() {
    let hang = common::samples_dir().join("hang/loop.clif");
    let d = common::json(&[
        "diff",
        hang.to_str().unwrap(),
        "--func",
        "0",
        "--target",
        "x86_64",
        "--a",
        "regalloc2=0.12.2",
        "--b",
        "regalloc2=0.15.2",
        "--json",
    ]);
    let text = d.to_string();
    assert!(text.contains("regalloc2 0.12.2"), "{text}");
}

/// The reducer with a release as its test, in-process: the real hang shrinks
/// and the result still loops under 0.11.3 and still allocates under 0.12.2.
#[test]
fn reduce_with_a_release_as_the_test_keeps_the_loop() {
    let hang = common::samples_dir().join("hang/loop.clif");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("small.clif");
    let r = common::json(&[
        "reduce",
        hang.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--regalloc2",
        "0.11.3",
        "--target",
        "x86_64",
        "--json",
    ]);
    let (before, after) = (
        r["before"]["instructions"].as_u64().unwrap(),
        r["after"]["instructions"].as_u64().unwrap(),
    );
    assert!(after * 3 < before, "{before} -> {after}");
    assert!(r["interesting"].as_str().unwrap().contains("0.11.3"), "{r}");
    let input = Input::load(&out).unwrap();
    let prepared = session::prepare(&input, 0, x86()).unwrap();
    let func = session::rebuild_function(&input, &prepared).unwrap();
    let v = versions::versions(
        &func,
        &func.env,
        Algorithm::Backtracking,
        prepared.default_limits(),
        &[Release::V0_11, Release::V0_12],
    );
    assert!(
        matches!(v.rows[0].outcome, Outcome::Loops { .. }),
        "{:?}",
        v.rows[0].outcome
    );
    assert_eq!(v.rows[1].outcome, Outcome::Ok);
}

/// A scan with a release: 0.11.3 is over budget on the hang, with the loop
/// diagnosed from its own trace; 0.12.2 finishes it and every sample
/// function, checked.
#[test]
fn scan_with_a_release_finds_the_loop_and_its_fix_does_not() {
    let hang = common::samples_dir().join("hang/loop.clif");
    // Small functions beside the hang: the budget below is for them.
    let small = common::samples_dir().join("lessons/pressure.wat");
    let scan = |release: &str| {
        let out = common::spillscope(&[
            "scan",
            hang.to_str().unwrap(),
            small.to_str().unwrap(),
            "--regalloc2",
            release,
            "--target",
            "x86_64",
            "--budget",
            "300000",
            "--json",
        ]);
        // Exit code 2 says something was not ok; the report is on stdout.
        assert!(matches!(out.status.code(), Some(0 | 2)), "{out:?}");
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let old = scan("0.11.3");
    assert_eq!(old["summary"]["over_budget"], 1, "{}", old["summary"]);
    assert_eq!(old["summary"]["conditions"]["regalloc2"], "0.11.3");
    let f = &old["files"][0]["functions"][0];
    assert_eq!(f["status"], "over_budget");
    assert!(f["diagnosis"]["looping"].as_bool().unwrap(), "{f}");
    let fixed = scan("0.12.2");
    assert_eq!(fixed["summary"]["over_budget"], 0);
    assert_eq!(fixed["summary"]["checker_failed"], 0);
    assert_eq!(
        fixed["summary"]["ok"],
        old["summary"]["ok"].as_u64().unwrap() + 1
    );
}

/// Runs spillscope with runners cached where `SPILLSCOPE_CACHE_DIR` says
/// (CI shares one cache with the app's test), else beside the test binaries.
fn spillscope_cached(args: &[&str]) -> std::process::Output {
    let cache = std::env::var_os("SPILLSCOPE_CACHE_DIR")
        .unwrap_or_else(|| env!("CARGO_TARGET_TMPDIR").into());
    std::process::Command::new(env!("CARGO_BIN_EXE_spillscope"))
        .args(args)
        .env("SPILLSCOPE_CACHE_DIR", cache)
        .output()
        .unwrap()
}

/// `--regalloc2 PATH` on the unpacked regalloc2 0.11.3 crate: a runner built
/// against it reproduces the loop, read live and diagnosed. Skipped where the
/// crate's source is not unpacked (CI requires it:
/// `SPILLSCOPE_REQUIRE_RA_TREE=1`).
#[test]
fn a_regalloc2_source_tree_reproduces_the_loop() {
    let Some(tree) = common::ra0113_source_or_skip() else {
        return;
    };
    let hang = common::samples_dir().join("hang/loop.clif");
    let out = spillscope_cached(&[
        "trace",
        hang.to_str().unwrap(),
        "--func",
        "0",
        "--target",
        "x86_64",
        "--regalloc2",
        tree.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        t["summary"]["regalloc2_tree"]
            .as_str()
            .unwrap()
            .starts_with("0.11.3 at "),
        "{}",
        t["summary"]
    );
    assert!(
        t["diagnosis"]["looping"].as_bool().unwrap(),
        "{}",
        t["diagnosis"]
    );
    assert!(
        t["diagnosis"]["description"]
            .as_str()
            .unwrap()
            .contains("minimal-bundle split loop")
    );
    // The same steps as the built-in 0.11.3 takes in-process.
    let inside = common::json(&[
        "trace",
        hang.to_str().unwrap(),
        "--func",
        "0",
        "--target",
        "x86_64",
        "--regalloc2",
        "0.11.3",
        "--json",
    ]);
    assert_eq!(t["steps"], inside["steps"]);
    // `versions` gives the tree a row of its own beside the built-in ones,
    // the same outcome as the built-in 0.11.3's.
    let out = spillscope_cached(&[
        "versions",
        hang.to_str().unwrap(),
        "--func",
        "0",
        "--target",
        "x86_64",
        "--regalloc2",
        tree.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = &v["tree"];
    assert_eq!(row["version"], "0.11.3", "{row}");
    assert_eq!(row["outcome"]["kind"], "loops", "{row}");
    let built_in = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["release"] == "0.11.3")
        .unwrap();
    assert_eq!(
        row["outcome"]["detected_at"],
        built_in["outcome"]["detected_at"]
    );
    assert_eq!(row["steps"], built_in["steps"]);
}

/// What is not a usable tree is one line, before anything is built.
#[test]
fn a_folder_that_is_no_regalloc2_tree_is_refused_in_one_line() {
    let hang = common::samples_dir().join("hang/loop.clif");
    let dir = tempfile::tempdir().unwrap();
    let run = |tree: &std::path::Path| {
        let out = spillscope_cached(&[
            "trace",
            hang.to_str().unwrap(),
            "--func",
            "0",
            "--regalloc2",
            tree.to_str().unwrap(),
        ]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(err.lines().count(), 1, "{err}");
        err
    };
    // A folder with this Cargo.toml and src/lib.rs.
    let tree = |name: &str, manifest: &str, lib: &str| {
        let t = dir.path().join(name);
        std::fs::create_dir_all(t.join("src")).unwrap();
        std::fs::write(t.join("src/lib.rs"), lib).unwrap();
        if !manifest.is_empty() {
            std::fs::write(t.join("Cargo.toml"), manifest).unwrap();
        }
        t
    };
    let package = |name: &str, version: &str| {
        format!(
            "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n\n\
             [features]\ntrace-log = []\nenable-serde = []\nchecker = []\n"
        )
    };
    assert!(run(&tree("empty", "", "")).contains("not a regalloc2 source tree"));
    assert!(run(&tree("other", &package("smallvec", "1.0.0"), "")).contains("`smallvec`"));
    assert!(run(&tree("old", &package("regalloc2", "0.8.1"), "")).contains("older than 0.9"));
    // A tree that does not build: cargo's first error.
    let broken = tree(
        "broken",
        &package("regalloc2", "0.11.9"),
        "pub fn oops( {\n",
    );
    let err = run(&broken);
    assert!(
        err.contains("building a runner against") && err.contains("error"),
        "{err}"
    );
}
