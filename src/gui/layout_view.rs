//! The memory tab: one address-space band per runtime profile, stacked and
//! aligned on the memory base, on a broken axis (every region and placed item
//! gets a minimum width plus a width growing with the log of its size, so a
//! 16-byte segment and a 4 GiB reservation are both readable); the profile
//! chooser (Wasmtime's presets, WasmEdge, and the V8, WAMR, Wasmer and wasm3
//! models) and knob editor; the differences in words; each profile's notes
//! (how it checks and grows, what it rejects); and the per-profile
//! code-effect table, whose rows open that profile's compile in the
//! allocator view.
//!
//! The model it draws is in [`super::layout_model`].

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, StrokeKind, Vec2};

use crate::engine::input::isa::Target;
use crate::engine::layout::LayoutReport;
use crate::engine::layout::effect::EffectOutcome;
use crate::engine::layout::map::{AddressMap, Instantiation, MarkerKind, RegionKind};
use crate::engine::layout::profile::SOURCE_MODEL_PRESETS;
use crate::engine::layout::units::{hex, human_bytes};

use super::command::Command;
use super::layout_model::{LayoutModel, LayoutState, LayoutViewState};

/// A band's height when there is room; it shrinks (to [`BAND_MIN_H`]) so
/// that every profile's row and the Differences list fit the tab.
const BAND_H: f32 = 44.0;
const BAND_MIN_H: f32 = 22.0;
const NAME_H: f32 = 18.0;
const ROW_GAP: f32 = 8.0;
const RULER_H: f32 = 30.0;

/// The memory tab.
pub fn layout_view_ui(
    ui: &mut egui::Ui,
    view: &mut LayoutViewState,
    layout: &LayoutState,
    busy: bool,
    commands: &mut Vec<Command>,
) {
    let model = match layout {
        LayoutState::Ready(model) => model,
        LayoutState::Reading(_) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Reading the module's memory…");
            });
            return;
        }
        LayoutState::Failed(message) => {
            ui.strong("The module's memory layout could not be read");
            ui.colored_label(Color32::from_rgb(230, 120, 110), message);
            return;
        }
        LayoutState::NoModule => {
            ui.label(
                "A memory layout needs a WebAssembly module; this input is CLIF text or a regalloc2 log.",
            );
            return;
        }
    };
    ui.horizontal_top(|ui| {
        ui.vertical(|ui| {
            ui.set_width(280.0);
            egui::ScrollArea::vertical()
                .id_salt("layout_chooser")
                .show(ui, |ui| chooser_ui(ui, view, model, commands));
        });
        ui.separator();
        ui.vertical(|ui| {
            // The Differences list gets a third of the tab at least.
            let tab_h = ui.available_height();
            // What is left for the bands once the Differences list has its third.
            let rows = model.report.profiles.len().max(1) as f32;
            let room = tab_h * 0.6 - 80.0 - RULER_H;
            let band_h = (room / rows - NAME_H - ROW_GAP).clamp(BAND_MIN_H, BAND_H);
            bands_ui(ui, view, model, band_h);
            notes_ui(ui, view, model);
            ui.separator();
            ui.strong("Differences");
            let third = (tab_h / 3.0).max(80.0);
            let shown = egui::ScrollArea::vertical()
                .id_salt("layout_differences")
                .min_scrolled_height(third)
                .max_height(third.max(ui.available_height() * 0.5))
                .auto_shrink([false, false])
                .show(ui, |ui| differences_ui(ui, &model.report));
            let rect = shown.inner_rect;
            ui.data_mut(|d| {
                d.insert_temp(
                    egui::Id::unique(super::tabs::DIFFERENCES_RECT),
                    (rect, tab_h),
                )
            });
            ui.separator();
            measured_ui(ui, model, commands);
            ui.separator();
            effects_ui(ui, model, busy, commands);
        });
    });
}

