//! The live-range chart: one row per virtual register (or per physical
//! register, with lanes for what has none), x = program points, block
//! boundaries from Cranelift's VCode listing, colour by bundle status.
//!
//! Drawn like puffin's flamegraph: one allocated rect and one `Response`; rows
//! and segments outside the visible range are skipped, the fills go out as one
//! mesh, segments narrower than a pixel become one-pixel lines, and labels are
//! added only where they fit.

use std::collections::HashMap;

use egui::{Align2, Color32, FontId, Mesh, Pos2, Rect, Sense, Shape, Stroke, StrokeKind, Vec2};

use crate::engine::replay::{State, Status};
use crate::engine::trace::{BundleId, PReg, Point, RangeId, RegClass, SpillKind, Step, VRegId};

use super::chart_model::{ChartModel, Focus, RowMode};
use super::command::Command;
use super::compiled::LoadedId;

#[derive(Clone, Copy, Debug, PartialEq)]
enum RowLabel {
    VReg(VRegId),
    PReg(PReg),
    Lane(&'static str),
}

#[derive(Clone, Copy, Debug)]
struct Item {
    from: u32,
    to: u32,
    bundle: BundleId,
    range: RangeId,
    status: Status,
}

/// `(from, to, bundle)` of a bundle without a register, for lane packing.
type Span = (u32, u32, BundleId);

/// Rows and the items in them, for one state and mode.
struct Layout {
    rows: Vec<RowLabel>,
    /// Items of row r: `items[row_start[r]..row_start[r + 1]]`.
    items: Vec<Item>,
    row_start: Vec<usize>,
    /// First row of each bundle (for scrolling to it).
    row_of_bundle: HashMap<BundleId, u32>,
}

impl Layout {
    fn build(model: &ChartModel, state: &State, mode: RowMode) -> Layout {
        let mut placed: Vec<(u32, Item)> = Vec::new();
        let mut rows: Vec<RowLabel> = match mode {
            RowMode::VReg => model.vregs.iter().map(|v| RowLabel::VReg(*v)).collect(),
            RowMode::PReg => model.pregs.iter().map(|p| RowLabel::PReg(*p)).collect(),
        };
        // Bundles without a register, packed into lanes per status (preg mode).
        let mut lanes: Vec<(&'static str, Vec<Span>)> = Vec::new();
        for (b, bs) in state.bundles.iter().enumerate() {
            let b = b as BundleId;
            let segs = state.segs(b);
            if segs.is_empty() {
                continue;
            }
            let item = |s: &crate::engine::trace::Seg| Item {
                from: s.from.0,
                to: s.to.0.max(s.from.0 + 1),
                bundle: b,
                range: s.range,
                status: bs.status,
            };
            match mode {
                RowMode::VReg => {
                    for s in segs {
                        if let Some(&r) = model
                            .vreg_of(s.range)
                            .and_then(|v| model.row_of_vreg.get(&v))
                        {
                            placed.push((r, item(s)));
                        }
                    }
                }
                RowMode::PReg => {
                    if let Status::Allocated(p) = bs.status
                        && let Some(&r) = model.row_of_preg.get(&p)
                    {
                        placed.extend(segs.iter().map(|s| (r, item(s))));
                        continue;
                    }
                    let group = match bs.status {
                        Status::Queued | Status::Allocated(_) => "queued",
                        Status::SpillBundle => "spill bundle",
                        Status::Spilled(_) => "stack",
                        Status::Idle | Status::Dissolved => "idle",
                    };
                    let from = segs.iter().map(|s| s.from.0).min().unwrap_or(0);
                    let to = segs.iter().map(|s| s.to.0).max().unwrap_or(from) + 1;
                    match lanes.iter_mut().find(|(g, _)| *g == group) {
                        Some((_, v)) => v.push((from, to, b)),
                        None => lanes.push((group, vec![(from, to, b)])),
                    }
                }
            }
        }
        const GROUP_ORDER: [&str; 4] = ["queued", "spill bundle", "stack", "idle"];
        lanes.sort_by_key(|(g, _)| GROUP_ORDER.iter().position(|o| o == g));
        for (group, mut spans) in lanes {
            spans.sort_unstable();
            let first_row = rows.len() as u32;
            let mut lane_end: Vec<u32> = Vec::new();
            for (from, to, b) in spans {
                let lane = match lane_end.iter().position(|&e| e <= from) {
                    Some(l) => {
                        lane_end[l] = to;
                        l
                    }
                    None => {
                        lane_end.push(to);
                        rows.push(RowLabel::Lane(group));
                        lane_end.len() - 1
                    }
                };
                let bs = &state.bundles[b as usize];
                for s in state.segs(b) {
                    placed.push((
                        first_row + lane as u32,
                        Item {
                            from: s.from.0,
                            to: s.to.0.max(s.from.0 + 1),
                            bundle: b,
                            range: s.range,
                            status: bs.status,
                        },
                    ));
                }
            }
        }
        placed.sort_by_key(|(r, i)| (*r, i.from));
        let mut row_start = vec![0usize; rows.len() + 1];
        for (r, _) in &placed {
            row_start[*r as usize + 1] += 1;
        }
        for i in 1..row_start.len() {
            row_start[i] += row_start[i - 1];
        }
        let mut row_of_bundle = HashMap::new();
        for (r, i) in &placed {
            row_of_bundle.entry(i.bundle).or_insert(*r);
        }
        Layout {
            rows,
            items: placed.into_iter().map(|(_, i)| i).collect(),
            row_start,
            row_of_bundle,
        }
    }

    /// Only the rows with something between program points `x_min` and
    /// `x_max` (the compact view of a big function).
    fn compact(&self, x_min: f32, x_max: f32) -> Layout {
        let mut rows = Vec::new();
        let mut items = Vec::new();
        let mut row_start = vec![0usize];
        let mut row_of_bundle = HashMap::new();
        for (r, label) in self.rows.iter().enumerate() {
            let list = self.row_items(r);
            let live = list
                .iter()
                .any(|i| (i.to as f32) >= x_min && (i.from as f32) <= x_max);
            if !live {
                continue;
            }
            for i in list {
                row_of_bundle.entry(i.bundle).or_insert(rows.len() as u32);
            }
            rows.push(*label);
            items.extend_from_slice(list);
            row_start.push(items.len());
        }
        Layout {
            rows,
            items,
            row_start,
            row_of_bundle,
        }
    }

    fn row_items(&self, row: usize) -> &[Item] {
        match (self.row_start.get(row), self.row_start.get(row + 1)) {
            (Some(&a), Some(&b)) => &self.items[a..b],
            _ => &[],
        }
    }
}

/// What a compact layout was made for: compile, step, row mode, window.
type CompactKey = (LoadedId, usize, RowMode, u32, u32);

/// Zoom and pan: view state the chart owns (the row mode is the app's, and
/// persisted).
pub struct ChartView {
    /// Visible program points `[x_min, x_max)`.
    x_min: f32,
    x_max: f32,
    /// First visible row (fractional while scrolling).
    y_top: f32,
    row_h: f32,
    /// Identity of the compile the view was fitted to.
    fitted_for: Option<LoadedId>,
    /// The step the view last scrolled to.
    followed: Option<(usize, RowMode)>,
    cache: Option<(LoadedId, usize, RowMode, Layout)>,
    /// The compact layout, for (compile, step, mode, window).
    compact_cache: Option<(CompactKey, Layout)>,
    /// VCode instructions to mark with a band (the link entry selected in
    /// the code views); set by the frame before drawing.
    pub marked_insts: Vec<u32>,
    /// Rows with nothing in the window are left out.
    pub compact: bool,
    /// The VCode instruction under the pointer (the code views mark it).
    pub hovered_inst: Option<u32>,
    /// Registers taken per point, per pressure track, at (compile, step).
    taken: Option<(LoadedId, usize, Vec<Vec<u32>>)>,
    /// A value whose row to bring into view at the next draw (a clicked
    /// difference of two runs).
    pending_vreg: Option<VRegId>,
    /// The values whose rows the last draw showed whole.
    shown_vregs: Vec<VRegId>,
    /// Where the last draw put the pressure strip.
    strip: Option<Rect>,
}

impl ChartView {
    /// The visible program points `[min, max)`.
    pub fn x_range(&self) -> (f32, f32) {
        (self.x_min, self.x_max)
    }

