//! The Corpus window: a release gate's report (`spillscope gate --json`)
//! as a sortable table of every function with both releases' outcomes and
//! the candidate's deltas, and a scatter of baseline against candidate
//! spills. A function's row opens it in Compare runs, baseline against
//! candidate.

use std::path::{Path, PathBuf};

use egui::{Color32, RichText};
use egui_plot::{HoverPosition, Line, Plot, PlotPoints, Points};

use crate::engine::input::file::{self, FileKind};
use crate::engine::triage::gate::{GateSummary, Metric};
use crate::engine::triage::scan::{ScanReport, Status};

use super::command::Command;

/// A column of the table, and what it sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Status,
    Module,
    Function,
    Baseline,
    Candidate,
    Delta(usize),
}

/// The metrics the table shows deltas of, in column order.
const METRICS: [Metric; 5] = [
    Metric::Spills,
    Metric::Reloads,
    Metric::Moves,
    Metric::Slots,
    Metric::AllocationMs,
];

/// One function of the report, ready to show.
#[derive(Clone, Debug)]
pub struct Row {
    /// Its module, as the report names it.
    pub file: String,
    pub module: String,
    pub index: u32,
    pub name: String,
    pub status: Status,
    pub baseline: String,
    pub candidate: String,
    pub deltas: [Option<f64>; 5],
    /// Baseline and candidate spills, when both finished.
    pub spills: Option<(f64, f64)>,
    pub details: String,
}

/// The window's state: the report, its rows in the order shown.
pub struct CorpusState {
    pub path: PathBuf,
    pub gate: GateSummary,
    pub rows: Vec<Row>,
    pub sort: (Column, bool),
    pub open: bool,
    /// Fold the window to its title bar on the next frame (a function was
    /// opened: Compare runs is under it).
    pub fold: bool,
    /// What the report says of the run (functions, time, jobs).
    pub about: String,
    /// The scatter's points by series (same, fewer, more spills under the
    /// candidate), each with its row, on a square-root scale; and the
    /// largest coordinate. Placed again when the rows are sorted.
    points: [Vec<(usize, [f64; 2])>; 3],
    max: f64,
}

impl CorpusState {
    /// Reads a gate's JSON report; an error names the file and what is wrong.
    pub fn read(path: &Path) -> Result<CorpusState, String> {
        let bytes = file::read(path, FileKind::Report).map_err(|e| e.to_string())?;
        let report: ScanReport = serde_json::from_slice(&bytes).map_err(|e| {
            format!(
                "{}: not a `spillscope gate --json` report: {e}",
                path.display()
            )
        })?;
        let Some(gate) = report.gate.clone() else {
            return Err(format!(
                "{}: a scan's report, not a release gate's (`spillscope gate --json`)",
                path.display()
            ));
        };
        let mut rows = Vec::new();
        for f in &report.files {
            let module = Path::new(&f.path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| f.path.clone());
            for func in &f.functions {
                let (baseline, candidate, deltas, spills) = match &func.gate {
                    Some(g) => (
                        g.baseline.outcome.word().to_string(),
                        g.candidate.outcome.word().to_string(),
                        // Times to the microsecond (differences of floats).
                        METRICS.map(|m| g.delta(m).map(|d| (d * 1e3).round() / 1e3)),
                        Metric::Spills
                            .of(&g.baseline)
                            .zip(Metric::Spills.of(&g.candidate)),
                    ),
                    None => ("not lowered".into(), "not lowered".into(), [None; 5], None),
                };
                rows.push(Row {
                    file: f.path.clone(),
                    module: module.clone(),
                    index: func.index,
                    name: func.name.clone(),
                    status: func.status,
                    baseline,
                    candidate,
                    deltas,
                    spills,
                    details: func.details.clone(),
                });
            }
        }
        let s = &report.summary;
        let mut state = CorpusState {
            path: path.to_path_buf(),
            gate,
            rows,
            sort: (Column::Status, false),
            open: true,
            fold: false,
            points: Default::default(),
            max: 1.0,
            about: format!(
                "{} functions in {} modules, {} module errors; {:.1} s on {} jobs",
                s.functions,
                s.modules,
                s.module_errors,
                s.elapsed_ms as f64 / 1000.0,
                s.jobs
            ),
        };
        state.sort_rows();
        Ok(state)
    }

