//! The desktop app driven through egui_kittest: real compiles on the worker,
//! real clicks and keys, assertions on visible text and on the app's state.

use crate::common;

use egui::Key;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use spillscope::gui::App;

use common::gui::{MemoryStorage, harness, ready};

fn sample_harness() -> Harness<'static, App> {
    let mut h = harness(App::new(None, None, None));
    common::gui::run_until(&mut h, "the built-in sample to compile", ready);
    h
}

#[test]
fn default_sample_compiles_and_steps_forward() {
    let mut h = sample_harness();
    assert_eq!(h.state().loaded_function(), Some("pressure"));
    let (k, steps) = h.state().cursor().expect("compiled");
    assert_eq!(k, 0);
    assert!(
        steps > 50,
        "pressure.wat should take many steps, got {steps}"
    );
    // The stepper and the explanation are on screen.
    h.get_by_label_contains(&format!("Step 0 / {steps}"));
    h.get_by_label_contains("Before step 1 of");
    assert_eq!(h.state().highlighted_bundle(), None);

    h.get_by_label("Forward >").click();
    h.run_steps(3);
    assert_eq!(h.state().cursor(), Some((1, steps)));
    let first = h.state().highlighted_bundle().expect("step 1 has a bundle");
    h.get_by_label_contains(&format!("Step 1 of {steps}"));
    h.get_by_label_contains(&format!("The allocator took bundle {first} from the queue"));
    assert!(h.query_by_label_contains("Before step 1 of").is_none());

    // The keyboard moves the cursor too, and the highlight follows.
    h.key_press(Key::ArrowRight);
    h.run_steps(3);
    assert_eq!(h.state().cursor(), Some((2, steps)));
    let second = h.state().highlighted_bundle().expect("step 2 has a bundle");
    assert_ne!(
        first, second,
        "steps 1 and 2 of pressure take different bundles"
    );
    h.get_by_label_contains(&format!("Step 2 of {steps}"));
    h.get_by_label_contains(&format!(
        "The allocator took bundle {second} from the queue"
    ));

    h.key_press(Key::ArrowLeft);
    h.run_steps(3);
    assert_eq!(h.state().cursor(), Some((1, steps)));
    assert_eq!(h.state().highlighted_bundle(), Some(first));

    h.key_press(Key::End);
    h.run_steps(3);
    assert_eq!(h.state().cursor(), Some((steps, steps)));
    h.get_by_label("« First").click();
    h.run_steps(3);
    assert_eq!(h.state().cursor(), Some((0, steps)));
}

#[test]
fn event_list_rows_jump_to_their_step() {
    let mut h = sample_harness();
    let (_, steps) = h.state().cursor().expect("compiled");
    // Row 3 of the event list: its number and headline.
    h.get_by_label_contains("    3  bundle ").click();
    h.run_steps(3);
    assert_eq!(h.state().cursor(), Some((3, steps)));
    h.get_by_label_contains(&format!("Step 3 of {steps}"));
}

#[test]
fn summary_shows_counts_and_checker_verdict() {
    use spillscope::engine::capture::CaptureLimits;
    use spillscope::engine::input::Input;
    use spillscope::engine::session::{self, Settings};
    let h = sample_harness();
    h.get_by_label("Final allocation");
    h.get_by_label("ok");
    // The same function traced by the engine directly, with the app's
    // default settings: every count the summary shows is on screen.
    let input = Input::load(&common::samples_dir().join("pressure.wat")).unwrap();
    let index = input.select("pressure").unwrap().index;
    let t = session::trace_function(&input, index, Settings::default(), CaptureLimits::default())
        .unwrap();
    let c = t.traced.trace.counts();
    let code_bytes = t.code().expect("compiled").code.len();
    assert!(c.steps > 50 && c.spilled + c.splits > 0, "{c:?}");
    for (label, value) in [
        ("steps", c.steps),
        ("allocated", c.allocated),
        ("splits", c.splits),
        ("evictions", c.evictions),
        ("spilled", c.spilled),
        ("spill slots", c.spill_slots),
        ("code bytes", code_bytes),
    ] {
        h.get_by_label(label);
        assert!(
            h.query_all_by_label(&value.to_string()).next().is_some(),
            "the summary shows no {label} count of {value}"
        );
    }
    assert_eq!(h.state().cursor().map(|c| c.1), Some(c.steps));
}

