//! Every built-in regalloc2 release on one function: its allocation of the
//! rebuilt function, untraced (the release's own types built from the
//! engine's, the allocation, the output converted back), against the floor:
//! Cranelift's own call of regalloc2 0.15.2 inside its compile of the same
//! function (Cranelift's `regalloc` pass, timed by a profiler on its timing
//! hooks). Also the traced allocation, as `versions` runs it.
//!
//! `cargo bench --bench releases -- [MODULE FUNC] [--target T] [--runs N]`
//! (without arguments: printf_core of the C sample). Prints one line per
//! release: its outcome, the best untraced allocation of N runs, that time
//! over Cranelift's regalloc pass, and the traced allocation.

use std::any::Any;
use std::cell::Cell;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use cranelift_codegen::timing::{self, Pass, Profiler};
use regalloc2::Function as _;
use spillscope::engine::compile::realloc::{self, Allocator};
use spillscope::engine::compile::{self, CompileEnd};
use spillscope::engine::input::Input;
use spillscope::engine::input::isa::{Algorithm, Target};
use spillscope::engine::releases::{self, Release};
use spillscope::engine::replay::diagnose::LoopDetector;
use spillscope::engine::session::{self, Settings};

thread_local! {
    /// Time spent in Cranelift's `regalloc` pass on this thread.
    static REGALLOC: Cell<Duration> = const { Cell::new(Duration::ZERO) };
}

/// Times Cranelift's `regalloc` pass (the call of `regalloc2::run`).
struct RegallocTimer;

struct Token {
    pass: Pass,
    started: Instant,
}

impl Drop for Token {
    fn drop(&mut self) {
        if self.pass == Pass::regalloc {
            let spent = self.started.elapsed();
            REGALLOC.with(|r| r.set(r.get() + spent));
        }
    }
}

impl Profiler for RegallocTimer {
    fn start_pass(&self, pass: Pass) -> Box<dyn Any> {
        Box::new(Token {
            pass,
            started: Instant::now(),
        })
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let mut args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let mut take = |flag: &str| {
        let i = args.iter().position(|a| a == flag)?;
        let v = args.get(i + 1).cloned();
        args.drain(i..(i + 2).min(args.len()));
        v
    };
    let target: Target = take("--target")
        .map(|t| t.parse().unwrap_or_else(|e: String| panic!("{e}")))
        .unwrap_or(Target::X86_64);
    let runs: usize = take("--runs").and_then(|r| r.parse().ok()).unwrap_or(5);
    let (module, func) = match args.as_slice() {
        [m, f] => (PathBuf::from(m), f.clone()),
        _ => (
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/sample-modules/c/kernels.wasm"
            )),
            "printf_core".to_string(),
        ),
    };
    let settings = Settings {
        target,
        ..Settings::default()
    };
    let input = Input::load(&module).unwrap_or_else(|e| panic!("{e}"));
    let index = input.select(&func).unwrap_or_else(|e| panic!("{e}")).index;
    let prepared = session::prepare(&input, index, settings).unwrap_or_else(|e| panic!("{e}"));

    // The floor: Cranelift's own regalloc pass, in its untraced compile.
    timing::set_thread_profiler(Box::new(RegallocTimer));
    let mut cranelift = Duration::MAX;
    for _ in 0..runs {
        let job = prepared
            .job(&input.path, Algorithm::Backtracking, false)
            .unwrap();
        REGALLOC.with(|r| r.set(Duration::ZERO));
        let end = compile::compile_untraced(&*job);
        assert!(matches!(end, CompileEnd::Done(_)), "{end:?}");
        cranelift = cranelift.min(REGALLOC.with(|r| r.get()));
    }
    let func_rebuilt =
        session::rebuild_function(&input, &prepared).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "{} · function {func} ({} instructions, {} operands), {target:?}, best of {runs}",
        module.display(),
        func_rebuilt.num_insts(),
        func_rebuilt.num_operands()
    );
    println!(
        "Cranelift's regalloc pass (regalloc2 {}): {:.2} ms",
        Release::CRANELIFT,
        ms(cranelift)
    );
    println!(
        "{:<8} {:<8} {:>12} {:>14} {:>12}",
        "release", "outcome", "alloc ms", "vs Cranelift", "traced ms"
    );
    for release in Release::ALL {
        let by = Allocator {
            release,
            algorithm: Algorithm::Backtracking,
        };
        let started = Instant::now();
        let (traced, output) = realloc::allocate_traced(
            &func_rebuilt,
            &func_rebuilt.env,
            by,
            prepared.default_limits(),
            LoopDetector::default(),
        );
        let traced_ms = ms(started.elapsed());
        if output.is_none() {
            println!(
                "{:<8} {:<8} {:>12} {:>14} {traced_ms:>12.1}",
                release.version(),
                match traced.end {
                    CompileEnd::Stopped(_) => "stopped",
                    _ => "error",
                },
                "-",
                "-"
            );
            continue;
        }
        let mut best = Duration::MAX;
        for _ in 0..runs {
            let started = Instant::now();
            let a = releases::allocate(
                release,
                &func_rebuilt,
                &func_rebuilt.env,
                Algorithm::Backtracking,
                false,
                None,
            );
            let spent = started.elapsed();
            assert!(a.is_ok(), "{release}");
            best = best.min(spent);
        }
        println!(
            "{:<8} {:<8} {:>12.2} {:>13.2}× {traced_ms:>12.1}",
            release.version(),
            "ok",
            ms(best),
            best.as_secs_f64() / cranelift.as_secs_f64()
        );
    }
}
