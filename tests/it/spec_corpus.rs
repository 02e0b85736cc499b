//! The WebAssembly spec test suite as an external corpus (beside the project,
//! not part of it), run on every core through `engine::triage::scan` with every
//! function traced: every module Wasmtime accepts is traced with the checker
//! passing and every record understood; every module it refuses, and every
//! `assert_invalid`/`assert_malformed` module, gets an error naming its file;
//! nothing panics. The figures in docs/testing.md are asserted exactly, so a change in
//! Wasmtime, the corpus or the parser shows here first.
//!
//! Skips with a message when the corpus is absent (a user's clone does not have
//! it), unless `SPILLSCOPE_REQUIRE_CORPUS` is set, as CI sets it.

use crate::common;

use std::path::{Path, PathBuf};

use spillscope::engine::input::isa::Target;
use spillscope::engine::session::Settings;
use spillscope::engine::triage::scan::{self, ScanOptions, ScanReport, Status};

/// The figures docs/testing.md gives for the corpus ("The spec test suite").
const SCRIPTS: usize = 257;
const MODULES: usize = 2_244;
const REFUSED_BY_WASMTIME: usize = 0;
const FUNCTIONS: usize = 8_277;
const STEPS: usize = 59_884;
const INVALID: usize = 3_426;
/// Scripts the `wast` crate will not read: names.wast exports names with
/// bidirectional-override characters, which its lexer refuses on purpose.
const NOT_PARSED: &[&str] = &["names.wast"];

/// The module binaries of a script.
pub(crate) struct ScriptModules {
    /// `(module ...)` directives: to be accepted.
    pub(crate) good: Vec<Vec<u8>>,
    /// `assert_invalid` and `assert_malformed` modules: to be rejected.
    bad: Vec<Vec<u8>>,
}

pub(crate) fn modules_of(path: &Path) -> Result<ScriptModules, String> {
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

/// Every defined function of the first `modules` modules of each script (at
/// most `functions` per module), traced for x86_64: `visit` gets a label,
/// the script's path, the module and the trace. `false` when the corpus is
/// absent (the caller skips).
pub(crate) fn each_traced_function(
    scripts: &[&str],
    modules: usize,
    functions: usize,
    mut visit: impl FnMut(
        &str,
        &Path,
        &spillscope::engine::input::Input,
        &spillscope::engine::session::FunctionTrace,
    ),
) -> bool {
    use spillscope::engine::capture::CaptureLimits;
    use spillscope::engine::input::Input;
    use spillscope::engine::session;
    let Some(corpus) = common::spec_corpus() else {
        return false;
    };
    for script in scripts {
        let path = corpus.join(script);
        let found = modules_of(&path).unwrap();
        for (i, bytes) in found.good.into_iter().enumerate().take(modules) {
            let input = Input::from_bytes(&path, bytes).unwrap();
            for f in input
                .functions
                .iter()
                .filter(|f| !f.imported)
                .take(functions)
            {
                let settings = Settings {
                    target: Target::X86_64,
                    ..Settings::default()
                };
                let t =
                    session::trace_function(&input, f.index, settings, CaptureLimits::default())
                        .unwrap();
                visit(
                    &format!("{script} module {i} #{}", f.index),
                    &path,
                    &input,
                    &t,
                );
            }
        }
    }
    true
}

/// Writes every module of every script as `accept/STEM.N.wasm` or
/// `reject/STEM.invalidN.wasm`; returns the number of scripts.
fn extract(corpus: &Path, out: &Path) -> usize {
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(corpus)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wast"))
        .collect();
    scripts.sort();
    let (accept, reject) = (out.join("accept"), out.join("reject"));
    std::fs::create_dir_all(&accept).unwrap();
    std::fs::create_dir_all(&reject).unwrap();
    let mut not_parsed = Vec::new();
    for script in &scripts {
        let stem = script.file_stem().unwrap().to_string_lossy().to_string();
        match modules_of(script) {
            Ok(ScriptModules { good, bad }) => {
                for (i, bytes) in good.iter().enumerate() {
                    std::fs::write(accept.join(format!("{stem}.{i}.wasm")), bytes).unwrap();
                }
                for (i, bytes) in bad.iter().enumerate() {
                    std::fs::write(reject.join(format!("{stem}.invalid{i}.wasm")), bytes).unwrap();
                }
            }
            Err(e) => not_parsed.push((file_name(&script.to_string_lossy()).to_string(), e)),
        }
    }
    let names: Vec<&str> = not_parsed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, NOT_PARSED, "scripts not parsed: {not_parsed:#?}");
    scripts.len()
}

