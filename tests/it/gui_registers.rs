//! The Registers tab, driven through egui_kittest: the sweep plots an
//! allocation per register count, a reduced count re-allocates the function
//! on screen (more spills, the checker still passes), and "All registers"
//! goes back to the compile.

use crate::common;

use egui_kittest::kittest::Queryable;
use spillscope::engine::compile::realloc::RegisterCounts;
use spillscope::gui::{App, Command};

use common::gui::{harness, ready};

#[test]
fn fewer_registers_reallocate_the_function_on_screen() {
    let path = common::samples_dir().join("lessons/pressure.wat");
    let mut h = harness(App::new(None, Some(path), Some("pressure".into())));
    common::gui::run_until(&mut h, "the function to compile", ready);
    let full_steps = h.state().cursor().unwrap().1;
    let full_spills = h.state().moves().unwrap().summary.spills;
    assert_eq!(
        h.state().loaded_registers(),
        Some(RegisterCounts::default())
    );

    h.get_by_label("Registers").click();
    h.run_steps(3);
    h.get_by_label("Sweep int").click();
    common::gui::run_until(&mut h, "the sweep", |a| a.sweep().is_some());
    let (class, points) = h.state().sweep().unwrap();
    assert_eq!(class, regalloc2::RegClass::Int);
    let points = points.as_ref().expect("the sweep allocates").clone();
    assert!(points.len() >= 8, "{} counts", points.len());
    let (most, fewest) = (&points[0], &points[points.len() - 2]);
    assert!(fewest.edits.spills > most.edits.spills);
    assert!(
        points
            .iter()
            .filter(|p| p.error.is_none())
            .all(|p| p.checked)
    );
    h.get_by_label_contains("Click the plot");
    // A plot one can read: tall enough, its legend above the lines.
    let plot = h.state().sweep_plot().expect("the sweep is drawn");
    assert!(plot.height() >= 200.0, "{plot:?}");
    h.get_by_label("— spills");
    h.get_by_label("— splits");

    // Six integer registers: the allocation on screen is regalloc2's with six.
    let six: RegisterCounts = "int=6".parse().unwrap();
    h.state_mut().apply(Command::SetRegisters(six));
    common::gui::run_until(&mut h, "the allocation with 6 registers", |a| {
        ready(a) && a.loaded_registers() == Some(six)
    });
    h.get_by_label_contains("On screen: regalloc2 alone with int=6");
    let spills = h.state().moves().unwrap().summary.spills;
    let six_point = points.iter().find(|p| p.registers == 6).unwrap();
    assert_eq!(
        spills, six_point.edits.spills,
        "the moves list and the sweep"
    );
    assert!(spills > full_spills);
    assert_ne!(h.state().cursor().unwrap().1, full_steps);

    h.get_by_label("All registers").click();
    common::gui::run_until(&mut h, "the compile with every register", |a| {
        ready(a) && a.loaded_registers() == Some(RegisterCounts::default())
    });
    assert_eq!(h.state().cursor().unwrap().1, full_steps);
}