/// The model against Wasmtime: each memory made under each host Wasmtime
/// profile, its mapping read from the process's memory map.
fn measured_ui(ui: &mut egui::Ui, model: &LayoutModel, commands: &mut Vec<Command>) {
    ui.horizontal_wrapped(|ui| {
        ui.strong("Measured");
        if ui
            .button("Measure with Wasmtime")
            .on_hover_text(
                "Make each memory with Wasmtime under each Wasmtime profile for this host (no guest \
                 code runs) and compare what it maps, read from /proc/self/maps, with the model",
            )
            .clicked()
        {
            commands.push(Command::MeasureLayout);
        }
    });
    let keys: Vec<String> = model.profiles.iter().map(|p| p.key.clone()).collect();
    match &model.measured {
        None => {}
        Some((for_keys, _)) if *for_keys != keys => {
            ui.weak("The profiles changed since the last measurement: measure again.");
        }
        Some((_, Err(e))) => {
            ui.colored_label(Color32::from_rgb(230, 120, 110), e);
        }
        Some((_, Ok(rows))) if rows.is_empty() => {
            ui.weak("No Wasmtime profile for this host is on.");
        }
        Some((_, Ok(rows))) => {
            egui::Grid::new("measured").striped(true).show(ui, |ui| {
                for h in [
                    "profile",
                    "memory",
                    "guard before",
                    "accessible",
                    "reserved",
                    "",
                ] {
                    ui.strong(h);
                }
                ui.end_row();
                for r in rows {
                    let w = &r.wasmtime;
                    ui.label(&r.profile);
                    ui.label(r.memory.to_string());
                    ui.label(human_bytes(w.guard_before_bytes as u128));
                    ui.label(human_bytes(w.accessible_bytes as u128));
                    ui.label(human_bytes(w.reserved_bytes as u128));
                    if r.equal {
                        ui.colored_label(Color32::from_rgb(120, 200, 120), "as modelled");
                    } else {
                        ui.colored_label(
                            Color32::from_rgb(230, 120, 110),
                            format!(
                                "model: {}, {}, {}",
                                human_bytes(r.model.guard_before_bytes as u128),
                                human_bytes(r.model.accessible_bytes as u128),
                                human_bytes(r.model.reserved_bytes as u128)
                            ),
                        );
                    }
                    ui.end_row();
                }
            });
        }
    }
}

