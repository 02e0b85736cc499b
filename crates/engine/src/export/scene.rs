//! The live-range chart at one step as plain shapes: one row per virtual
//! register (in order of first definition), each live range a rectangle
//! coloured by its bundle's status (the register's hue when allocated), the
//! step's bundle outlined white and the bundles it evicted red. The app's
//! chart uses the same colours ([`status_rgb`], [`preg_rgb`]).

use std::collections::HashMap;

use crate::replay::{Replay, Status};
use crate::trace::{BundleId, PReg, RegClass, RegNames, SpillKind, VRegId};

pub type Rgb = [u8; 3];

/// A filled rectangle, maybe outlined, with a tooltip (SVG `<title>`).
#[derive(Clone, Debug)]
pub struct Rect {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    pub fill: Rgb,
    pub stroke: Option<Rgb>,
    pub title: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Line {
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
    pub color: Rgb,
}

/// Text with its baseline's left end at (x, y).
#[derive(Clone, Debug)]
pub struct Text {
    pub x: f32,
    pub y: f32,
    pub size: f32,
    pub color: Rgb,
    pub text: String,
}

/// A picture: shapes in drawing order (lines, then rectangles, then text).
#[derive(Clone, Debug, Default)]
pub struct Scene {
    pub width: f32,
    pub height: f32,
    pub background: Rgb,
    pub rects: Vec<Rect>,
    pub lines: Vec<Line>,
    pub texts: Vec<Text>,
}

/// A register's colour: hues spread by the golden ratio, per class.
pub fn preg_rgb(p: PReg) -> Rgb {
    let h = (p.hw as f32 * 0.618_034 + 0.13).fract();
    let (s, v) = match p.class {
        RegClass::Int => (0.55, 0.88),
        RegClass::Float => (0.35, 0.95),
        RegClass::Vector => (0.75, 0.70),
    };
    hsv(h, s, v)
}

/// A bundle's colour by status.
pub fn status_rgb(s: Status) -> Rgb {
    match s {
        Status::Allocated(p) => preg_rgb(p),
        Status::Queued => [120, 126, 138],
        Status::SpillBundle => [214, 140, 50],
        Status::Spilled(SpillKind::Deferred | SpillKind::IntoSpillBundle) => [180, 110, 60],
        Status::Spilled(_) => [190, 55, 60],
        Status::Idle | Status::Dissolved => [70, 72, 78],
    }
}

fn hsv(h: f32, s: f32, v: f32) -> Rgb {
    let i = (h * 6.0).floor();
    let f = h * 6.0 - i;
    let (p, q, t) = (v * (1.0 - s), v * (1.0 - f * s), v * (1.0 - (1.0 - f) * s));
    let (r, g, b) = match i as i32 % 6 {
        0 => (v, t, p),
        1 => (q, v, p),
        2 => (p, v, t),
        3 => (p, q, v),
        4 => (t, p, v),
        _ => (v, p, q),
    };
    let c = |x: f32| (x * 255.0).round().clamp(0.0, 255.0) as u8;
    [c(r), c(g), c(b)]
}

const BACKGROUND: Rgb = [24, 24, 28];
const GRID: Rgb = [52, 54, 60];
const TEXT: Rgb = [220, 220, 225];
const WEAK: Rgb = [150, 152, 160];
const CURRENT: Rgb = [255, 255, 255];
const EVICTED: Rgb = [255, 70, 70];

const LABEL_W: f32 = 78.0;
const HEADER_H: f32 = 46.0;
const AXIS_H: f32 = 18.0;
const ROW_H: f32 = 14.0;
const PLOT_W: f32 = 1100.0;

/// The chart after `step` steps (0: before the first), at most `max_rows`
/// rows: around the step's bundle when there are more. `title` heads it.
pub fn chart(
    replay: &Replay,
    step: usize,
    title: &str,
    names: Option<RegNames>,
    max_rows: usize,
) -> Scene {
    let step = step.min(replay.len());
    let state = replay.state_at(step);
    let trace = replay.trace();
    let current: Option<(BundleId, Vec<BundleId>)> = step
        .checked_sub(1)
        .map(|i| &replay.steps()[i])
        .map(|s| (s.bundle, s.evicted()));
    // Rows: every vreg with a live range now, in the app's row order.
    let mut first: HashMap<VRegId, u32> = HashMap::new();
    let mut points = 1u32;
    for b in 0..state.bundles.len() {
        for s in state.segs(b as BundleId) {
            points = points.max(s.to.0 + 1);
            if let Some(&v) = trace.vreg_of_range.get(&s.range) {
                let e = first.entry(v).or_insert(u32::MAX);
                *e = (*e).min(s.from.0);
            }
        }
    }
    let vregs: Vec<VRegId> = trace
        .vreg_rows()
        .into_iter()
        .filter(|v| first.contains_key(v))
        .collect();
    let all_rows = vregs.len();
    // Too many rows: a window around the step's bundle.
    let mut shown = 0..all_rows;
    if all_rows > max_rows {
        let anchor = current
            .as_ref()
            .and_then(|(b, _)| {
                let segs = state.segs(*b);
                segs.iter()
                    .filter_map(|s| trace.vreg_of_range.get(&s.range))
                    .filter_map(|v| vregs.iter().position(|x| x == v))
                    .min()
            })
            .unwrap_or(0);
        let start = anchor.saturating_sub(max_rows / 2).min(all_rows - max_rows);
        shown = start..start + max_rows;
    }
    let row_of: HashMap<VRegId, usize> = vregs[shown.clone()]
        .iter()
        .enumerate()
        .map(|(i, v)| (*v, i))
        .collect();
    let rows = shown.len();
    let x_of = |p: u32| LABEL_W + p as f32 * PLOT_W / points as f32;
    let top = HEADER_H + AXIS_H;
    let mut scene = Scene {
        width: LABEL_W + PLOT_W + 10.0,
        height: top + rows as f32 * ROW_H + 10.0,
        background: BACKGROUND,
        ..Scene::default()
    };
    // Header: what and where.
    scene.texts.push(Text {
        x: 8.0,
        y: 18.0,
        size: 14.0,
        color: TEXT,
        text: title.to_string(),
    });
    let headline = match step.checked_sub(1) {
        Some(i) => format!(
            "step {step} of {}: {}",
            replay.len(),
            crate::replay::explain::headline(&replay.steps()[i], names)
        ),
        None => format!("before step 1 of {}", replay.len()),
    };
    let rows_note = if rows < all_rows {
        format!(" · rows {}–{} of {all_rows}", shown.start + 1, shown.end)
    } else {
        String::new()
    };
    scene.texts.push(Text {
        x: 8.0,
        y: 36.0,
        size: 11.0,
        color: WEAK,
        text: format!("{headline}{rows_note}"),
    });
    // Axis: program points, about every 80 px.
    let every = nice_step(points as f32 * 80.0 / PLOT_W);
    let mut p = 0;
    while p < points {
        let x = x_of(p);
        scene.lines.push(Line {
            x1: x,
            y1: HEADER_H + AXIS_H - 4.0,
            x2: x,
            y2: scene.height - 10.0,
            color: GRID,
        });
        scene.texts.push(Text {
            x: x + 2.0,
            y: HEADER_H + 12.0,
            size: 10.0,
            color: WEAK,
            text: p.to_string(),
        });
        p += every;
    }
    for (i, v) in vregs[shown.clone()].iter().enumerate() {
        scene.texts.push(Text {
            x: 6.0,
            y: top + i as f32 * ROW_H + ROW_H - 3.0,
            size: 10.0,
            color: WEAK,
            text: format!("v{v}"),
        });
    }
    // Live ranges, coloured by their bundle's status.
    let (cur, evicted) = current.unwrap_or((BundleId::MAX, Vec::new()));
    for (b, bs) in state.bundles.iter().enumerate() {
        let b = b as BundleId;
        for s in state.segs(b) {
            let Some(row) = trace
                .vreg_of_range
                .get(&s.range)
                .and_then(|v| row_of.get(v))
            else {
                continue;
            };
            let (x1, x2) = (x_of(s.from.0), x_of(s.to.0.max(s.from.0 + 1)));
            let stroke = if b == cur {
                Some(CURRENT)
            } else if evicted.contains(&b) {
                Some(EVICTED)
            } else {
                None
            };
            let status = match (bs.status, names) {
                (Status::Allocated(p), Some(n)) => format!("in {}", n.name(p)),
                (s, _) => s.name().to_string(),
            };
            scene.rects.push(Rect {
                x: x1,
                y: top + *row as f32 * ROW_H + 2.0,
                w: (x2 - x1).max(1.0),
                h: ROW_H - 4.0,
                fill: status_rgb(bs.status),
                stroke,
                title: Some(format!(
                    "bundle {b}, {status}: {}..{}",
                    s.from.text(),
                    s.to.text()
                )),
            });
        }
    }
    scene
}

/// 1, 2, 5, 10, 20, 50… at least `raw`.
fn nice_step(raw: f32) -> u32 {
    let mut step = 1u32;
    loop {
        for m in [1, 2, 5] {
            if (step * m) as f32 >= raw {
                return step * m;
            }
        }
        step *= 10;
    }
}
