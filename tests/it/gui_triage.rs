//! Hang triage in the app: a budget stop keeps the trace and the app usable;
//! a regalloc2 0.11.3 log opens with its loop shown in the lineage panel.

use crate::common;

use egui::Key;
use egui_kittest::kittest::Queryable;
use spillscope::engine::capture::CaptureLimits;
use spillscope::gui::worker::auto_deadline;
use spillscope::gui::{App, Start, TimeLimit};

use common::gui::{harness, ready};

#[test]
fn a_budget_stop_keeps_the_trace_and_the_ui_responsive() {
    let path = common::samples_dir().join("c/kernels.wasm");
    let mut h = harness(App::new(None, Some(path), Some("8".into())));
    common::gui::run_until(&mut h, "kernels function 8 to compile", ready);
    let (_, full_steps) = h.state().cursor().expect("compiled");
    assert!(!h.state().trace_stopped());
    assert!(full_steps > 100, "function 8 takes {full_steps} steps");

    // A 10k-record budget stops this allocation after a few steps.
    h.get_by_label("Budget").click();
    h.run_steps(2);
    h.get_by_label("10 k records").click();
    common::gui::run_until(&mut h, "the budgeted compile", |a| {
        ready(a) && a.trace_stopped()
    });
    let (k, steps) = h.state().cursor().expect("the stopped trace is shown");
    assert_eq!(k, 0);
    assert!(
        steps >= 1 && steps < full_steps,
        "stopped trace has {steps} of {full_steps} steps"
    );
    h.get_by_label_contains("Trace stopped after");
    h.get_by_label_contains("regalloc2 records (budget) (the Budget menu raises it)");
    h.get_by_label_contains("No loop found in the");

    // The stopped trace steps forward and back like any other.
    h.key_press(Key::ArrowRight);
    h.run_steps(3);
    assert_eq!(h.state().cursor(), Some((1, steps)));
    h.key_press(Key::ArrowLeft);
    h.run_steps(3);
    assert_eq!(h.state().cursor(), Some((0, steps)));

    // The lineage tab opens on the stopped trace.
    h.get_by_label("Lineage").click();
    h.run_steps(3);
    h.get_by_label_contains("No loop found in the");

    // Back to an automatic budget: the same function finishes again.
    h.get_by_label("Budget").click();
    h.run_steps(2);
    h.get_by_label("auto").click();
    common::gui::run_until(&mut h, "the unbudgeted compile", |a| {
        ready(a) && !a.trace_stopped()
    });
    assert_eq!(h.state().cursor(), Some((0, full_steps)));
    assert!(h.query_by_label_contains("Trace stopped").is_none());

    // The time limit is the user's too: the Time menu sets it and the
    // function is traced again under it.
    let before = h.state().generation();
    h.get_by_label("Time").click();
    h.run_steps(2);
    h.get_by_label("10 min").click();
    common::gui::run_until(&mut h, "the compile under the new limit", |a| {
        ready(a) && a.generation() > before
    });
    assert_eq!(h.state().budget().time, TimeLimit::Seconds(600));
    assert_eq!(h.state().cursor(), Some((0, full_steps)));
}

/// `--timeout` starts the app with its own time limit; without one the limit
/// grows with the function (30 s for a small one, minutes for a big one).
#[test]
fn the_time_limit_comes_from_the_command_line_or_the_function_size() {
    let path = common::samples_dir().join("lessons/pressure.wat");
    let start = Start {
        algorithm: None,
        time: Some(TimeLimit::Unlimited),
    };
    let mut h = harness(App::new_with(None, Some(path), None, start));
    common::gui::run_until(&mut h, "the function to compile", ready);
    assert_eq!(h.state().budget().time, TimeLimit::Unlimited);

    let small = CaptureLimits {
        max_records: 2_000_000,
        deadline: None,
    };
    assert_eq!(auto_deadline(&small).as_secs(), 30);
    // A 129 KB Wasm body: about 5 MB of CLIF, its budget 400 records a byte.
    let big = CaptureLimits {
        max_records: 129 * 1024 * 40 * 400,
        deadline: None,
    };
    let secs = auto_deadline(&big).as_secs();
    assert!((150..=170).contains(&secs), "{secs} s");
}

