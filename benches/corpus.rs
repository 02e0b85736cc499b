//! Corpus work against its floor: Wasmtime's own single-threaded compile of
//! the whole module (`Module::new` with parallel compilation off, the same
//! target and opt level), measured in the same run. Then, on one job:
//! - `scan` as it runs by default: every function compiled alone inside
//!   Wasmtime's compiler with regalloc2's checker, every record counted
//!   against the budget (a function over it is traced for the loop detector);
//! - `scan --unchecked`: neither checker nor budget, the watchdog only;
//! - `gate`: every function lowered once and allocated by two releases, each
//!   with its checker and budget;
//! - `scan` on its default jobs (one per core), the throughput a user gets.
//!
//! Throughput is Wasmtime's time over ours (1.0: as fast as Wasmtime). Each
//! round runs Wasmtime and then every contender, so a ratio compares runs
//! made under the same conditions on a shared machine: the best times' ratio
//! and the median of the rounds' own ratios are both printed. Both sides use
//! the binaries' counting allocator.
//!
//! `cargo bench --bench corpus -- [MODULE] [--target T] [--runs N]
//! [--baseline V] [--candidate V]` (without a module: the C sample; defaults
//! 0.15.2 against 0.14.0).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use spillscope::engine::input::Input;
use spillscope::engine::input::isa::Target;
use spillscope::engine::input::translate;
use spillscope::engine::releases::Release;
use spillscope::engine::session::Settings;
use spillscope::engine::triage::gate::GatePair;
use spillscope::engine::triage::scan::{self, ScanOptions};

/// The allocator of spillscope's binaries, so both sides are measured as they run.
#[global_allocator]
static ALLOCATOR: spillscope::engine::memory::Guarded = spillscope::engine::memory::Guarded;

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// The best of `runs` timings of `f`, and its last result.
fn best<R>(runs: usize, mut f: impl FnMut() -> R) -> (Duration, R) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let r = f();
        best = best.min(started.elapsed());
        last = Some(r);
    }
    (best, last.expect("ran at least once"))
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
    let runs: usize = take("--runs").and_then(|r| r.parse().ok()).unwrap_or(3);
    let mut release = |flag: &str, default: &str| -> Release {
        take(flag)
            .unwrap_or_else(|| default.into())
            .parse()
            .unwrap_or_else(|e: String| panic!("{flag}: {e}"))
    };
    let baseline = release("--baseline", "0.15.2");
    let candidate = release("--candidate", "0.14.0");
    let module = match args.as_slice() {
        [m] => PathBuf::from(m),
        [] => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-modules/c/kernels.wasm"),
        _ => panic!("usage: corpus [MODULE] [--target T] [--runs N]"),
    };
    let settings = Settings {
        target,
        ..Settings::default()
    };
    let input = Input::load(&module).unwrap_or_else(|e| panic!("{e}"));
    let wasm = input.wasm().expect("a Wasm module").to_vec();
    let defined = input.functions.iter().filter(|f| !f.imported).count();
    let name = module
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();

    // The floor: Wasmtime's own compile, one thread.
    let hook = |c: &mut wasmtime::Config| {
        c.parallel_compilation(false);
        Ok(())
    };
    let config = translate::config(&module, settings.wasmtime(), Some(&hook)).unwrap();
    let engine = wasmtime::Engine::new(&config).unwrap();
    let paths = vec![module.clone()];
    let scan_once = |options: &ScanOptions| {
        let r = scan::scan(&paths, options);
        assert_eq!(r.summary.functions, defined, "{:?}", r.summary);
        r
    };
    let one_job = ScanOptions {
        settings,
        jobs: 1,
        ..ScanOptions::default()
    };
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let contenders = [
        ("scan (checker, budget)".to_string(), one_job.clone()),
        (
            "scan --unchecked".to_string(),
            ScanOptions {
                unchecked: true,
                ..one_job.clone()
            },
        ),
        (
            format!("gate {candidate} vs {baseline}"),
            ScanOptions {
                gate: Some(GatePair {
                    baseline,
                    candidate,
                }),
                ..one_job.clone()
            },
        ),
        (
            format!("scan, {jobs} jobs (default)"),
            ScanOptions {
                jobs,
                ..one_job.clone()
            },
        ),
    ];

    // Rounds: Wasmtime, then each contender, so each ratio compares runs
    // made under the same machine conditions; a shared machine drifts.
    let mut wasmtime_times = Vec::new();
    let mut times = vec![Vec::new(); contenders.len()];
    let mut reports = vec![None; contenders.len()];
    for _ in 0..runs.max(1) {
        let (t, _) = best(1, || wasmtime::Module::new(&engine, &wasm).unwrap());
        wasmtime_times.push(t);
        for (i, (_, options)) in contenders.iter().enumerate() {
            let (t, r) = best(1, || scan_once(options));
            times[i].push(t);
            reports[i] = Some(r);
        }
    }
    let wasmtime_time = *wasmtime_times.iter().min().expect("one run");

    println!(
        "{name}: {} bytes, {defined} defined functions, {target} target, best of {runs} runs, one thread unless said",
        wasm.len(),
        target = target.name()
    );
    println!(
        "wasmtime Module::new           {:>8.3} s",
        secs(wasmtime_time)
    );
    // Throughput: the best times' ratio, and the median of each round's own
    // ratio (the same round's Wasmtime over ours).
    let median_ratio = |ours: &[Duration]| {
        let mut r: Vec<f64> = wasmtime_times
            .iter()
            .zip(ours)
            .map(|(w, o)| secs(*w) / secs(*o))
            .collect();
        r.sort_by(f64::total_cmp);
        r[r.len() / 2]
    };
    for ((what, _), ts) in contenders.iter().zip(&times) {
        let t = *ts.iter().min().expect("one run");
        println!(
            "{what:<30} {:>8.3} s  {:.2}x Wasmtime's throughput (median of rounds {:.2}x)",
            secs(t),
            secs(wasmtime_time) / secs(t),
            median_ratio(ts)
        );
    }
    let best_of = |i: usize| secs(*times[i].iter().min().expect("one run"));
    println!(
        "gate over scan                 {:.2}x",
        best_of(2) / best_of(0)
    );
    let checked_report = reports[0].take().expect("scanned");
    let gate_report = reports[2].take().expect("gated");
    let s = &checked_report.summary;
    println!(
        "scan: {} ok, {} over budget, {} checker failed, {} panicked, {} compile errors",
        s.ok, s.over_budget, s.checker_failed, s.panicked, s.compile_errors
    );
    if let Some(g) = &gate_report.gate {
        println!(
            "gate: {} new failures, {} compared, {} the same allocation",
            g.new_failures(),
            g.compared,
            g.same_allocation
        );
    }
}
