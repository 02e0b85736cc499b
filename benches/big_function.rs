//! Traced against untraced, on one big function: wall time and peak memory of
//! each, every mode in its own process (peak RSS is per process), through the
//! same route the app and `spillscope trace` take.
//!
//! `cargo bench --bench big_function -- MODULE FUNC [--target T] [--runs N]`
//! (without arguments: printf_core of the C sample). Modes:
//! - `untraced`: the compile alone, no capture, checker off;
//! - `checked`: the compile with regalloc2's checker, as `spillscope compile`;
//! - `traced`: the traced compile (checker on) and its replay, as the app and
//!   `spillscope trace` build it;
//! - `first_step`: `traced` plus the state after the first step, from choosing
//!   the function (module loaded, Wasmtime's settings read) to it;
//! - `sp_checked`, `sp_traced`: `checked` and `traced` with the single-pass
//!   allocator (its steps: one per instruction and block start).
//!
//! Prints one line per mode: best wall time of N runs, peak RSS, and for traced
//! runs the steps, events, and the trace's bytes per stored event.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use spillscope::engine::compile::{self, CompileEnd};
use spillscope::engine::input::Input;
use spillscope::engine::input::isa::{Algorithm, Target};
use spillscope::engine::replay::Replay;
use spillscope::engine::replay::diagnose::LoopDetector;
use spillscope::engine::session::{self, Settings};

const MODES: [&str; 6] = [
    "untraced",
    "checked",
    "traced",
    "first_step",
    "sp_checked",
    "sp_traced",
];

/// Peak resident memory of this process, from `/proc/self/status`.
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// One mode, in this process: prints `wall_ms rss_kb steps events bytes`.
fn child(mode: &str, module: &Path, func: &str, target: Target) {
    let settings = Settings {
        target,
        ..Settings::default()
    };
    let started = Instant::now();
    let input = Input::load(module).unwrap_or_else(|e| panic!("{e}"));
    let index = input.select(func).unwrap_or_else(|e| panic!("{e}")).index;
    let prepared = session::prepare(&input, index, settings).unwrap_or_else(|e| panic!("{e}"));
    // The compile is timed from here, except for `first_step`.
    let compile_started = Instant::now();
    // `sp_…`: the same with the single-pass allocator.
    let algorithm = if mode.starts_with("sp_") {
        Algorithm::SinglePass
    } else {
        Algorithm::Backtracking
    };
    let (steps, events, bytes, total) = match mode {
        "untraced" | "checked" | "sp_checked" => {
            let job = prepared
                .job(&input.path, algorithm, mode != "untraced")
                .unwrap();
            let end = if mode != "untraced" {
                compile::compile_checked(&*job).0
            } else {
                compile::compile_untraced(&*job)
            };
            assert!(matches!(end, CompileEnd::Done(_)), "{end:?}");
            (0, 0, 0, 0)
        }
        _ => {
            let limits = prepared.default_limits();
            let job = prepared.job(&input.path, algorithm, true).unwrap();
            let traced = compile::compile_traced(&*job, limits, LoopDetector::default());
            assert!(
                matches!(traced.end, CompileEnd::Done(_)),
                "{:?}",
                traced.end
            );
            let trace = std::sync::Arc::clone(&traced.trace);
            let replay = Replay::new(std::sync::Arc::clone(&trace));
            if mode == "first_step" {
                std::hint::black_box(replay.state_at(1));
            }
            let sp = &trace.single_pass.steps;
            let events: usize = trace.steps.iter().map(|s| s.events.len()).sum::<usize>()
                + sp.iter().map(|s| s.events.len()).sum::<usize>();
            (
                trace.steps.len() + sp.len(),
                events,
                trace.step_bytes() + trace.single_pass.heap_bytes(),
                trace.heap_bytes(),
            )
        }
    };
    let wall = if mode == "first_step" {
        started.elapsed()
    } else {
        compile_started.elapsed()
    };
    println!(
        "{} {} {steps} {events} {bytes} {total}",
        wall.as_millis(),
        peak_rss_kb()
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let target = args[i + 4].parse().unwrap();
        child(&args[i + 1], Path::new(&args[i + 2]), &args[i + 3], target);
        return;
    }
    let mut positional = Vec::new();
    let mut target = Target::X86_64;
    let mut runs = 3;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--target" => target = it.next().expect("--target T").parse().unwrap(),
            "--runs" => runs = it.next().expect("--runs N").parse().unwrap(),
            _ => positional.push(a.clone()),
        }
    }
    let (module, func) = match positional.as_slice() {
        [m, f, ..] => (PathBuf::from(m), f.clone()),
        _ => (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-modules/c/kernels.wasm"),
            "printf_core".to_string(),
        ),
    };
    let me = std::env::current_exe().unwrap();
    println!(
        "{} function {func} on {}, best of {runs}:",
        module.display(),
        target.name()
    );
    for mode in MODES {
        let mut best: Option<(u64, u64, String)> = None;
        for _ in 0..runs {
            let out = Command::new(&me)
                .args(["--child", mode])
                .arg(&module)
                .args([func.as_str(), target.name()])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{mode}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
            let f: Vec<u64> = line.split(' ').map(|n| n.parse().unwrap()).collect();
            let detail = if f[2] > 0 {
                format!(
                    ", {} steps, {} events, steps {:.1} MB = {:.1} bytes per event, whole trace {:.1} MB",
                    f[2],
                    f[3],
                    f[4] as f64 / 1e6,
                    f[4] as f64 / f[3].max(1) as f64,
                    f[5] as f64 / 1e6
                )
            } else {
                String::new()
            };
            if best.as_ref().is_none_or(|b| f[0] < b.0) {
                best = Some((f[0], f[1], detail));
            }
        }
        let (ms, kb, detail) = best.unwrap();
        println!(
            "  {mode:<10} {:>9.3} s  peak {:>8.1} MB{detail}",
            ms as f64 / 1000.0,
            kb as f64 / 1024.0
        );
    }
}
