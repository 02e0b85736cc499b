//! The desktop front end (eframe/egui) over the engine.
//!
//! - [`state`]: the app's state ([`App`]), what persists, the panels' view state
//! - [`command`]: every change as data ([`Command`])
//! - [`apply`]: `App::apply`, the one place state changes
//! - [`worker`]: the compile worker thread, its jobs and replies
//! - [`compiled`]: a traced compile with the panels' models, and the one on screen
//! - [`frame`]: one frame: the panels laid out, commands gathered and applied
//! - models built on the worker: [`chart_model`], [`lineage_model`],
//!   [`layout_model`] (with the memory tab's state); [`link_model`] (the link
//!   map's line lookups, built when the map arrives)
//! - one file per panel: [`chart`], [`lineage`], [`layout_view`], [`summary`],
//!   [`stepper`], [`explain_panel`], [`events`], [`function_list`],
//!   [`code_views`], [`moves_panel`], [`registers_panel`], [`runs_view`],
//!   [`export_menu`], [`open`]; the Corpus window, a release gate's report
//!   ([`corpus_view`])

pub mod apply;
pub mod chart;
pub mod chart_model;
pub mod code_views;
pub mod command;
pub mod compiled;
pub mod corpus_view;
pub mod events;
pub mod explain_panel;
pub mod export_menu;
pub mod frame;
pub mod function_list;
pub mod layout_model;
pub mod layout_view;
pub mod lineage;
pub mod lineage_model;
pub mod link_model;
pub mod moves_panel;
pub mod open;
pub mod registers_panel;
pub mod releases_view;
pub mod runs_view;
pub mod single_pass_view;
pub mod state;
pub mod stepper;
pub mod summary;
pub mod tabs;
pub mod worker;

use std::path::PathBuf;

pub use apply::Start;
pub use command::Command;
pub use state::App;
pub use worker::TimeLimit;

/// Opens the app on `path` (or the embedded default sample).
pub fn run(
    path: Option<PathBuf>,
    func: Option<String>,
    step: Option<usize>,
    registers: Option<crate::engine::compile::realloc::RegisterCounts>,
    export_dir: Option<PathBuf>,
    algorithm: Option<crate::engine::input::isa::Algorithm>,
    timeout_s: Option<u64>,
) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("spillscope")
            .with_inner_size([1500.0, 950.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "spillscope",
        options,
        Box::new(move |cc| {
            Ok(Box::new(
                App::new_with(
                    cc.storage,
                    path,
                    func,
                    Start {
                        algorithm,
                        time: timeout_s.map(|s| match s {
                            0 => TimeLimit::Unlimited,
                            s => TimeLimit::Seconds(s),
                        }),
                    },
                )
                .starting_at_step(step)
                .starting_with_registers(registers)
                .exporting_to(export_dir),
            ))
        }),
    )
    .map_err(|e| {
        anyhow::anyhow!(
            "cannot open the window: {}",
            window_error_text(&e.to_string())
        )
    })
}

/// A window system's error in words: with no display it says so and points
/// at the command line; otherwise the error without the source path some
/// dependencies put in it (`os error at /…/winit-…/src/…rs:765: …`).
pub fn window_error_text(error: &str) -> String {
    let no_display = std::env::var_os("DISPLAY").is_none()
        && std::env::var_os("WAYLAND_DISPLAY").is_none()
        && std::env::var_os("WAYLAND_SOCKET").is_none();
    if no_display {
        return "there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set); \
                run it in a desktop session, or use a subcommand such as \
                `spillscope trace FILE --func N` (see `spillscope --help`)"
            .into();
    }
    // `… os error at PATH:LINE: message` → `… os error: message`.
    match (error.find(" at /"), error.rfind(".rs:")) {
        (Some(at), Some(rs)) if rs > at => {
            let rest = &error[rs + 4..];
            let message = rest.find(": ").map_or(rest, |i| &rest[i + 2..]);
            format!("{}: {message}", &error[..at])
        }
        _ => error.to_string(),
    }
}