    /// Brings `v`'s row into view at the next draw (in the per-value rows;
    /// the per-register rows have none).
    pub fn bring_vreg(&mut self, v: VRegId) {
        self.pending_vreg = Some(v);
    }

    /// Where the last draw put the register-pressure strip.
    pub fn pressure_strip(&self) -> Option<Rect> {
        self.strip
    }

    /// The values whose rows the last draw showed whole (per-value rows).
    pub fn shown_vregs(&self) -> &[VRegId] {
        &self.shown_vregs
    }

    /// Shows program points `[min, max)` (another chart's window: two runs
    /// of one function side by side).
    pub fn set_x_range(&mut self, (min, max): (f32, f32)) {
        if max > min {
            self.x_min = min;
            self.x_max = max;
        }
    }
}

impl Default for ChartView {
    fn default() -> Self {
        ChartView {
            x_min: 0.0,
            x_max: 1.0,
            y_top: 0.0,
            row_h: 16.0,
            fitted_for: None,
            followed: None,
            cache: None,
            compact_cache: None,
            marked_insts: Vec::new(),
            compact: false,
            hovered_inst: None,
            taken: None,
            pending_vreg: None,
            shown_vregs: Vec::new(),
            strip: None,
        }
    }
}

const HEADER_H: f32 = 30.0;
const FOOTER_H: f32 = 18.0;
/// The register-pressure strip under the rows.
const PRESSURE_TRACK_H: f32 = 36.0;

/// Colour of a physical register (the exports' colours, from the engine).
pub fn preg_color(p: PReg) -> Color32 {
    let [r, g, b] = crate::engine::export::scene::preg_rgb(p);
    Color32::from_rgb(r, g, b)
}

pub fn status_color(s: Status) -> Color32 {
    let [r, g, b] = crate::engine::export::scene::status_rgb(s);
    Color32::from_rgb(r, g, b)
}

const CURRENT: Color32 = Color32::from_rgb(255, 255, 255);
const EVICTED: Color32 = Color32::from_rgb(255, 70, 70);
const CONFLICT: Color32 = Color32::from_rgb(255, 170, 40);
const CHILD: Color32 = Color32::from_rgb(80, 220, 255);

fn legend_ui(ui: &mut egui::Ui, looping: bool) {
    let swatch = |ui: &mut egui::Ui, fill: Color32, stroke: Option<Color32>, text: &str| {
        let (r, _) = ui.allocate_exact_size(Vec2::new(18.0, 10.0), Sense::hover());
        ui.painter().rect_filled(r, 2.0, fill);
        if let Some(s) = stroke {
            ui.painter()
                .rect_stroke(r, 2.0, Stroke::new(2.0, s), StrokeKind::Inside);
        }
        ui.label(egui::RichText::new(text).small());
    };
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 4.0;
        swatch(ui, status_color(Status::Queued), None, "queued");
        let p = |hw| PReg {
            hw,
            class: RegClass::Int,
        };
        let (r, _) = ui.allocate_exact_size(Vec2::new(18.0, 10.0), Sense::hover());
        for (i, hw) in [0u8, 1, 2].into_iter().enumerate() {
            let w = r.width() / 3.0;
            let rr = Rect::from_min_size(
                Pos2::new(r.left() + w * i as f32, r.top()),
                Vec2::new(w, r.height()),
            );
            ui.painter().rect_filled(rr, 0.0, preg_color(p(hw)));
        }
        ui.label(egui::RichText::new("allocated (colour = register)").small());
        swatch(ui, status_color(Status::SpillBundle), None, "spill bundle");
        swatch(
            ui,
            status_color(Status::Spilled(SpillKind::NoRegisterLeft)),
            None,
            "stack slot",
        );
        ui.add_space(8.0);
        swatch(ui, Color32::TRANSPARENT, Some(CURRENT), "this step");
        swatch(ui, Color32::TRANSPARENT, Some(EVICTED), "evicted");
        swatch(ui, Color32::TRANSPARENT, Some(CONFLICT), "in the way");
        swatch(ui, Color32::TRANSPARENT, Some(CHILD), "split off");
        if looping {
            swatch(
                ui,
                Color32::TRANSPARENT,
                Some(super::lineage::LOOP_COLOR),
                "in the loop",
            );
        }
    });
}

