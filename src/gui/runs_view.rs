//! The Compare runs tab: the chosen function run twice (algorithm, register
//! counts, target, opt level, or a regalloc2 log), both charts one above the
//! other on the same program points, and their differences in words.

use crate::engine::replay::diff::DiffReport;

use super::chart::{self, ChartView};
use super::chart_model::RowMode;
use super::command::Command;
use super::compiled::Loaded;
use super::single_pass_view::{self, SpView};
use super::state::RunsState;

/// Ready-made pairs of runs: the yanked release against its fix, and the
/// oldest built-in release against the newest.
const PAIRS: [(&str, &str, &str); 2] = [
    ("0.11.3 vs 0.12.2", "regalloc2=0.11.3", "regalloc2=0.12.2"),
    ("oldest vs newest", "regalloc2=0.9.3", "regalloc2=0.15.2"),
];

/// Ready-made second runs.
const PRESETS: [(&str, &str); 5] = [
    ("fewer registers", "registers=int:6"),
    ("single-pass", "algorithm=single_pass"),
    ("aarch64", "target=aarch64"),
    ("riscv64", "target=riscv64"),
    ("opt none", "opt=none"),
];

/// The tab. `a` and `b` are the run specs being edited.
pub fn runs_ui(
    ui: &mut egui::Ui,
    a: &mut String,
    b: &mut String,
    runs: &mut RunsState,
    mode: RowMode,
    have_function: bool,
    commands: &mut Vec<Command>,
) {
    ui.horizontal_wrapped(|ui| {
        ui.label("a:");
        ui.add(
            egui::TextEdit::singleline(a)
                .hint_text("the settings above")
                .desired_width(200.0),
        );
        ui.label("b:");
        ui.add(egui::TextEdit::singleline(b).desired_width(200.0));
        let running = runs.running;
        if ui
            .add_enabled(have_function && !running, egui::Button::new("Compare"))
            .clicked()
        {
            commands.push(Command::CompareRuns(a.clone(), b.clone()));
        }
        ui.weak("b as:");
        for (name, spec) in PRESETS {
            if ui.small_button(name).clicked() {
                *b = spec.to_string();
                commands.push(Command::CompareRuns(a.clone(), spec.to_string()));
            }
        }
        ui.weak("releases:");
        for (name, spec_a, spec_b) in PAIRS {
            if ui.small_button(name).clicked() {
                *a = spec_a.to_string();
                *b = spec_b.to_string();
                commands.push(Command::CompareRuns(a.clone(), b.clone()));
            }
        }
    });
    ui.label(
        egui::RichText::new(
            "KEY=VALUE,… with algorithm (backtracking, single_pass), regalloc2 (0.9.3 … 0.15.2), \
             registers (int:4+float:8), \
             target, opt (none, speed, speed_and_size), or log=FILE alone; left out: the settings \
             above. Both charts show the same program points when both runs allocated the same code.",
        )
        .small()
        .weak(),
    );
    ui.separator();
    let (view_a, view_b, shown) = (&mut runs.view_a, &mut runs.view_b, &mut runs.shown);
    let (sp_a, sp_b) = (&mut runs.sp_a, &mut runs.sp_b);
    match &runs.result {
        None if runs.running => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("running the function twice…");
            });
        }
        None => {
            ui.label("Choose two runs and press Compare.");
        }
        Some(Err(e)) => {
            ui.colored_label(ui.visuals().error_fg_color, e.as_str());
        }
        Some(Ok(pair)) => {
            let full = ui.available_size();
            let left_w = (full.x * 0.64).max(300.0);
            let down = egui::Layout::top_down(egui::Align::Min);
            ui.horizontal_top(|ui| {
                ui.allocate_ui_with_layout(egui::vec2(left_w, full.y), down, |ui| {
                    let half = ((full.y - 8.0) / 2.0).max(120.0);
                    ui.allocate_ui_with_layout(egui::vec2(left_w, half), down, |ui| {
                        side_ui(ui, "a", &pair.a, (view_a, sp_a), mode, false, commands)
                    });
                    ui.allocate_ui_with_layout(egui::vec2(left_w, half), down, |ui| {
                        side_ui(ui, "b", &pair.b, (view_b, sp_b), mode, true, commands)
                    });
                });
                ui.separator();
                ui.allocate_ui_with_layout(ui.available_size(), down, |ui| {
                    differences_ui(ui, &pair.report, commands)
                });
            });
            // One window for both: a pan or zoom of either moves the other.
            if pair.report.aligned {
                let (ra, rb) = (view_a.x_range(), view_b.x_range());
                let moved = match *shown {
                    Some(shown) if ra != shown => Some(ra),
                    Some(shown) if rb != shown => Some(rb),
                    None => Some(ra),
                    _ => None,
                };
                if let Some(r) = moved {
                    view_a.set_x_range(r);
                    view_b.set_x_range(r);
                    *shown = Some(r);
                }
            }
        }
    }
}

