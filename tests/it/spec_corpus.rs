//! The WebAssembly spec test suite as an external corpus (beside the project,
//! not part of it): every module Wasmtime accepts is traced with the checker
//! passing; every module it rejects gets an error naming the file; nothing
//! panics. Skips with a message when the corpus is absent.

use crate::common;

use std::path::Path;

use spillscope::engine::capture::CaptureLimits;
use spillscope::engine::compile::{self, CheckerVerdict, CompileEnd};
use spillscope::engine::input::Input;
use spillscope::engine::input::isa::{Algorithm, Target};
use spillscope::engine::input::translate;
use spillscope::engine::replay::Replay;
use spillscope::engine::session::{self, Settings};

#[derive(Default, Debug)]
struct Counts {
    scripts: usize,
    modules: usize,
    accepted: usize,
    rejected_by_validation: usize,
    rejected_by_wasmtime: usize,
    functions_traced: usize,
    steps: usize,
    expected_invalid: usize,
    expected_invalid_rejected: usize,
    /// Scripts the `wast` parser could not read.
    scripts_not_parsed: Vec<String>,
    /// What Wasmtime refused, and why.
    wasmtime_refused: Vec<String>,
}

/// The module binaries of a script.
struct ScriptModules {
    /// `(module ...)` directives: to be accepted.
    good: Vec<Vec<u8>>,
    /// `assert_invalid` and `assert_malformed` modules: to be rejected.
    bad: Vec<Vec<u8>>,
}

fn modules_of(path: &Path) -> Result<ScriptModules, String> {
    use wast::parser::{self, ParseBuffer};
    use wast::{QuoteWat, Wast, WastDirective};
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let buf = ParseBuffer::new(&text).map_err(|e| e.to_string())?;
    let script: Wast = parser::parse(&buf).map_err(|e| e.to_string())?;
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for d in script.directives {
        match d {
            WastDirective::Module(mut m) | WastDirective::ModuleDefinition(mut m) => {
                if let QuoteWat::Wat(wast::Wat::Module(_)) | QuoteWat::QuoteModule(..) = &m
                    && let Ok(bytes) = m.encode()
                {
                    good.push(bytes);
                }
            }
            WastDirective::AssertInvalid { mut module, .. }
            | WastDirective::AssertMalformed { mut module, .. } => {
                if let QuoteWat::Wat(wast::Wat::Module(_)) | QuoteWat::QuoteModule(..) = &module
                    && let Ok(bytes) = module.encode()
                {
                    bad.push(bytes);
                }
            }
            _ => {}
        }
    }
    Ok(ScriptModules { good, bad })
}

#[test]
fn spec_testsuite_modules_trace_with_the_checker_passing() {
    let Some(dir) = common::spec_corpus() else {
        eprintln!("skipped: ../shared/corpora/spec-testsuite is absent");
        return;
    };
    let mut scripts: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wast"))
        .collect();
    scripts.sort();
    let mut counts = Counts::default();
    let mut failures = Vec::new();
    let settings = Settings {
        target: Target::X86_64,
        ..Settings::default()
    };
    for script in &scripts {
        counts.scripts += 1;
        let ScriptModules { good, bad } = match modules_of(script) {
            Ok(m) => m,
            Err(e) => {
                counts
                    .scripts_not_parsed
                    .push(format!("{}: {e}", script.display()));
                continue;
            }
        };
        let stem = script.file_stem().unwrap().to_string_lossy().to_string();
        for (i, bytes) in good.into_iter().enumerate() {
            counts.modules += 1;
            let name = format!("{stem}.{i}.wasm");
            let path = Path::new(&name);
            let input = match Input::from_bytes(path, bytes) {
                Ok(input) => input,
                Err(e) => {
                    counts.rejected_by_validation += 1;
                    assert!(e.to_string().starts_with(&name), "{e}");
                    continue;
                }
            };
            let wasm = input.wasm.as_deref().unwrap();
            let translations = match translate::translate_module(path, wasm, settings.wasmtime()) {
                Ok(t) => t,
                Err(e) => {
                    counts.rejected_by_wasmtime += 1;
                    assert!(e.to_string().starts_with(&name), "{e}");
                    counts.wasmtime_refused.push(e.to_string());
                    continue;
                }
            };
            counts.accepted += 1;
            for t in translations {
                let label = format!("{name} function {}", t.func_index);
                let prepared = match session::prepare_translation(path, label.clone(), t) {
                    Ok(p) => p,
                    Err(e) => {
                        failures.push(format!("{label}: {e}"));
                        continue;
                    }
                };
                let isa = prepared.isa(path, Algorithm::Backtracking, true).unwrap();
                let traced =
                    compile::compile_traced(&prepared.function, &*isa, CaptureLimits::default());
                match (&traced.end, &traced.checker) {
                    (CompileEnd::Done(_), CheckerVerdict::Ok) => {}
                    (end, verdict) => {
                        failures.push(format!("{label}: {verdict:?} {end:?}"));
                        continue;
                    }
                }
                if traced.trace.unparsed > 0 {
                    failures.push(format!(
                        "{label}: unparsed {:?}",
                        traced.trace.unparsed_samples
                    ));
                }
                let replay = Replay::new(traced.trace.clone());
                counts.functions_traced += 1;
                counts.steps += replay.len();
            }
        }
        for (i, bytes) in bad.into_iter().enumerate() {
            counts.expected_invalid += 1;
            let name = format!("{stem}.invalid{i}.wasm");
            let path = Path::new(&name);
            let result = std::panic::catch_unwind(|| match Input::from_bytes(path, bytes) {
                Err(e) => Some(e.to_string()),
                Ok(input) => translate::translate_module(
                    path,
                    input.wasm.as_deref().unwrap(),
                    settings.wasmtime(),
                )
                .err()
                .map(|e| e.to_string()),
            });
            match result {
                Ok(Some(msg)) => {
                    counts.expected_invalid_rejected += 1;
                    assert!(msg.starts_with(&name), "{msg}");
                }
                Ok(None) => {}
                Err(_) => failures.push(format!("{name}: panicked")),
            }
        }
    }
    eprintln!("spec corpus: {counts:#?}");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(counts.functions_traced > 1000, "{counts:?}");
}