    /// Sorts by `column`; the same column again reverses the order.
    pub fn sort_by(&mut self, column: Column) {
        self.sort = match self.sort {
            (c, descending) if c == column => (c, !descending),
            _ => (column, matches!(column, Column::Delta(_))),
        };
        self.sort_rows();
    }

    fn sort_rows(&mut self) {
        let (column, descending) = self.sort;
        // Failures first, then the worst delta: what a release manager reads first.
        let key = |r: &Row| -> (u8, f64, String, u32) {
            // New failures, then functions both releases fail, then the rest.
            let failing = match (r.status == Status::Ok, r.candidate == "ok") {
                (false, _) => 0,
                (true, false) => 1,
                (true, true) => 2,
            };
            match column {
                Column::Status => (
                    failing,
                    -r.deltas[0].unwrap_or(0.0),
                    r.file.clone(),
                    r.index,
                ),
                Column::Module => (0, 0.0, r.module.clone(), r.index),
                Column::Function => (0, 0.0, r.name.clone(), r.index),
                Column::Baseline => (0, 0.0, r.baseline.clone(), r.index),
                Column::Candidate => (0, 0.0, r.candidate.clone(), r.index),
                // Functions without the metric last, whichever the order.
                Column::Delta(k) => match r.deltas[k] {
                    Some(d) if descending => (0, -d, r.file.clone(), r.index),
                    Some(d) => (0, d, r.file.clone(), r.index),
                    None => (1, 0.0, r.file.clone(), r.index),
                },
            }
        };
        self.rows.sort_by(|a, b| {
            let (ka, kb) = (key(a), key(b));
            ka.0.cmp(&kb.0)
                .then(ka.1.total_cmp(&kb.1))
                .then_with(|| ka.2.cmp(&kb.2))
                .then(ka.3.cmp(&kb.3))
        });
        if descending && !matches!(column, Column::Delta(_)) {
            self.rows.reverse();
        }
        self.place_points();
    }

    /// The scatter's points for the rows in their order (see `points`).
    fn place_points(&mut self) {
        self.points = Default::default();
        self.max = 1.0;
        for (i, r) in self.rows.iter().enumerate() {
            let Some((b, c)) = r.spills else { continue };
            let k = match c.partial_cmp(&b) {
                Some(std::cmp::Ordering::Less) => 1,
                Some(std::cmp::Ordering::Greater) => 2,
                _ => 0,
            };
            let p = [b.sqrt(), c.sqrt()];
            self.max = self.max.max(p[0]).max(p[1]);
            self.points[k].push((i, p));
        }
    }

    /// Where the report's module path is: as written (relative to the
    /// folder the app runs in), else beside the report.
    pub fn module_path(&self, file: &str) -> PathBuf {
        let p = PathBuf::from(file);
        if p.is_absolute() || p.exists() {
            return p;
        }
        match self.path.parent() {
            Some(dir) if dir.join(&p).exists() => dir.join(p),
            _ => p,
        }
    }
}

/// The window, while open.
pub fn corpus_window(ctx: &egui::Context, state: &mut CorpusState, commands: &mut Vec<Command>) {
    let mut open = state.open;
    let screen = ctx.content_rect();
    let id = egui::Id::unique("corpus_window");
    if std::mem::take(&mut state.fold) {
        let mut folding = egui::collapsing_header::CollapsingState::load_with_default_open(
            ctx,
            id.with("collapsing"),
            true,
        );
        folding.set_open(false);
        folding.store(ctx);
    }
    egui::Window::new("Corpus")
        .id(id)
        .open(&mut open)
        .default_size([
            (screen.width() * 0.8).clamp(640.0, 1400.0),
            (screen.height() * 0.8).clamp(400.0, 1000.0),
        ])
        .resizable(true)
        .show(ctx, |ui| corpus_ui(ui, state, commands));
    if !open {
        commands.push(Command::CloseCorpus);
    }
}

