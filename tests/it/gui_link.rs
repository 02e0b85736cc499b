//! The linked views in the app, driven through egui_kittest: a final-code line
//! selects its Wasm and CLIF origins, a move jumps to its cause, a step marks
//! its bundle's uses in every code view, next-split and a breakpoint stop
//! where they should.

use crate::common;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use spillscope::gui::App;
use spillscope::gui::tabs::CodeTab;

use common::gui::{harness, ready};

/// The app on a sample function, traced and linked.
fn linked(file: &str, func: &str) -> Harness<'static, App> {
    let path = common::samples_dir().join(file);
    let mut h = harness(App::new(None, Some(path), Some(func.into())));
    common::gui::run_until(&mut h, "the function to compile and link", |a| {
        ready(a) && a.link_ready()
    });
    h
}

/// Steps until the final code shows a line with a Wasm origin (the first
/// lines are the prologue), clicks it, and gives the selection.
fn click_a_line_with_a_wasm_origin(h: &mut Harness<'static, App>) -> String {
    for _ in 0..40 {
        if h.query_all_by_label_contains("; @").next().is_some() {
            break;
        }
        h.get_by_label("Forward >").click();
        h.run_steps(3);
    }
    h.get_all_by_label_contains("; @").next().unwrap().click();
    h.run_steps(3);
    h.state().selected_link().expect("a line was selected")
}

#[test]
fn clicking_a_final_code_line_marks_its_wasm_and_clif_origins() {
    let mut h = linked("loop.wat", "loop");
    h.get_by_label("Final code (allocated)").click();
    h.run_steps(3);
    assert_eq!(h.state().code_tab(), CodeTab::Final);
    let selected = click_a_line_with_a_wasm_origin(&mut h);
    assert!(selected.starts_with('@'), "{selected}");
    let app = h.state();
    let (wasm, _) = app.code_marks(CodeTab::Wasm);
    let (clif, _) = app.code_marks(CodeTab::ClifOptimized);
    let (vcode, _) = app.code_marks(CodeTab::VCode);
    let (code, _) = app.code_marks(CodeTab::Final);
    assert_eq!(wasm.len(), 1, "the operator's line in the Wasm view");
    assert!(!clif.is_empty() && !vcode.is_empty() && !code.is_empty());
    h.get_by_label_contains(&format!("selected: {selected}"));
    // In the Wasm view the marked line is the operator.
    h.get_by_label("Wasm").click();
    h.run_steps(3);
    let op = selected.split_once(' ').unwrap().1.to_string();
    h.get_all_by_label_contains(&op).next().unwrap();
}

#[test]
fn clicking_a_move_jumps_to_its_cause() {
    let mut h = linked("pressure.wat", "pressure");
    h.get_by_label("Moves").click();
    h.run_steps(3);
    // A row of the list (the summary above it says "reloads" too), whole on
    // screen (the list draws a row or two past its bottom edge, clipped).
    let window = h.ctx.content_rect();
    let is_reload_row = |l: &str| l.contains("reload") && l.contains('→');
    h.get_all_by(|n| n.label().is_some_and(|l| is_reload_row(&l)))
        .next()
        .expect("a reload row")
        .scroll_to_me();
    h.run_steps(3);
    h.get_all_by_label_contains("reload")
        .find(|n| {
            n.accesskit_node().label().is_some_and(|l| l.contains('→'))
                && window.contains_rect(n.rect())
        })
        .expect("a reload row on screen")
        .click();
    h.run_steps(3);
    let app = h.state();
    let i = app.selected_move().expect("a move was selected");
    let m = &app.moves().unwrap().moves[i];
    let cause = m.cause.as_ref().expect("a reload in pressure has a cause");
    assert_eq!(app.cursor().unwrap().0, cause.step);
    assert_eq!(app.code_tab(), CodeTab::Final);
    let (code, _) = app.code_marks(CodeTab::Final);
    assert!(!code.is_empty(), "the move's code is marked");
}

#[test]
fn stepping_marks_the_bundle_in_every_view() {
    let mut h = linked("loop.wat", "loop");
    // Every step to the last: a step that marks its bundle's VCode marks
    // the optimized CLIF and the final code too (every VCode instruction
    // comes from one and emits into the other), and the Wasm text and the
    // translated CLIF together (one operator, its CLIF as translated); only
    // uses outside any operator (arguments, the prologue) mark no Wasm.
    let (mut everywhere, mut in_vcode, mut steps) = (0, 0, 0);
    loop {
        h.get_by_label("Forward >").click();
        h.run_steps(2);
        let app = h.state();
        let (k, n) = app.cursor().unwrap();
        let marked = |t: CodeTab| !app.code_marks(t).1.is_empty();
        if marked(CodeTab::VCode) {
            in_vcode += 1;
            assert!(
                marked(CodeTab::ClifOptimized) && marked(CodeTab::Final),
                "step {k}"
            );
        }
        assert_eq!(
            marked(CodeTab::Wasm),
            marked(CodeTab::ClifTranslated),
            "step {k}"
        );
        everywhere += usize::from(CodeTab::ALL.iter().all(|&t| marked(t)));
        steps += 1;
        if k == n {
            break;
        }
    }
    assert!(steps >= 50, "{steps} steps");
    assert!(
        in_vcode * 4 >= steps * 3,
        "{in_vcode} of {steps} steps mark the VCode"
    );
    assert!(
        everywhere * 10 >= in_vcode * 9,
        "{everywhere} of {in_vcode} steps that mark the VCode mark every view"
    );
}