fn chooser_ui(
    ui: &mut egui::Ui,
    view: &mut LayoutViewState,
    model: &LayoutModel,
    commands: &mut Vec<Command>,
) {
    ui.strong("Profiles");
    let mut p = model.presets.clone();
    ui.checkbox(&mut p.jit, "Wasmtime JIT (host)");
    ui.horizontal(|ui| {
        ui.checkbox(&mut p.aot, "Wasmtime AOT");
        egui::ComboBox::from_id_salt("aot_target")
            .selected_text(p.aot_target.name())
            .show_ui(ui, |ui| {
                for t in Target::ALL.into_iter().filter(|t| *t != Target::Host) {
                    ui.selectable_value(&mut p.aot_target, t, t.name());
                }
            });
    });
    ui.checkbox(&mut p.explicit, "Explicit bounds checks");
    ui.horizontal(|ui| {
        ui.checkbox(&mut p.limit, "Page limit");
        let label = ui.label("pages");
        let r = ui
            .add(egui::TextEdit::singleline(&mut view.limit_text).desired_width(70.0))
            .labelled_by(label.id);
        if let Ok(n) = view.limit_text.trim().parse::<u64>()
            && (r.changed() || r.lost_focus())
        {
            p.limit_pages = n;
        }
    });
    ui.checkbox(&mut p.wasmedge, "WasmEdge (documented model)");
    ui.label("Other runtimes, modelled from their sources:");
    for (key, label) in SOURCE_MODEL_PRESETS {
        let mut on = p.models.contains(key);
        if ui
            .checkbox(&mut on, label)
            .on_hover_text(format!("profile `{key}`"))
            .changed()
        {
            if on {
                p.models.insert(key.to_string());
            } else {
                p.models.remove(key);
            }
        }
    }
    if p != model.presets {
        commands.push(Command::SetPresets(p));
    }
    if let Some(e) = &model.error {
        ui.colored_label(Color32::from_rgb(235, 110, 100), e);
    }

    ui.separator();
    ui.strong("Knobs");
    if model.profiles.is_empty() {
        ui.label("No profile chosen.");
        return;
    }
    let key = view
        .knob_profile
        .clone()
        .filter(|k| model.profiles.iter().any(|p| &p.key == k))
        .unwrap_or_else(|| model.profiles[0].key.clone());
    let mut chosen = key.clone();
    let edit_label = ui.label("Edit profile");
    egui::ComboBox::from_id_salt("knob_profile")
        .selected_text(&chosen)
        .width(240.0)
        .show_ui(ui, |ui| {
            for p in &model.profiles {
                ui.selectable_value(&mut chosen, p.key.clone(), &p.name);
            }
        })
        .response
        .labelled_by(edit_label.id);
    view.knob_profile = Some(chosen.clone());
    let Some(profile) = model.profiles.iter().find(|p| p.key == chosen) else {
        return;
    };
    if profile.runtime.is_source_model() {
        // Its numbers are cited from the runtime's sources: nothing to edit.
        ui.label(profile.knobs_summary());
        ui.small(&profile.provenance);
        ui.weak("A model of the runtime's sources: its numbers are cited, not knobs.");
        return;
    }
    let mut e = profile.clone();
    const MIB: u64 = 1 << 20;
    let mib_knob = |ui: &mut egui::Ui, label: &str, bytes: &mut u64| {
        let mut mib = *bytes / MIB;
        ui.horizontal(|ui| {
            ui.label(label);
            ui.add(
                egui::DragValue::new(&mut mib)
                    .speed(16.0)
                    .range(0..=1u64 << 24)
                    .suffix(" MiB"),
            );
        });
        if mib != *bytes / MIB {
            *bytes = mib * MIB;
        }
    };
    egui::Grid::new("knobs").num_columns(1).show(ui, |ui| {
        mib_knob(ui, "Reservation", &mut e.memory_reservation_bytes);
        ui.end_row();
        mib_knob(ui, "Guard", &mut e.memory_guard_size_bytes);
        ui.end_row();
        ui.checkbox(&mut e.guard_before_linear_memory, "Guard before the memory");
        ui.end_row();
        mib_knob(
            ui,
            "Growth reservation",
            &mut e.memory_reservation_for_growth_bytes,
        );
        ui.end_row();
        ui.checkbox(&mut e.signals_based_traps, "Signals-based traps");
        ui.end_row();
        ui.horizontal(|ui| {
            let mut on = e.page_limit.is_some();
            ui.checkbox(&mut on, "Limit this profile's pages");
            let mut pages = e.page_limit.unwrap_or(65536);
            ui.add(egui::DragValue::new(&mut pages).range(0..=1u64 << 32));
            e.page_limit = on.then_some(pages);
        });
        ui.end_row();
    });
    ui.small(&profile.provenance);
    if e != *profile {
        commands.push(Command::EditProfile(e));
    }
    if model.edits.contains_key(&profile.key) && ui.button("Reset to preset").clicked() {
        commands.push(Command::ResetProfile(profile.key.clone()));
    }
}

/// A broken axis: breakpoints at every boundary, each interval a minimum
/// width plus a share growing with log2 of its size.
struct Axis {
    breaks: Vec<i128>,
    xs: Vec<f32>,
}

impl Axis {
    fn new(mut points: Vec<i128>, left: f32, width: f32) -> Axis {
        points.sort_unstable();
        points.dedup();
        if points.len() < 2 {
            points = vec![0, 1 << 16];
        }
        let weights: Vec<f32> = points
            .windows(2)
            .map(|w| {
                let size = (w[1] - w[0]) as f64;
                (1.0 + 0.5 * (1.0 + size / 1024.0).log2()) as f32
            })
            .collect();
        let total: f32 = weights.iter().sum();
        let mut xs = vec![left];
        let mut x = left;
        for w in weights {
            x += w / total * width;
            xs.push(x);
        }
        Axis { breaks: points, xs }
    }