/// The whole chart: toolbar, legend and canvas, with rows as `mode` says.
/// Choosing the other row mode and clicking a bundle (jump to its next step)
/// become commands.
#[allow(clippy::too_many_arguments)]
pub fn chart_ui(
    ui: &mut egui::Ui,
    view: &mut ChartView,
    mode: RowMode,
    model: &ChartModel,
    compile_id: LoadedId,
    state: &State,
    focus: &Focus,
    steps: &[Step],
    commands: &mut Vec<Command>,
) {
    ui.horizontal_wrapped(|ui| {
        ui.label("Rows:");
        let mut chosen = mode;
        ui.selectable_value(&mut chosen, RowMode::VReg, "per vreg");
        ui.selectable_value(&mut chosen, RowMode::PReg, "per register");
        if chosen != mode {
            commands.push(Command::SetRowMode(chosen));
        }
        ui.separator();
        if ui.button("Fit").on_hover_text("Show the whole function (or double-click the chart)").clicked() {
            view.fitted_for = None;
        }
        if ui.button("−").on_hover_text("Zoom out (Ctrl + wheel)").clicked() {
            zoom_x(view, model, 1.5, 0.5);
        }
        if ui.button("+").on_hover_text("Zoom in (Ctrl + wheel)").clicked() {
            zoom_x(view, model, 1.0 / 1.5, 0.5);
        }
        ui.checkbox(&mut view.compact, "compact")
            .on_hover_text("Only the rows with a live range in the visible window");
        ui.label(
            egui::RichText::new("drag to pan · wheel scrolls rows · Ctrl+wheel zooms · click a bundle to jump to its step")
                .small()
                .weak(),
        );
    });
    legend_ui(ui, !focus.looping.is_empty());

    let stale = !matches!(&view.cache, Some((id, k, m, _)) if *id == compile_id && *k == state.applied && *m == mode);
    if stale {
        view.cache = Some((
            compile_id,
            state.applied,
            mode,
            Layout::build(model, state, mode),
        ));
    }
    let Some((_, _, _, layout)) = view.cache.take() else {
        return;
    };
    // Compact: rows with nothing in the window are left out (kept while the
    // step and the window stay, so hovering does not rebuild it).
    let key = (
        compile_id,
        state.applied,
        mode,
        view.x_min.to_bits(),
        view.x_max.to_bits(),
    );
    let compact = view.compact.then(|| match view.compact_cache.take() {
        Some((k, l)) if k == key => l,
        _ => layout.compact(view.x_min, view.x_max),
    });
    let scene = Scene {
        mode,
        model,
        layout: compact.as_ref().unwrap_or(&layout),
        state,
        focus,
    };
    let jump = canvas_ui(ui, view, &scene, compile_id, steps);
    view.cache = Some((compile_id, state.applied, mode, layout));
    view.compact_cache = compact.map(|l| (key, l));
    commands.extend(jump);
}

fn zoom_x(view: &mut ChartView, model: &ChartModel, factor: f32, anchor: f32) {
    let span = view.x_max - view.x_min;
    let new_span = (span * factor).clamp(4.0, model.points as f32 * 1.05 + 4.0);
    let at = view.x_min + span * anchor;
    view.x_min = at - new_span * anchor;
    view.x_max = view.x_min + new_span;
    clamp_x(view, model);
}

fn clamp_x(view: &mut ChartView, model: &ChartModel) {
    let span = view.x_max - view.x_min;
    let lo = -span * 0.05 - 1.0;
    let hi = model.points as f32 + span * 0.05 + 1.0;
    if view.x_min < lo {
        view.x_min = lo;
        view.x_max = lo + span;
    }
    if view.x_max > hi {
        view.x_max = hi;
        view.x_min = (hi - span).max(lo);
    }
}

/// What the chart is drawn from this frame: the model, the row layout, the
/// state after the current step and what that step touched.
struct Scene<'a> {
    mode: RowMode,
    model: &'a ChartModel,
    layout: &'a Layout,
    state: &'a State,
    focus: &'a Focus,
}

/// Where things go this frame: the chart's rectangle, the plot inside it,
/// and how program points and rows map to pixels (after panning, zooming
/// and following the step).
struct Geometry {
    rect: Rect,
    plot: Rect,
    x_min: f32,
    x_max: f32,
    /// Pixels per program point.
    ppp: f32,
    y_top: f32,
    row_h: f32,
    visible_rows: f32,
    dark: bool,
    text_color: Color32,
    weak: Color32,
}

impl Geometry {
    fn x_of(&self, p: f32) -> f32 {
        self.plot.left() + (p - self.x_min) * self.ppp
    }

    fn row_y(&self, r: usize) -> f32 {
        self.plot.top() + (r as f32 - self.y_top) * self.row_h
    }

    /// The program point under `pos`.
    fn point_at(&self, pos: Pos2) -> Point {
        Point((self.x_min + (pos.x - self.plot.left()) / self.ppp).max(0.0) as u32)
    }
}

