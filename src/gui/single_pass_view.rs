//! The single-pass allocator stepped: a chart of which value each register
//! holds at each instruction, filled from the right as the allocator walks
//! backwards, and the current step in words with the LRU lists.

use egui::{Color32, RichText, Sense, Stroke};

use crate::engine::replay::explain::reg;
use crate::engine::replay::single_pass::{self, DIRECTION};
use crate::engine::trace::{PReg, SinglePassLog, SpAt, SpEvent};

use super::command::Command;
use super::compiled::{Loaded, LoadedId};

/// The chart's visible instructions `[lo, hi)`: the whole function until the
/// wheel zooms (around the pointer) or a drag pans; a double click fits it
/// again. The view follows the current instruction while it steps.
#[derive(Default)]
pub struct SpView {
    range: Option<(f32, f32)>,
    /// The compile the range belongs to.
    for_id: Option<LoadedId>,
    /// The step the view last followed.
    followed: usize,
    /// The function's instruction count (from its steps).
    n_insts: usize,
    /// The cells drawn last, kept while nothing they depend on changes.
    grid: Option<(GridKey, Grid)>,
    pub hovered_inst: Option<u32>,
}

/// What the cells depend on: step, visible range, width and rows.
#[derive(Clone, Copy, PartialEq)]
struct GridKey {
    cursor: usize,
    lo: f32,
    hi: f32,
    px: usize,
    rows: usize,
}

/// One value (or none) per pixel column and row, and the block starts in
/// view, left to right.
struct Grid {
    cells: Vec<Option<u32>>,
    block_edges: Vec<(u32, u32)>,
}

/// The cells after `key.cursor` steps: for each pixel column and row, the
/// value of the step drawn last into it (a wide function has several
/// instructions per pixel); and the block starts (instruction, block).
fn grid(log: &SinglePassLog, rows: &[PReg], key: GridKey) -> Grid {
    let GridKey { lo, hi, px, .. } = key;
    let span = (hi - lo).max(1.0);
    let mut cells: Vec<Option<u32>> = vec![None; px * rows.len()];
    let row_of = |p: PReg| rows.binary_search_by_key(&p.index(), |q| q.index()).ok();
    // The pixel column of an instruction, if it is in view.
    let col_px = |inst: u32| {
        let x = (inst as f32 - lo) / span * px as f32;
        (x >= 0.0 && x < px as f32).then_some(x as usize)
    };
    let col_w_px = (px as f32 / span).max(1.0).ceil() as usize;
    let mut block_edges = Vec::new();
    for (i, s) in log.steps[..key.cursor].iter().enumerate() {
        match s.at {
            SpAt::Inst { inst } => {
                let Some(c0) = col_px(inst) else { continue };
                for &(p, v) in &s.occupied {
                    if let Some(r) = row_of(p) {
                        for c in c0..(c0 + col_w_px).min(px) {
                            cells[r * px + c] = Some(v);
                        }
                    }
                }
            }
            SpAt::BlockStart => {
                if let Some(inst) = column_of(log, i)
                    && (inst as f32) >= lo
                    && (inst as f32) < hi
                {
                    block_edges.push((inst, s.block));
                }
            }
        }
    }
    block_edges.sort_unstable();
    Grid { cells, block_edges }
}

/// A colour per value, spread around the hue circle.
fn vreg_color(v: u32) -> Color32 {
    let hue = (v as f32 * 0.618_034).fract();
    egui::ecolor::Hsva::new(hue, 0.5, 0.8, 1.0).into()
}

/// The instruction a step draws in (a block start: its block's first).
fn column_of(log: &SinglePassLog, i: usize) -> Option<u32> {
    match log.steps[i].at {
        SpAt::Inst { inst } => Some(inst),
        SpAt::BlockStart => log.steps[..i].iter().rev().find_map(|s| match s.at {
            SpAt::Inst { inst } => Some(inst),
            SpAt::BlockStart => None,
        }),
    }
}

