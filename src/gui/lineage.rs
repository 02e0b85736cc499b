//! The lineage panel: the tree of bundle → split children, with the step that
//! made each child and how each bundle ended; clicking a row jumps the replay
//! there. Bundles in a detected loop are marked, and the loop's diagnosis heads
//! the panel.
//!
//! The tree comes flattened from the worker ([`super::lineage_model`]) and is
//! drawn with `show_rows`.

use egui::{Color32, RichText};

use crate::engine::replay::diagnose::Diagnosis;
use crate::engine::trace::BundleId;

use super::command::Command;
use super::lineage_model::{LineageModel, LineageRow};

/// Indentation stops growing here; deeper rows say their depth.
const MAX_INDENT: u32 = 16;
const ROW_H: f32 = 18.0;
pub const LOOP_COLOR: Color32 = Color32::from_rgb(240, 90, 200);

/// The panel: the diagnosis on top, then one row per bundle in the forest.
pub fn lineage_ui(
    ui: &mut egui::Ui,
    model: &LineageModel,
    diagnosis: Option<&Diagnosis>,
    current: Option<BundleId>,
    scroll_to_current: &mut bool,
    commands: &mut Vec<Command>,
) {
    if let Some(d) = diagnosis {
        diagnosis_ui(ui, d, commands);
    }
    if model.rows.is_empty() {
        ui.label(RichText::new("No bundle was split in this trace.").weak());
        return;
    }
    ui.label(
        RichText::new(format!(
            "{} bundles split, {} bundles in the tree · click a row to jump there",
            model.splits,
            model.rows.len()
        ))
        .small()
        .weak(),
    );
    let mut area = egui::ScrollArea::vertical()
        .id_salt("lineage_rows")
        .auto_shrink([false, false]);
    if std::mem::take(scroll_to_current)
        && let Some(row) = current.and_then(|b| model.row_of.get(&b))
    {
        // A few rows of context above the current bundle.
        let pitch = ROW_H + ui.spacing().item_spacing.y;
        area = area.vertical_scroll_offset(row.saturating_sub(3) as f32 * pitch);
    }
    area.show_rows(ui, ROW_H, model.rows.len(), |ui, range| {
        for row in &model.rows[range] {
            row_ui(ui, row, current, commands);
        }
    });
}

fn row_ui(
    ui: &mut egui::Ui,
    row: &LineageRow,
    current: Option<BundleId>,
    commands: &mut Vec<Command>,
) {
    ui.horizontal(|ui| {
        ui.set_height(ROW_H);
        ui.add_space(row.depth.min(MAX_INDENT) as f32 * 10.0);
        let mut text = String::new();
        if row.depth > MAX_INDENT {
            text.push_str(&format!("[depth {}] ", row.depth));
        }
        if row.in_cycle {
            text.push_str("[loop] ");
        }
        text.push_str(&format!("b{}", row.bundle));
        match row.created_at {
            Some(s) => text.push_str(&format!("  from step {}", s + 1)),
            None => text.push_str("  (before allocation)"),
        }
        text.push_str(&format!("  · {}", row.ended));
        match row.children {
            0 => {}
            1 => text.push_str("  · 1 child"),
            n => text.push_str(&format!("  · {n} children")),
        }
        let mut rich = RichText::new(text).monospace();
        if row.in_cycle {
            rich = rich.color(LOOP_COLOR);
        }
        if Some(row.bundle) == current {
            rich = rich.strong().underline();
        }
        let target = row.created_at.or(row.first_step).map(|s| s + 1);
        let resp = ui.add(
            egui::Label::new(rich)
                .truncate()
                .sense(egui::Sense::click()),
        );
        let resp = match target {
            Some(k) => resp.on_hover_text(format!("Jump to step {k}")),
            None => resp,
        };
        if resp.clicked()
            && let Some(k) = target
        {
            commands.push(Command::Jump(k));
        }
    });
}

/// The loop verdict: red when looping, with a jump to where it starts.
pub fn diagnosis_ui(ui: &mut egui::Ui, d: &Diagnosis, commands: &mut Vec<Command>) {
    if d.looping {
        egui::Frame::new()
            .fill(Color32::from_rgb(90, 24, 70))
            .inner_margin(6.0)
            .corner_radius(4.0)
            .show(ui, |ui| {
                ui.label(
                    RichText::new("Loop detected")
                        .strong()
                        .color(Color32::from_rgb(255, 200, 240)),
                );
                ui.add(
                    egui::Label::new(
                        RichText::new(&d.description).color(Color32::from_rgb(255, 230, 245)),
                    )
                    .wrap(),
                );
                if let Some(k) = d.from_step
                    && ui.button(format!("Jump to the loop (step {k})")).clicked()
                {
                    commands.push(Command::Jump(k));
                }
            });
    } else {
        ui.add(egui::Label::new(RichText::new(&d.description).weak()).wrap());
    }
    ui.add_space(4.0);
}
