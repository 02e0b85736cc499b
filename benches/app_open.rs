//! The app opening a big module, driven frame by frame through egui_kittest
//! (the app's own `ui`, headless): the longest frame while the module is
//! read, its layout built and its first function traced, and the process's
//! resident memory once it is open. The floor is `spillscope list` of the
//! same module (reading it and naming its functions) and Wasmtime's
//! validation of it, timed in the same run.
//!
//! `cargo bench --bench app_open -- MODULE` (without a module: the C sample).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use spillscope::gui::App;

/// The allocator of spillscope's binaries, so memory is counted as the app counts it.
#[global_allocator]
static ALLOCATOR: spillscope::engine::memory::Guarded = spillscope::engine::memory::Guarded;

/// The process's resident memory, from `/proc/self/status`, in MB.
fn resident_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let module = match args.as_slice() {
        [m] => PathBuf::from(m),
        [] => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-modules/c/kernels.wasm"),
        _ => panic!("usage: app_open [MODULE]"),
    };
    let bytes = std::fs::metadata(&module).map_or(0, |m| m.len());

    // The floor: Wasmtime's validation of the module, in this process.
    let wasm = std::fs::read(&module).expect("readable");
    let started = Instant::now();
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&wasm)
        .expect("a valid module");
    let validate = started.elapsed();
    drop(wasm);
    let before_mb = resident_mb().unwrap_or(0.0);

    let started = Instant::now();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1500.0, 950.0))
        .build_ui_state(
            |ui, app: &mut App| app.ui(ui),
            App::new(None, Some(module.clone()), None),
        );
    let mut frames = 0usize;
    let mut longest = Duration::ZERO;
    let mut total = Duration::ZERO;
    let mut opened_at = None;
    loop {
        let t = Instant::now();
        h.step();
        let d = t.elapsed();
        frames += 1;
        longest = longest.max(d);
        total += d;
        let app = h.state();
        if opened_at.is_none() && app.open_file().is_some() && app.cursor().is_some() {
            opened_at = Some(started.elapsed());
        }
        if !app.is_busy() && app.cursor().is_some() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the app did not open the module"
        );
        std::thread::sleep(Duration::from_millis(16));
    }
    let open = started.elapsed();
    let open_mb = resident_mb().unwrap_or(0.0);
    let name = module
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    println!(
        "{name}: {:.1} MB, {} functions",
        bytes as f64 / 1e6,
        h.state().function_count()
    );
    println!(
        "wasmparser validation            {:>8.3} s",
        validate.as_secs_f64()
    );
    println!(
        "app: opened and first function traced in {:.3} s, {frames} frames",
        open.as_secs_f64()
    );
    println!(
        "longest frame                     {:>8.1} ms (mean {:.1} ms)",
        longest.as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3 / frames as f64
    );
    println!(
        "resident memory                   {:>8.0} MB open ({:.0} MB before opening)",
        open_mb, before_mb
    );
}
