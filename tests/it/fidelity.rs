//! Fidelity is checked, not assumed: for every function of every Wasm sample,
//! the machine code our pipeline produces must match Wasmtime's own code for it
//! under the same settings, outside relocation sites.

use crate::common;

use spillscope::engine::compile::fidelity;
use spillscope::engine::input::isa::{OptLevel, Target};
use spillscope::engine::input::translate;
use spillscope::engine::session::{self, Settings};

/// One Wasmtime compile of each whole module per target and opt level gives
/// every function's CLIF and Wasmtime's code for it; we recompile each CLIF
/// (`spillscope fidelity`'s engine).
#[test]
fn our_code_matches_wasmtime_for_every_sample_function() {
    use spillscope::engine::triage::fidelity::{self as sweep, FidelityStatus};
    let paths: Vec<_> = common::wasm_samples().into_iter().map(|i| i.path).collect();
    let mut compared = 0;
    let mut failures = Vec::new();
    for target in [
        Target::Host,
        Target::Aarch64,
        Target::Riscv64,
        Target::S390x,
    ] {
        for opt in [OptLevel::Speed, OptLevel::None] {
            let settings = Settings {
                target,
                opt,
                ..Settings::default()
            };
            let report = sweep::check(&paths, settings, 2);
            for m in &report.modules {
                if let Some(e) = &m.error {
                    failures.push(format!("{e} {target:?} {opt:?}"));
                }
                for f in &m.functions {
                    compared += 1;
                    if f.status != FidelityStatus::Identical {
                        failures.push(format!(
                            "{} function {} {target:?} {opt:?}: {:?} {} vs {} bytes {:?} {:?}",
                            m.path,
                            f.index,
                            f.status,
                            f.ours_bytes,
                            f.wasmtime_bytes,
                            f.first_difference,
                            f.error
                        ));
                    }
                }
            }
        }
    }
    assert!(compared >= 40, "compared only {compared} functions");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Stubbing the other bodies must change nothing for the chosen function: its
/// CLIF (source locations included) is identical, and the code we compile from
/// the stubbed translation matches Wasmtime's code for the function in the
/// full module. (Wasmtime's own bytes for the two modules differ only where
/// calls to other functions are patched: their sizes, so the distances, differ.)
#[test]
fn stubbing_other_functions_does_not_change_the_clif() {
    use spillscope::engine::input::translate;
    for input in common::wasm_samples() {
        let wasm = input.wasm().unwrap();
        let settings = Settings {
            target: Target::X86_64,
            ..Settings::default()
        };
        let full_module = translate::translate_module(&input.path, wasm, settings.wasmtime())
            .unwrap_or_else(|e| panic!("{e}"));
        for full in full_module {
            let stubbed = translate::translate_function(
                &input.path,
                wasm,
                full.func_index,
                settings.wasmtime(),
                true,
            )
            .unwrap();
            let what = format!("{} function {}", input.path.display(), full.func_index);
            assert_eq!(
                stubbed.clif_optimized, full.clif_optimized,
                "{what}: CLIF changed by stubbing"
            );
            let prepared = session::prepare_translation(&input.path, what.clone(), stubbed)
                .unwrap_or_else(|e| panic!("{e}"));
            let ours = session::compile_prepared(&input, prepared, settings, false).unwrap();
            let report = fidelity::compare(&ours.code, full.wasmtime_code.as_deref().unwrap());
            assert!(report.identical(), "{what}: {}", report.text());
        }
    }
}

/// `spillscope fidelity` over the samples: every function identical, as the
/// test above finds them, counted as `list` counts them; CLIF is refused.
#[test]
fn the_fidelity_command_finds_every_sample_function_identical() {
    let report = common::json(&[
        "fidelity",
        "sample-modules",
        "--target",
        "aarch64",
        "--json",
    ]);
    let defined: usize = common::wasm_samples()
        .iter()
        .map(|i| i.functions.iter().filter(|f| !f.imported).count())
        .sum();
    let s = &report["summary"];
    assert_eq!(s["functions"], defined, "{s}");
    assert_eq!(s["identical"], defined, "{s}");
    assert_eq!(s["module_errors"], 0, "{s}");
    let out = common::spillscope(&["fidelity", "sample-modules/fib.clif"]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("fib.clif: CLIF text has no Wasmtime code"),
        "{text}"
    );
}

/// A difference names the first instruction where the codes part, in both
/// disassemblies: here Wasmtime's real code for lz_compress with one byte of
/// one instruction changed.
#[test]
fn a_difference_names_the_first_differing_instruction_in_both() {
    let input = common::wasm_samples()
        .into_iter()
        .find(|i| i.path.ends_with("kernels.wasm"))
        .unwrap();
    let settings = Settings {
        target: Target::X86_64,
        ..Settings::default()
    };
    let index = input.select("lz_compress").unwrap().index;
    let c = session::compile_function(&input, index, settings, false).unwrap();
    let isa = c
        .prepared
        .isa(
            &input.path,
            spillscope::engine::input::isa::Algorithm::Backtracking,
            false,
        )
        .unwrap();
    let wasm = input.wasm().unwrap();
    let theirs = translate::translate_function(&input.path, wasm, index, settings.wasmtime(), true)
        .unwrap()
        .wasmtime_code
        .unwrap();
    assert!(fidelity::compare(&c.code, &theirs).identical());
    // Past the prologue, outside any relocation: a byte to change.
    let at = (64..c.code.code.len())
        .find(|o| !c.code.reloc_sites.iter().any(|r| r.contains(o)))
        .unwrap();
    let mut changed = theirs.clone();
    changed[at] ^= 0x01;
    let report = fidelity::compare(&c.code, &changed);
    assert!(!report.identical());
    assert_eq!(report.first_offset(), Some(at));
    let d = fidelity::first_difference(&report, &c.code, &changed, &*isa).unwrap();
    assert_eq!(d.offset, at);
    // Both name the same instruction start, with a mnemonic, and they differ.
    let start = |s: &str| s.split(':').next().unwrap().to_string();
    assert_eq!(start(&d.ours), start(&d.wasmtime), "{d:?}");
    let addr = usize::from_str_radix(start(&d.ours).trim_start_matches("0x"), 16).unwrap();
    assert!(addr <= at && at < addr + 16, "{d:?}");
    assert!(
        d.ours.split(':').nth(1).is_some_and(|m| m
            .trim()
            .chars()
            .next()
            .is_some_and(char::is_alphabetic)),
        "{d:?}"
    );
    assert_ne!(d.ours, d.wasmtime, "{d:?}");
    eprintln!("first difference: {d:?}");
}

/// A real C library built at -O2 (Brotli's decoder; `tests/fixtures/modules/`)
/// has one function whose CLIF-route code differs from Wasmtime's, and
/// `fidelity` names its cause; the traced route (the function alone in
/// Wasmtime's compiler) gives Wasmtime's code for every function.
#[test]
fn a_clif_route_difference_on_real_c_is_explained_and_the_traced_route_has_none() {
    let module = "tests/fixtures/modules/brotli-dec.wasm";
    let run = |route: &str| {
        let out = common::spillscope(&[
            "fidelity", module, "--target", "x86_64", "--route", route, "--json",
        ]);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), report)
    };
    let (code, clif) = run("clif");
    assert_eq!(code, Some(2), "a difference exits 2");
    let s = &clif["summary"];
    assert_eq!(
        (s["functions"].as_u64(), s["identical"].as_u64()),
        (Some(74), Some(73)),
        "{s}"
    );
    assert_eq!(s["route"], "clif");
    let differing: Vec<&serde_json::Value> = clif["modules"][0]["functions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "differs")
        .collect();
    assert_eq!(differing.len(), 1);
    let f = differing[0];
    assert_eq!(f["name"], "WriteRingBuffer");
    assert_eq!(
        (f["ours_bytes"].as_u64(), f["wasmtime_bytes"].as_u64()),
        (Some(696), Some(704))
    );
    assert_eq!(f["first_difference"]["ours"], "0x16: ja 0x2aa");
    assert_eq!(f["first_difference"]["wasmtime"], "0x16: ja 0x2af");
    assert!(
        f["explanation"]
            .as_str()
            .is_some_and(|e| e.contains("inside Wasmtime's compiler")),
        "{f}"
    );

    let (code, traced) = run("wasmtime");
    assert_eq!(code, Some(0));
    let s = &traced["summary"];
    assert_eq!(
        (s["functions"].as_u64(), s["identical"].as_u64()),
        (Some(74), Some(74)),
        "{s}"
    );
    assert_eq!(s["route"], "wasmtime");
}