    fn x_of(&self, addr: i128) -> f32 {
        let i = self.breaks.partition_point(|b| *b <= addr);
        if i == 0 {
            return self.xs[0];
        }
        if i >= self.breaks.len() {
            return *self.xs.last().unwrap_or(&0.0);
        }
        let (a0, a1) = (self.breaks[i - 1], self.breaks[i]);
        let t = (addr - a0) as f64 / (a1 - a0) as f64;
        self.xs[i - 1] + (self.xs[i] - self.xs[i - 1]) * t as f32
    }

    fn addr_of(&self, x: f32) -> i128 {
        let i = self.xs.partition_point(|v| *v <= x);
        if i == 0 {
            return self.breaks[0];
        }
        if i >= self.xs.len() {
            return *self.breaks.last().unwrap_or(&0);
        }
        let t = ((x - self.xs[i - 1]) / (self.xs[i] - self.xs[i - 1])).clamp(0.0, 1.0);
        let (a0, a1) = (self.breaks[i - 1], self.breaks[i]);
        a0 + ((a1 - a0) as f64 * t as f64) as i128
    }
}

fn region_color(kind: RegionKind) -> Color32 {
    match kind {
        RegionKind::GuardBefore | RegionKind::GuardAfter => Color32::from_rgb(110, 48, 52),
        RegionKind::Committed => Color32::from_rgb(52, 130, 78),
        RegionKind::Growable => Color32::from_rgb(48, 92, 150),
        RegionKind::ReservedUnused => Color32::from_rgb(62, 62, 70),
    }
}

fn marker_color(kind: MarkerKind) -> Color32 {
    match kind {
        MarkerKind::DataSegment => Color32::from_rgb(240, 170, 60),
        MarkerKind::Stack => Color32::from_rgb(180, 120, 230),
        MarkerKind::HeapBase => Color32::from_rgb(250, 230, 90),
        MarkerKind::DataEnd => Color32::from_rgb(200, 200, 200),
        MarkerKind::AppHeap => Color32::from_rgb(90, 210, 200),
    }
}

fn map_of(model: &LayoutModel, p: usize, memory: u32) -> Option<&AddressMap> {
    model.report.profiles[p]
        .memories
        .iter()
        .find(|m| m.memory == memory)
}

fn bands_ui(ui: &mut egui::Ui, view: &mut LayoutViewState, model: &LayoutModel, band_h: f32) {
    let memories = &model.report.module.memories;
    if memories.is_empty() {
        ui.label("No linear memory: the module defines and imports no memory; nothing to lay out.");
        return;
    }
    if !memories.iter().any(|m| m.index == view.memory) {
        view.memory = memories[0].index;
    }
    ui.horizontal(|ui| {
        if memories.len() > 1 {
            let label = ui.label("Memory");
            egui::ComboBox::from_id_salt("layout_memory")
                .selected_text(format!("memory {}", view.memory))
                .show_ui(ui, |ui| {
                    for m in memories {
                        ui.selectable_value(&mut view.memory, m.index, m.label());
                    }
                })
                .response
                .labelled_by(label.id);
        } else {
            ui.label(memories[0].label());
        }
        ui.separator();
        let label = ui.label("Zoom");
        ui.add(
            egui::Slider::new(&mut view.zoom, 1.0..=32.0)
                .logarithmic(true)
                .suffix("×"),
        )
        .labelled_by(label.id);
        ui.label("axis: broken, width grows with log(size); hover for addresses");
    });
    legend_ui(ui);
    let rows = model.report.profiles.len();
    if rows == 0 {
        ui.label("Choose a profile on the left.");
        return;
    }
    let height = rows as f32 * (NAME_H + band_h + ROW_GAP) + RULER_H;
    let full_w = ui.available_width();
    egui::ScrollArea::horizontal()
        .id_salt("layout_bands")
        .show(ui, |ui| {
            let width = (full_w * view.zoom).max(200.0);
            let (rect, response) = ui.allocate_exact_size(Vec2::new(width, height), Sense::hover());
            bands_canvas_ui(ui, rect, &response, model, (view.memory, band_h));
        });
}

