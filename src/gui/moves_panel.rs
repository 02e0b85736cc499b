//! The Moves list: every move, spill and reload regalloc2 inserted, with the
//! step that caused it; clicking a row jumps the replay to that step and
//! marks the move's code in every code view.

use egui::RichText;

use crate::engine::replay::moves::MoveKind;

use super::command::Command;
use super::compiled::Loaded;

const ROW_H: f32 = 18.0;

fn kind_color(k: MoveKind) -> egui::Color32 {
    match k {
        MoveKind::Move => egui::Color32::from_rgb(150, 200, 255),
        MoveKind::Spill => egui::Color32::from_rgb(255, 150, 90),
        MoveKind::Reload => egui::Color32::from_rgb(240, 210, 90),
        MoveKind::StackMove => egui::Color32::from_rgb(200, 160, 255),
    }
}

pub fn moves_ui(ui: &mut egui::Ui, loaded: Option<&Loaded>, commands: &mut Vec<Command>) {
    let Some(l) = loaded else {
        ui.label(RichText::new("nothing compiled yet").weak());
        return;
    };
    let report = &l.compiled.moves;
    if let Some(note) = &report.note {
        ui.label(RichText::new(note).weak());
        return;
    }
    let s = &report.summary;
    ui.label(
        RichText::new(format!(
            "{} moves, {} spills, {} reloads, {} stack-to-stack; {} without a cause step, {} forced by reuse, {} look redundant",
            s.moves, s.spills, s.reloads, s.stack_moves, s.unattributed, s.reuse, s.redundant
        ))
        .small(),
    );
    ui.label(
        RichText::new("Click a row: the replay jumps to its cause and the code views mark it.")
            .small()
            .weak(),
    );
    egui::ScrollArea::vertical()
        .id_salt("moves")
        .auto_shrink([false, false])
        .show_rows(ui, ROW_H, report.moves.len(), |ui, rows| {
            for i in rows {
                let m = &report.moves[i];
                ui.horizontal(|ui| {
                    ui.set_height(ROW_H);
                    ui.label(RichText::new("●").monospace().color(kind_color(m.kind)));
                    let vreg = m.vreg.map_or_else(|| "—".into(), |v| format!("v{v}"));
                    let cause = m
                        .cause
                        .as_ref()
                        .map_or_else(|| m.reason.to_string(), |c| format!("step {}", c.step));
                    let flags = match (m.redundant, m.reuse) {
                        (true, _) => " redundant?",
                        (_, true) => " reuse",
                        _ => "",
                    };
                    let text = format!(
                        "{:>9} {:<6} {:>7} → {:<7} {:<6} {cause}{flags}",
                        m.point.text(),
                        m.kind.word(),
                        m.from,
                        m.to,
                        vreg
                    );
                    let r = ui
                        .add(
                            egui::Button::selectable(
                                l.selected_move == Some(i),
                                RichText::new(text).monospace().size(11.5),
                            )
                            .truncate(),
                        )
                        .on_hover_text(&m.why);
                    if r.clicked() {
                        commands.push(Command::ShowMove(i));
                    }
                });
            }
        });
}