fn corpus_ui(ui: &mut egui::Ui, state: &mut CorpusState, commands: &mut Vec<Command>) {
    let g = &state.gate;
    let failures = g.new_failures();
    let (verdict, colour) = if failures == 0 {
        ("passed".to_string(), Color32::from_rgb(126, 231, 135))
    } else {
        (
            format!("failed: {failures} new failures"),
            ui.visuals().error_fg_color,
        )
    };
    ui.horizontal_wrapped(|ui| {
        ui.label(
            RichText::new(format!(
                "Release gate: regalloc2 {} (candidate) against {} (baseline) —",
                g.candidate_name(),
                g.baseline
            ))
            .strong(),
        );
        ui.label(RichText::new(verdict).strong().color(colour));
    });
    ui.label(format!(
        "{}; {} allocated by both, {} the very same allocation. {}.",
        g.failures_text(),
        g.compared,
        g.same_allocation,
        state.about
    ));
    ui.label(
        RichText::new(format!(
            "{} · click a column to sort, a function to open it in Compare runs",
            state.path.display()
        ))
        .small()
        .weak(),
    );
    ui.separator();
    scatter_ui(ui, state, commands);
    ui.separator();
    table_ui(ui, state, commands);
}

/// Baseline (x) against candidate (y) spills per function, with the
/// diagonal; a click opens the nearest function.
fn scatter_ui(ui: &mut egui::Ui, state: &CorpusState, commands: &mut Vec<Command>) {
    // A square-root scale: most functions spill a little, a few a lot. Each
    // series keeps its rows, for the hover's function name (in the order of
    // `CorpusState::points`).
    const SERIES: [(&str, Color32); 3] = [
        ("same spills", Color32::from_rgb(121, 192, 255)),
        (
            "fewer under the candidate",
            Color32::from_rgb(126, 231, 135),
        ),
        ("more under the candidate", Color32::from_rgb(255, 123, 114)),
    ];
    let (series, max) = (&state.points, state.max);
    let rows = &state.rows;
    let response = Plot::new("corpus_scatter")
        .height(220.0)
        .include_x(0.0)
        .include_y(0.0)
        .x_axis_formatter(|mark, _| format!("{}", mark.value.powi(2).round()))
        .y_axis_formatter(|mark, _| format!("{}", mark.value.powi(2).round()))
        .label_formatter(move |hover| {
            Some(match hover {
                HoverPosition::NearDataPoint {
                    plot_name,
                    position,
                    index,
                } => {
                    let (b, c) = (position.x.powi(2).round(), position.y.powi(2).round());
                    let k = SERIES.iter().position(|(n, _)| n == plot_name);
                    match k.and_then(|k| series[k].get(*index)) {
                        Some(&(i, _)) => format!(
                            "{} function {} {}\nspills {b} → {c}",
                            rows[i].module, rows[i].index, rows[i].name
                        ),
                        None => format!("{plot_name}\nbaseline {b}, candidate {c}"),
                    }
                }
                HoverPosition::Elsewhere { position } => format!(
                    "baseline {}, candidate {}",
                    position.x.powi(2).round(),
                    position.y.powi(2).round()
                ),
            })
        })
        .x_axis_label(format!("baseline {} spills", state.gate.baseline))
        .y_axis_label(format!("candidate {} spills", state.gate.candidate))
        .legend(egui_plot::Legend::default().position(egui_plot::Corner::LeftTop))
        .allow_scroll(false)
        .show(ui, |plot| {
            plot.line(
                Line::new(
                    "candidate = baseline",
                    PlotPoints::from(vec![[0.0, 0.0], [max, max]]),
                )
                .color(Color32::GRAY)
                .style(egui_plot::LineStyle::dashed_dense()),
            );
            for ((name, colour), pts) in SERIES.into_iter().zip(series) {
                if !pts.is_empty() {
                    let pts: Vec<[f64; 2]> = pts.iter().map(|(_, p)| *p).collect();
                    plot.points(Points::new(name, pts).radius(3.0).color(colour));
                }
            }
            plot.pointer_coordinate()
        });
    if response.response.clicked()
        && let Some(at) = response.inner
        && let Some(row) = nearest(&state.rows, at.x, at.y, max / 30.0)
    {
        commands.push(Command::OpenCorpusFunction(row.file.clone(), row.index));
    }
}

