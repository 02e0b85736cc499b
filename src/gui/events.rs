//! The event list: one row per step (number, bundle, outcome headline);
//! clicking a row jumps there.

use egui::RichText;

use crate::engine::trace::Outcome;

use super::chart::{preg_color, status_color};
use super::command::Command;
use super::compiled::Loaded;
use super::state::FindState;

const ROW_H: f32 = 18.0;

pub fn events_ui(
    ui: &mut egui::Ui,
    loaded: Option<&Loaded>,
    find: &FindState,
    scroll_to_cursor: &mut bool,
    commands: &mut Vec<Command>,
) {
    ui.horizontal(|ui| {
        ui.strong("Steps");
        let mut filter = find.filter;
        let label = match &find.query {
            Some(Ok(_)) => format!("only the {} that match the search", find.matches.len()),
            _ => "only those that match the search".to_string(),
        };
        if ui.checkbox(&mut filter, label).changed() {
            commands.push(Command::SetFilterSteps(filter));
        }
    });
    let Some(l) = loaded else {
        return;
    };
    let steps = l.compiled.trace.replay.steps();
    let single_pass = l.single_pass();
    let filtering = find.filter && matches!(find.query, Some(Ok(_)));
    // The rows shown: every step, or the matches (0-based step indices).
    let shown: &[usize] = &find.matches;
    let count = if filtering { shown.len() } else { l.steps() };
    let mut area = egui::ScrollArea::vertical()
        .id_salt("events")
        .auto_shrink([false, false]);
    // The rows drawn last frame: a cursor row already among them is left
    // where it is, so a click on a row never moves the list under the pointer.
    let drawn_id = ui.scope_id().with("events_drawn");
    let drawn: Option<std::ops::Range<usize>> = ui.data(|d| d.get_temp(drawn_id));
    if std::mem::take(scroll_to_cursor) {
        let at = if filtering {
            shown.partition_point(|&i| i + 1 < l.cursor)
        } else {
            l.cursor
        };
        // The cursor's own row (the row of step k is k - 1), on screen (the
        // last row drawn may be cut off).
        let row = if filtering { at } else { at.saturating_sub(1) };
        let in_view = drawn.is_some_and(|d| row >= d.start && row + 1 < d.end);
        if !in_view {
            // Keep the current row a few rows from the top.
            let top = at.saturating_sub(4) as f32;
            area = area.vertical_scroll_offset(top * (ROW_H + ui.spacing().item_spacing.y));
            // The rows drawn this frame are the old ones: draw again.
            ui.ctx().request_repaint();
        }
    }
    area.show_rows(ui, ROW_H, count, |ui, rows| {
        ui.data_mut(|d| d.insert_temp(drawn_id, rows.clone()));
        for row in rows {
            let i = if filtering { shown[row] } else { row };
            let k = i + 1;
            let spilled = status_color(crate::engine::replay::Status::Spilled(
                crate::engine::trace::SpillKind::NoRegisterLeft,
            ));
            let dot = match single_pass {
                // Single-pass: an eviction or a new slot in the spill
                // colour, a block start grey, an instruction by its first
                // register taken.
                Some(log) => {
                    let s = &log.steps[i];
                    if s.evictions().next().is_some() || s.slots().next().is_some() {
                        spilled
                    } else if s.at == crate::engine::trace::SpAt::BlockStart {
                        egui::Color32::GRAY
                    } else {
                        s.events
                            .iter()
                            .find_map(|e| match e {
                                crate::engine::trace::SpEvent::Picked { preg, .. } => {
                                    Some(preg_color(*preg))
                                }
                                _ => None,
                            })
                            .unwrap_or(egui::Color32::from_gray(110))
                    }
                }
                None => match &steps[i].outcome {
                    Outcome::Allocated { preg } => preg_color(*preg),
                    Outcome::Split { .. } => egui::Color32::from_rgb(80, 220, 255),
                    Outcome::Spilled { .. } => spilled,
                    Outcome::Incomplete => egui::Color32::GRAY,
                },
            };
            ui.horizontal(|ui| {
                ui.set_height(ROW_H);
                ui.label(RichText::new("●").monospace().color(dot));
                let text = format!("{k:>5}  {}", l.compiled.headlines[i]);
                let r = ui.add(
                    egui::Button::selectable(
                        l.cursor == k,
                        RichText::new(text).monospace().size(11.5),
                    )
                    .truncate(),
                );
                if r.clicked() {
                    commands.push(Command::Jump(k));
                }
            });
        }
    });
}
