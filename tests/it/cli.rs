//! The CLI, driven as a user would: golden JSON for each subcommand, and clear
//! errors with a non-zero exit code for bad input. Re-bless with `BLESS=1`.

use crate::common;

fn check(args: &[&str], golden: &str) {
    let out = common::spillscope(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    // JSON must parse, not just look right.
    let _: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    common::golden("cli", golden, &stdout);
}

#[test]
fn list_json_goldens() {
    for sample in [
        "pressure.wat",
        "calls.wat",
        "loop.wat",
        "memory.wat",
        "fib.clif",
    ] {
        let path = format!("sample-modules/{sample}");
        check(&["list", &path, "--json"], &format!("list-{sample}.json"));
    }
}

#[test]
fn compile_json_goldens() {
    for (sample, func) in [
        ("pressure.wat", "pressure"),
        ("calls.wat", "calls"),
        ("fib.clif", "fib"),
    ] {
        let path = format!("sample-modules/{sample}");
        check(
            &[
                "compile", &path, "--func", func, "--target", "x86_64", "--json",
            ],
            &format!("compile-{sample}-{func}.json"),
        );
    }
    check(
        &[
            "compile",
            "sample-modules/loop.wat",
            "--func",
            "1",
            "--target",
            "aarch64",
            "--opt",
            "none",
            "--json",
        ],
        "compile-loop.wat-1-aarch64-none.json",
    );
}

#[test]
fn trace_json_goldens() {
    for (sample, func) in [
        ("calls.wat", "calls"),
        ("loop.wat", "loop"),
        ("fib.clif", "%fib"),
    ] {
        let path = format!("sample-modules/{sample}");
        check(
            &[
                "trace", &path, "--func", func, "--target", "x86_64", "--json",
            ],
            &format!("trace-{sample}-{}.json", func.trim_start_matches('%')),
        );
    }
}

#[test]
fn trace_json_has_the_documented_shape() {
    let v = common::json(&[
        "trace",
        "sample-modules/pressure.wat",
        "--func",
        "pressure",
        "--target",
        "x86_64",
        "--json",
    ]);
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(
        v["summary"]["steps"].as_u64().unwrap() as usize,
        steps.len()
    );
    assert_eq!(v["summary"]["checker"], "ok");
    // A Wasm function: traced inside Wasmtime's own compile of it.
    assert_eq!(v["summary"]["compiled_by"], "wasmtime");
    // pressure.wat keeps more integers live than x86_64 has registers.
    let int = &v["summary"]["max_pressure"][0];
    assert_eq!(int["class"], "int");
    assert_eq!(int["registers"], 14);
    assert!(int["max_live"].as_u64().unwrap() > 14, "{int}");
    assert!(int["points_over"].as_u64().unwrap() > 0, "{int}");
    let mut evictions = 0;
    for s in steps {
        let outcome = s["outcome"].as_str().unwrap();
        assert!(
            ["allocated", "split", "spilled", "evicted"].contains(&outcome),
            "{outcome}"
        );
        match outcome {
            "allocated" => {
                assert!(s["preg"].is_string());
                // x86_64's name for it: rax…r15 or xmm0…15.
                let name = s["preg_name"].as_str().unwrap();
                assert!(
                    name.starts_with('r') || name.starts_with("xmm"),
                    "{name} for {}",
                    s["preg"]
                );
            }
            "split" => {
                assert!(s["split_at"].is_string());
                assert!(!s["children"].as_array().unwrap().is_empty());
            }
            _ => {}
        }
        evictions += s["evicted"].as_array().map(|a| a.len()).unwrap_or(0);
        assert!(s["bundle"].is_u64() && s["step"].is_u64());
    }
    assert_eq!(
        v["summary"]["evictions"].as_u64().unwrap() as usize,
        evictions
    );
    assert!(evictions > 0);
}

fn expect_error(args: &[&str], needles: &[&str]) {
    let out = common::spillscope(args);
    assert!(!out.status.success(), "{args:?} should fail");
    let stderr = String::from_utf8_lossy(&out.stderr);
    for n in needles {
        assert!(
            stderr.contains(n),
            "{args:?}: stderr {stderr:?} lacks {n:?}"
        );
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_inputs_fail_with_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_string_lossy().to_string()
    };
    expect_error(
        &["list", "no/such/file.wasm"],
        &["no/such/file.wasm", "cannot read"],
    );
    // The operating system's reason is said once, not once per error layer.
    let out = common::spillscope(&["list", "no/such/file.wasm"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("os error 2").count(), 1, "{stderr}");
    let garbage = write("garbage.wasm", b"\x7fELF not wasm at all");
    expect_error(&["list", &garbage], &["garbage.wasm", "magic"]);
    // A valid module cut short in the middle of its code section.
    let full = wat::parse_file(common::samples_dir().join("calls.wat")).unwrap();
    let truncated = write("truncated.wasm", &full[..full.len() - 7]);
    expect_error(&["list", &truncated], &["truncated.wasm", "byte offset"]);
    let invalid = write("invalid.wat", b"(module (func (result i32) (i64.const 1)))");
    expect_error(&["list", &invalid], &["invalid.wat", "type mismatch"]);
    let clif = write(
        "bad.clif",
        b"function %f() {\nblock0:\n    v0 = frobnicate.i32 1\n    return\n}\n",
    );
    expect_error(&["list", &clif], &["bad.clif", "line 3"]);
    // Parses, but the verifier rejects it: its own words, not a Debug dump.
    let unverified = write(
        "unverified.clif",
        b"function %f(i32) -> i64 {\nblock0(v0: i32):\n    return v0\n}\n",
    );
    expect_error(
        &["compile", &unverified, "--func", "0"],
        &[
            "unverified.clif",
            "the verifier rejects the function: inst0 (return v0)",
            "must match function signature of i64",
        ],
    );
    let empty = write("empty.wasm", b"");
    expect_error(&["list", &empty], &["empty.wasm", "empty"]);
    expect_error(
        &["trace", "sample-modules/calls.wat", "--func", "nope"],
        &[
            "calls.wat",
            "no function matches `nope`",
            "defined: 1 callee",
        ],
    );
    expect_error(
        &["compile", "sample-modules/calls.wat", "--func", "0"],
        &["imported"],
    );
    expect_error(
        &[
            "trace",
            "sample-modules/calls.wat",
            "--func",
            "calls",
            "--target",
            "mips",
        ],
        &["unknown target"],
    );
}

#[test]
fn a_raw_log_replays_through_trace_log_with_the_same_steps() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("loop.log");
    let log = log.to_str().unwrap();
    let mut live = common::json(&[
        "trace",
        "sample-modules/loop.wat",
        "--func",
        "loop",
        "--target",
        "x86_64",
        "--json",
        "--raw-log",
        log,
    ]);
    let replayed = common::json(&["trace", "--log", log, "--json"]);
    // A log names no target, so its steps carry regalloc2's register names
    // only, in their data and in their explanations.
    let mut replayed = replayed;
    for s in live["steps"].as_array_mut().unwrap() {
        let s = s.as_object_mut().unwrap();
        let name = s.remove("preg_name");
        let text = s.remove("explanation").unwrap();
        if let (Some(name), Some(preg)) = (name, s.get("preg")) {
            let theirs = text
                .as_str()
                .unwrap()
                .replace(name.as_str().unwrap(), preg.as_str().unwrap());
            s.insert("explanation".into(), theirs.into());
        } else {
            s.insert("explanation".into(), text);
        }
    }
    for s in replayed["steps"].as_array_mut().unwrap() {
        assert!(s.get("preg_name").is_none());
    }
    assert_eq!(live["steps"], replayed["steps"]);
    assert_eq!(replayed["import"]["not_understood"], 0);
    assert_eq!(replayed["import"]["truncated"], false);
}

#[cfg(unix)]
/// `spillscope ... | head` ends quietly when the reader goes away: no panic,
/// no backtrace, as other Unix tools behave.
#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_spillscope"))
        .args(["trace", "sample-modules/c/kernels.wasm", "--func", "8"])
        // About 4 MB of records, far more than a pipe holds.
        .args(["--raw-log", "/dev/stdout"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The pipe is closed here, with almost all of the output unread.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
    use std::os::unix::process::ExitStatusExt;
    // Killed by SIGPIPE (13), as `cat` would be.
    assert_eq!(out.status.signal(), Some(13), "{:?}: {stderr}", out.status);
}

/// Wasmtime names each CLIF file it writes after the function; a name with a
/// `/` (common in Go modules) made it panic before the name section was hidden
/// from it.
#[test]
fn functions_named_with_a_slash_trace() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slash.wat");
    std::fs::write(
        &path,
        "(module (func $internal/abi.Kind (result i32) i32.const 1)\n\
         (func $main (result i32) call $internal/abi.Kind))",
    )
    .unwrap();
    let path = path.to_string_lossy().to_string();
    for func in ["internal/abi.Kind", "main"] {
        let out = common::spillscope(&["trace", &path, "--func", func, "--json"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{func}: {stderr}");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            json["steps"].as_array().is_some_and(|s| !s.is_empty()),
            "{json}"
        );
    }
    let out = common::spillscope(&["scan", &path, "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["summary"]["ok"], 2, "{json}");
}

/// Wasmtime 48 cannot lower SIMD for riscv64 without its vector extension.
/// Compiling the function alone, its compiler says so; compiling the whole
/// module (`fidelity`), it panics on rayon's threads. Either way the user reads
/// one line naming the file, with no backtrace printed from those threads.
#[test]
fn a_wasmtime_panic_on_its_own_threads_is_one_quiet_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("simd.wat");
    std::fs::write(
        &path,
        "(module (func (param v128) (result i32) (i8x16.bitmask (local.get 0))))",
    )
    .unwrap();
    let path = path.to_string_lossy().to_string();
    for (args, says) in [
        (
            vec!["trace", &path, "--func", "0", "--target", "riscv64"],
            "should be implemented in ISLE: inst = `v3 = vhigh_bits.i32 v2`",
        ),
        (
            vec!["fidelity", &path, "--target", "riscv64"],
            "the compiler panicked",
        ),
    ] {
        let out = common::spillscope(&args);
        assert!(!out.status.success(), "{args:?}");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(all.contains("simd.wat") && all.contains(says), "{all}");
        assert_eq!(all.lines().filter(|l| l.contains(says)).count(), 1, "{all}");
        assert!(
            !all.contains("panicked at") && !all.contains("backtrace"),
            "{all}"
        );
    }
}

/// A timeout too long for the clock, or not a number of seconds at all, is
/// refused by name in every subcommand that takes one (it used to panic
/// adding it to the clock or converting it).
#[test]
fn timeouts_out_of_range_are_refused_not_panicked_on() {
    let fib = "sample-modules/fib.clif";
    for timeout in ["1e19", "1e20", "0", "nan", "inf", "604801"] {
        for args in [
            vec!["trace", fib, "--func", "fib", "--timeout", timeout],
            vec!["scan", fib, "--timeout", timeout],
            vec!["reduce", fib, "--func", "fib", "--timeout", timeout],
        ] {
            let out = common::spillscope(&args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(
                stderr.contains("not a number of seconds above 0 and at most 604800"),
                "{args:?}: {stderr}"
            );
            assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        }
    }
    // The largest one allowed works.
    let out = common::spillscope(&["trace", fib, "--func", "fib", "--timeout", "604800"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Output to a full disk is an error and a non-zero exit, not a panic, for
/// text and JSON alike.
#[test]
fn a_full_output_is_an_error_not_a_panic() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("skipped: this system has no /dev/full");
        return;
    };
    for args in [
        vec!["list", "sample-modules/calls.wat", "--json"],
        vec!["list", "sample-modules/calls.wat"],
        vec![
            "trace",
            "sample-modules/fib.clif",
            "--func",
            "fib",
            "--json",
        ],
        vec!["trace", "sample-modules/fib.clif", "--func", "fib"],
        vec!["scan", "sample-modules/calls.wat", "--json"],
        vec!["layout", "sample-modules/memory.wat"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_spillscope"))
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(full.try_clone().unwrap())
            .output()
            .expect("the binary runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot write to standard output"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// `--budget` and `--expect-exit` follow one rule in every subcommand: a
/// budget is at least one record (it was accepted by some and refused by
/// others), an exit code is 0 to 255 (300 was accepted silently).
#[test]
fn budgets_and_exit_codes_follow_one_rule() {
    let fib = "sample-modules/fib.clif";
    let svg = std::env::temp_dir().join("spillscope-budget-rule.svg");
    let svg = svg.to_str().unwrap();
    for (args, says) in [
        (
            vec!["trace", fib, "--func", "fib", "--budget", "0"],
            "not a number of allocator records",
        ),
        (
            vec![
                "export", fib, "--func", "fib", "--budget", "0", "--svg", svg,
            ],
            "not a number of allocator records",
        ),
        (
            vec!["reduce", fib, "--func", "fib", "--budget", "0"],
            "not a number of allocator records",
        ),
        (
            vec!["scan", fib, "--budget", "0"],
            "not a number of allocator records",
        ),
        (
            vec!["scan", fib, "--test", "true {}", "--expect-exit", "300"],
            "not an exit code (0 to 255)",
        ),
        (
            vec!["scan", fib, "--test", "true {}", "--expect-exit", "-1"],
            "not an exit code (0 to 255)",
        ),
        (
            vec![
                "reduce",
                fib,
                "--func",
                "fib",
                "--test",
                "true {}",
                "--expect-exit",
                "256",
            ],
            "not an exit code (0 to 255)",
        ),
    ] {
        let out = common::spillscope(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    assert!(!std::path::Path::new(svg).exists(), "nothing is written");
}

/// Text that would break its container: an escape sequence in a function's
/// name or in a quoted source line is shown escaped, never sent raw to the
/// terminal; a long list of functions says how many it left out; an empty
/// `log=` says what is missing.
#[test]
fn names_and_messages_stay_inside_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let named = dir.path().join("named.wat");
    std::fs::write(
        &named,
        "(module (func (@name \"a\\1b[31mred\") (result i32) i32.const 1))",
    )
    .unwrap();
    let out = common::spillscope(&["list", named.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(!out.stdout.contains(&0x1b), "a raw escape in the list");
    assert!(String::from_utf8_lossy(&out.stdout).contains("a\\u{1b}[31mred"));

    let bad = dir.path().join("bad.wat");
    std::fs::write(
        &bad,
        b"(module (func $a\x1b[31mred (result i32) i32.const 1))",
    )
    .unwrap();
    let out = common::spillscope(&["list", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!out.stderr.contains(&0x1b), "a raw escape in the error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.wat"));

    // kernels.wasm defines 60 functions: 8 are named, and the rest counted.
    let out = common::spillscope(&["trace", "sample-modules/c/kernels.wasm", "--func", "999"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let input =
        spillscope::engine::input::Input::load(&common::samples_dir().join("c/kernels.wasm"))
            .unwrap();
    let defined = input.functions.iter().filter(|f| !f.imported).count();
    assert!(
        stderr.contains(&format!("… and {} more)", defined - 8)),
        "{stderr}"
    );

    let out = common::spillscope(&[
        "diff",
        "sample-modules/fib.clif",
        "--func",
        "fib",
        "--a",
        "",
        "--b",
        "log=",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("`log=` needs the path of a regalloc2 log"),
        "{stderr}"
    );
}