/// One run: its label, a step slider, its chart.
fn side_ui(
    ui: &mut egui::Ui,
    name: &str,
    loaded: &Loaded,
    (view, sp_view): (&mut ChartView, &mut SpView),
    mode: RowMode,
    is_b: bool,
    commands: &mut Vec<Command>,
) {
    let c = &loaded.compiled;
    let counts = c.trace.traced.trace.counts();
    ui.horizontal_wrapped(|ui| {
        ui.strong(format!("{name}: {}", c.label));
        ui.weak(format!(
            "{} steps · {} splits · {} spills · {} reloads · checker {}",
            // A single-pass run's own steps (its counts are the backtracking
            // allocator's).
            loaded.steps(),
            counts.splits,
            c.moves.summary.spills,
            c.moves.summary.reloads,
            c.trace.checker().text()
        ));
    });
    let steps = loaded.steps();
    if steps == 0 {
        ui.label("No allocator steps in this run. Its edits are compared on the right.");
        return;
    }
    let mut step = loaded.cursor;
    ui.horizontal(|ui| {
        ui.label("step");
        if ui
            .add(egui::Slider::new(&mut step, 0..=steps).clamping(egui::SliderClamping::Always))
            .changed()
        {
            commands.push(Command::RunsSeek { b: is_b, step });
        }
    });
    // The chart's own commands (jumps in the main replay) do not apply here.
    let mut ignored = Vec::new();
    if let Some(log) = loaded.single_pass() {
        single_pass_view::chart_ui(ui, loaded, log, &c.sp_rows, sp_view, &mut ignored);
        return;
    }
    chart::chart_ui(
        ui,
        view,
        mode,
        &c.chart,
        loaded.id,
        &loaded.state,
        &loaded.focus,
        c.trace.replay.steps(),
        &mut ignored,
    );
}

/// Totals side by side, then every difference; one with a program point
/// shows it in both charts.
fn differences_ui(ui: &mut egui::Ui, report: &DiffReport, commands: &mut Vec<Command>) {
    // Room for the scroll bar: long lines wrap inside the panel.
    ui.set_max_width(ui.available_width() - 14.0);
    ui.strong("Differences");
    egui::Grid::new("runs_totals").striped(true).show(ui, |ui| {
        ui.label("");
        ui.strong("a");
        ui.strong("b");
        ui.end_row();
        for (what, x, y) in report.a.rows(&report.b) {
            ui.label(what);
            ui.label(x.to_string());
            if x == y {
                ui.label(y.to_string());
            } else {
                ui.colored_label(ui.visuals().warn_fg_color, y.to_string());
            }
            ui.end_row();
        }
    });
    if let Some(note) = &report.note {
        ui.weak(note);
    }
    egui::ScrollArea::vertical()
        .id_salt("runs_differences")
        .show(ui, |ui| {
            for d in report.differences.iter().filter(|d| d.kind != "totals") {
                match d.point {
                    Some(p) if report.aligned => {
                        if ui
                            .add(egui::Label::new(&d.text).sense(egui::Sense::click()))
                            .on_hover_text(format!("show {} in both charts", p.text()))
                            .clicked()
                        {
                            commands.push(Command::RunsFocus(p, d.vreg));
                        }
                    }
                    _ => {
                        ui.label(&d.text);
                    }
                }
                ui.add_space(2.0);
            }
            if report.not_listed > 0 {
                ui.weak(format!(
                    "… and {} more (spillscope diff --json lists them all)",
                    report.not_listed
                ));
            }
        });
}