#[test]
fn a_regalloc2_0_11_3_log_opens_with_its_loop_in_the_lineage() {
    let log = common::samples_dir().join("hang/loop-0.11.3.log");
    let mut h = harness(App::new(None, Some(log), None));
    common::gui::run_until(&mut h, "the 0.11.3 log to open", ready);
    let d = h.state().diagnosis().expect("diagnosed").clone();
    assert!(d.looping, "{}", d.description);
    let from = d.from_step.expect("the loop has a start");
    assert!(h.state().trace_stopped() || h.state().cursor().is_some());
    h.get_by_label_contains("Imported regalloc2 log");
    h.get_by_label_contains("Loop detected");
    h.get_by_label_contains(&format!("bundle {} (v", d.bundle.unwrap()));
    // The same function from the CLIF beside the log, with this build's regalloc2.
    h.get_by_label_contains("Same function (loop.clif): regalloc2 0.15.2 allocates it in");

    // Jump to where the loop starts: the lineage follows, with the cycle marked.
    h.get_by_label_contains("Jump to the loop").click();
    h.run_steps(4);
    let (k, _) = h.state().cursor().unwrap();
    assert_eq!(k, from);
    assert_eq!(h.state().highlighted_bundle(), d.bundle);
    let marked = h.query_all_by_label_contains("[loop] b").count();
    assert!(marked >= 3, "only {marked} loop rows visible");

    // A row of the chain jumps to the step that created that bundle.
    let child = d.cycle_bundles[2];
    let made_at = d.cycle_steps[1];
    h.get_by_label_contains(&format!("[loop] b{child}  from step {made_at}"))
        .click();
    h.run_steps(4);
    assert_eq!(h.state().cursor().unwrap().0, made_at);

    // The UI stays usable: step on, then open the CLIF with this build.
    h.key_press(Key::ArrowRight);
    h.run_steps(3);
    assert_eq!(h.state().cursor().unwrap().0, made_at + 1);
    h.get_by_label("Open loop.clif with this build").click();
    common::gui::run_until(&mut h, "loop.clif to compile", |a| {
        ready(a) && a.loaded_function().is_some_and(|f| f.contains("3384"))
    });
    let d = h.state().diagnosis().unwrap();
    assert!(!d.looping);
    assert!(!h.state().trace_stopped());
}

#[test]
fn a_log_without_regalloc2_records_is_an_error_and_the_trace_on_screen_stays() {
    let mut h = harness(App::new(None, None, None));
    common::gui::run_until(&mut h, "the built-in sample to compile", ready);
    let before = h.state().cursor();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("not-a-trace.log");
    std::fs::write(&bad, "hello\nthis is not a regalloc2 log\n").unwrap();
    h.state_mut()
        .apply(spillscope::gui::Command::OpenPath(bad.clone()));
    common::gui::run_until(&mut h, "the error", |a| !a.is_busy() && a.error().is_some());
    let err = h.state().error().unwrap().to_string();
    assert!(err.contains("not-a-trace.log"), "{err}");
    assert!(err.contains("no regalloc2 records"), "{err}");
    assert_eq!(h.state().cursor(), before);
    assert_eq!(h.state().loaded_function(), Some("pressure"));
}

/// A restart reopens the file and function it had open, but a function too
/// big to trace in a few seconds waits for the user: selected, described,
/// traced when they press "Trace it".
#[test]
fn a_big_function_reopened_waits_to_be_traced() {
    let path = common::samples_dir().join("c/kernels.wasm");
    let mut h = harness(App::new(None, Some(path.clone()), Some("8".into())));
    common::gui::run_until(&mut h, "kernels function 8 to compile", ready);
    // printf_core's body is 8,981 bytes: over a 4 KB threshold.
    h.state_mut()
        .reopen_holding_above(path, "printf_core", 4096);
    common::gui::run_until(&mut h, "the file to reopen", |a| !a.is_busy());
    assert_eq!(h.state().held_function(), Some(49));
    assert!(h.state().cursor().is_none(), "nothing traced yet");
    h.get_by_label_contains("printf_core (9 KB of Wasm) was open when spillscope last closed");
    h.get_by_label("Trace it").click();
    common::gui::run_until(&mut h, "printf_core to compile", |a| {
        ready(a) && a.loaded_function() == Some("printf_core")
    });
    assert_eq!(h.state().held_function(), None);
}

/// A bug bundle is written on its own thread with its progress on screen
/// and a Cancel that stops it with nothing written.
#[test]
fn a_bug_bundle_shows_its_progress_and_cancels_leaving_nothing() {
    use spillscope::gui::Command;
    use spillscope::gui::command::ExportKind;
    let dir = tempfile::tempdir().unwrap();
    let path = common::samples_dir().join("c/kernels.wasm");
    let app = App::new(None, Some(path), Some("printf_core".into()))
        .exporting_to(Some(dir.path().to_path_buf()));
    let mut h = harness(app);
    common::gui::run_until(&mut h, "printf_core to compile", ready);
    h.state_mut().apply(Command::Export(ExportKind::Bundle));
    h.run_steps(1);
    h.get_by_label_contains("Writing the bug bundle: regalloc2's log so far");
    h.get_by_label("Cancel").click();
    common::gui::run_until(&mut h, "the export to stop", |a| !a.is_exporting());
    let note = h.state().note().unwrap_or_default().to_string();
    assert!(note.contains("cancelled; nothing was written"), "{note}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
    // The app goes on: the trace on screen still steps.
    assert!(h.state().cursor().is_some());
}
