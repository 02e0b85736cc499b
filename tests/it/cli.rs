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
    let stdout_kind = || std::fs::symlink_metadata("/dev/stdout").map(|m| m.file_type());
    let before = stdout_kind().ok();
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
    // The stream was written, not replaced by a file renamed over it.
    assert_eq!(stdout_kind().ok(), before, "/dev/stdout was replaced");
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

/// `spillscope ARGS` with `env` set, ended (and the test failed) if it has not
/// finished within a minute: a reader blocked on a FIFO must not hang the
/// suite.
fn spillscope_bounded(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_spillscope"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("spillscope {args:?} did not finish in 60 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Special files are refused by name before anything reads them (`/dev/zero`
/// grew until killed; a FIFO hung every reader, even inside a scanned
/// folder), and every kind of input has a size limit the user can raise,
/// logs and merge inputs included.
#[cfg(unix)]
#[test]
fn special_files_and_oversized_inputs_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let mkfifo = |p: &std::path::Path| {
        let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    };
    let fifo = dir.path().join("pipe.wasm");
    mkfifo(&fifo);
    let fifo = fifo.to_str().unwrap();
    let fib = "sample-modules/fib.clif";
    let refused = |args: &[&str], says: &[&str]| {
        let out = spillscope_bounded(args, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        for s in says {
            assert!(stderr.contains(s), "{args:?}: `{s}` not in {stderr}");
        }
    };
    let zero = ["/dev/zero", "is a character device"];
    refused(&["list", fifo], &["pipe.wasm: is a FIFO (named pipe)"]);
    refused(&["trace", "--log", fifo], &["pipe.wasm: is a FIFO"]);
    refused(&["list", "/dev/zero"], &zero);
    refused(&["trace", "/dev/zero", "--func", "0"], &zero);
    refused(&["layout", "/dev/zero"], &zero);
    refused(&["trace", "--log", "/dev/zero"], &zero);
    refused(&["scan", "--merge", "/dev/zero"], &zero);
    refused(
        &[
            "diff",
            fib,
            "--func",
            "fib",
            "--a",
            "",
            "--b",
            "log=/dev/zero",
        ],
        &zero,
    );
    // A FIFO named like a module inside a scanned folder is that module's
    // error; the scan goes on.
    let corpus = dir.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    mkfifo(&corpus.join("looks.wasm"));
    std::fs::copy(fib, corpus.join("fib.clif")).unwrap();
    let out = spillscope_bounded(&["scan", corpus.to_str().unwrap()], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("looks.wasm: module error: is a FIFO") && stdout.contains("1 ok"),
        "{stdout}"
    );

    // Limits per kind, named with the variable that raises them.
    let log = dir.path().join("big.log");
    std::fs::write(&log, "x".repeat(3000)).unwrap();
    let log = log.to_str().unwrap();
    let out = spillscope_bounded(&["trace", "--log", log], &[("SPILLSCOPE_MAX_LOG", "2K")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("big.log: file is 2.9 KiB, over the 2 KiB limit for a regalloc2 log")
            && stderr.contains("SPILLSCOPE_MAX_LOG"),
        "{stderr}"
    );
    let out = spillscope_bounded(&["list", fib], &[("SPILLSCOPE_MAX_MODULE", "100")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("SPILLSCOPE_MAX_MODULE"), "{stderr}");
    let out = spillscope_bounded(&["list", fib], &[("SPILLSCOPE_MAX_MODULE", "lots")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("SPILLSCOPE_MAX_MODULE: `lots` is not a size"),
        "{stderr}"
    );
    let report = dir.path().join("report.json");
    std::fs::write(&report, "{}".repeat(600)).unwrap();
    let out = spillscope_bounded(
        &["scan", "--merge", report.to_str().unwrap()],
        &[("SPILLSCOPE_MAX_REPORT", "1K")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("SPILLSCOPE_MAX_REPORT"), "{stderr}");
}

/// A CLIF file of a few bytes that names `v100000000` or `sig100000000` took
/// gigabytes in Cranelift's reader, which sizes its tables by the largest
/// number: refused before the reader sees it, naming the line. A reduced
/// function's own high numbers still read.
#[test]
fn clif_entity_numbers_beyond_the_files_size_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, line) in [
        (
            "sig.clif",
            "function %f() {\n    sig100000000 = () system_v\nblock0:\n    return\n}\n",
            2,
        ),
        (
            "value.clif",
            "function %f() {\nblock0:\n    v100000000 = iconst.i32 1\n    return\n}\n",
            3,
        ),
        (
            "block.clif",
            "function %f() {\nblock0:\n    jump block2147483647\n}\n",
            3,
        ),
        (
            "gv.clif",
            "function %f() {\n    gv100000000 = vmctx\nblock0:\n    return\n}\n",
            2,
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let out = spillscope_bounded(&["list", path.to_str().unwrap()], &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("{name}: cannot parse CLIF at line {line}"))
                && stderr.contains("numbers an entity beyond"),
            "{stderr}"
        );
    }
    let high = dir.path().join("high.clif");
    std::fs::write(
        &high,
        "function %f(i32) -> i32 {\nblock7(v40000: i32):\n    v40001 = iconst.i32 1\n    v40002 = iadd v40000, v40001\n    return v40002\n}\n",
    )
    .unwrap();
    let out = spillscope_bounded(&["list", high.to_str().unwrap()], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Arguments at their edges follow one rule: a register class given twice is
/// refused (the last one was taken silently), a shard count too large says
/// so (not "not a whole number"), and `--func -1` reads as `--func=-1` does.
#[test]
fn arguments_at_their_edges_follow_one_rule() {
    let fib = "sample-modules/fib.clif";
    let out = common::spillscope(&["trace", fib, "--func", "fib", "--registers", "int=4,int=5"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("int is given twice"), "{stderr}");

    let out = common::spillscope(&["scan", fib, "--shard", "1/18446744073709551616"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("more than the 1000000 shards"), "{stderr}");

    let spaced = common::spillscope(&["trace", fib, "--func", "-1"]);
    let joined = common::spillscope(&["trace", fib, "--func=-1"]);
    let stderr = String::from_utf8_lossy(&spaced.stderr);
    assert_eq!(spaced.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no function matches `-1`"), "{stderr}");
    assert_eq!(spaced.stderr, joined.stderr);
}

/// With no display the app says so in words and points at the command line
/// (it printed a dependency's source path).
#[cfg(feature = "gui")]
#[test]
fn with_no_display_the_app_says_so_and_names_the_command_line() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_spillscope"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("WAYLAND_SOCKET")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("there is no display") && stderr.contains("spillscope --help"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(".rs:") && !stderr.contains("registry"),
        "{stderr}"
    );
}

/// A straight-line function over 48 locals, `n` multiplications long: about
/// 7 bytes of body each, enough register pressure to spill.
fn big_function_wat(n: usize) -> String {
    let locals = 48;
    let mut w = String::from("(module (func $big (export \"big\") (param $p i32) (result i32)\n");
    for i in 0..locals {
        w.push_str(&format!("(local $l{i} i32)"));
    }
    for i in 0..locals {
        w.push_str(&format!(
            "\nlocal.get $p i32.const {} i32.add local.set $l{i}",
            i + 1
        ));
    }
    for k in 0..n {
        let (a, b, c) = (
            (k * 7) % locals,
            (k * 13 + 5) % locals,
            (k * 17 + 11) % locals,
        );
        w.push_str(&format!(
            "\nlocal.get $l{a} local.get $l{b} i32.mul local.set $l{c}"
        ));
    }
    w.push('\n');
    for i in 0..locals {
        w.push_str(&format!("local.get $l{i} "));
    }
    for _ in 1..locals {
        w.push_str("i32.add ");
    }
    w.push_str("))\n");
    w
}

/// Memory is bounded, each limit said in one line naming it: a function
/// whose size says it cannot fit (`--memory`, or what `ulimit -v` leaves) is
/// refused before its compile, and under an address-space limit a failed
/// allocation is one line and exit code 1, where it was "memory allocation
/// of N bytes failed" and an abort. (A trace stopped at the budget is
/// checked in the engine's own test, `memory_budget`.)
#[cfg(unix)]
#[test]
fn memory_limits_end_in_one_line_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mid = dir.path().join("mid.wat");
    std::fs::write(&mid, big_function_wat(12_000)).unwrap();
    let mid = mid.to_str().unwrap();

    let out = common::spillscope(&["trace", mid, "--func", "0", "--memory", "64M"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("more than the 64 MiB --memory budget; nothing was compiled"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    // Under an address-space limit: a function the limit cannot hold is
    // refused before its compile; one it might hold is compiled, and when an
    // allocation fails that is said in one line, with exit code 1.
    let mut allocation_failed = 0;
    for (name, n) in [
        ("refused", 25_000),
        ("tried", 15_000),
        ("tried-more", 20_000),
    ] {
        let path = dir.path().join(format!("{name}.wat"));
        std::fs::write(&path, big_function_wat(n)).unwrap();
        let out = limited_trace(&path, 250_000);
        let stderr = String::from_utf8_lossy(&out.stderr);
        use std::os::unix::process::ExitStatusExt as _;
        assert_eq!(out.status.signal(), None, "{name}: {stderr}");
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
        assert!(stderr.contains("ulimit -v"), "{name}: {stderr}");
        if name == "refused" {
            assert!(stderr.contains("nothing was compiled"), "{stderr}");
        }
        if stderr.starts_with("error: out of memory: an allocation of") {
            allocation_failed += 1;
        }
    }
    assert!(allocation_failed > 0, "no run reached a failed allocation");
}

/// `spillscope trace PATH --func 0` under an address-space limit of
/// `limit_kb` (as `ulimit -v` sets it).
#[cfg(unix)]
fn limited_trace(path: &std::path::Path, limit_kb: u64) -> std::process::Output {
    use std::os::unix::process::CommandExt as _;
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_spillscope"));
    command.args([
        "trace",
        path.to_str().unwrap(),
        "--func",
        "0",
        "--budget",
        "3000000",
    ]);
    // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: limit_kb * 1024,
                rlim_max: limit_kb * 1024,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.output().unwrap()
}

/// Messages from Cranelift that carried Rust's debug text read in words: a
/// panic over a 2 GB stack slot ended in `TryFromIntError(())`, a parse error
/// named `Some(Type(types::I128))`.
#[test]
fn dependency_messages_carry_no_rust_debug_text() {
    let dir = tempfile::tempdir().unwrap();
    let slot = dir.path().join("slot.clif");
    std::fs::write(
        &slot,
        "function %f() -> i64 {\n    ss0 = explicit_slot 2147483647\n    ss1 = explicit_slot 8, align = 16\nblock0:\n    v0 = stack_addr.i64 ss1\n    return v0\n}\n",
    )
    .unwrap();
    let out = common::spillscope(&[
        "trace",
        slot.to_str().unwrap(),
        "--func",
        "0",
        "--target",
        "x86_64",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the compiler panicked: Offset in Slot is greater than 2GB")
            && !stderr.contains("TryFromIntError"),
        "{stderr}"
    );
    let token = dir.path().join("token.clif");
    std::fs::write(
        &token,
        "function %f(i64) {\nblock0(v0: i64):\n    jump block1(i128)\nblock1(v1: i128):\n    return\n}\n",
    )
    .unwrap();
    let out = common::spillscope(&["list", token.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 3: unexpected token: `i128`") && !stderr.contains("Some("),
        "{stderr}"
    );
}

/// A real Rust module whose name section keeps v0-mangled symbols: `list`
/// shows each demangled with the symbol beside it in JSON, either name
/// selects the function, and `trace` names it as people read it.
#[test]
fn mangled_rust_names_are_demangled_with_the_symbol_kept() {
    let words = "tests/fixtures/modules/rust-words.wasm";
    let list = common::json(&["list", words, "--json"]);
    let functions = list.as_array().unwrap();
    let mangled: Vec<_> = functions
        .iter()
        .filter(|f| f.get("raw_name").is_some())
        .collect();
    assert!(
        mangled.len() >= 200,
        "{} of {}",
        mangled.len(),
        functions.len()
    );
    for f in &mangled {
        let (raw, name) = (f["raw_name"].as_str().unwrap(), f["name"].as_str().unwrap());
        assert!(raw.starts_with("_R"), "{raw}");
        assert!(
            name.contains("::") && !name.starts_with("_R"),
            "{raw} -> {name}"
        );
    }
    let tally = mangled
        .iter()
        .find(|f| {
            f["name"]
                == "<std::collections::hash::map::HashMap<&str, usize> as words::Tally>::tally"
        })
        .expect("the crate's own trait method");
    let raw = tally["raw_name"].as_str().unwrap();
    let name = tally["name"].as_str().unwrap();
    for selector in [raw, name] {
        let trace = common::json(&["trace", words, "--func", selector, "--json"]);
        assert_eq!(trace["function"], name);
        assert_eq!(trace["index"], tally["index"]);
    }
    // The text listing shows the readable name too.
    let out = common::spillscope(&["list", words]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("as words::Tally>::tally"), "{text}");
    assert!(!text.contains(raw));
}
