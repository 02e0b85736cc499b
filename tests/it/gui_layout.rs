//! The memory-layout tab driven through egui_kittest: a real module, real
//! clicks and typing; assertions on visible text and the app's state.

use crate::common;

use std::path::PathBuf;

use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use spillscope::gui::App;
use spillscope::gui::tabs::CentralTab;

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

/// page-limit.wat's binary with its memory's limits flags set to a value no
/// WebAssembly proposal defines: the module reader rejects the memory section.
fn module_with_broken_memory_section() -> Vec<u8> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-modules/memory/page-limit.wat");
    let mut wasm = wat::parse_file(&path).expect("page-limit.wat parses");
    let memory_section = wasmparser::Parser::new(0)
        .parse_all(&wasm)
        .find_map(|p| match p {
            Ok(wasmparser::Payload::MemorySection(r)) => Some(r.range()),
            _ => None,
        })
        .expect("page-limit.wat declares a memory");
    // The section's contents: the number of memories, then the first one's
    // limits flags.
    assert_eq!(wasm[memory_section.start], 1);
    wasm[memory_section.start + 1] = 0xff;
    wasm
}

#[test]
fn a_layout_that_cannot_be_read_shows_its_error() {
    use spillscope::engine::input::{Body, Input};
    use spillscope::gui::{Command, worker};

    let mut h = page_limit_harness();
    h.get_by_label("Memory layout").click();
    common::gui::run_until(&mut h, "the per-profile compiles", |a| {
        !a.is_busy() && a.layout_effects().is_some()
    });
    assert!(h.state().layout_error().is_none());

    // Validation refuses such a module before the layout reader sees it, so
    // no file on disk reaches this path: hand the worker's layout step the
    // module directly, as it would have been loaded, and apply its reply.
    let path = PathBuf::from("page-limit-broken.wasm");
    let input = Input {
        path: path.clone(),
        body: Body::Wasm {
            bytes: module_with_broken_memory_section().into(),
            from_text: false,
        },
        functions: Vec::new(),
    };
    let presets = spillscope::gui::layout_model::PresetChoice::default();
    let reply = worker::layout_reply(h.state().generation(), &input, presets)
        .expect("a Wasm input gets a layout reply");
    h.state_mut().apply(Command::Reply(reply));
    h.run_steps(3);

    let error = h
        .state()
        .layout_error()
        .expect("the layout failed")
        .to_string();
    assert!(
        error.starts_with("page-limit-broken.wasm: invalid WebAssembly at byte offset 0x"),
        "{error}"
    );
    h.get_by_label("The module's memory layout could not be read");
    h.get_by_label(&error);
    assert!(
        h.query_by_label_contains("Reading the module's memory")
            .is_none()
    );
    assert!(h.state().layout_profiles().is_empty());
}

#[test]
fn measure_with_wasmtime_lists_each_memory_under_each_host_profile() {
    let mut h = page_limit_harness();
    h.get_by_label("Memory layout").click();
    h.run_steps(3);
    h.get_by_label("Measure with Wasmtime").click();
    common::gui::run_until(&mut h, "the measurement", |a| a.layout_measured().is_some());
    // jit and explicit are Wasmtime profiles for this host; the WasmEdge model
    // has nothing to measure. (Whether each equals the model is asserted by
    // `layout::the_model_equals_what_wasmtime_maps` in a process of its own:
    // here other tests' threads map memory beside the reservation.)
    let rows = h.state().layout_measured().unwrap();
    let profiles: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(profiles, ["jit", "explicit"]);
    h.get_by_label("guard before");
}