fn canvas_ui(
    ui: &mut egui::Ui,
    view: &mut ChartView,
    scene: &Scene,
    compile_id: LoadedId,
    steps: &[Step],
) -> Option<Command> {
    let (model, layout) = (scene.model, scene.layout);
    let size = ui.available_size().max(Vec2::new(200.0, 120.0));
    let (rect, response) = ui.allocate_exact_size(size, Sense::click_and_drag());
    let gutter_w = gutter_width(model, layout);
    let plot = Rect::from_min_max(
        Pos2::new(rect.left() + gutter_w, rect.top() + HEADER_H),
        Pos2::new(
            rect.right() - 4.0,
            rect.bottom() - FOOTER_H - strip_height(model),
        ),
    );
    let visuals = ui.visuals().clone();
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, visuals.extreme_bg_color);

    fit(view, scene, compile_id, plot, response.double_clicked());
    let visible_rows = (plot.height() / view.row_h).max(1.0);
    let max_top = (layout.rows.len() as f32 - visible_rows + 1.0).max(0.0);
    pan_and_zoom(ui, view, model, plot, &response);
    follow_step(view, scene, visible_rows);
    if let Some(v) = view.pending_vreg.take()
        && let Some(row) = layout
            .rows
            .iter()
            .position(|r| matches!(r, RowLabel::VReg(x) if *x == v))
    {
        let row = row as f32;
        if row < view.y_top || row >= view.y_top + visible_rows - 1.0 {
            view.y_top = row - visible_rows / 3.0;
        }
    }
    view.y_top = view.y_top.clamp(0.0, max_top);
    let first = view.y_top.ceil() as usize;
    let last = ((view.y_top + visible_rows).floor() as usize).min(layout.rows.len());
    view.shown_vregs.clear();
    view.shown_vregs.extend(
        layout
            .rows
            .get(first..last)
            .unwrap_or_default()
            .iter()
            .filter_map(|r| match r {
                RowLabel::VReg(v) => Some(*v),
                _ => None,
            }),
    );

    let g = Geometry {
        rect,
        plot,
        x_min: view.x_min,
        x_max: view.x_max,
        ppp: plot.width() / (view.x_max - view.x_min),
        y_top: view.y_top,
        row_h: view.row_h,
        visible_rows,
        dark: visuals.dark_mode,
        text_color: visuals.text_color(),
        weak: visuals.weak_text_color(),
    };
    draw_axis(&painter, &g, model);
    let plot_painter = ui.painter_at(plot);
    let gutter_painter = ui.painter_at(Rect::from_min_max(
        Pos2::new(rect.left(), plot.top()),
        Pos2::new(plot.left(), plot.bottom()),
    ));
    draw_rows(&plot_painter, &gutter_painter, &g, scene);
    draw_step_marks(&painter, &plot_painter, &g, scene);
    draw_marked_code(&plot_painter, &g, &view.marked_insts);
    draw_pressure(&painter, view, &g, scene, compile_id);
    hover(view, &painter, &plot_painter, &g, scene, steps, response)
}

/// The gutter fits the longest row label.
fn gutter_width(model: &ChartModel, layout: &Layout) -> f32 {
    let longest = layout
        .rows
        .iter()
        .map(|r| match r {
            RowLabel::VReg(v) => 1 + v.to_string().len(),
            RowLabel::PReg(p) => model.reg(*p).len(),
            RowLabel::Lane(g) => g.len(),
        })
        .max()
        .unwrap_or(4);
    (longest as f32 * 6.8 + 12.0).clamp(40.0, 110.0)
}

/// The height of the register-pressure strip under the rows: a track of
/// [`PRESSURE_TRACK_H`] per register class, however big the function.
fn strip_height(model: &ChartModel) -> f32 {
    model.pressure.len() as f32 * PRESSURE_TRACK_H
}

/// The whole function in view for a new compile or on a double click.
fn fit(view: &mut ChartView, scene: &Scene, compile_id: LoadedId, plot: Rect, again: bool) {
    let (model, layout) = (scene.model, scene.layout);
    if view.fitted_for != Some(compile_id) || again {
        if view.fitted_for != Some(compile_id) {
            // A big function starts compact: most rows are empty at any zoom.
            view.compact = model.vregs.len() > 400;
        }
        view.fitted_for = Some(compile_id);
        view.x_min = -1.0;
        view.x_max = model.points as f32 + 1.0;
        view.y_top = 0.0;
        view.row_h = if layout.rows.len() as f32 * 16.0 <= plot.height() {
            16.0
        } else {
            14.0
        };
    }
}

/// Drag pans, wheel scrolls rows, Ctrl+wheel or pinch zooms x.
fn pan_and_zoom(
    ui: &egui::Ui,
    view: &mut ChartView,
    model: &ChartModel,
    plot: Rect,
    response: &egui::Response,
) {
    if response.dragged() {
        let d = response.drag_delta();
        let ppp = plot.width() / (view.x_max - view.x_min);
        view.x_min -= d.x / ppp;
        view.x_max -= d.x / ppp;
        view.y_top -= d.y / view.row_h;
    }
    if let Some(hover) = response.hover_pos() {
        let (zoom, scroll) = ui.input(|i| (i.zoom_delta(), i.smooth_scroll_delta()));
        if zoom != 1.0 {
            let anchor = ((hover.x - plot.left()) / plot.width()).clamp(0.0, 1.0);
            zoom_x(view, model, 1.0 / zoom, anchor);
        } else if scroll != Vec2::ZERO {
            view.y_top -= scroll.y / view.row_h;
            let ppp = plot.width() / (view.x_max - view.x_min);
            view.x_min -= scroll.x / ppp;
            view.x_max -= scroll.x / ppp;
        }
    }
    clamp_x(view, model);
}

/// Follow the current step: bring its bundle into view once per step.
fn follow_step(view: &mut ChartView, scene: &Scene, visible_rows: f32) {
    let (model, layout, state, focus) = (scene.model, scene.layout, scene.state, scene.focus);
    let follow_key = (state.applied, scene.mode);
    if view.followed != Some(follow_key) {
        view.followed = Some(follow_key);
        // A bundle split away entirely has no row left: follow its children.
        let shown = focus
            .bundle
            .into_iter()
            .chain(focus.children.iter().copied())
            .find_map(|b| layout.row_of_bundle.get(&b).map(|&row| (b, row)));
        if let Some((b, row)) = shown {
            let row = row as f32;
            if row < view.y_top || row >= view.y_top + visible_rows - 1.0 {
                view.y_top = row - visible_rows / 3.0;
            }
            if state.bundles.get(b as usize).is_some() {
                let segs = state.segs(b);
                let from = segs.iter().map(|s| s.from.0).min().unwrap_or(0) as f32;
                let to = segs.iter().map(|s| s.to.0).max().unwrap_or(0) as f32;
                // In a big function, zoom to the bundle when it is a sliver.
                let span = view.x_max - view.x_min;
                if !segs.is_empty() && model.points > 600 && (to - from) * 20.0 < span {
                    let new_span = ((to - from) * 4.0).max(120.0);
                    view.x_min = (from + to) / 2.0 - new_span / 2.0;
                    view.x_max = view.x_min + new_span;
                    clamp_x(view, model);
                } else if !segs.is_empty() && (to < view.x_min || from > view.x_max) {
                    let span = view.x_max - view.x_min;
                    view.x_min = (from + to) / 2.0 - span / 2.0;
                    view.x_max = view.x_min + span;
                    clamp_x(view, model);
                }
            }
        }
    }
}