/// The chart after the cursor's steps.
pub fn chart_ui(
    ui: &mut egui::Ui,
    l: &Loaded,
    log: &SinglePassLog,
    rows: &[PReg],
    view: &mut SpView,
    commands: &mut Vec<Command>,
) {
    let names = l.compiled.names;
    ui.horizontal_wrapped(|ui| {
        ui.label(
            RichText::new("◀ single-pass walks backwards")
                .strong()
                .color(Color32::from_rgb(255, 200, 90)),
        )
        .on_hover_text(DIRECTION);
        ui.label(
            RichText::new(format!(
                "It starts at the last instruction (right) and fills leftwards. A cell is the \
                 value a register holds just before the instruction, where the code after it needs it. \
                 {} of {} registers ever hold a value; the others are not drawn.",
                rows.len(),
                single_pass::allocatable(log).max(rows.len())
            ))
            .weak(),
        );
    });
    if view.for_id != Some(l.id) {
        *view = SpView {
            for_id: Some(l.id),
            n_insts: log
                .steps
                .iter()
                .filter_map(|s| match s.at {
                    SpAt::Inst { inst } => Some(inst as usize + 1),
                    SpAt::BlockStart => None,
                })
                .max()
                .unwrap_or(1),
            ..SpView::default()
        };
    }
    let n_insts = view.n_insts;
    let (mut lo, mut hi) = view.range.unwrap_or((0.0, n_insts as f32));
    // Follow the current instruction when a step moves it out of view.
    if view.followed != l.cursor {
        view.followed = l.cursor;
        if let Some(inst) = l.cursor.checked_sub(1).and_then(|i| column_of(log, i)) {
            let x = inst as f32;
            let w = hi - lo;
            if x < lo || x + 1.0 > hi {
                lo = (x + 1.0 - w * 0.75).clamp(0.0, (n_insts as f32 - w).max(0.0));
                hi = lo + w;
            }
        }
    }
    let label_w = 56.0;
    let avail = ui.available_size();
    let row_h = ((avail.y - 30.0) / rows.len().max(1) as f32).clamp(8.0, 22.0);
    let (rect, response) = ui.allocate_exact_size(
        egui::vec2(avail.x, row_h * rows.len() as f32 + 18.0),
        Sense::click_and_drag(),
    );
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(22));
    let plot = egui::Rect::from_min_max(
        egui::pos2(rect.left() + label_w, rect.top()),
        egui::pos2(rect.right() - 4.0, rect.bottom() - 18.0),
    );
    // Zoom around the pointer, pan by dragging, fit on a double click.
    let n = n_insts as f32;
    if response.double_clicked() {
        (lo, hi) = (0.0, n);
    } else if response.dragged() {
        let shift = -response.drag_delta().x / plot.width().max(1.0) * (hi - lo);
        let shift = shift.clamp(-lo, n - hi);
        lo += shift;
        hi += shift;
    }
    if let Some(pos) = response.hover_pos() {
        let scroll = ui.input(|i| i.smooth_scroll_delta.y);
        if scroll != 0.0 {
            let at = lo + (pos.x - plot.left()).max(0.0) / plot.width().max(1.0) * (hi - lo);
            let factor = (-scroll / 200.0).exp();
            let w = ((hi - lo) * factor).clamp(8.0_f32.min(n), n);
            lo = (at - (at - lo) * w / (hi - lo)).clamp(0.0, n - w);
            hi = lo + w;
        }
    }
    view.range = (lo > 0.0 || hi < n).then_some((lo, hi));
    let span = (hi - lo).max(1.0);
    let px = plot.width().max(1.0).floor() as usize;
    let x_of = |inst: f32| plot.left() + (inst - lo) / span * plot.width();
    let font = egui::FontId::monospace((row_h * 0.7).clamp(7.0, 12.0));
    for (r, p) in rows.iter().enumerate() {
        let y = plot.top() + r as f32 * row_h;
        painter.text(
            egui::pos2(rect.left() + 4.0, y + row_h / 2.0),
            egui::Align2::LEFT_CENTER,
            reg(*p, names),
            font.clone(),
            Color32::from_gray(190),
        );
        if r % 2 == 0 {
            painter.rect_filled(
                egui::Rect::from_min_size(
                    egui::pos2(plot.left(), y),
                    egui::vec2(plot.width(), row_h),
                ),
                0.0,
                Color32::from_gray(28),
            );
        }
    }
    let key = GridKey {
        cursor: l.cursor,
        lo,
        hi,
        px,
        rows: rows.len(),
    };
    if view.grid.as_ref().is_none_or(|(k, _)| *k != key) {
        view.grid = Some((key, grid(log, rows, key)));
    }
    let Some((_, Grid { cells, block_edges })) = &view.grid else {
        return;
    };
    let row_of = |p: PReg| rows.binary_search_by_key(&p.index(), |q| q.index()).ok();
    for (r, _) in rows.iter().enumerate() {
        let y = plot.top() + r as f32 * row_h;
        let mut c = 0;
        while c < px {
            let Some(v) = cells[r * px + c] else {
                c += 1;
                continue;
            };
            let start = c;
            while c < px && cells[r * px + c] == Some(v) {
                c += 1;
            }
            let cell = egui::Rect::from_min_max(
                egui::pos2(plot.left() + start as f32, y + 1.0),
                egui::pos2(plot.left() + c as f32, y + row_h - 1.0),
            );
            painter.rect_filled(cell, 1.0, vreg_color(v));
            if cell.width() > 34.0 && row_h >= 11.0 {
                painter.text(
                    cell.center(),
                    egui::Align2::CENTER_CENTER,
                    format!("v{v}"),
                    font.clone(),
                    Color32::BLACK,
                );
            }
        }
    }
    // Block edges, while they stay apart (a wide function has thousands).
    let edges = if block_edges.len() as f32 * 6.0 > plot.width() {
        &[][..]
    } else {
        &block_edges[..]
    };
    let mut last_label = f32::NEG_INFINITY;
    for &(inst, block) in edges {
        let x = x_of(inst as f32);
        painter.line_segment(
            [egui::pos2(x, plot.top()), egui::pos2(x, plot.bottom())],
            Stroke::new(1.0, Color32::from_gray(120)),
        );
        // Labels that would overlap are left out.
        if x - last_label < 40.0 {
            continue;
        }
        last_label = x;
        painter.text(
            egui::pos2(x + 2.0, plot.bottom() + 2.0),
            egui::Align2::LEFT_TOP,
            format!("b{block}"),
            egui::FontId::proportional(10.0),
            Color32::from_gray(150),
        );
    }
    // The current step: its column, and its evictions marked.
    if let Some(i) = l.cursor.checked_sub(1)
        && let Some(inst) = column_of(log, i)
        && (inst as f32) >= lo
        && (inst as f32) < hi
    {
        let s = &log.steps[i];
        let x0 = x_of(inst as f32);
        let x1 = x_of(inst as f32 + 1.0).max(x0 + 2.0);
        painter.rect_stroke(
            egui::Rect::from_min_max(egui::pos2(x0, plot.top()), egui::pos2(x1, plot.bottom())),
            0.0,
            Stroke::new(2.0, Color32::WHITE),
            egui::StrokeKind::Outside,
        );
        for (_, p, _) in s.evictions() {
            if let Some(r) = row_of(p) {
                let c = egui::pos2(x1 + 5.0, plot.top() + (r as f32 + 0.5) * row_h);
                painter.circle_filled(
                    c,
                    (row_h * 0.3).clamp(3.0, 6.0),
                    Color32::from_rgb(255, 70, 70),
                );
            }
        }
    }
    painter.text(
        egui::pos2(rect.left() + 4.0, rect.bottom() - 2.0),
        egui::Align2::LEFT_BOTTOM,
        format!("inst {}", lo as u32),
        egui::FontId::proportional(11.0),
        Color32::from_gray(150),
    );
    painter.text(
        egui::pos2(plot.right(), plot.top() - 1.0),
        egui::Align2::RIGHT_BOTTOM,
        format!(
            "inst {}{}",
            (hi.ceil() as u32).saturating_sub(1),
            if view.range.is_some() {
                "  (zoomed: wheel, drag, double click to fit)"
            } else {
                "  (wheel zooms)"
            }
        ),
        egui::FontId::proportional(11.0),
        Color32::from_gray(150),
    );
    // Hover: the instruction and the value; a click steps to it.
    view.hovered_inst = None;
    if let Some(pos) = response.hover_pos()
        && plot.contains(pos)
    {
        let inst = (lo + (pos.x - plot.left()) / plot.width() * span) as u32;
        let r = ((pos.y - plot.top()) / row_h) as usize;
        view.hovered_inst = Some(inst);
        let c = ((pos.x - plot.left()) as usize).min(px.saturating_sub(1));
        let held = rows
            .get(r)
            .and_then(|p| cells.get(r * px + c).copied().flatten().map(|v| (p, v)));
        let text = match held {
            Some((p, v)) => format!("inst {inst}: {} holds v{v}", reg(*p, names)),
            None => format!("inst {inst}"),
        };
        response
            .clone()
            .on_hover_text(format!("{text}\nclick: step to this instruction"));
        if response.clicked()
            && let Some(i) = log.steps.iter().position(|s| s.at == SpAt::Inst { inst })
        {
            commands.push(Command::Jump(i + 1));
        }
    }
}

