//! Fidelity is checked, not assumed: for every function of every Wasm sample,
//! the machine code our pipeline produces must match Wasmtime's own code for it
//! under the same settings, outside relocation sites.

use crate::common;

use spillscope::engine::compile::fidelity;
use spillscope::engine::input::isa::{OptLevel, Target};
use spillscope::engine::session::{self, Settings};

#[test]
fn our_code_matches_wasmtime_for_every_sample_function() {
    let mut compared = 0;
    let mut failures = Vec::new();
    for input in common::wasm_samples() {
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
                for f in input.functions.iter().filter(|f| !f.imported) {
                    let c = session::compile_function(&input, f.index, settings, false)
                        .unwrap_or_else(|e| panic!("{e}"));
                    let t = c.prepared.translation.as_ref().expect("Wasm input");
                    let theirs = t.wasmtime_code.as_ref().unwrap_or_else(|| {
                        panic!(
                            "{}: no Wasmtime code for {}",
                            input.path.display(),
                            t.symbol
                        )
                    });
                    let report = fidelity::compare(&c.code, theirs);
                    compared += 1;
                    if !report.identical() {
                        failures.push(format!(
                            "{} {} {:?} {:?}: {}",
                            input.path.display(),
                            f.label(),
                            target,
                            opt,
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
            let ours = session::compile_function(&input, full.func_index, settings, false).unwrap();
            let report = fidelity::compare(&ours.code, full.wasmtime_code.as_deref().unwrap());
            assert!(report.identical(), "{what}: {}", report.text());
        }
    }
}