fn bands_canvas_ui(
    ui: &egui::Ui,
    rect: Rect,
    response: &egui::Response,
    model: &LayoutModel,
    (memory, band_h): (u32, f32),
) {
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals();
    painter.rect_filled(rect, 0.0, visuals.extreme_bg_color);
    let maps: Vec<Option<&AddressMap>> = (0..model.report.profiles.len())
        .map(|p| map_of(model, p, memory))
        .collect();
    // The axis breaks at region boundaries (and around the markers as a
    // whole): each region gets a width that grows with the log of its size,
    // so a 32 MiB guard and an 8 GiB reservation both show without
    // scrolling. Markers (data segments, stack, heap) sit inside by
    // position; a module with hundreds of segments no longer spends the
    // width on them.
    let mut points = Vec::new();
    for m in maps.iter().flatten() {
        for r in &m.regions {
            points.push(r.start_bytes);
            points.push(r.end_bytes);
        }
        let starts = m.markers.iter().map(|k| k.start_bytes as i128);
        let ends = m.markers.iter().map(|k| k.end_bytes as i128);
        points.extend(starts.min());
        points.extend(ends.max());
    }
    // Regions that differ from the first profile's of the same kind.
    let first_regions: Vec<(RegionKind, i128, i128)> = maps
        .iter()
        .flatten()
        .next()
        .map(|m| {
            m.regions
                .iter()
                .map(|r| (r.kind, r.start_bytes, r.end_bytes))
                .collect()
        })
        .unwrap_or_default();
    let differs = |r: &crate::engine::layout::map::Region| {
        !first_regions.contains(&(r.kind, r.start_bytes, r.end_bytes))
    };
    let mut narrowest = f32::INFINITY;
    let inner_left = rect.left() + 6.0;
    let inner_w = rect.width() - 12.0;
    let axis = Axis::new(points, inner_left, inner_w);
    let small = FontId::proportional(11.0);
    let text_color = visuals.text_color();

    let band_rect = |row: usize| {
        let top = rect.top() + row as f32 * (NAME_H + band_h + ROW_GAP) + NAME_H;
        Rect::from_min_max(
            Pos2::new(inner_left, top),
            Pos2::new(inner_left + inner_w, top + band_h),
        )
    };
    // The base: one line through every band.
    let base_x = axis.x_of(0);
    for (row, (pl, map)) in model.report.profiles.iter().zip(&maps).enumerate() {
        let band = band_rect(row);
        let mut name = pl.profile.name.clone();
        let rejected = map.and_then(|m| match &m.instantiation {
            Instantiation::Rejected { reason } => Some(reason.as_str()),
            _ => None,
        });
        let failed = rejected.is_some()
            || map.is_some_and(|m| matches!(m.instantiation, Instantiation::Fails { .. }));
        if rejected.is_some() {
            name.push_str("  — rejects the module");
        } else if failed {
            name.push_str("  — instantiation fails");
        }
        if let Some(m) = map
            && rejected.is_none()
        {
            name.push_str(&format!("  ·  {}", m.summary()));
        }
        painter.text(
            Pos2::new(rect.left() + 6.0, band.top() - 2.0),
            Align2::LEFT_BOTTOM,
            name,
            FontId::proportional(12.5),
            if failed {
                Color32::from_rgb(240, 120, 110)
            } else {
                text_color
            },
        );
        let Some(map) = map else { continue };
        if let Some(reason) = rejected {
            // No layout is drawn for a module the runtime does not load.
            painter.rect_filled(band, 0.0, Color32::from_rgb(70, 34, 36));
            let galley = painter.layout(
                reason.to_string(),
                small.clone(),
                Color32::from_rgb(240, 170, 160),
                band.width() - 8.0,
            );
            painter.galley(
                band.left_top() + Vec2::new(4.0, 2.0),
                galley,
                Color32::WHITE,
            );
            continue;
        }
        for r in &map.regions {
            let x0 = axis.x_of(r.start_bytes);
            let x1 = axis.x_of(r.end_bytes);
            let rr = Rect::from_min_max(Pos2::new(x0, band.top()), Pos2::new(x1, band.bottom()));
            narrowest = narrowest.min(rr.width());
            painter.rect_filled(rr, 0.0, region_color(r.kind));
            // A region another profile does not have, or has elsewhere:
            // outlined, so the rows' differences show at a glance.
            let (edge, width) = if row > 0 && differs(r) {
                (Color32::from_rgb(255, 220, 90), 2.0)
            } else {
                (visuals.extreme_bg_color, 1.0)
            };
            painter.rect_stroke(rr, 0.0, Stroke::new(width, edge), StrokeKind::Inside);
            let label = format!("{} {}", short_region(r.kind), human_bytes(r.size_bytes()));
            let galley = painter.layout_no_wrap(label, small.clone(), Color32::WHITE);
            if galley.size().x + 6.0 < rr.width() {
                painter.galley(
                    Pos2::new(rr.left() + 3.0, rr.bottom() - galley.size().y - 1.0),
                    galley,
                    Color32::WHITE,
                );
            }
        }
        for k in &map.markers {
            let x0 = axis.x_of(k.start_bytes as i128);
            let x1 = axis.x_of(k.end_bytes as i128).max(x0 + 1.0);
            let color = if k.problem.is_some() {
                Color32::from_rgb(255, 80, 70)
            } else {
                marker_color(k.kind)
            };
            match k.kind {
                MarkerKind::HeapBase | MarkerKind::DataEnd => {
                    painter.line_segment(
                        [Pos2::new(x0, band.top()), Pos2::new(x0, band.bottom())],
                        Stroke::new(2.0, color),
                    );
                    let word = if k.kind == MarkerKind::HeapBase {
                        "heap"
                    } else {
                        "data end"
                    };
                    painter.text(
                        Pos2::new(x0 + 2.0, band.top() + 1.0),
                        Align2::LEFT_TOP,
                        word,
                        small.clone(),
                        color,
                    );
                }
                MarkerKind::DataSegment | MarkerKind::Stack | MarkerKind::AppHeap => {
                    let (top, bottom) = if k.kind != MarkerKind::DataSegment {
                        (band.top() + band_h * 0.5, band.bottom() - band_h * 0.27)
                    } else {
                        (band.top() + 3.0, band.top() + band_h * 0.45)
                    };
                    let mr = Rect::from_min_max(Pos2::new(x0, top), Pos2::new(x1, bottom));
                    painter.rect_filled(mr, 1.0, color);
                    let word = match (k.kind, k.segment) {
                        (MarkerKind::Stack, _) => "stack (inferred)".to_string(),
                        (MarkerKind::AppHeap, _) => "app heap".to_string(),
                        (_, Some(s)) => format!("seg {s}"),
                        _ => "data".to_string(),
                    };
                    let galley = painter.layout_no_wrap(word, small.clone(), Color32::BLACK);
                    if galley.size().x + 4.0 < mr.width() {
                        painter.galley(
                            Pos2::new(mr.left() + 2.0, mr.top()),
                            galley,
                            Color32::BLACK,
                        );
                    }
                }
            }
        }
    }
    painter.line_segment(
        [
            Pos2::new(base_x, rect.top() + NAME_H - 4.0),
            Pos2::new(base_x, band_rect(maps.len() - 1).bottom() + 4.0),
        ],
        Stroke::new(1.5, text_color),
    );
    ui.data_mut(|d| d.insert_temp(egui::Id::unique(super::tabs::NARROWEST_REGION), narrowest));
    // Ruler: addresses at the breaks where there is room.
    let ruler_y = band_rect(maps.len() - 1).bottom() + 6.0;
    let mut last_right = f32::MIN;
    for (b, x) in axis.breaks.iter().zip(&axis.xs) {
        painter.line_segment(
            [Pos2::new(*x, ruler_y - 4.0), Pos2::new(*x, ruler_y)],
            Stroke::new(1.0, visuals.weak_text_color()),
        );
        let text = if *b == 0 { "base".to_string() } else { hex(*b) };
        let galley = painter.layout_no_wrap(text, small.clone(), visuals.weak_text_color());
        let left = (x - galley.size().x / 2.0)
            .clamp(rect.left() + 2.0, rect.right() - galley.size().x - 2.0);
        if left > last_right + 6.0 {
            last_right = left + galley.size().x;
            painter.galley(Pos2::new(left, ruler_y + 1.0), galley, text_color);
        }
    }

    // Hover: a line through every band and the exact address.
    let Some(pos) = response.hover_pos() else {
        return;
    };
    painter.line_segment(
        [
            Pos2::new(pos.x, rect.top()),
            Pos2::new(pos.x, ruler_y - 4.0),
        ],
        Stroke::new(1.0, Color32::from_white_alpha(140)),
    );
    let addr = axis.addr_of(pos.x);
    let row = (0..maps.len()).find(|r| {
        let b = band_rect(*r);
        pos.y >= b.top() - NAME_H && pos.y <= b.bottom() + ROW_GAP
    });
    response.clone().on_hover_ui_at_pointer(|ui| {
        ui.label(if addr < 0 {
            format!("address base − {}", hex(-addr))
        } else {
            format!("address base + {}", hex(addr))
        });
        let Some(row) = row else { return };
        let pl = &model.report.profiles[row];
        ui.strong(&pl.profile.name);
        let Some(map) = maps[row] else { return };
        if addr >= 0 {
            let page = addr as u128 / u128::from(map.page_size_bytes);
            ui.label(format!(
                "page {page} (of {} B pages), offset {} in the page",
                map.page_size_bytes,
                hex((addr as u128 % u128::from(map.page_size_bytes)) as i128)
            ));
        }
        for r in &map.regions {
            if r.start_bytes <= addr && addr < r.end_bytes {
                ui.label(format!(
                    "{}: [{}, {}) {}",
                    r.label,
                    hex(r.start_bytes),
                    hex(r.end_bytes),
                    human_bytes(r.size_bytes())
                ));
            }
        }
        for k in &map.markers {
            let (s, e) = (k.start_bytes as i128, k.end_bytes as i128);
            let near = (axis.x_of(s) - pos.x).abs() < 3.0;
            if (s <= addr && addr < e) || near {
                ui.label(format!("{} [{}, {})", k.label, hex(s), hex(e)));
                if let Some(p) = &k.problem {
                    ui.colored_label(Color32::from_rgb(240, 120, 110), p);
                }
            }
        }
    });
}