/// The instruction grid, the x-axis ticks and labels, and the block
/// boundaries (a line over the plot and the block's name on top; when blocks
/// are denser than a few pixels, only a tick in the header).
fn draw_axis(painter: &egui::Painter, g: &Geometry, model: &ChartModel) {
    let (plot, rect, weak, text_color) = (g.plot, g.rect, g.weak, g.text_color);
    let x_of = |p: f32| g.x_of(p);
    let grid = if g.dark {
        Color32::from_gray(34)
    } else {
        Color32::from_gray(228)
    };
    let block_line = if g.dark {
        Color32::from_gray(120)
    } else {
        Color32::from_gray(110)
    };
    let font = FontId::monospace(10.0);
    let inst_px = g.ppp * 2.0;
    let tick_every = [
        1u32, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000,
    ]
    .into_iter()
    .find(|t| *t as f32 * inst_px >= 44.0)
    .unwrap_or(50000);
    let first_inst = (g.x_min / 2.0).floor().max(0.0) as u32;
    let last_inst = ((g.x_max / 2.0).ceil().max(0.0) as u32).min(model.points / 2 + 1);
    let mut shapes: Vec<Shape> = Vec::new();
    if inst_px >= 6.0 {
        for i in first_inst..=last_inst {
            let x = x_of(i as f32 * 2.0);
            shapes.push(Shape::line_segment(
                [Pos2::new(x, plot.top()), Pos2::new(x, plot.bottom())],
                Stroke::new(1.0, grid),
            ));
        }
    }
    let mut i = first_inst.div_ceil(tick_every) * tick_every;
    while i <= last_inst {
        let x = x_of(i as f32 * 2.0);
        if x >= plot.left() && x <= plot.right() {
            shapes.push(Shape::line_segment(
                [Pos2::new(x, plot.top() - 4.0), Pos2::new(x, plot.top())],
                Stroke::new(1.0, weak),
            ));
            painter.text(
                Pos2::new(x, plot.top() - 4.0),
                Align2::CENTER_BOTTOM,
                i.to_string(),
                font.clone(),
                weak,
            );
        }
        i += tick_every;
    }
    let first_block = model
        .blocks
        .partition_point(|b| (b.inst as f32 * 2.0) < g.x_min);
    let last_block = model
        .blocks
        .partition_point(|b| (b.inst as f32 * 2.0) <= g.x_max);
    let visible_blocks = last_block.saturating_sub(first_block);
    let dense = visible_blocks as f32 * 6.0 > plot.width();
    let mut last_label_x = f32::NEG_INFINITY;
    let mut last_line_x = f32::NEG_INFINITY;
    for b in &model.blocks[first_block..last_block] {
        let x = x_of(b.inst as f32 * 2.0);
        if x - last_line_x < 3.0 {
            continue;
        }
        last_line_x = x;
        // A line through the rows when blocks are far enough apart to tell
        // apart; otherwise only the labelled ones get a tick by their name.
        if !dense {
            shapes.push(Shape::line_segment(
                [Pos2::new(x, plot.top()), Pos2::new(x, plot.bottom())],
                Stroke::new(1.0, block_line),
            ));
        }
        if x - last_label_x > 10.0 + 7.0 * (1 + b.block.to_string().len()) as f32 {
            shapes.push(Shape::line_segment(
                [
                    Pos2::new(x, rect.top() + 1.0),
                    Pos2::new(x, rect.top() + 14.0),
                ],
                Stroke::new(1.0, block_line),
            ));
            painter.text(
                Pos2::new(x + 2.0, rect.top() + 1.0),
                Align2::LEFT_TOP,
                format!("b{}", b.block),
                FontId::proportional(11.0),
                text_color,
            );
            last_label_x = x;
        }
    }
    painter.extend(shapes);
}