#[test]
fn two_runs_side_by_side_name_their_differences() {
    let path = common::samples_dir().join("lessons/pressure.wat");
    let mut h = harness(App::new(None, Some(path), Some("pressure".into())));
    common::gui::run_until(&mut h, "the function to compile", ready);
    h.get_by_label("Compare runs").click();
    h.run_steps(3);
    // The preset "fewer registers" runs b with six integer registers.
    h.get_by_label("fewer registers").click();
    common::gui::run_until(&mut h, "the two runs", |a| a.runs_report().is_some());
    let pair = match h.state().runs_report().unwrap() {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    assert!(pair.report.aligned);
    assert!(pair.b.compiled.moves.summary.spills > pair.a.compiled.moves.summary.spills);
    let d = pair
        .report
        .differences
        .iter()
        .find(|d| d.kind == "spilled")
        .expect("a value on the stack in b only");
    let (spilled, at) = (d.text.clone(), d.point.unwrap().0 as f32);
    let value = d.vreg.expect("the spilled value");
    // Both runs are on screen, replayed to their ends, with the differences.
    assert_eq!(pair.a.cursor, pair.a.steps());
    let pair_steps = (pair.a.steps(), pair.b.steps());
    h.get_by_label_contains("a: backtracking");
    h.get_by_label_contains("b: backtracking");
    h.get_by_label(&spilled).click();
    h.run_steps(3);
    let (ra, rb) = h.state().runs_windows();
    assert_eq!(ra, rb, "both charts show the same program points");
    assert!(ra.0 <= at && at < ra.1, "{at} in {ra:?}");
    // The value's row is in view in both charts.
    let (a_rows, b_rows) = h.state().runs_shown_vregs();
    assert!(a_rows.contains(&value), "v{value} in {a_rows:?}");
    assert!(b_rows.contains(&value), "v{value} in {b_rows:?}");
    // And each run's header counts its own steps.
    h.get_by_label_contains(&format!("{} steps ·", pair_steps.0));
    h.get_by_label_contains(&format!("{} steps ·", pair_steps.1));

    // A single-pass run is counted by its own steps, in its header and in
    // the totals.
    h.get_by_label("single-pass").click();
    common::gui::run_until(&mut h, "the single-pass run", |a| {
        a.runs_report()
            .is_some_and(|r| r.as_ref().is_ok_and(|p| p.b.single_pass().is_some()))
    });
    let Some(Ok(pair)) = h.state().runs_report() else {
        panic!("no single-pass comparison");
    };
    let sp_steps = pair.b.steps();
    assert!(sp_steps > 0);
    assert_eq!(pair.report.b.counts.steps, sp_steps);
    assert!(
        h.query_all_by_label_contains(&format!("{sp_steps} steps · 0 splits"))
            .next()
            .is_some(),
        "b's header counts its {sp_steps} steps"
    );
    assert!(h.query_by_label_contains("0 steps · 0 splits").is_none());
}

#[test]
fn the_export_menu_writes_the_chart_and_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = common::samples_dir().join("lessons/pressure.wat");
    let app = App::new(None, Some(path), Some("pressure".into()))
        .exporting_to(Some(dir.path().to_path_buf()));
    let mut h = harness(app);
    common::gui::run_until(&mut h, "the function to compile", ready);
    h.state_mut().apply(Command::Jump(20));
    for (item, file) in [
        ("Chart as SVG…", "pressure-step20.svg"),
        ("HTML report…", "pressure-report.html"),
    ] {
        h.get_by_label("Export").click();
        h.run_steps(3);
        h.get_by_label(item).click();
        common::gui::run_until(&mut h, "the export", |a| {
            a.note().is_some_and(|n| n.starts_with("exported"))
        });
        let written = dir.path().join(file);
        assert!(written.is_file(), "{}", h.state().note().unwrap());
        h.state_mut().apply(Command::ExportDone(Ok(String::new())));
    }
    let steps = h.state().cursor().unwrap().1;
    let svg = std::fs::read_to_string(dir.path().join("pressure-step20.svg")).unwrap();
    assert!(roxmltree::Document::parse(&svg).is_ok());
    assert!(
        svg.contains(&format!("step 20 of {steps}")),
        "{steps} steps"
    );
    // The report lists every edit the app's Moves tab lists.
    let html = std::fs::read_to_string(dir.path().join("pressure-report.html")).unwrap();
    let moves = h.state().moves().unwrap().moves.len();
    assert!(moves > 0);
    assert_eq!(html.matches("<tr class=\"move\"").count(), moves);
}

#[test]
fn teaching_mode_tells_the_step_plainly_with_a_glossary() {
    let path = common::samples_dir().join("lessons/calls.wat");
    let mut h = harness(App::new(None, Some(path), Some("1".into())));
    common::gui::run_until(&mut h, "the function to compile", ready);
    h.get_by_label("Teaching mode").click();
    h.run_steps(3);
    h.get_by_label("Forward >").click();
    h.run_steps(3);
    h.get_by_label_contains("The allocator takes the next");
    // Glossary terms are their own labels (underlined, defined on hover).
    h.get_by_label("queue");
    h.get_by_label("Glossary");
}

#[test]
fn picking_a_release_retraces_and_the_releases_tab_lists_every_release() {
    use spillscope::engine::releases::Release;
    use spillscope::engine::releases::versions::Outcome;

    let path = common::samples_dir().join("hang/loop.clif");
    let mut h = harness(App::new(None, Some(path), Some("0".into())));
    common::gui::run_until(&mut h, "the function to compile", ready);
    assert_eq!(h.state().loaded_release(), Some(Release::CRANELIFT));

    // The release picker: 0.11.3 re-traces the function, and loops.
    h.get_by_label("regalloc2").click();
    h.run_steps(2);
    h.get_by_label("0.11.3 (yanked)").click();
    common::gui::run_until(&mut h, "the 0.11.3 allocation", |a| {
        ready(a) && a.loaded_release() == Some(Release::V0_11)
    });
    assert!(h.state().trace_stopped());
    assert!(
        h.query_all_by_label_contains("Loop detected")
            .next()
            .is_some()
    );

    // The Releases tab: one row per release, 0.11.3 looping, the rest ok.
    h.get_by_label("Releases").click();
    common::gui::run_until(&mut h, "every release", |a| {
        a.versions()
            .is_some_and(|r| r.as_ref().is_ok_and(|v| v.pending.is_empty()))
    });
    let v = h.state().versions().unwrap().as_ref().unwrap().clone();
    assert_eq!(v.rows.len(), Release::ALL.len());
    for row in &v.rows {
        let expected = if row.release == Release::V0_11 {
            "loops"
        } else {
            "ok"
        };
        assert_eq!(row.outcome.word(), expected, "{}", row.release);
    }
    assert!(matches!(v.rows[2].outcome, Outcome::Loops { .. }));
    for r in Release::ALL {
        let name = if r == Release::CRANELIFT {
            format!("{r} (Cranelift's)")
        } else {
            r.to_string()
        };
        assert!(
            h.query_all_by_label(&name).next().is_some(),
            "no row for {name}"
        );
    }
    // A row steps that release.
    h.get_by_label("0.12.2").click();
    common::gui::run_until(&mut h, "the 0.12.2 allocation", |a| {
        ready(a) && a.loaded_release() == Some(Release::V0_12)
    });
    assert!(h.state().moves().is_some());
}