/// The current single-pass step in words, with the registers' contents and
/// the LRU lists after it.
pub fn explain_ui(ui: &mut egui::Ui, l: &Loaded, log: &SinglePassLog) {
    let names = l.compiled.names;
    ui.label(
        RichText::new("Single-pass: walking backwards")
            .strong()
            .color(Color32::from_rgb(255, 200, 90)),
    )
    .on_hover_text(DIRECTION);
    let Some(i) = l.cursor.checked_sub(1) else {
        ui.strong(format!("Before step 1 of {}", log.steps.len()));
        ui.label(DIRECTION);
        ui.label("Press Forward (or →) to allocate the last instruction.");
        return;
    };
    let step = &log.steps[i];
    ui.strong(format!("Step {} of {}", l.cursor, log.steps.len()));
    ui.label(RichText::new(single_pass::headline(step, names)).strong());
    egui::ScrollArea::vertical()
        .id_salt("sp_explain_scroll")
        .max_height(ui.available_height())
        .auto_shrink([false, false])
        .show(ui, |ui| {
            for line in single_pass::explain(step, names) {
                ui.horizontal_wrapped(|ui| {
                    ui.label("•");
                    ui.label(line);
                });
            }
            if step
                .events
                .iter()
                .any(|e| matches!(e, SpEvent::NoRegister { .. }))
            {
                ui.colored_label(
                    Color32::from_rgb(230, 120, 90),
                    "regalloc2 stops here: the function needs more registers at once than it has.",
                );
            }
            let held: Vec<String> = l
                .sp_state
                .occupied
                .iter()
                .map(|&(p, v)| format!("{} v{v}", reg(p, names)))
                .collect();
            ui.label(
                RichText::new(if held.is_empty() {
                    "Registers now: all free".to_string()
                } else {
                    format!("Registers now: {}", held.join(", "))
                })
                .weak(),
            );
            let in_slots = l.sp_state.allocs.values().filter(|a| a.is_stack()).count();
            ui.label(
                RichText::new(format!(
                    "{} values live here, {in_slots} of them in spill slots",
                    l.sp_state.allocs.len()
                ))
                .weak(),
            );
            for line in single_pass::lru_text(&l.sp_state.lru, names) {
                ui.label(
                    RichText::new(format!("LRU {line} (least recent last)"))
                        .weak()
                        .small(),
                )
                .on_hover_text(
                    "The next register taken for a value is the least recently used free one: \
                         the last of the list that is free",
                );
            }
        });
}
