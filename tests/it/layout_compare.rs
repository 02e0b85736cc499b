//! The effect of memory profiles on compiled code: bounds checks counted in
//! Wasmtime's real CLIF under each profile, against an independent count and
//! the model; the `compare` CLI's JSON goldens.

use crate::common;

use std::path::PathBuf;

use spillscope::engine::input::Input;
use spillscope::engine::layout::Profile;
use spillscope::engine::layout::effect::{self, EffectOutcome};
use spillscope::engine::layout::model::ModuleLayout;
use spillscope::engine::session::Settings;

fn sample(name: &str) -> PathBuf {
    common::samples_dir().join(name)
}

/// Counts checks in CLIF text without the engine's parser: with signals-based
/// traps, `select_spectre_guard`s; without, `brif`s into a cold block that
/// passes trap code 1 (MemoryOutOfBounds) to the trap libcall.
fn checks_in_clif(clif: &str, signals_based_traps: bool) -> usize {
    if signals_based_traps {
        return clif.matches("select_spectre_guard").count();
    }
    let mut oob_blocks = Vec::new();
    for chunk in clif.split("\n\n") {
        let head = chunk.trim_start().lines().next().unwrap_or_default().trim();
        if head.ends_with(" cold:") && chunk.contains("= iconst.i8 1") && chunk.contains("trap ") {
            oob_blocks.push(head.split_whitespace().next().unwrap().to_string());
        }
    }
    clif.lines()
        .filter(|l| l.contains("brif "))
        .filter(|l| {
            oob_blocks
                .iter()
                .any(|b| l.contains(&format!(", {b},")) || l.contains(&format!(", {b}(")))
        })
        .count()
}

fn compare_one(file: &str, func: &str, specs: &[&str]) -> Vec<(Profile, usize, String)> {
    let input = Input::load(&sample(file)).unwrap();
    let module = ModuleLayout::from_wasm(&input.path, input.wasm().unwrap()).unwrap();
    let index = input.select(func).unwrap().index;
    let profiles: Vec<Profile> = specs
        .iter()
        .map(|s| Profile::from_spec(s).unwrap())
        .collect();
    let (report, traces) =
        effect::compare(&input, &module, index, &profiles, Settings::default()).unwrap();
    let mut out = Vec::new();
    for ((p, row), trace) in profiles.iter().zip(&report.rows).zip(&traces) {
        let e = row
            .effect()
            .unwrap_or_else(|| panic!("{}: {:?}", p.key, row.outcome));
        let clif = trace.as_ref().unwrap().clif().unwrap();
        let independent = checks_in_clif(clif, p.signals_based_traps);
        assert_eq!(
            e.bounds_checks as usize, independent,
            "{file} {func} under {}: engine vs independent count",
            p.key
        );
        assert_eq!(
            e.check_sites
                .iter()
                .map(|s| s.check_instructions)
                .sum::<u32>(),
            e.bounds_checks
        );
        out.push((p.clone(), e.bounds_checks as usize, clif.to_string()));
    }
    out
}

#[test]
fn copy_sum_checks_differ_between_jit_and_explicit() {
    let rows = compare_one("memory.wat", "copy_sum", &["jit", "explicit"]);
    // Defaults: 4 GiB reservation + guard; every check elided.
    assert_eq!(rows[0].1, 0);
    assert!(!rows[0].2.contains("select_spectre_guard"));
    // No guard pages: one check per access (2 in the loop, 3 after it), each
    // raising the trap through a cold block: Wasmtime 48 with signals-based
    // traps off emits no trapnz.
    assert_eq!(rows[1].1, 5);
    assert!(!rows[1].2.contains("trapnz"));
    assert!(rows[1].2.contains(" cold:"));
}

#[test]
fn lz_compress_checks_match_the_model_where_no_check_is_shared() {
    let rows = compare_one(
        "c/kernels.wasm",
        "lz_compress",
        &["aot:x86_64", "explicit:x86_64"],
    );
    assert_eq!(rows[0].1, 0);
    assert!(rows[1].1 >= 10, "{}", rows[1].1);
}

#[test]
fn far_offset_keeps_a_spectre_guard_under_the_defaults() {
    let rows = compare_one(
        "memory/far-offset.wat",
        "far",
        &["aot:x86_64", "explicit:x86_64"],
    );
    assert_eq!(rows[0].1, 1);
    assert_eq!(rows[0].2.matches("select_spectre_guard").count(), 1);
    assert!(rows[1].1 >= 1);
}

#[test]
fn wasmedge_rows_say_they_are_not_compiled() {
    let input = Input::load(&sample("memory.wat")).unwrap();
    let module = ModuleLayout::from_wasm(&input.path, input.wasm().unwrap()).unwrap();
    let profiles = vec![
        Profile::from_spec("aot:x86_64").unwrap(),
        Profile::from_spec("wasmedge").unwrap(),
    ];
    let (report, traces) =
        effect::compare(&input, &module, 0, &profiles, Settings::default()).unwrap();
    assert!(matches!(report.rows[0].outcome, EffectOutcome::Compiled(_)));
    match &report.rows[1].outcome {
        EffectOutcome::NotCompiled { reason } => assert!(reason.contains("WasmEdge"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(traces[0].is_some() && traces[1].is_none());
}

// ---------------------------------------------------------------------------
// The CLI

#[test]
fn compare_json_goldens() {
    // Explicit targets only, so the goldens hold on any host.
    let cases: [(&str, &str, &[&str], &str); 2] = [
        (
            "memory.wat",
            "copy_sum",
            &["aot:x86_64", "explicit:x86_64", "wasmedge"],
            "compare-copy-sum.json",
        ),
        (
            "c/kernels.wasm",
            "lz_compress",
            &["aot:x86_64", "explicit:x86_64", "aot:aarch64"],
            "compare-lz-compress.json",
        ),
    ];
    for (file, func, profiles, golden) in cases {
        let path = format!("sample-modules/{file}");
        let mut args = vec!["compare", path.as_str(), "--func", func, "--json"];
        for p in profiles {
            args.push("--profile");
            args.push(p);
        }
        let out = common::spillscope(&args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(v["rows"].as_array().unwrap().len(), profiles.len());
        common::golden("layout", golden, &stdout);
    }
}

#[test]
fn compare_text_and_errors() {
    let out = common::spillscope(&[
        "compare",
        "sample-modules/memory.wat",
        "--func",
        "copy_sum",
        "--profile",
        "aot:x86_64",
        "--profile",
        "explicit:x86_64",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Explicit checks under 'Explicit bounds checks"),
        "{text}"
    );
    assert!(text.contains("0x004a  i32.load8_u"), "{text}");

    let out = common::spillscope(&["compare", "sample-modules/fib.clif", "--func", "0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a WebAssembly module"));
}
