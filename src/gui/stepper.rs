//! Step controls: first, back, forward, last, play/pause with speed, and a
//! scrubber over all steps. The arrow keys, Home, End and Space do the same
//! (handled in `App::poll`).

use super::command::Command;
use super::compiled::Loaded;

pub fn stepper_ui(
    ui: &mut egui::Ui,
    loaded: Option<&Loaded>,
    playing: bool,
    speed_steps_per_s: f32,
    commands: &mut Vec<Command>,
) {
    let (cursor, steps) = loaded.map(|l| (l.cursor, l.steps())).unwrap_or((0, 0));
    let enabled = steps > 0;
    ui.horizontal_wrapped(|ui| {
        ui.strong(format!("Step {cursor} / {steps}"));
        ui.separator();
        ui.add_enabled_ui(enabled, |ui| {
            if ui
                .button("« First")
                .on_hover_text("Before the first step (Home)")
                .clicked()
            {
                commands.push(Command::First);
            }
            if ui
                .button("< Back")
                .on_hover_text("One step back (←)")
                .clicked()
            {
                commands.push(Command::StepBack);
            }
            if ui
                .button("Forward >")
                .on_hover_text("Apply the next step (→)")
                .clicked()
            {
                commands.push(Command::StepForward);
            }
            if ui
                .button("Last »")
                .on_hover_text("After the last step (End)")
                .clicked()
            {
                commands.push(Command::Last);
            }
            let play = if playing { "Pause" } else { "Play" };
            if ui
                .button(play)
                .on_hover_text("Play or pause (Space)")
                .clicked()
            {
                commands.push(Command::TogglePlay);
            }
            let mut speed = speed_steps_per_s;
            let r = ui.add(
                egui::Slider::new(&mut speed, 0.5..=200.0)
                    .logarithmic(true)
                    .suffix(" steps/s")
                    .text("speed")
                    .max_decimals(1),
            );
            if r.changed() {
                commands.push(Command::SetSpeed(speed));
            }
        });
    });
    ui.add_enabled_ui(enabled, |ui| {
        let mut k = cursor;
        ui.spacing_mut().slider_width = (ui.available_width() - 120.0).max(100.0);
        let r = ui.add(egui::Slider::new(&mut k, 0..=steps.max(1)).text("step"));
        if r.changed() {
            commands.push(Command::Jump(k));
        }
    });
}
