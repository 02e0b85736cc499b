//! The memory-layout tab driven through egui_kittest: a real module, real
//! clicks and typing; assertions on visible text and the app's state.

use crate::common;

use std::path::PathBuf;

use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use spillscope::gui::App;
use spillscope::gui::layout_model::CentralTab;

fn page_limit_harness() -> Harness<'static, App> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-modules/memory/page-limit.wat");
    let app = App::new(None, Some(path), Some("tail".into()));
    let mut h = Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .build_ui_state(|ui, app: &mut App| app.ui(ui), app);
    common::gui::run_until(&mut h, "page-limit.wat to compile", |a| {
        !a.is_busy() && a.cursor().is_some()
    });
    h
}

#[test]
fn enabling_a_page_limit_changes_the_difference_list() {
    let mut h = page_limit_harness();
    h.get_by_label("Memory layout").click();
    h.run_steps(3);
    assert_eq!(h.state().central_tab(), CentralTab::Memory);
    assert_eq!(
        h.state().layout_profiles(),
        vec!["jit", "explicit", "wasmedge"]
    );
    // WasmEdge's default limit (65536) is above the minimum: nothing fails yet.
    h.get_by_label("Differences");
    assert!(
        h.query_by_label_contains("instantiation fails under")
            .is_none(),
        "{:?}",
        h.state().layout_differences()
    );

    // Type 32 into the page-limit field and turn the profile on.
    let field = h.get_by_label("pages");
    field.focus();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.get_by_label("pages").type_text("32");
    h.run_steps(2);
    h.get_by_label("Page limit").click();
    h.run_steps(3);
    assert_eq!(
        h.state().layout_profiles(),
        vec!["jit", "explicit", "limit:32", "wasmedge"]
    );
    h.get_by_label_contains(
        "Page limit 32 < minimum 40 of memory 0 (\"memory\"): instantiation fails under 'Wasmtime JIT (host) + limit 32 pages'",
    );
    h.get_by_label_contains("segment 1 ends at page 40 (0x280000), beyond the limit of 32 pages");

    // Turning it off again removes the sentence.
    h.get_by_label("Page limit").click();
    h.run_steps(3);
    assert!(
        h.query_by_label_contains("Page limit 32 < minimum 40")
            .is_none()
    );
}

#[test]
fn code_effect_rows_open_their_allocator_view() {
    let mut h = page_limit_harness();
    h.get_by_label("Memory layout").click();
    common::gui::run_until(&mut h, "the per-profile compiles", |a| {
        !a.is_busy() && a.layout_effects().is_some()
    });
    let rows = h.state().layout_effects().unwrap();
    assert_eq!(rows.len(), 3);
    // `tail` loads from a constant address below the 40-page minimum:
    // Wasmtime proves it in bounds and emits no check under either profile
    // (`bounds_checks.rs:318`). The WasmEdge model is not compiled.
    assert_eq!(rows[0], ("jit".to_string(), Some(0)));
    assert_eq!(rows[1], ("explicit".to_string(), Some(0)));
    assert_eq!(rows[2], ("wasmedge".to_string(), None));
    h.get_by_label_contains("not compiled: a model");

    h.get_by_role_and_label(egui::accesskit::Role::Button, "Explicit bounds checks")
        .click();
    h.run_steps(3);
    assert_eq!(h.state().central_tab(), CentralTab::Allocator);
    assert_eq!(
        h.state().loaded_function(),
        Some("tail — Explicit bounds checks")
    );
    assert!(h.state().cursor().is_some_and(|(_, n)| n > 0));
}