#[test]
fn a_bad_file_shows_a_banner_and_keeps_the_previous_function() {
    let mut h = sample_harness();
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("x.wasm");
    std::fs::write(&bad, b"this is not wasm at all").expect("write temp file");

    let field = h.get_by_label("Path");
    field.focus();
    field.type_text(&bad.display().to_string());
    h.run_steps(2);
    h.get_by_label("Open path").click();
    h.step();
    common::gui::run_until(&mut h, "the bad file to fail", |app| {
        !app.is_busy() && app.error().is_some()
    });
    let err = h.state().error().expect("an error").to_string();
    assert!(err.contains("x.wasm"), "the banner names the file: {err}");
    assert!(
        err.contains("magic"),
        "the banner says what is wrong: {err}"
    );
    h.get_by_label_contains("Error:");
    // The sample is still loaded and usable.
    assert_eq!(h.state().loaded_function(), Some("pressure"));
    assert_eq!(
        h.state().open_file().as_deref(),
        Some("pressure.wat (built-in sample)")
    );
    h.get_by_label("Forward >").click();
    h.run_steps(3);
    assert_eq!(h.state().cursor().map(|c| c.0), Some(1));

    h.get_by_label("Dismiss").click();
    h.run_steps(2);
    assert!(h.state().error().is_none());
    assert!(h.query_by_label_contains("Error:").is_none());
}

#[test]
fn a_path_argument_opens_that_file_and_function() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-modules/fib.clif");
    let mut h = harness(App::new(None, Some(path), Some("fib".into())));
    common::gui::run_until(&mut h, "fib.clif to compile", ready);
    assert!(h.state().error().is_none(), "{:?}", h.state().error());
    assert_eq!(h.state().loaded_function(), Some("%fib"));
    assert!(
        h.state()
            .open_file()
            .is_some_and(|f| f.ends_with("fib.clif"))
    );
}

#[test]
fn single_pass_steps_backwards_instruction_by_instruction() {
    let mut h = sample_harness();
    let mut s = h.state().settings();
    s.algorithm = spillscope::engine::input::isa::Algorithm::SinglePass;
    assert!(
        h.state_mut()
            .apply(spillscope::gui::Command::SetSettings(s))
    );
    h.step();
    common::gui::run_until(&mut h, "the single_pass compile", |app| {
        ready(app) && app.loaded_settings().map(|s| s.algorithm) == Some(s.algorithm)
    });
    let (k, steps) = h.state().cursor().expect("compiled");
    assert_eq!(k, 0);
    // pressure.wat: one step per instruction and per block start.
    assert!(steps > 50, "{steps} single-pass steps");
    h.get_by_label_contains("Single-pass: walking backwards");
    h.get_by_label_contains("single-pass walks backwards");
    h.get_by_label_contains(&format!("Before step 1 of {steps}"));
    h.get_by_label("ok");

    // Step 1 is the last instruction; step 2 the one before it.
    h.get_by_label("Forward >").click();
    h.run_steps(3);
    assert_eq!(h.state().cursor(), Some((1, steps)));
    h.get_by_label_contains(&format!("Step 1 of {steps}"));
    let last = h
        .query_all_by_label_contains("inst ")
        .filter_map(|n| n.accesskit_node().label())
        .find_map(|l| {
            // The event list's first row: `    1  inst 98 (block 1): …`.
            l.trim_start()
                .strip_prefix("1  inst ")
                .and_then(|r| r.split(' ').next())
                .and_then(|n| n.parse::<u32>().ok())
        })
        .expect("the step names its instruction");
    h.key_press(Key::ArrowRight);
    h.run_steps(3);
    // In the explanation and the event list.
    let headline = format!("inst {} (block", last - 1);
    assert!(h.query_all_by_label_contains(&headline).count() >= 2);

    // The next eviction: pressure.wat evicts under pressure.
    h.get_by_label("evict ▶").click();
    h.run_steps(3);
    let (at, _) = h.state().cursor().unwrap();
    assert!(at > 2, "an eviction after step 2, at {at}");
    h.get_by_label_contains("is evicted from");

    // The end: the entry block's start.
    h.key_press(Key::End);
    h.run_steps(3);
    assert!(h.query_all_by_label_contains("start of block 0").count() >= 2);
}