#[test]
fn runtime_models_are_picked_shown_and_not_edited() {
    let mut h = page_limit_harness();
    h.get_by_label("Memory layout").click();
    h.run_steps(3);
    h.get_by_label("V8 15.0, trap handler (guard pages)")
        .click();
    h.run_steps(3);
    h.get_by_label("wasm3 0.9.0 (HEAD)").click();
    h.run_steps(3);
    assert_eq!(
        h.state().layout_profiles(),
        vec!["jit", "explicit", "wasmedge", "v8", "wasm3"]
    );
    // The difference list compares how accesses are caught and how the
    // memory grows under the models.
    h.get_by_label_contains(
        "caught by guard pages (no check in the code) under 'V8 15.0 (model): trap handler'",
    );
    h.get_by_label_contains("is reallocated (realloc) and may move when it grows past 2 MiB + 512 KiB (page 40) under 'wasm3 0.9.0 (model)'");

    // Each profile's notes, with their sources.
    h.get_by_label("How each profile checks, grows and what it notes")
        .click();
    h.run_steps(3);
    h.get_by_label_contains("V8 reserves kFullGuardSize32, 8 GiB, from the base");
    h.get_by_label("How each profile checks, grows and what it notes")
        .click();
    h.run_steps(3);

    // A model's numbers are cited, not knobs: its editor shows no fields.
    h.get_by_label("Edit profile").click();
    h.run_steps(2);
    // The popup's entry (the code-effect table lists the name too, as text).
    h.get_by_role_and_label(
        egui::accesskit::Role::Button,
        "V8 15.0 (model): trap handler",
    )
    .click();
    h.run_steps(3);
    h.get_by_label("A model of the runtime's sources: its numbers are cited, not knobs.");
    assert!(h.query_by_label("Guard before the memory").is_none());

    // Turning it off again drops the profile.
    h.get_by_label("V8 15.0, trap handler (guard pages)")
        .click();
    h.run_steps(3);
    assert_eq!(
        h.state().layout_profiles(),
        vec!["jit", "explicit", "wasmedge", "wasm3"]
    );
}

#[test]
fn a_runtime_that_rejects_the_module_shows_why_and_no_layout() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-modules/memory/one-byte-pages.wat");
    let app = App::new(None, Some(path), Some("peek".into()));
    let mut h = Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .build_ui_state(|ui, app: &mut App| app.ui(ui), app);
    common::gui::run_until(&mut h, "one-byte-pages.wat's layout", |a| {
        !a.is_busy() && !a.layout_profiles().is_empty()
    });
    h.get_by_label("Memory layout").click();
    h.run_steps(3);
    h.get_by_label("V8 15.0, trap handler (guard pages)")
        .click();
    h.run_steps(3);
    h.get_by_label("wasm3 0.9.0 (HEAD)").click();
    h.run_steps(3);
    // V8 refuses 1-byte pages; wasm3 lays them out.
    h.get_by_label_contains(
        "'V8 15.0 (model): trap handler': V8 rejects the module while decoding it",
    );
    h.get_by_label("How each profile checks, grows and what it notes")
        .click();
    h.run_steps(3);
    h.get_by_label("out of bounds: none: the module is rejected");
    // wasm3, and both Wasmtime profiles: 1-byte pages are smaller than a
    // host page, so Wasmtime cannot guard them.
    assert_eq!(
        h.get_all_by_label(
            "out of bounds: explicit: every access is compared with the memory's current size"
        )
        .count(),
        3
    );
}

/// At 1280×800 with seven profiles, every profile's regions show without
/// scrolling (the axis breaks at regions, not at each data segment), and the
/// Differences list keeps a third of the tab.
#[test]
fn seven_profiles_fit_the_memory_tab_at_a_glance() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-modules/c/kernels.wasm");
    let app = App::new(None, Some(path), Some("8".into()));
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut App| app.ui(ui), app);
    common::gui::run_until(&mut h, "kernels.wasm to compile", |a| {
        !a.is_busy() && a.cursor().is_some()
    });
    h.get_by_label("Memory layout").click();
    h.run_steps(3);
    for profile in [
        "V8 15.0, no trap handler (explicit checks)",
        "WAMR 2.4.5, software bounds checks",
        "Wasmer 7.3.0",
        "wasm3 0.9.0 (HEAD)",
    ] {
        h.get_by_label(profile).click();
        h.run_steps(2);
    }
    h.run_steps(3);
    assert_eq!(h.state().layout_profiles().len(), 7);
    let (narrowest, differences, tab) = h.state().layout_drawn().expect("the tab was drawn");
    assert!(narrowest >= 3.0, "a region {narrowest} points wide");
    assert!(differences >= tab / 3.0 - 1.0, "{differences} of {tab}");
}
