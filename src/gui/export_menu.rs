//! The Export menu: the chart at the current step as SVG or PNG, the HTML
//! report of the trace on screen, a bug bundle. The file is chosen in the
//! system's save dialog on a thread of its own; where no dialog can be shown,
//! it goes to `spillscope-exports/` in the current folder. What was written
//! (or why not) is said in the toolbar.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use crate::engine::export::{bundle, html, png, scene, svg};
use crate::engine::input::Input;
use crate::engine::replay::{diagnose, moves};
use crate::engine::session::Settings;

use super::command::{Command, ExportKind};
use super::compiled::Loaded;
use super::state::ExportWatch;
use super::worker::{Deliver, on_thread};

/// The menu in the toolbar.
pub fn export_menu_ui(ui: &mut egui::Ui, have_trace: bool, commands: &mut Vec<Command>) {
    ui.add_enabled_ui(have_trace, |ui| {
        ui.menu_button("Export", |ui| {
            for (kind, label, hint) in [
                (ExportKind::Png, "Chart as PNG…", "The chart at the current step"),
                (ExportKind::Svg, "Chart as SVG…", "The chart at the current step, with tooltips"),
                (
                    ExportKind::Html,
                    "HTML report…",
                    "One file, offline: steps, explanations, chart, code, moves",
                ),
                (
                    ExportKind::Bundle,
                    "Bug bundle…",
                    "A folder to attach to an issue: CLIF, flags, regalloc2's log (its first and last records when long), the allocator input in regalloc2's own format, the diagnosis, a README",
                ),
            ] {
                if ui.button(label).on_hover_text(hint).clicked() {
                    commands.push(Command::Export(kind));
                    ui.close();
                }
            }
        });
    });
}

/// A file name for `kind` of the function on screen.
fn file_name(l: &Loaded, kind: ExportKind) -> String {
    let label = crate::engine::input::names::file_stem(&l.compiled.label);
    match kind {
        ExportKind::Svg => format!("{label}-step{}.svg", l.cursor),
        ExportKind::Png => format!("{label}-step{}.png", l.cursor),
        ExportKind::Html => format!("{label}-report.html"),
        ExportKind::Bundle => format!("{label}-bundle"),
    }
}

/// The bytes of a chart or report export of the compile on screen (made on
/// the UI thread: about half a second for the largest traces).
pub fn render(l: &Loaded, kind: ExportKind) -> Result<Vec<u8>, String> {
    let c = &l.compiled;
    let replay = &c.trace.replay;
    let title = c.label.clone();
    if l.single_pass().is_some() && kind != ExportKind::Bundle {
        return Err(
            "the chart and report exports draw bundle steps; for the single-pass allocator's \
             steps use `spillscope trace FILE --func SEL --algorithm single_pass --json`, or the bug bundle"
                .into(),
        );
    }
    match kind {
        ExportKind::Svg => {
            Ok(svg::write(&scene::chart(replay, l.cursor, &title, c.names, 600)).into_bytes())
        }
        ExportKind::Png => png::write(&scene::chart(replay, l.cursor, &title, c.names, 600)),
        ExportKind::Html => {
            let report = moves::attribute(replay, c.names);
            let diagnosis = diagnose::diagnose(&c.trace.traced.trace);
            Ok(html::write(&html::Report {
                title,
                target: c.trace.target().to_string(),
                replay,
                names: c.names,
                checker: c.trace.checker().text(),
                diagnosis: &diagnosis,
                moves: &report,
                vcode: c.trace.traced.trace.vcode_before.as_deref(),
                final_code: c.trace.code().map(|x| x.final_vcode.as_str()),
            })
            .into_bytes())
        }
        ExportKind::Bundle => Err("a bundle is written on its own thread".into()),
    }
}

/// Where to write: into `dir` when the app was given one (no dialog), else
/// the save dialog's choice, or the fallback folder.
fn destination(dir: Option<PathBuf>, name: &str, folder: bool) -> (PathBuf, bool) {
    if let Some(d) = dir {
        return (d.join(name), true);
    }
    let picked = if folder {
        rfd::FileDialog::new()
            .set_title("Folder for the bug bundle")
            .pick_folder()
            .map(|d| d.join(name))
    } else {
        rfd::FileDialog::new().set_file_name(name).save_file()
    };
    match picked {
        Some(p) => (p, true),
        None => (PathBuf::from("spillscope-exports").join(name), false),
    }
}

fn said(path: &std::path::Path, chosen: bool) -> String {
    if chosen {
        format!("exported {}", path.display())
    } else {
        format!(
            "no file chosen (the save dialog may be unavailable here): exported {}",
            path.display()
        )
    }
}

/// Writes `bytes` where the user chooses, on a thread; the answer arrives
/// on the receiver.
pub fn save(
    l: &Loaded,
    kind: ExportKind,
    bytes: Vec<u8>,
    dir: Option<PathBuf>,
    deliver: Deliver<Result<String, String>>,
) {
    let name = file_name(l, kind);
    on_thread(
        "spillscope-export",
        move || {
            let (path, chosen) = destination(dir, &name, false);
            path.parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .map_err(|e| format!("{}: cannot write: {e}", path.display()))
                .and_then(|_| {
                    crate::engine::export::write_whole(&path, &bytes).map_err(|e| e.to_string())
                })
                .map(|_| said(&path, chosen))
        },
        deliver,
    )
}

/// Writes a bug bundle of the function on screen: its raw log needs a
/// compile of its own, so all of it runs on a thread.
pub fn save_bundle(
    l: &Loaded,
    input: Arc<Input>,
    settings: Settings,
    dir: Option<PathBuf>,
    (watch, repaint): (ExportWatch, Arc<OnceLock<egui::Context>>),
    deliver: Deliver<Result<String, String>>,
) {
    let name = file_name(l, ExportKind::Bundle);
    let func_index = l.compiled.func_index;
    on_thread(
        "spillscope-bundle",
        move || {
            let (dir, chosen) = destination(dir, &name, true);
            let progress = move |bytes, records| {
                watch.bytes.store(bytes, Ordering::Relaxed);
                watch.records.store(records, Ordering::Relaxed);
                if let Some(ctx) = repaint.get() {
                    ctx.request_repaint();
                }
                !watch.cancel.load(Ordering::Relaxed)
            };
            bundle::write_function_watched(&input, func_index, settings, None, &dir, progress)
                .map(|_| said(&dir, chosen))
                .map_err(|e| e.to_string())
        },
        deliver,
    )
}