#[test]
fn a_reproducer_file_opens_in_the_app_and_steps_with_the_chosen_release() {
    use spillscope::engine::releases::{self, Release};

    let hang = common::samples_dir().join("hang/loop.clif");
    let input = spillscope::engine::input::Input::load(&hang).unwrap();
    let settings = spillscope::engine::session::Settings {
        target: spillscope::engine::input::isa::Target::X86_64,
        ..Default::default()
    };
    let prepared = spillscope::engine::session::prepare(&input, 0, settings).unwrap();
    let func = spillscope::engine::session::rebuild_function(&input, &prepared).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("loop.bin");
    std::fs::write(
        &bin,
        releases::to_bin(Release::V0_12, &func, &func.env).unwrap(),
    )
    .unwrap();

    let mut h = harness(App::new(None, Some(bin), None));
    common::gui::run_until(&mut h, "the reproducer to open", ready);
    assert_eq!(h.state().loaded_release(), Some(Release::CRANELIFT));
    assert!(!h.state().trace_stopped());
    // The file does not say which release wrote it: the newest that reads
    // it as the same function is named.
    assert!(
        h.query_all_by_label_contains("loop.bin (regalloc2 ")
            .next()
            .is_some()
    );
}

/// A release gate's report opens in the Corpus window: every function a
/// row, sortable; a function's row opens it in Compare runs, the baseline
/// against the candidate.
#[test]
fn the_corpus_window_opens_a_gate_function_in_compare_runs() {
    use spillscope::engine::releases::Release;
    use spillscope::engine::triage::gate::GatePair;
    use spillscope::engine::triage::scan::{self, ScanOptions};

    let lessons = common::samples_dir().join("lessons");
    let inputs = [lessons.join("calls.wat"), lessons.join("pressure.wat")];
    let options = ScanOptions {
        jobs: 1,
        gate: Some(GatePair {
            baseline: Release::V0_12,
            candidate: Release::V0_13,
        }),
        ..ScanOptions::default()
    };
    let report = scan::scan(&inputs, &options);
    assert_eq!(report.summary.functions, 2);
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("gate.json");
    std::fs::write(&json, serde_json::to_vec(&report).unwrap()).unwrap();

    let mut h = harness(App::new(None, Some(json), None));
    common::gui::run_until(&mut h, "the sample to compile", ready);
    let rows = h.state().corpus_rows().expect("the Corpus window is open");
    assert_eq!(rows.len(), 2);
    h.get_by_label_contains("regalloc2 0.13.5 (candidate) against 0.12.2 (baseline)");
    // Sorting by a column reorders the rows, and again reverses them.
    h.get_by_label("module").click();
    h.run_steps(2);
    let by_module = h.state().corpus_rows().unwrap();
    assert_eq!(by_module[0].0, "calls.wat");
    h.get_by_label("module ▲").click();
    h.run_steps(2);
    assert_eq!(h.state().corpus_rows().unwrap()[0].0, "pressure.wat");

    h.get_by_label("function 1 across_a_call").click();
    common::gui::run_until(&mut h, "the two releases' runs", |a| {
        a.runs_report().is_some()
    });
    assert_eq!(
        h.state().runs_specs(),
        ("regalloc2=0.12.2", "regalloc2=0.13.5")
    );
    assert!(h.state().view.path_text.ends_with("calls.wat"));
    let pair = h.state().runs_report().unwrap();
    assert!(pair.is_ok(), "{:?}", pair.as_ref().err());
    h.get_by_label_contains("a: backtracking");
}

/// Your own regalloc2 in the app: the Releases tab's path field steps the
/// function as a runner built against the unpacked 0.11.3 crate allocates
/// it, and the loop detector stops it. Skipped where the crate's source is
/// not unpacked (CI requires it: `SPILLSCOPE_REQUIRE_RA_TREE=1`).
#[test]
fn a_regalloc2_source_tree_steps_in_the_app() {
    let Some(tree) = common::ra0113_source_or_skip() else {
        return;
    };
    let path = common::samples_dir().join("hang/loop.clif");
    let mut h = harness(App::new(None, Some(path), Some("0".into())));
    common::gui::run_until(&mut h, "the function to compile", ready);
    assert!(!h.state().trace_stopped());
    h.get_by_label("Releases").click();
    h.run_steps(2);
    h.state_mut().view.tree_path = tree.display().to_string();
    h.run_steps(2);
    h.get_by_label("Step it").click();
    // The first run builds the runner (cached after): minutes on a cold cache.
    common::gui::run_until_within(
        &mut h,
        "the tree's allocation",
        std::time::Duration::from_secs(600),
        |a| ready(a) && a.trace_stopped(),
    );
    h.get_by_label_contains("Loop detected");
    h.get_by_label_contains("regalloc2 0.11.3 at");
}