/// The rows: labels in the gutter, zebra background, segment fills as one
/// mesh, outlines for what the step touched, bundle names, use and def ticks.
fn draw_rows(
    plot_painter: &egui::Painter,
    gutter_painter: &egui::Painter,
    g: &Geometry,
    scene: &Scene,
) {
    let (mode, model, layout, focus) = (scene.mode, scene.model, scene.layout, scene.focus);
    let (plot, dark, text_color, weak) = (g.plot, g.dark, g.text_color, g.weak);
    let (x_of, row_y) = (|p: f32| g.x_of(p), |r: usize| g.row_y(r));
    let inst_px = g.ppp * 2.0;
    let first_row = g.y_top.floor().max(0.0) as usize;
    let last_row = ((g.y_top + g.visible_rows).ceil() as usize).min(layout.rows.len());
    let mut mesh = Mesh::default();
    let mut outlines: Vec<Shape> = Vec::new();
    let mut labels: Vec<(Pos2, String, Color32)> = Vec::new();
    let focus_rows: Vec<usize> = (first_row..last_row)
        .filter(|r| {
            layout
                .row_items(*r)
                .iter()
                .any(|i| Some(i.bundle) == focus.bundle)
        })
        .collect();
    let mut prev_lane: Option<&str> = None;
    for r in first_row..last_row {
        let y = row_y(r);
        let row_rect = Rect::from_min_max(
            Pos2::new(plot.left(), y),
            Pos2::new(plot.right(), y + g.row_h),
        );
        if focus_rows.contains(&r) {
            mesh.add_colored_rect(
                row_rect,
                if dark {
                    Color32::from_rgba_unmultiplied(255, 255, 255, 14)
                } else {
                    Color32::from_rgba_unmultiplied(0, 0, 0, 14)
                },
            );
        } else if r % 2 == 1 {
            mesh.add_colored_rect(
                row_rect,
                if dark {
                    Color32::from_rgba_unmultiplied(255, 255, 255, 5)
                } else {
                    Color32::from_rgba_unmultiplied(0, 0, 0, 6)
                },
            );
        }
        let (label, color) = match layout.rows[r] {
            RowLabel::VReg(v) => (format!("v{v}"), text_color),
            RowLabel::PReg(p) => (model.reg(p), preg_color(p)),
            RowLabel::Lane(g) => {
                let l = if prev_lane == Some(g) {
                    String::new()
                } else {
                    g.to_string()
                };
                prev_lane = Some(g);
                (l, weak)
            }
        };
        if g.row_h >= 9.0 && !label.is_empty() {
            gutter_painter.text(
                Pos2::new(plot.left() - 4.0, y + g.row_h / 2.0),
                Align2::RIGHT_CENTER,
                label,
                FontId::monospace((g.row_h - 4.0).min(11.0)),
                color,
            );
        }
        let pad = if g.row_h >= 8.0 { 2.0 } else { 0.5 };
        for item in layout.row_items(r) {
            if (item.to as f32) < g.x_min || (item.from as f32) > g.x_max {
                continue;
            }
            let x0 = x_of(item.from as f32).max(plot.left() - 2.0);
            let mut x1 = x_of(item.to as f32).min(plot.right() + 2.0);
            if x1 - x0 < 1.0 {
                x1 = x0 + 1.0;
            }
            let seg_rect =
                Rect::from_min_max(Pos2::new(x0, y + pad), Pos2::new(x1, y + g.row_h - pad));
            mesh.add_colored_rect(seg_rect, status_color(item.status));
            let highlight = if Some(item.bundle) == focus.bundle {
                Some((CURRENT, 2.0))
            } else if focus.evicted.contains(&item.bundle) {
                Some((EVICTED, 2.0))
            } else if focus.children.contains(&item.bundle) {
                Some((CHILD, 1.5))
            } else if focus.conflicts.contains(&item.bundle) {
                Some((CONFLICT, 1.5))
            } else if focus.looping.contains(&item.bundle) {
                Some((super::lineage::LOOP_COLOR, 2.0))
            } else {
                None
            };
            if let Some((c, w)) = highlight {
                let c = if !dark && c == CURRENT {
                    Color32::BLACK
                } else {
                    c
                };
                outlines.push(Shape::rect_stroke(
                    seg_rect,
                    1.0,
                    Stroke::new(w, c),
                    StrokeKind::Outside,
                ));
            }
            if x1 - x0 > 34.0 && g.row_h >= 12.0 {
                let text = match mode {
                    RowMode::VReg => format!("b{}", item.bundle),
                    RowMode::PReg => match model.vreg_of(item.range) {
                        Some(v) => format!("v{v} b{}", item.bundle),
                        None => format!("b{}", item.bundle),
                    },
                };
                if (text.len() as f32) * 6.2 + 6.0 < x1 - x0 {
                    labels.push((
                        Pos2::new(x0.max(plot.left()) + 3.0, y + g.row_h / 2.0),
                        text,
                        Color32::from_gray(20),
                    ));
                }
            }
            // Use and def ticks once there is room to tell them apart.
            if inst_px >= 10.0
                && let Some(rd) = model.ranges.get(&item.range)
            {
                for u in &rd.uses {
                    if u.pos.0 < item.from || u.pos.0 >= item.to.max(item.from + 1) {
                        continue;
                    }
                    let x = x_of(u.pos.0 as f32 + 0.5);
                    let c = Color32::from_gray(15);
                    if u.def {
                        outlines.push(Shape::convex_polygon(
                            vec![
                                Pos2::new(x - 3.0, seg_rect.bottom()),
                                Pos2::new(x + 3.0, seg_rect.bottom()),
                                Pos2::new(x, seg_rect.bottom() - 5.0),
                            ],
                            c,
                            Stroke::NONE,
                        ));
                    } else {
                        outlines.push(Shape::line_segment(
                            [
                                Pos2::new(x, seg_rect.top()),
                                Pos2::new(x, seg_rect.bottom()),
                            ],
                            Stroke::new(1.5, c),
                        ));
                    }
                }
            }
        }
    }
    plot_painter.add(Shape::mesh(mesh));
    plot_painter.extend(outlines);
    for (pos, text, color) in labels {
        plot_painter.text(
            pos,
            Align2::LEFT_CENTER,
            text,
            FontId::monospace(10.0),
            color,
        );
    }
}

/// Where this step split, where it found conflicts, or that there is
/// nothing to show.
fn draw_step_marks(
    painter: &egui::Painter,
    plot_painter: &egui::Painter,
    g: &Geometry,
    scene: &Scene,
) {
    let (focus, layout, plot, weak) = (scene.focus, scene.layout, g.plot, g.weak);
    let x_of = |p: f32| g.x_of(p);
    if let Some(at) = focus.split_at {
        let x = x_of(at.0 as f32);
        plot_painter.add(Shape::dashed_line(
            &[Pos2::new(x, plot.top()), Pos2::new(x, plot.bottom())],
            Stroke::new(1.5, CHILD),
            5.0,
            4.0,
        ));
    }
    for p in &focus.conflict_points {
        let x = x_of(p.0 as f32 + 0.5);
        plot_painter.add(Shape::convex_polygon(
            vec![
                Pos2::new(x - 5.0, plot.top()),
                Pos2::new(x + 5.0, plot.top()),
                Pos2::new(x, plot.top() + 7.0),
            ],
            CONFLICT,
            Stroke::NONE,
        ));
    }
    if layout.rows.is_empty() {
        painter.text(
            plot.center(),
            Align2::CENTER_CENTER,
            "no live ranges to show",
            FontId::proportional(14.0),
            weak,
        );
    }
}

/// The selected code's instructions: bands across the rows.
fn draw_marked_code(plot_painter: &egui::Painter, g: &Geometry, marked_insts: &[u32]) {
    let (plot, x_of) = (g.plot, |p: f32| g.x_of(p));
    for &inst in marked_insts {
        let (x0, x1) = (x_of(inst as f32 * 2.0), x_of(inst as f32 * 2.0 + 2.0));
        if x1 >= plot.left() && x0 <= plot.right() {
            plot_painter.rect_filled(
                Rect::from_min_max(
                    Pos2::new(x0, plot.top()),
                    Pos2::new(x1.max(x0 + 2.0), plot.bottom()),
                ),
                0.0,
                Color32::from_rgba_unmultiplied(255, 190, 60, 40),
            );
        }
    }
}