#[test]
fn next_split_and_a_breakpoint_stop_where_they_should() {
    let mut h = linked("pressure.wat", "pressure");
    h.get_by_label("split ▶").click();
    h.run_steps(3);
    let k = h.state().cursor().unwrap().0;
    assert_eq!(h.state().step_outcome(k), Some("split"));
    assert!((1..k).all(|i| h.state().step_outcome(i) != Some("split")));
    // A breakpoint on spills: Play from the start stops at the first one.
    let field = h.get_by_label("Find");
    field.focus();
    field.type_text("spill");
    h.run_steps(3);
    let first_spill = *h.state().find_matches().first().expect("pressure spills");
    assert_eq!(h.state().step_outcome(first_spill), Some("spilled"));
    h.get_by_label("stop Play here").click();
    h.get_by_label("« First").click();
    h.run_steps(2);
    h.get_by_label("Play").click();
    h.step();
    assert!(h.state().is_playing());
    common::gui::run_until(&mut h, "Play to stop at the breakpoint", |a| {
        !a.is_playing()
    });
    assert_eq!(h.state().cursor().unwrap().0, first_spill);
}

/// Where each row of a list is on screen, by its text.
fn row_places(h: &Harness<'static, App>, is_row: impl Fn(&str) -> bool) -> Vec<(String, f32)> {
    h.get_all_by(|n| n.label().is_some_and(|l| is_row(&l)))
        .map(|n| {
            (
                n.accesskit_node().label().unwrap_or_default(),
                n.rect().min.y,
            )
        })
        .collect()
}

/// A click that moves the replay to another step changes the explanation
/// above the lists; the rows of the Moves and Events lists stay where they
/// were, so a second click on the same spot picks the same row.
#[test]
fn list_rows_hold_still_when_a_click_changes_the_step() {
    let mut h = linked("pressure.wat", "pressure");
    h.get_by_label("Moves").click();
    h.run_steps(3);
    let is_move = |l: &str| l.contains('→') && (l.contains("spill") || l.contains("reload"));
    let before = row_places(&h, is_move);
    assert!(before.len() >= 4, "{before:?}");
    h.get_by_label(&before[1].0).click();
    h.run_steps(3);
    assert!(
        h.state().cursor().unwrap().0 > 0,
        "the click moved the replay"
    );
    assert_eq!(row_places(&h, is_move), before, "the Moves rows moved");

    h.get_by_label("Events").click();
    h.run_steps(3);
    let is_step = |l: &str| l.contains("  bundle ");
    let before = row_places(&h, is_step);
    assert!(before.len() >= 4, "{before:?}");
    let cursor = h.state().cursor().unwrap().0;
    let other = before
        .iter()
        .find(|(l, _)| !l.trim_start().starts_with(&format!("{cursor} ")))
        .unwrap()
        .0
        .clone();
    h.get_by_label(&other).click();
    h.run_steps(3);
    assert_ne!(
        h.state().cursor().unwrap().0,
        cursor,
        "the click moved the replay"
    );
    assert_eq!(row_places(&h, is_step), before, "the step rows moved");
}

/// Wasm, CLIF and machine code side by side: each column shows its text at
/// once, a click in one marks its origin in the others, and the layout is
/// there again after a restart.
#[test]
fn the_code_views_sit_side_by_side_linked_and_the_layout_is_kept() {
    let mut h = linked("loop.wat", "loop");
    h.get_by_label("Side by side").click();
    h.run_steps(3);
    assert!(h.state().code_layout().columns);
    assert_eq!(
        h.state().code_layout().shown(),
        [CodeTab::Wasm, CodeTab::ClifOptimized, CodeTab::Final]
    );
    // Each column's text is on screen at once: the Wasm's operators, the
    // CLIF function's first line, the machine code's Wasm origins.
    assert!(h.query_all_by_label_contains("local.get").next().is_some());
    assert!(
        h.query_all_by_label_contains("function u0:")
            .next()
            .is_some()
    );
    let selected = click_a_line_with_a_wasm_origin(&mut h);
    let (wasm, _) = h.state().code_marks(CodeTab::Wasm);
    let (clif, _) = h.state().code_marks(CodeTab::ClifOptimized);
    assert_eq!(wasm.len(), 1, "{selected}: its operator in the Wasm column");
    assert!(!clif.is_empty());

    // Two columns, and the second shows VCode: kept across a restart.
    h.get_by_label("2").click();
    h.run_steps(3);
    let mut storage = common::gui::MemoryStorage::default();
    eframe::set_value(
        &mut storage,
        spillscope::gui::state::STORAGE_KEY,
        &h.state().persisted(),
    );
    let again = App::new(Some(&storage), None, None);
    assert_eq!(
        again.code_layout().shown(),
        [CodeTab::Wasm, CodeTab::ClifOptimized]
    );
    assert!(again.code_layout().columns);
}

/// Stepping back from the end walks the cursor off the top of the step
/// list: the list follows it.
#[test]
fn the_step_list_follows_the_cursor_off_its_edge() {
    let mut h = linked("pressure.wat", "pressure");
    h.get_by_label("Last »").click();
    h.run_steps(3);
    let steps = h.state().cursor().unwrap().1;
    for _ in 0..30 {
        h.get_by_label("< Back").click();
        h.run_steps(2);
    }
    let k = h.state().cursor().unwrap().0;
    assert_eq!(k, steps - 30);
    let row = format!("{k:>5}  bundle ");
    assert!(
        h.query_all_by_label_contains(&row).next().is_some(),
        "step {k}'s row is on screen"
    );
}