/// The row whose spills point is nearest `(x, y)` (square-root scale),
/// within `reach`.
fn nearest(rows: &[Row], x: f64, y: f64, reach: f64) -> Option<&Row> {
    rows.iter()
        .filter_map(|r| {
            let (b, c) = r.spills.map(|(b, c)| (b.sqrt(), c.sqrt()))?;
            let d = ((b - x).powi(2) + (c - y).powi(2)).sqrt();
            (d <= reach).then_some((d, r))
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, r)| r)
}

const WIDTHS: [f32; 10] = [96.0, 150.0, 230.0, 84.0, 84.0, 62.0, 62.0, 62.0, 62.0, 70.0];

fn table_ui(ui: &mut egui::Ui, state: &mut CorpusState, commands: &mut Vec<Command>) {
    let headers: [(&str, Column); 10] = [
        ("status", Column::Status),
        ("module", Column::Module),
        ("function", Column::Function),
        ("baseline", Column::Baseline),
        ("candidate", Column::Candidate),
        ("Δ spills", Column::Delta(0)),
        ("Δ reloads", Column::Delta(1)),
        ("Δ moves", Column::Delta(2)),
        ("Δ slots", Column::Delta(3)),
        ("Δ ms", Column::Delta(4)),
    ];
    let mut clicked = None;
    ui.horizontal(|ui| {
        for ((name, column), w) in headers.into_iter().zip(WIDTHS) {
            let arrow = match state.sort {
                (c, true) if c == column => " ▼",
                (c, false) if c == column => " ▲",
                _ => "",
            };
            let b =
                egui::Button::new(RichText::new(format!("{name}{arrow}")).strong()).frame(false);
            if ui.add_sized([w, 18.0], b).clicked() {
                clicked = Some(column);
            }
        }
    });
    if let Some(c) = clicked {
        state.sort_by(c);
    }
    let row_h = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
    let error = ui.visuals().error_fg_color;
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show_rows(ui, row_h, state.rows.len(), |ui, range| {
            for r in &state.rows[range] {
                ui.horizontal(|ui| {
                    let cell = |ui: &mut egui::Ui, k: usize, text: RichText| {
                        ui.add_sized([WIDTHS[k], row_h], egui::Label::new(text).truncate())
                    };
                    let failing = r.status != Status::Ok;
                    let status = RichText::new(r.status.name());
                    cell(
                        ui,
                        0,
                        if failing {
                            status.color(error)
                        } else {
                            status.weak()
                        },
                    )
                    .on_hover_text(&r.details);
                    cell(ui, 1, RichText::new(&r.module)).on_hover_text(&r.file);
                    let link = ui
                        .add_sized(
                            [WIDTHS[2], row_h],
                            egui::Link::new(format!("function {} {}", r.index, r.name)),
                        )
                        .on_hover_text(&r.details);
                    if link.clicked() {
                        commands.push(Command::OpenCorpusFunction(r.file.clone(), r.index));
                    }
                    cell(ui, 3, RichText::new(&r.baseline)).on_hover_text(&r.details);
                    let cand = RichText::new(&r.candidate);
                    cell(ui, 4, if failing { cand.color(error) } else { cand })
                        .on_hover_text(&r.details);
                    for (k, d) in r.deltas.iter().enumerate() {
                        let shown = |d: f64| {
                            if METRICS[k] == Metric::AllocationMs {
                                format!("{d:+.3}")
                            } else {
                                format!("{d:+}")
                            }
                        };
                        let text = match d {
                            None => RichText::new("–").weak(),
                            Some(d) if *d > 0.0 => RichText::new(shown(*d)).color(error),
                            Some(d) if *d < 0.0 => {
                                RichText::new(shown(*d)).color(Color32::from_rgb(126, 231, 135))
                            }
                            Some(_) => RichText::new("0").weak(),
                        };
                        cell(ui, 5 + k, text);
                    }
                });
            }
        });
}