#[test]
fn choosing_a_target_recompiles_for_it() {
    use spillscope::engine::input::isa::Target;
    let mut h = sample_harness();
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Target")
        .click();
    h.run_steps(2);
    h.get_by_label("aarch64").click();
    h.step();
    assert!(h.state().is_busy(), "a new target starts a compile");
    common::gui::run_until(&mut h, "the aarch64 compile", |app| {
        ready(app) && app.loaded_settings().map(|s| s.target) == Some(Target::Aarch64)
    });
    assert!(h.state().error().is_none(), "{:?}", h.state().error());
    assert_eq!(h.state().settings().target, Target::Aarch64);
    assert_eq!(h.state().cursor().map(|c| c.0), Some(0));
}

#[test]
fn file_function_and_settings_persist_across_restarts() {
    use spillscope::engine::input::isa::{OptLevel, Target};
    use spillscope::gui::chart_model::RowMode;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-modules/calls.wat");
    let mut h = harness(App::new(None, Some(path.clone()), None));
    common::gui::run_until(&mut h, "calls.wat to compile", ready);
    let first = h.state().loaded_function().map(str::to_string);
    let mut s = h.state().settings();
    s.target = Target::X86_64;
    s.opt = OptLevel::None;
    h.state_mut()
        .apply(spillscope::gui::Command::SetSettings(s));
    h.step();
    common::gui::run_until(&mut h, "the opt-none compile", |app| {
        ready(app) && app.loaded_settings() == Some(s)
    });
    // The chart's row mode is a setting too.
    assert_eq!(h.state().row_mode(), RowMode::VReg);
    h.get_by_label("per register").click();
    h.run_steps(2);
    assert_eq!(h.state().row_mode(), RowMode::PReg);
    let mut storage = MemoryStorage::default();
    eframe::App::save(h.state_mut(), &mut storage);
    drop(h);

    // A restart with no argument reopens the same file, function and settings.
    let mut h = harness(App::new(Some(&storage), None, None));
    common::gui::run_until(&mut h, "the reopened file to compile", ready);
    assert_eq!(h.state().open_file(), Some(path.display().to_string()));
    assert_eq!(h.state().loaded_function().map(str::to_string), first);
    assert_eq!(h.state().loaded_settings(), Some(s));
    assert_eq!(h.state().row_mode(), RowMode::PReg);
}

#[test]
fn play_advances_the_cursor_until_paused() {
    let mut h = sample_harness();
    h.state_mut().apply(spillscope::gui::Command::SetSpeed(4.0));
    h.get_by_label("Play").click();
    h.run_steps(2);
    assert!(h.state().is_playing());
    let mut k = 0;
    for _ in 0..600 {
        h.step();
        k = h.state().cursor().expect("compiled").0;
        if k >= 3 {
            break;
        }
    }
    assert!(
        k >= 3,
        "playback should have moved the cursor, it is at {k}"
    );
    assert!(h.state().is_playing());
    h.get_by_label("Pause").click();
    h.run_steps(2);
    assert!(!h.state().is_playing());
    let paused_at = h.state().cursor();
    h.run_steps(30);
    assert_eq!(h.state().cursor(), paused_at, "paused playback stays put");
}