/// For the memory on screen: how each profile catches out-of-bounds
/// accesses, and what its model notes (sources cited).
fn notes_ui(ui: &mut egui::Ui, view: &LayoutViewState, model: &LayoutModel) {
    let rows: Vec<(&str, &AddressMap)> = (0..model.report.profiles.len())
        .filter_map(|p| {
            map_of(model, p, view.memory)
                .map(|m| (model.report.profiles[p].profile.name.as_str(), m))
        })
        .collect();
    if rows.is_empty() {
        return;
    }
    egui::CollapsingHeader::new("How each profile checks, grows and what it notes")
        .id_salt("layout_notes")
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("layout_notes_scroll")
                .max_height(180.0)
                .show(ui, |ui| {
                    for (name, map) in rows {
                        ui.strong(name);
                        ui.label(format!("out of bounds: {}", map.bounds_checking.describe()));
                        if let Instantiation::Rejected { reason } = &map.instantiation {
                            ui.colored_label(Color32::from_rgb(240, 120, 110), reason);
                        }
                        for note in &map.notes {
                            ui.horizontal_wrapped(|ui| {
                                ui.label("•");
                                ui.small(note);
                            });
                        }
                    }
                });
        });
}

/// Colour swatches for the bands.
fn legend_ui(ui: &mut egui::Ui) {
    ui.horizontal_wrapped(|ui| {
        let items = [
            (region_color(RegionKind::GuardBefore), "guard"),
            (region_color(RegionKind::Committed), "initial pages"),
            (region_color(RegionKind::Growable), "growable"),
            (
                region_color(RegionKind::ReservedUnused),
                "reserved, unusable",
            ),
            (marker_color(MarkerKind::DataSegment), "data segment"),
            (marker_color(MarkerKind::Stack), "stack (inferred)"),
            (marker_color(MarkerKind::HeapBase), "heap base"),
            (marker_color(MarkerKind::AppHeap), "runtime's app heap"),
            (
                Color32::from_rgb(255, 80, 70),
                "misplaced under this profile",
            ),
            (
                Color32::from_rgb(255, 220, 90),
                "outlined: not as in the first row",
            ),
        ];
        for (color, word) in items {
            let (r, _) = ui.allocate_exact_size(Vec2::new(12.0, 12.0), Sense::hover());
            ui.painter().rect_filled(r, 2.0, color);
            ui.small(word);
            ui.add_space(6.0);
        }
    });
}

