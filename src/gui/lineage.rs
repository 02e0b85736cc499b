//! The lineage panel: the tree of bundle → split children, with the step that
//! made each child and how each bundle ended; clicking a row jumps the replay
//! there. Bundles in a detected loop are marked, and the loop's diagnosis heads
//! the panel.
//!
//! The tree is flattened once on the worker (depth-first, without recursion:
//! a looping split chain can be thousands deep) and drawn with `show_rows`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use egui::{Color32, RichText};

use crate::engine::replay::Replay;
use crate::engine::replay::diagnose::Diagnosis;
use crate::engine::trace::{BundleId, Outcome, Trace};

use super::Command;

/// Indentation stops growing here; deeper rows say their depth.
const MAX_INDENT: u32 = 16;
const ROW_H: f32 = 18.0;
pub const LOOP_COLOR: Color32 = Color32::from_rgb(240, 90, 200);

/// One row of the flattened tree.
#[derive(Clone, Debug, PartialEq)]
pub struct LineageRow {
    pub depth: u32,
    pub bundle: BundleId,
    /// The step (0-based) that created this bundle by splitting its parent.
    pub created_at: Option<usize>,
    /// The first step (0-based) that processed it.
    pub first_step: Option<usize>,
    /// How its last step ended, in words.
    pub ended: String,
    pub children: usize,
    pub in_cycle: bool,
}

/// The split forest, flattened.
#[derive(Clone, Debug, Default)]
pub struct LineageModel {
    pub rows: Vec<LineageRow>,
    /// Row of each bundle, for following the cursor.
    pub row_of: HashMap<BundleId, usize>,
    pub splits: usize,
    /// Bundles in the detected loop, shared with the chart's focus.
    pub cycle: Arc<HashSet<BundleId>>,
}

impl LineageModel {
    pub fn new(trace: &Trace, replay: &Replay, diagnosis: &Diagnosis) -> LineageModel {
        let mut children: HashMap<BundleId, Vec<(BundleId, usize)>> = HashMap::new();
        let mut parent: HashMap<BundleId, BundleId> = HashMap::new();
        for e in &replay.lineage {
            children
                .entry(e.parent)
                .or_default()
                .push((e.child, e.step));
            parent.insert(e.child, e.parent);
        }
        let mut ended: HashMap<BundleId, String> = HashMap::new();
        for s in &trace.steps {
            let text = match &s.outcome {
                Outcome::Allocated { preg } => format!("allocated {}", preg.text()),
                Outcome::Split { at, .. } => format!("split at {}", at.text()),
                Outcome::Spilled { .. } => "spilled".to_string(),
                Outcome::Incomplete => "stopped inside its step".to_string(),
            };
            ended.insert(s.bundle, text);
        }
        let cycle: HashSet<BundleId> = diagnosis.cycle_bundles.iter().copied().collect();
        let mut roots: Vec<BundleId> = children
            .keys()
            .filter(|b| !parent.contains_key(b))
            .copied()
            .collect();
        roots.sort_unstable();
        let mut rows = Vec::new();
        let mut stack: Vec<(BundleId, u32, Option<usize>)> =
            roots.iter().rev().map(|&b| (b, 0, None)).collect();
        let mut seen = HashSet::new();
        while let Some((bundle, depth, created_at)) = stack.pop() {
            if !seen.insert(bundle) {
                continue;
            }
            let kids = children.get(&bundle).map(Vec::as_slice).unwrap_or(&[]);
            rows.push(LineageRow {
                depth,
                bundle,
                created_at,
                first_step: replay.first_step_of.get(&bundle).copied(),
                ended: ended
                    .get(&bundle)
                    .cloned()
                    .unwrap_or_else(|| "not processed yet".into()),
                children: kids.len(),
                in_cycle: cycle.contains(&bundle),
            });
            for &(child, step) in kids.iter().rev() {
                stack.push((child, depth + 1, Some(step)));
            }
        }
        let row_of = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.bundle, i))
            .collect();
        LineageModel {
            rows,
            row_of,
            splits: children.len(),
            cycle: Arc::new(cycle),
        }
    }
}

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
        let resp = ui.add(egui::Label::new(rich).sense(egui::Sense::click()));
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
