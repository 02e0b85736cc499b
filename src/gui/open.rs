//! The toolbar (open by dialog, by typed path, the built-in sample; target, opt
//! level and algorithm; the worker's progress) and the error banner.

use egui::{Color32, RichText};

use crate::engine::input::isa::{Algorithm, OptLevel, Target};
use crate::engine::releases::Release;
use crate::engine::session::Settings;

use super::command::Command;
use super::state::Busy;
use super::worker::{Budget, Source, TimeLimit};

/// The path field's id, so the app can focus it when the dialog fails.
pub fn path_field_id() -> egui::Id {
    egui::Id::unique("open_path_field")
}

/// The path field: the text being typed (the panel's own), and whether it
/// should take the focus (set when the file dialog could not be shown).
pub struct PathField<'a> {
    pub text: &'a mut String,
    pub focus: &'a mut bool,
}

#[allow(clippy::too_many_arguments)]
pub fn toolbar_ui(
    ui: &mut egui::Ui,
    field: PathField,
    note: Option<&str>,
    settings: Settings,
    budget: Budget,
    source: Option<&Source>,
    busy: Option<&Busy>,
    last_elapsed_ms: Option<u128>,
    have_trace: bool,
    commands: &mut Vec<Command>,
) {
    ui.add_space(2.0);
    ui.horizontal_wrapped(|ui| {
        ui.heading(RichText::new("spillscope").strong());
        ui.separator();
        if ui
            .button("Open…")
            .on_hover_text(
                "Open a .wasm, .wat or .clif file or a regalloc2 log (or drop one on the window)",
            )
            .clicked()
        {
            commands.push(Command::OpenDialog);
        }
        let path_label = ui.label("Path");
        let edit = egui::TextEdit::singleline(&mut *field.text)
            .id(path_field_id())
            .hint_text("type a path to a .wasm, .wat, .clif file or a regalloc2 log")
            .desired_width(220.0);
        let resp = ui
            .add(edit)
            .labelled_by(path_label.id)
            .on_hover_text("Path of the file to open; Enter opens it");
        if *field.focus {
            resp.request_focus();
            *field.focus = false;
        }
        let entered = resp.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let path = field.text.trim().to_string();
        if (ui.button("Open path").clicked() || entered) && !path.is_empty() {
            commands.push(Command::OpenPath(path.into()));
        }
        if ui
            .button("Sample")
            .on_hover_text("Reopen the built-in sample (pressure.wat)")
            .clicked()
        {
            commands.push(Command::OpenSample);
        }
        ui.separator();
        settings_ui(ui, settings, commands);
        budget_ui(ui, budget, commands);
        ui.separator();
        super::export_menu::export_menu_ui(ui, have_trace, commands);
    });
    ui.horizontal(|ui| {
        match busy {
            Some(b) => {
                ui.spinner();
                if ui
                    .small_button("Stop")
                    .on_hover_text(
                        "Stop this request; a traced compile stops at its next allocator step \
                         and the steps so far stay on screen",
                    )
                    .clicked()
                {
                    commands.push(Command::Stop);
                }
                ui.label(format!(
                    "{} ({:.1} s)",
                    b.stage,
                    b.started.elapsed().as_secs_f32()
                ));
            }
            None => {
                let file = source.map(Source::name).unwrap_or_else(|| "no file".into());
                let took = last_elapsed_ms
                    .map(|ms| format!(" · last request took {ms} ms"))
                    .unwrap_or_default();
                ui.label(RichText::new(format!("{file}{took}")).weak());
            }
        }
        if let Some(note) = note {
            ui.separator();
            ui.colored_label(Color32::from_rgb(230, 170, 60), note);
        }
    });
    ui.add_space(2.0);
}