/// A file dropped on the window, as eframe hands it to egui.
#[derive(Debug)]
struct Dropped(std::path::PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn dropping_a_file_opens_it() {
    let mut h = sample_harness();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-modules/loop.wat");
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(path.clone())));
    h.step();
    common::gui::run_until(&mut h, "the dropped file to compile", |app| {
        ready(app) && app.open_file() == Some(path.display().to_string())
    });
    assert!(h.state().error().is_none(), "{:?}", h.state().error());
    assert_eq!(h.state().loaded_function(), Some("loop"));
    // The function list shows the new file: index, body size and name.
    h.get_by_label_contains("87 B  loop");
}

#[test]
fn the_function_list_filters_and_selects() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-modules/calls.wat");
    let mut h = harness(App::new(None, Some(path), None));
    common::gui::run_until(&mut h, "calls.wat to compile", ready);
    // The largest function is compiled first.
    assert_eq!(h.state().loaded_function(), Some("calls"));
    h.get_by_label_contains("10 B  callee");
    h.get_by_label_contains("import  log");

    let filter = h.get_by_label("Filter");
    filter.focus();
    filter.type_text("call");
    h.run_steps(3);
    assert!(h.query_by_label_contains("import  log").is_none());
    h.get_by_label_contains("2 of 3 shown");

    h.get_by_label_contains("10 B  callee").click();
    h.step();
    common::gui::run_until(&mut h, "callee to compile", |app| {
        ready(app) && app.loaded_function() == Some("callee")
    });
    assert!(h.state().error().is_none(), "{:?}", h.state().error());
}

/// A long allocation can be studied while it runs: the steps so far come on
/// screen and step like any trace before the compile ends, and the final trace
/// then takes their place with the cursor where the user left it.
#[test]
fn the_steps_so_far_show_and_step_while_the_compile_runs() {
    use std::time::Duration;
    let path = common::samples_dir().join("c/kernels.wasm");
    let mut h = harness(App::new(None, Some(path), Some("printf_core".into())));
    common::gui::run_until(&mut h, "printf_core to compile", ready);
    let (_, full_steps) = h.state().cursor().unwrap();
    // Previews from the first step on, then a new compile of the same function.
    h.state()
        .set_preview_timing(Duration::ZERO, Duration::from_millis(50));
    let before = h.state().previews_shown();
    let mut s = h.state().settings();
    s.opt = spillscope::engine::input::isa::OptLevel::SpeedAndSize;
    h.state_mut()
        .apply(spillscope::gui::Command::SetSettings(s));
    common::gui::run_until(&mut h, "the steps so far", |a| {
        a.showing_preview() && a.cursor().is_some_and(|(_, n)| n > 1)
    });
    assert!(
        h.state().is_busy(),
        "a preview shows while the compile runs"
    );
    h.get_by_label_contains("the compile is still running");
    // What the code views say is about now: the compile runs.
    assert!(h.query_by_label_contains("CLIF input").is_none());
    assert!(h.query_by_label_contains("did not finish").is_none());
    let (_, so_far) = h.state().cursor().unwrap();
    h.key_press(Key::ArrowRight);
    h.run_steps(2);
    assert_eq!(h.state().cursor().unwrap().0, 1, "the preview steps");
    common::gui::run_until(&mut h, "the final trace", |a| {
        ready(a) && !a.showing_preview()
    });
    assert!(h.state().previews_shown() > before);
    let (k, steps) = h.state().cursor().unwrap();
    assert_eq!(k, 1, "the cursor stayed where it was");
    assert!(
        steps >= so_far && steps > 1000,
        "{so_far} then {steps} of {full_steps}"
    );
}