fn file_name(path: &str) -> &str {
    Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(path)
}

fn scan_folder(folder: &Path, traced: bool) -> ScanReport {
    let inputs = scan::collect_inputs(&[folder.to_path_buf()]).unwrap();
    let options = ScanOptions {
        settings: Settings {
            target: Target::X86_64,
            ..Settings::default()
        },
        traced,
        ..ScanOptions::default()
    };
    scan::scan(&inputs, &options)
}

#[test]
fn spec_testsuite_modules_trace_with_the_checker_passing() {
    let Some(corpus) = common::spec_corpus() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let scripts = extract(&corpus, dir.path());

    // Modules to be accepted: traced, function by function, on every core.
    let report = scan_folder(&dir.path().join("accept"), true);
    let mut failures = Vec::new();
    let mut refused = Vec::new();
    let (mut functions, mut steps) = (0usize, 0usize);
    for file in &report.files {
        let name = file_name(&file.path);
        if let Some(error) = &file.error {
            // Wasmtime's refusal names the module; nothing may panic.
            if !error.contains(name) || error.contains("panicked") {
                failures.push(format!("{name}: {error}"));
            }
            refused.push(error.clone());
            continue;
        }
        for f in &file.functions {
            functions += 1;
            steps += f.steps.unwrap_or(0);
            if f.status != Status::Ok {
                failures.push(format!("{name} function {}: {}", f.index, f.details));
            }
            if f.unparsed != Some(0) {
                failures.push(format!(
                    "{name} function {}: {:?} records not understood",
                    f.index, f.unparsed
                ));
            }
        }
    }
    // Modules to be rejected: reading or translating them must fail, naming
    // the file, or (a body only Wasmtime's translator refuses: functions
    // compile one by one) a function's compile must fail as invalid Wasm.
    // One that Wasmtime accepts is a failure of this test.
    let rejected = scan_folder(&dir.path().join("reject"), false);
    for file in &rejected.files {
        let name = file_name(&file.path);
        let invalid_body = file.functions.iter().any(|f| {
            f.status == Status::CompileError && f.details.contains("Invalid input WebAssembly")
        });
        match &file.error {
            Some(error) if error.contains(name) && !error.contains("panicked") => {}
            Some(error) => failures.push(format!("{name}: {error}")),
            None if invalid_body => {}
            None => failures.push(format!("{name}: an invalid module was accepted")),
        }
    }
    eprintln!(
        "spec corpus: {scripts} scripts, {} modules, {} refused by Wasmtime {refused:#?}, \
         {functions} functions traced, {steps} steps, {} invalid modules; \
         {} ms and {} ms on {} jobs",
        report.files.len(),
        refused.len(),
        rejected.files.len(),
        report.summary.elapsed_ms,
        rejected.summary.elapsed_ms,
        report.summary.jobs,
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        (
            scripts,
            report.files.len(),
            refused.len(),
            functions,
            steps,
            rejected.files.len()
        ),
        (
            SCRIPTS,
            MODULES,
            REFUSED_BY_WASMTIME,
            FUNCTIONS,
            STEPS,
            INVALID
        ),
        "(scripts, modules, refused by Wasmtime, functions, steps, invalid modules) differ from docs/testing.md"
    );
}