fn settings_ui(ui: &mut egui::Ui, settings: Settings, commands: &mut Vec<Command>) {
    let mut s = settings;
    let target_label = ui.label("Target");
    egui::ComboBox::from_id_salt("target")
        .width(72.0)
        .selected_text(s.target.name())
        .show_ui(ui, |ui| {
            for t in Target::ALL {
                ui.selectable_value(&mut s.target, t, t.name());
            }
        })
        .response
        .labelled_by(target_label.id);
    let opt_label = ui.label("Opt");
    egui::ComboBox::from_id_salt("opt")
        .width(112.0)
        .selected_text(s.opt.name())
        .show_ui(ui, |ui| {
            for o in OptLevel::ALL {
                ui.selectable_value(&mut s.opt, o, o.name());
            }
        })
        .response
        .labelled_by(opt_label.id);
    let allocator_label = ui.label("Allocator");
    egui::ComboBox::from_id_salt("allocator")
        .width(100.0)
        .selected_text(s.algorithm.name())
        .show_ui(ui, |ui| {
            for a in Algorithm::ALL {
                ui.selectable_value(&mut s.algorithm, a, a.name());
            }
        })
        .response
        .labelled_by(allocator_label.id);
    let release_label = ui.label("regalloc2");
    egui::ComboBox::from_id_salt("regalloc2_release")
        .width(66.0)
        .selected_text(s.release.version())
        .show_ui(ui, |ui| {
            for r in Release::ALL {
                let mut name = r.version().to_string();
                if r == Release::CRANELIFT {
                    name.push_str(" (Cranelift's)");
                } else if r == Release::V0_11 {
                    name.push_str(" (yanked)");
                }
                let enabled = s.algorithm != Algorithm::SinglePass || r.has_single_pass();
                let item = ui.add_enabled(enabled, egui::Button::selectable(s.release == r, name));
                let item = match r.note() {
                    Some(note) => item.on_hover_text(note),
                    None => item,
                };
                if item.clicked() {
                    s.release = r;
                }
            }
        })
        .response
        .labelled_by(release_label.id)
        .on_hover_text(
            "The regalloc2 release that allocates. Another than Cranelift's allocates the \
             function Cranelift gave regalloc2 again, in-process: its steps, its checker, no \
             machine code.",
        );
    if s.algorithm == Algorithm::SinglePass && !s.release.has_single_pass() {
        s.release = Release::CRANELIFT;
    }
    if s != settings {
        commands.push(Command::SetSettings(s));
    }
}

/// Budgets offered, in regalloc2 records; `None` scales with the function.
const BUDGETS: [Option<u64>; 7] = [
    None,
    Some(1_000),
    Some(10_000),
    Some(100_000),
    Some(1_000_000),
    Some(10_000_000),
    Some(100_000_000),
];

/// Time limits offered.
const TIME_LIMITS: [TimeLimit; 7] = [
    TimeLimit::Auto,
    TimeLimit::Seconds(10),
    TimeLimit::Seconds(30),
    TimeLimit::Seconds(120),
    TimeLimit::Seconds(600),
    TimeLimit::Seconds(3600),
    TimeLimit::Unlimited,
];

fn budget_text(b: Option<u64>) -> String {
    match b {
        None => "auto".into(),
        Some(n) if n >= 1_000_000 => format!("{} M records", n / 1_000_000),
        Some(n) => format!("{} k records", n / 1_000),
    }
}

fn budget_ui(ui: &mut egui::Ui, budget: Budget, commands: &mut Vec<Command>) {
    let mut b = budget;
    let label = ui.label("Budget");
    egui::ComboBox::from_id_salt("budget")
        .width(96.0)
        .selected_text(budget_text(b.records))
        .show_ui(ui, |ui| {
            for choice in BUDGETS {
                ui.selectable_value(&mut b.records, choice, budget_text(choice));
            }
        })
        .response
        .labelled_by(label.id)
        .on_hover_text(
            "Stop an allocation after this many regalloc2 trace records (auto: scaled to the \
             function's size); the trace so far stays steppable",
        );
    let label = ui.label("Time");
    egui::ComboBox::from_id_salt("time_limit")
        .width(80.0)
        .selected_text(b.time.text())
        .show_ui(ui, |ui| {
            for choice in TIME_LIMITS {
                ui.selectable_value(&mut b.time, choice, choice.text());
            }
        })
        .response
        .labelled_by(label.id)
        .on_hover_text(format!(
            "Stop an allocation after this long (auto: {} s, plus about a second per KB of the \
             function's Wasm body, at most 15 min; no limit: only Stop ends it); the trace so \
             far stays steppable",
            super::worker::DEADLINE.as_secs()
        ));
    if b != budget {
        commands.push(Command::SetBudget(b));
    }
}

/// A red strip naming the file and the problem, with a dismiss button.
pub fn error_banner_ui(ui: &mut egui::Ui, error: &str, commands: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        if ui.button("Dismiss").clicked() {
            commands.push(Command::DismissError);
        }
        ui.add(
            egui::Label::new(
                RichText::new(format!("Error: {error}"))
                    .color(Color32::from_rgb(255, 225, 220))
                    .strong(),
            )
            .wrap(),
        );
    });
}
