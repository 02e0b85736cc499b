//! The Releases tab: the function Cranelift gave regalloc2, allocated by
//! every built-in release (0.9.3 to 0.15.2), as a table; a release's row
//! steps that release's allocation (the twin of `spillscope versions`).

use egui::{Color32, RichText};

use crate::engine::releases::Release;
use crate::engine::releases::versions::{Outcome, Versions};
use crate::engine::session::Settings;

use super::command::Command;
use super::state::VersionsState;
use super::tabs::CentralTab;

/// The tab. It asks for the table when the function or settings on screen
/// have none yet.
pub fn releases_ui(
    ui: &mut egui::Ui,
    state: &VersionsState,
    selected: Option<u32>,
    settings: Settings,
    tree_path: &mut String,
    commands: &mut Vec<Command>,
) {
    let Some(func) = selected else {
        ui.label("Choose a function on the left: every regalloc2 release allocates it here.");
        return;
    };
    tree_ui(ui, tree_path, commands);
    let key = VersionsState::key_for(func, settings);
    if state.key != Some(key) {
        commands.push(Command::RunVersions);
    }
    ui.label(format!(
        "The function Cranelift gave regalloc2, allocated by every built-in release with the {} \
         allocator, each traced with the loop detector and checked by its own checker. \
         Click a release to step its allocation.",
        settings.algorithm.name()
    ));
    ui.add_space(4.0);
    match (&state.result, state.key == Some(key)) {
        (Some(Ok(v)), true) => table_ui(ui, v, settings, commands),
        (Some(Err(e)), true) => {
            ui.colored_label(ui.visuals().error_fg_color, e.as_str());
        }
        _ => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("allocating with every release…");
            });
        }
    }
}

/// Your own regalloc2: a source tree's path, and a button that steps the
/// function as a runner built against it allocates it.
fn tree_ui(ui: &mut egui::Ui, path: &mut String, commands: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        ui.label("Your own regalloc2:");
        let field = ui.add(
            egui::TextEdit::singleline(path)
                .hint_text("a regalloc2 source tree (a checkout or an unpacked crate)")
                .desired_width(360.0),
        );
        let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let trimmed = path.trim();
        if (ui
            .add_enabled(!trimmed.is_empty(), egui::Button::new("Step it"))
            .on_hover_text(
                "Builds a small runner against the tree once (cargo, cached by its content), \
                 then steps its allocation of this function, read live with the loop detector",
            )
            .clicked()
            || entered)
            && !trimmed.is_empty()
        {
            commands.push(Command::StepTree(trimmed.into()));
        }
    });
    ui.add_space(4.0);
}

fn outcome_color(ui: &egui::Ui, outcome: &Outcome) -> Color32 {
    match outcome {
        Outcome::Ok => ui.visuals().text_color(),
        Outcome::CannotTake { .. } => ui.visuals().weak_text_color(),
        _ => ui.visuals().error_fg_color,
    }
}

fn table_ui(ui: &mut egui::Ui, v: &Versions, settings: Settings, commands: &mut Vec<Command>) {
    let dash = |n: Option<usize>| n.map_or("–".to_string(), |n| n.to_string());
    egui::ScrollArea::both().show(ui, |ui| {
        egui::Grid::new("releases_table")
            .striped(true)
            .spacing([14.0, 4.0])
            .show(ui, |ui| {
                for h in [
                    "release",
                    "outcome",
                    "steps",
                    "splits",
                    "evictions",
                    "spilled",
                    "spills",
                    "reloads",
                    "moves",
                    "stack",
                    "slots",
                    "checker",
                    "alloc ms",
                    "vs older",
                ] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for row in &v.rows {
                    let current = row.release == settings.release;
                    let mut name = row.release.version().to_string();
                    if row.release == Release::CRANELIFT {
                        name.push_str(" (Cranelift's)");
                    }
                    let button = ui
                        .selectable_label(current, name)
                        .on_hover_text(row.note.unwrap_or("Step this release's allocation"));
                    if button.clicked() {
                        commands.push(Command::SetSettings(Settings {
                            release: row.release,
                            ..settings
                        }));
                        commands.push(Command::SetCentral(CentralTab::Allocator));
                    }
                    ui.colored_label(outcome_color(ui, &row.outcome), row.outcome.word())
                        .on_hover_text(row.outcome.text());
                    let e = row.edits;
                    for cell in [
                        row.counts.steps.to_string(),
                        row.counts.splits.to_string(),
                        row.counts.evictions.to_string(),
                        row.counts.spilled.to_string(),
                        dash(e.map(|e| e.spills)),
                        dash(e.map(|e| e.reloads)),
                        dash(e.map(|e| e.moves)),
                        dash(e.map(|e| e.stack_moves)),
                        dash(row.slots),
                    ] {
                        ui.label(cell);
                    }
                    let checker_ok = matches!(row.checker.as_str(), "ok" | "not run");
                    if checker_ok {
                        ui.label(&row.checker);
                    } else {
                        ui.colored_label(ui.visuals().error_fg_color, "failed")
                            .on_hover_text(&row.checker);
                    }
                    ui.label(
                        row.allocation_ms
                            .map_or("–".to_string(), |ms| format!("{ms:.2}")),
                    );
                    ui.label(match row.differs_from_previous {
                        Some(true) => "differs",
                        Some(false) => "same",
                        None => "–",
                    });
                    ui.end_row();
                }
            });
        ui.add_space(6.0);
        if let Some(next) = v.pending.first() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!(
                    "allocating with regalloc2 {next} ({} to go)…",
                    v.pending.len()
                ));
            });
        } else {
            ui.label(match v.first_difference {
                Some(r) => {
                    format!("First release whose allocation differs from the one before: {r}.")
                }
                None => "Every release that finished made the same allocation.".into(),
            });
        }
        for row in &v.rows {
            if !matches!(row.outcome, Outcome::Ok) {
                ui.colored_label(
                    outcome_color(ui, &row.outcome),
                    format!("{}: {}", row.release, row.outcome.text()),
                );
            }
        }
    });
}