/// Register pressure under the rows: values live per point against the
/// registers of the class, and the registers taken after this step.
fn draw_pressure(
    painter: &egui::Painter,
    view: &mut ChartView,
    g: &Geometry,
    scene: &Scene,
    compile_id: LoadedId,
) {
    let (model, state, plot, rect) = (scene.model, scene.state, g.plot, g.rect);
    let strip_h = strip_height(model);
    if strip_h > 0.0 {
        let stale =
            !matches!(&view.taken, Some((id, k, _)) if *id == compile_id && *k == state.applied);
        if stale {
            let taken = model
                .pressure
                .iter()
                .map(|c| crate::engine::replay::pressure::allocated(state, c.class, c.live.len()))
                .collect();
            view.taken = Some((compile_id, state.applied, taken));
        }
        let strip = Rect::from_min_max(
            Pos2::new(plot.left(), plot.bottom() + 2.0),
            Pos2::new(plot.right(), plot.bottom() + strip_h - 2.0),
        );
        view.strip = Some(strip);
        let taken = view.taken.as_ref().map(|t| &t.2);
        pressure_strip(
            painter,
            strip,
            rect.left() + 4.0,
            model,
            taken,
            g.x_min,
            g.ppp,
            g.dark,
        );
    }
}

/// Hover: the crosshair, the instruction under the pointer in the footer,
/// a tooltip for a segment; a click on one jumps to its bundle's next step.
#[allow(clippy::too_many_arguments)]
fn hover(
    view: &mut ChartView,
    painter: &egui::Painter,
    plot_painter: &egui::Painter,
    g: &Geometry,
    scene: &Scene,
    steps: &[Step],
    response: egui::Response,
) -> Option<Command> {
    let (model, layout, state, focus) = (scene.model, scene.layout, scene.state, scene.focus);
    let (plot, rect, weak, text_color, ppp) = (g.plot, g.rect, g.weak, g.text_color, g.ppp);
    let strip_h = strip_height(model);
    let mut command = None;
    let footer = Rect::from_min_max(
        Pos2::new(rect.left() + 4.0, plot.bottom() + strip_h),
        rect.right_bottom(),
    );
    let hover = response.hover_pos().filter(|p| plot.contains(*p));
    let point_at = |pos: Pos2| g.point_at(pos);
    // Over the pressure strip: each class's live values, registers taken and
    // registers at the point under the pointer.
    let strip = Rect::from_min_max(
        Pos2::new(plot.left(), plot.bottom()),
        Pos2::new(plot.right(), plot.bottom() + strip_h),
    );
    if let Some(pos) = response
        .hover_pos()
        .filter(|p| strip_h > 0.0 && strip.contains(*p))
    {
        let p = point_at(pos);
        let at = p.0 as usize;
        let taken = view.taken.as_ref().map(|t| &t.2);
        let mut lines = vec![model.point_text(p)];
        for (t, c) in model.pressure.iter().enumerate() {
            let name = match c.class {
                crate::engine::trace::RegClass::Int => "int",
                crate::engine::trace::RegClass::Float => "float",
                crate::engine::trace::RegClass::Vector => "vector",
            };
            let live = c.live.get(at).copied().unwrap_or(0);
            let used = taken
                .and_then(|all| all.get(t))
                .and_then(|v| v.get(at).copied())
                .unwrap_or(0);
            lines.push(match c.registers {
                Some(r) => format!(
                    "{name}: {live} live of {r} registers, {used} taken at this step{}",
                    if live > r {
                        " (more live than registers)"
                    } else {
                        ""
                    }
                ),
                None => format!("{name}: {live} live, {used} registers taken at this step"),
            });
        }
        painter.add(Shape::line_segment(
            [
                Pos2::new(pos.x, strip.top()),
                Pos2::new(pos.x, strip.bottom()),
            ],
            Stroke::new(1.0, weak),
        ));
        response.clone().on_hover_text_at_pointer(lines.join("\n"));
    }
    view.hovered_inst = hover.map(|pos| point_at(pos).inst());
    let footer_text = match hover {
        Some(pos) => {
            let p = point_at(pos);
            plot_painter.add(Shape::line_segment(
                [
                    Pos2::new(pos.x, plot.top()),
                    Pos2::new(pos.x, plot.bottom()),
                ],
                Stroke::new(1.0, weak),
            ));
            model.point_text(p)
        }
        None => format!(
            "{} rows · {} program points · {} blocks",
            layout.rows.len(),
            model.points,
            model.blocks.len()
        ),
    };
    painter.text(
        footer.left_center(),
        Align2::LEFT_CENTER,
        footer_text,
        FontId::monospace(11.0),
        text_color,
    );
    let hit = hover.and_then(|pos| {
        let row = (g.y_top + (pos.y - plot.top()) / g.row_h).floor();
        if row < 0.0 {
            return None;
        }
        let p = g.x_min + (pos.x - plot.left()) / ppp;
        let slack = 2.0 / ppp;
        layout
            .row_items(row as usize)
            .iter()
            .find(|i| i.from as f32 - slack <= p && p < i.to as f32 + slack)
            .copied()
            .map(|i| (i, Point(p.max(0.0) as u32)))
    });
    if let Some((item, at)) = hit {
        if response.clicked() {
            command = next_step_of(steps, state.applied, item.bundle).map(Command::Jump);
        }
        response.on_hover_ui_at_pointer(|ui| tooltip_ui(ui, model, state, &item, at, focus));
    }
    command
}

/// The cursor position that shows the next step processing `bundle` after
/// `applied` steps, wrapping around to its first step.
fn next_step_of(steps: &[Step], applied: usize, bundle: BundleId) -> Option<usize> {
    let after = steps
        .iter()
        .enumerate()
        .skip(applied)
        .find(|(_, s)| s.bundle == bundle);
    let any = || steps.iter().enumerate().find(|(_, s)| s.bundle == bundle);
    after.or_else(any).map(|(i, _)| i + 1)
}

