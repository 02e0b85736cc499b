//! Fidelity is checked, not assumed: for every function of every Wasm sample,
//! the machine code our pipeline produces must match Wasmtime's own code for it
//! under the same settings, outside relocation sites.

use crate::common;

use spillscope::engine::compile::fidelity;
use spillscope::engine::input::isa::{OptLevel, Target};
use spillscope::engine::session::{self, Settings};

/// One Wasmtime compile of each whole module per target and opt level gives
/// every function's CLIF and Wasmtime's code for it; we recompile each CLIF.
#[test]
fn our_code_matches_wasmtime_for_every_sample_function() {
    use spillscope::engine::input::translate;
    let mut compared = 0;
    let mut failures = Vec::new();
    for input in common::wasm_samples() {
        let wasm = input.wasm.as_deref().unwrap();
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
                let translations =
                    translate::translate_module(&input.path, wasm, settings.wasmtime())
                        .unwrap_or_else(|e| panic!("{e}"));
                for t in translations {
                    let label = format!("function {}", t.func_index);
                    let theirs = t.wasmtime_code.clone().unwrap_or_else(|| {
                        panic!(
                            "{}: no Wasmtime code for {}",
                            input.path.display(),
                            t.symbol
                        )
                    });
                    let prepared = session::prepare_translation(&input.path, label.clone(), t)
                        .unwrap_or_else(|e| panic!("{e}"));
                    let c = session::compile_prepared(&input, prepared, settings, false)
                        .unwrap_or_else(|e| panic!("{e}"));
                    let report = fidelity::compare(&c.code, &theirs);
                    compared += 1;
                    if !report.identical() {
                        failures.push(format!(
                            "{} {label} {target:?} {opt:?}: {}",
                            input.path.display(),
                            report.text()
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
        let wasm = input.wasm.as_deref().unwrap();
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
