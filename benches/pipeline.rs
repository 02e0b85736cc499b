//! Speed of the pipeline, on real samples:
//! - traced vs untraced compile of the same function (target: traced ≤ 2×);
//! - jump to any step of the largest sample trace;
//! - from choosing a function in the largest module to its first step;
//! - hang triage: importing logs (the real 0.11.3 loop, a big live log),
//!   diagnosing them, and scanning every sample function.
//!
//! Run with `cargo bench --bench pipeline`.

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use spillscope::engine::capture::{self, CaptureLimits, RecordSink, Source, Verdict};
use spillscope::engine::compile;
use spillscope::engine::input::Input;
use spillscope::engine::input::isa::{Algorithm, Target};
use spillscope::engine::replay::diagnose::LoopDetector;
use spillscope::engine::session::{self, Settings};

fn load(name: &str) -> Input {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-modules")
        .join(name);
    Input::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn settings() -> Settings {
    Settings {
        target: Target::X86_64,
        ..Settings::default()
    }
}

/// (file, function): a small hand-written sample and the largest function of
/// the largest sample (printf's core from wasi-libc, about 9 KB of Wasm).
const FUNCTIONS: [(&str, &str); 2] = [
    ("pressure.wat", "pressure"),
    ("c/kernels.wasm", "printf_core"),
];

/// A sink that wants nothing: every call site is skipped after its first record.
/// A capture with it costs what regalloc2's `trace!` calls cost by themselves,
/// the floor under any traced compile that observes regalloc2 through its log.
struct NullSink;

impl RecordSink for NullSink {
    fn record(&mut self, _: Source, _: log::Level, _: &str) -> Verdict {
        Verdict::IgnoreSite
    }
}

fn traced_vs_untraced(c: &mut Criterion) {
    for (file, func) in FUNCTIONS {
        let input = load(file);
        let index = input.select(func).unwrap().index;
        // Wasm inputs: Wasmtime's compiler on the function alone.
        let prepared = session::prepare(&input, index, settings()).unwrap();
        let plain = prepared
            .job(&input.path, Algorithm::Backtracking, false)
            .unwrap();
        let checked = prepared
            .job(&input.path, Algorithm::Backtracking, true)
            .unwrap();
        let mut group = c.benchmark_group(format!("compile/{func}"));
        group.sample_size(20);
        group.bench_function("untraced", |b| {
            b.iter(|| compile::compile_untraced(&*plain))
        });
        group.bench_function("log_calls_only", |b| {
            b.iter(|| {
                capture::capture(NullSink, CaptureLimits::default(), || {
                    compile::compile_untraced(&*plain)
                })
                .2
            })
        });
        group.bench_function("traced", |b| {
            b.iter(|| {
                compile::compile_traced(&*plain, CaptureLimits::default(), LoopDetector::default())
            })
        });
        group.bench_function("traced_with_checker", |b| {
            b.iter(|| {
                compile::compile_traced(
                    &*checked,
                    CaptureLimits::default(),
                    LoopDetector::default(),
                )
            })
        });
        group.finish();
    }
}

fn jump_to_step(c: &mut Criterion) {
    let input = load("c/kernels.wasm");
    let index = input.select("printf_core").unwrap().index;
    let t = session::trace_function(&input, index, settings(), CaptureLimits::default()).unwrap();
    let r = &t.replay;
    let n = r.len();
    let mut group = c.benchmark_group(format!("replay/printf_core_{n}_steps"));
    group.bench_function("jump_to_middle", |b| b.iter(|| r.state_at(n / 2)));
    group.bench_function("jump_to_last", |b| b.iter(|| r.state_at(n)));
    let mut state = r.state_at(n / 2);
    group.bench_function("step_forward_and_back", |b| {
        b.iter(|| {
            r.seek(&mut state, n / 2 + 1);
            r.seek(&mut state, n / 2);
        })
    });
    group.finish();
}

fn choose_function_to_first_step(c: &mut Criterion) {
    let input = load("c/kernels.wasm");
    let mut group = c.benchmark_group("choose_to_first_step");
    group.sample_size(10);
    for func in ["printf_core", "sha256_block"] {
        let index = input.select(func).unwrap().index;
        group.bench_function(func, |b| {
            b.iter(|| {
                let t =
                    session::trace_function(&input, index, settings(), CaptureLimits::default())
                        .unwrap();
                t.replay.state_at(1)
            })
        });
    }
    group.finish();
}

fn triage(c: &mut Criterion) {
    use spillscope::engine::{replay::diagnose, trace::import, triage::scan};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-modules");
    let loop_log = dir.join("hang/loop-0.11.3.log");
    let loop_text = std::fs::read_to_string(&loop_log).unwrap();
    // A big log of a finished allocation: printf_core's records as env_logger
    // text, as `trace --raw-log` writes them.
    let input = load("c/kernels.wasm");
    let index = input.select("printf_core").unwrap().index;
    let prepared = session::prepare(&input, index, settings()).unwrap();
    let big_text = session::raw_log(
        &prepared,
        &input.path,
        Default::default(),
        CaptureLimits::default(),
        usize::MAX,
    )
    .unwrap();
    let big_path = Path::new("printf_core.log");
    eprintln!(
        "triage inputs: loop-0.11.3.log {} bytes, printf_core log {} bytes",
        loop_text.len(),
        big_text.len()
    );
    let mut group = c.benchmark_group("triage");
    group.sample_size(10);
    group.bench_function("import_loop_0_11_3_log", |b| {
        b.iter(|| import::import_log(&loop_log, &loop_text).unwrap())
    });
    let imported = import::import_log(&loop_log, &loop_text).unwrap();
    group.bench_function("diagnose_loop_0_11_3", |b| {
        b.iter(|| diagnose::diagnose(&imported.trace))
    });
    group.bench_function("import_printf_core_log", |b| {
        b.iter(|| import::import_log(big_path, &big_text).unwrap())
    });
    let big = import::import_log(big_path, &big_text).unwrap();
    group.bench_function("diagnose_printf_core", |b| {
        b.iter(|| diagnose::diagnose(&big.trace))
    });
    let options = scan::ScanOptions {
        settings: settings(),
        jobs: 1,
        ..scan::ScanOptions::default()
    };
    let files = scan::collect_inputs(std::slice::from_ref(&dir)).unwrap();
    let report = scan::scan(&files, &options);
    eprintln!(
        "scan of the samples: {} functions in {} modules",
        report.summary.functions, report.summary.modules
    );
    group.bench_function("scan_samples_1_job", |b| {
        b.iter(|| scan::scan(&files, &options))
    });
    group.finish();
}

criterion_group!(
    benches,
    traced_vs_untraced,
    jump_to_step,
    choose_function_to_first_step,
    triage
);
criterion_main!(benches);