fn tooltip_ui(
    ui: &mut egui::Ui,
    model: &ChartModel,
    state: &State,
    item: &Item,
    at: Point,
    focus: &Focus,
) {
    ui.set_max_width(460.0);
    let status = match item.status {
        Status::Allocated(p) => format!("allocated to {}", model.reg_both(p)),
        Status::Spilled(k) => format!("spilled: {}", k.text()),
        s => s.name().to_string(),
    };
    ui.strong(format!("bundle {} — {status}", item.bundle));
    let role = if Some(item.bundle) == focus.bundle {
        Some("the bundle this step processed")
    } else if focus.evicted.contains(&item.bundle) {
        Some("evicted by this step")
    } else if focus.children.contains(&item.bundle) {
        Some("split off by this step")
    } else if focus.conflicts.contains(&item.bundle) {
        Some("was in the way of this step's bundle")
    } else {
        None
    };
    if let Some(r) = role {
        ui.label(r);
    }
    if let Some(b) = state.bundles.get(item.bundle as usize) {
        let segs = state.segs(item.bundle);
        let vregs: Vec<String> = {
            let mut v: Vec<u32> = segs.iter().filter_map(|s| model.vreg_of(s.range)).collect();
            v.sort_unstable();
            v.dedup();
            v.into_iter().map(|v| format!("v{v}")).collect()
        };
        ui.label(format!(
            "{} segment{} · vregs {}{}",
            segs.len(),
            if segs.len() == 1 { "" } else { "s" },
            vregs.join(", "),
            if b.evictions > 0 {
                format!(" · evicted {}×", b.evictions)
            } else {
                String::new()
            }
        ));
    }
    ui.monospace(format!(
        "range r{} of {}: {} .. {}",
        item.range,
        model
            .vreg_of(item.range)
            .map(|v| format!("v{v}"))
            .unwrap_or("?".into()),
        Point(item.from).text(),
        Point(item.to).text()
    ));
    if let Some(rd) = model.ranges.get(&item.range) {
        let uses: Vec<_> = rd
            .uses
            .iter()
            .filter(|u| u.pos.0 >= item.from && u.pos.0 < item.to)
            .collect();
        if uses.is_empty() {
            ui.label("no uses in this segment");
        } else {
            ui.label(format!("uses (spill weight {:.0}):", rd.weight));
            for u in uses.iter().take(12) {
                let inst = model
                    .inst_text(u.pos.inst())
                    .map(|t| format!("   ← {t}"))
                    .unwrap_or_default();
                ui.monospace(format!("  {}{inst}", u.text()));
            }
            if uses.len() > 12 {
                ui.label(format!("  … {} more", uses.len() - 12));
            }
        }
    }
    ui.separator();
    ui.monospace(model.point_text(at));
    ui.label(
        egui::RichText::new("click: jump to this bundle's next step")
            .small()
            .weak(),
    );
}

/// One track per register class: a column per pixel with the most values
/// live there (red where more than the registers), the registers taken after
/// this step over it, and the register count as a line.
#[allow(clippy::too_many_arguments)]
fn pressure_strip(
    painter: &egui::Painter,
    strip: Rect,
    label_x: f32,
    model: &ChartModel,
    taken: Option<&Vec<Vec<u32>>>,
    x_min: f32,
    ppp: f32,
    dark: bool,
) {
    let n = model.pressure.len().max(1) as f32;
    let track_h = strip.height() / n;
    let font = FontId::monospace(9.5);
    let text = if dark {
        Color32::from_gray(170)
    } else {
        Color32::from_gray(70)
    };
    for (t, c) in model.pressure.iter().enumerate() {
        let top = strip.top() + t as f32 * track_h;
        let bottom = top + track_h - 1.0;
        let regs = c.registers.unwrap_or(0);
        let scale = c.max_live.max(regs).max(1) as f32;
        let y_of = |v: u32| bottom - (v as f32 / scale) * (track_h - 2.0);
        let name = match c.class {
            crate::engine::trace::RegClass::Int => "int",
            crate::engine::trace::RegClass::Float => "float",
            crate::engine::trace::RegClass::Vector => "vec",
        };
        painter.text(
            Pos2::new(label_x, (top + bottom) / 2.0),
            Align2::LEFT_CENTER,
            match c.registers {
                Some(r) => format!("{name} {}/{r}", c.max_live),
                None => format!("{name} {}", c.max_live),
            },
            font.clone(),
            text,
        );
        let mut shapes = Vec::new();
        let columns = strip.width().ceil() as usize;
        for col in 0..columns {
            let x = strip.left() + col as f32;
            let p0 = (x_min + col as f32 / ppp).floor().max(0.0) as usize;
            let p1 = ((x_min + (col as f32 + 1.0) / ppp).ceil().max(0.0) as usize).max(p0 + 1);
            let (Some(live), Some(_)) = (c.live.get(p0..p1.min(c.live.len())), c.live.get(p0))
            else {
                continue;
            };
            let v = live.iter().copied().max().unwrap_or(0);
            if v > 0 {
                let over = c.registers.is_some_and(|r| v > r);
                let color = if over {
                    Color32::from_rgb(220, 80, 70)
                } else if dark {
                    Color32::from_gray(95)
                } else {
                    Color32::from_gray(170)
                };
                shapes.push(Shape::line_segment(
                    [Pos2::new(x + 0.5, bottom), Pos2::new(x + 0.5, y_of(v))],
                    Stroke::new(1.0, color),
                ));
            }
            if let Some(taken) = taken.and_then(|all| all.get(t)) {
                let used = taken
                    .get(p0..p1.min(taken.len()))
                    .and_then(|s| s.iter().copied().max())
                    .unwrap_or(0);
                if used > 0 {
                    shapes.push(Shape::line_segment(
                        [Pos2::new(x, y_of(used)), Pos2::new(x + 1.0, y_of(used))],
                        Stroke::new(1.5, Color32::from_rgb(90, 170, 255)),
                    ));
                }
            }
        }
        if regs > 0 {
            shapes.extend(Shape::dashed_line(
                &[
                    Pos2::new(strip.left(), y_of(regs)),
                    Pos2::new(strip.right(), y_of(regs)),
                ],
                Stroke::new(1.0, Color32::from_rgb(240, 200, 90)),
                4.0,
                3.0,
            ));
        }
        painter.extend(shapes);
    }
}