/// Stop ends a running compile: the worker is free again, the steps so far
/// stay on screen and step, and no later reply of that compile replaces them.
#[test]
fn stop_keeps_the_steps_so_far_and_frees_the_worker() {
    use std::time::Duration;
    let path = common::samples_dir().join("c/kernels.wasm");
    let mut h = harness(App::new(None, Some(path), Some("sha256_block".into())));
    common::gui::run_until(&mut h, "sha256_block to compile", ready);
    h.state()
        .set_preview_timing(Duration::ZERO, Duration::from_millis(50));
    h.state_mut()
        .apply(spillscope::gui::Command::SelectFunction(49)); // printf_core
    common::gui::run_until(&mut h, "the steps so far", |a| {
        a.showing_preview() && a.cursor().is_some_and(|(_, n)| n > 1)
    });
    h.get_by_label("Stop").click();
    h.run_steps(2);
    assert!(!h.state().is_busy(), "Stop frees the app");
    assert!(!h.state().showing_preview());
    let (_, kept) = h.state().cursor().unwrap();
    h.get_by_label_contains("where you stopped the compile");
    // The steps so far name x86-64's registers, as a finished compile does.
    let headlines: Vec<String> = (1..=kept)
        .filter_map(|k| h.state().step_headline(k).map(str::to_string))
        .collect();
    let regalloc2_name = |w: &str| {
        w.len() > 2
            && w.starts_with('p')
            && (w.ends_with('i') || w.ends_with('f') || w.ends_with('v'))
            && w[1..w.len() - 1].chars().all(|c| c.is_ascii_digit())
    };
    let x86_name = |w: &str| {
        [
            "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
            "r14", "r15", "xmm",
        ]
        .iter()
        .any(|r| w.starts_with(r))
    };
    let words = || {
        headlines
            .iter()
            .flat_map(|h| h.split(|c: char| !c.is_ascii_alphanumeric()))
    };
    let some = &headlines[..headlines.len().min(8)];
    assert!(words().any(x86_name), "{some:?}");
    assert!(!words().any(regalloc2_name), "{some:?}");
    h.get_by_label("Final code (allocated)").click();
    h.run_steps(2);
    h.get_by_label_contains("you stopped the compile before Cranelift emitted code");
    assert!(h.query_by_label_contains("CLIF input").is_none());
    // The stopped compile's later replies are not shown.
    std::thread::sleep(Duration::from_secs(3));
    h.run_steps(5);
    assert_eq!(h.state().cursor().unwrap().1, kept);
    h.key_press(Key::ArrowRight);
    h.run_steps(2);
    assert_eq!(h.state().cursor().unwrap().0, 1);
    // The worker takes the next request.
    h.state_mut()
        .apply(spillscope::gui::Command::SelectFunction(8));
    common::gui::run_until(&mut h, "the next compile", |a| {
        ready(a) && a.loaded_function() == Some("sha256_block")
    });
}

/// A Rust module's v0-mangled symbols read as Rust paths in the function
/// list and on the compiled function; no mangled symbol is on screen.
#[test]
fn mangled_names_read_demangled_in_the_app() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/modules/rust-words.wasm");
    let mut h = harness(App::new(None, Some(path), Some("14".into())));
    common::gui::run_until(&mut h, "the Rust function to compile", ready);
    let name = "<std::collections::hash::map::HashMap<&str, usize> as words::Tally>::tally";
    assert_eq!(h.state().loaded_function(), Some(name));
    assert!(
        h.query_all_by_label_contains("as words::Tally>::tally")
            .count()
            >= 1,
        "the row and the title read as Rust"
    );
    assert!(h.query_all_by_label_contains("_RNv").next().is_none());
}

/// The register-pressure strip under the chart keeps a readable height per
/// class, and the pointer over it reads out the point: values live,
/// registers taken and registers there are.
#[test]
fn the_pressure_strip_reads_out_the_point_under_the_pointer() {
    let mut h = sample_harness();
    h.key_press(Key::End);
    h.run_steps(3);
    let strip = h.state().pressure_strip().expect("the strip is drawn");
    assert!(strip.height() >= 30.0, "{strip:?}");
    h.hover_at(strip.center());
    h.run_steps(3);
    h.get_by_label_contains("int: ");
    h.get_by_label_contains(" live of ");
    h.get_by_label_contains("taken at this step");
}