fn short_region(kind: RegionKind) -> &'static str {
    match kind {
        RegionKind::GuardBefore => "guard",
        RegionKind::Committed => "initial",
        RegionKind::Growable => "growable",
        RegionKind::ReservedUnused => "unused",
        RegionKind::GuardAfter => "guard",
    }
}

fn differences_ui(ui: &mut egui::Ui, report: &LayoutReport) {
    if report.differences.is_empty() {
        ui.label("None: every profile lays the module out alike.");
    }
    for d in &report.differences {
        ui.horizontal_wrapped(|ui| {
            ui.label("•");
            ui.label(&d.text);
        });
    }
}

fn effects_ui(ui: &mut egui::Ui, model: &LayoutModel, busy: bool, commands: &mut Vec<Command>) {
    ui.strong("Effect on the selected function's code");
    let Some(effects) = &model.effects else {
        if busy {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("compiling under each profile…");
            });
        } else {
            ui.label("Choose a function on the left.");
        }
        return;
    };
    ui.label(format!(
        "{}: click a row to open its allocator view{}",
        effects.report.function,
        if busy { " (updating…)" } else { "" }
    ));
    egui::ScrollArea::both()
        .id_salt("layout_effects")
        .show(ui, |ui| {
            egui::Grid::new("effects_grid")
                .striped(true)
                .num_columns(8)
                .show(ui, |ui| {
                    for h in [
                        "profile",
                        "checks",
                        "CLIF insts",
                        "code B",
                        "steps",
                        "splits / evictions",
                        "spilled",
                        "moves (spill/reload)",
                    ] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for (i, row) in effects.report.rows.iter().enumerate() {
                        let open = model.opened_row == Some(i);
                        match &row.outcome {
                            EffectOutcome::Compiled(e) => {
                                if ui.selectable_label(open, &row.name).clicked() && !open {
                                    commands.push(Command::OpenProfileTrace(i));
                                }
                                // Where the CLIF's checks come from; a modelled
                                // check with none in the CLIF was proved in
                                // bounds or shared with another by Wasmtime.
                                let sites: Vec<String> = e
                                    .check_sites
                                    .iter()
                                    .map(|s| {
                                        format!(
                                            "0x{:04x} {}: {} in the CLIF; model: {}",
                                            s.module_offset,
                                            s.instruction.as_deref().unwrap_or("?"),
                                            s.check_instructions,
                                            s.modelled.map_or("-", |k| k.describe())
                                        )
                                    })
                                    .collect();
                                let checks = ui.label(format!(
                                    "{} (model {})",
                                    e.bounds_checks, e.modelled_explicit_checks
                                ));
                                if !sites.is_empty() {
                                    checks.on_hover_text(sites.join("\n"));
                                }
                                ui.label(e.clif_insts.to_string());
                                ui.label(e.code_size_bytes.to_string());
                                ui.label(e.allocator_steps.to_string());
                                ui.label(format!("{} / {}", e.splits, e.evictions));
                                ui.label(e.spilled_bundles.to_string());
                                ui.label(format!(
                                    "{} ({}/{})",
                                    e.inserted_moves.total,
                                    e.inserted_moves.spill_stores,
                                    e.inserted_moves.reloads
                                ));
                            }
                            EffectOutcome::NotCompiled { .. } => {
                                ui.label(&row.name);
                                ui.label("not compiled: a model, not Wasmtime");
                            }
                            EffectOutcome::Failed { message } => {
                                ui.label(&row.name);
                                ui.colored_label(Color32::from_rgb(235, 110, 100), message);
                            }
                        }
                        ui.end_row();
                    }
                });
        });
}
