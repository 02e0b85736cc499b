//! Step controls: first, back, forward, last, play/pause with speed, and a
//! scrubber over all steps. The arrow keys, Home, End and Space do the same
//! (handled in `App::poll`).

use super::command::Command;
use super::compiled::Loaded;
use super::state::FindState;
use crate::engine::replay::query::{StepQuery, Term};

pub fn stepper_ui(
    ui: &mut egui::Ui,
    loaded: Option<&Loaded>,
    playing: bool,
    speed_steps_per_s: f32,
    find: &FindState,
    commands: &mut Vec<Command>,
) {
    let (cursor, steps) = loaded.map(|l| (l.cursor, l.steps())).unwrap_or((0, 0));
    let enabled = steps > 0;
    ui.horizontal_wrapped(|ui| {
        // A fixed width, so the buttons after it stay put as the count grows.
        let digits = steps.max(1).to_string().len();
        let text = format!("Step {cursor} / {steps}");
        let width = ui.fonts_mut(|f| {
            f.layout_no_wrap(
                format!("Step {} / {steps}", "0".repeat(digits)),
                egui::FontId::monospace(13.0),
                egui::Color32::WHITE,
            )
            .size()
            .x
        });
        ui.add_sized(
            [width + 4.0, 18.0],
            egui::Label::new(egui::RichText::new(text).monospace().size(13.0).strong()),
        );
        ui.separator();
        // One widget at a time, so the row wraps between them (a group
        // would be cut at the panel's edge instead).
        for (label, hover, command) in [
            ("« First", "Before the first step (Home)", Command::First),
            ("< Back", "One step back (←)", Command::StepBack),
            ("Forward >", "Apply the next step (→)", Command::StepForward),
            ("Last »", "After the last step (End)", Command::Last),
        ] {
            if ui
                .add_enabled(enabled, egui::Button::new(label))
                .on_hover_text(hover)
                .clicked()
            {
                commands.push(command);
            }
        }
        // Play and Pause take the same room.
        let play = if playing { "Pause" } else { "Play" };
        if ui
            .add_enabled_ui(enabled, |ui| {
                ui.add_sized([52.0, 20.0], egui::Button::new(play))
            })
            .inner
            .on_hover_text("Play or pause (Space)")
            .clicked()
        {
            commands.push(Command::TogglePlay);
        }
        let mut speed = speed_steps_per_s;
        let r = ui
            .add_enabled(
                enabled,
                egui::DragValue::new(&mut speed)
                    .range(0.5..=500.0)
                    .speed(0.5)
                    .suffix(" steps/s")
                    .max_decimals(1),
            )
            .on_hover_text("Play speed: drag or type");
        if r.changed() {
            commands.push(Command::SetSpeed(speed));
        }
    });
    find_ui(ui, enabled, find, commands);
    ui.add_enabled_ui(enabled, |ui| {
        let mut k = cursor;
        ui.spacing_mut().slider_width = (ui.available_width() - 120.0).max(100.0);
        let r = ui.add(egui::Slider::new(&mut k, 0..=steps.max(1)).text("step"));
        if r.changed() {
            commands.push(Command::Jump(k));
        }
    });
}

/// The second row: next/previous split, eviction and spill, and the step
/// search with its next/previous and breakpoint.
fn find_ui(ui: &mut egui::Ui, enabled: bool, find: &FindState, commands: &mut Vec<Command>) {
    ui.horizontal_wrapped(|ui| {
        for (word, term, what) in [
            ("split", Term::Split, "a split"),
            ("evict", Term::Eviction, "an eviction"),
            ("spill", Term::Spill, "a spill"),
        ] {
            let q = StepQuery { terms: vec![term] };
            if ui
                .add_enabled(enabled, egui::Button::new(format!("◀ {word}")).small())
                .on_hover_text(format!(
                    "The previous step with {what} (Shift+{})",
                    key_of(word)
                ))
                .clicked()
            {
                commands.push(Command::Seek(q.clone(), false));
            }
            if ui
                .add_enabled(enabled, egui::Button::new(format!("{word} ▶")).small())
                .on_hover_text(format!("The next step with {what} ({})", key_of(word)))
                .clicked()
            {
                commands.push(Command::Seek(q, true));
            }
        }
        ui.separator();
        let mut text = find.text.clone();
        let label = ui.label("Find");
        let r = ui
            .add_enabled(
                enabled,
                egui::TextEdit::singleline(&mut text)
                    .id_salt("step_find")
                    .hint_text("split bundle 12, v40, rax …")
                    .desired_width(150.0),
            )
            .labelled_by(label.id)
            .on_hover_text(
                "Steps that match every word: split, evict, spill, alloc, bundle 12 (or b12), \
                 v40, a register (rax, p3i). Enter or F3: next match",
            );
        if r.changed() {
            commands.push(Command::SetFind(text));
        }
        if r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
            commands.push(Command::FindNext(true));
        }
        let ok = matches!(find.query, Some(Ok(_)));
        if ui
            .add_enabled(ok, egui::Button::new("◀").small())
            .on_hover_text("The previous match (Shift+F3)")
            .clicked()
        {
            commands.push(Command::FindNext(false));
        }
        if ui
            .add_enabled(ok, egui::Button::new("▶").small())
            .on_hover_text("The next match (F3)")
            .clicked()
        {
            commands.push(Command::FindNext(true));
        }
        let mut on = find.break_on;
        if ui
            .add_enabled(ok, egui::Checkbox::new(&mut on, "stop Play here"))
            .on_hover_text("A breakpoint: Play stops at the next step that matches")
            .changed()
        {
            commands.push(Command::SetBreakOnFind(on));
        }
        match &find.query {
            Some(Ok(_)) => {
                ui.label(
                    egui::RichText::new(format!("{} steps match", find.matches.len())).small(),
                );
            }
            Some(Err(e)) => {
                ui.label(
                    egui::RichText::new(e)
                        .small()
                        .color(egui::Color32::from_rgb(230, 150, 90)),
                );
            }
            None => {}
        }
    });
}

/// The key of a next-step button.
fn key_of(word: &str) -> &'static str {
    match word {
        "split" => "S",
        "evict" => "E",
        _ => "P",
    }
}
