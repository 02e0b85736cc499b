//! The Corpus window: a release gate's report (`spillscope gate --json`)
//! as a sortable table of every function with both releases' outcomes and
//! the candidate's deltas, and a scatter of baseline against candidate
//! spills. A function's row opens it in Compare runs, baseline against
//! candidate.

use std::path::{Path, PathBuf};

use egui::{Color32, RichText};
use egui_plot::{Line, Plot, PlotPoints, Points};

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
    /// What the report says of the run (functions, time, jobs).
    pub about: String,
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
                        METRICS.map(|m| g.delta(m)),
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
            let failing = u8::from(r.status == Status::Ok);
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
    egui::Window::new("Corpus")
        .open(&mut open)
        .default_size([980.0, 620.0])
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
                g.candidate, g.baseline
            ))
            .strong(),
        );
        ui.label(RichText::new(verdict).strong().color(colour));
    });
    ui.label(format!(
        "{} loops, {} timeouts, {} panics, {} checker failures, {} it cannot take; {} fixed, \
         {} fail in both; {} allocated by both, {} the very same allocation. {}.",
        g.new_loops,
        g.new_timeouts,
        g.new_panics,
        g.new_checker_failures,
        g.new_cannot_take,
        g.fixed,
        g.both_fail,
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
    let points: Vec<[f64; 2]> = state
        .rows
        .iter()
        .filter_map(|r| r.spills.map(|(b, c)| [b, c]))
        .collect();
    let max = points.iter().map(|p| p[0].max(p[1])).fold(1.0f64, f64::max);
    let (worse, rest): (Vec<[f64; 2]>, Vec<[f64; 2]>) = points.iter().partition(|p| p[1] > p[0]);
    let (better, same): (Vec<[f64; 2]>, Vec<[f64; 2]>) = rest.iter().partition(|p| p[1] < p[0]);
    let response = Plot::new("corpus_scatter")
        .height(200.0)
        .data_aspect(1.0)
        .x_axis_label(format!("baseline {} spills", state.gate.baseline))
        .y_axis_label(format!("candidate {} spills", state.gate.candidate))
        .legend(egui_plot::Legend::default().position(egui_plot::Corner::LeftTop))
        .allow_scroll(false)
        .show(ui, |plot| {
            plot.line(
                Line::new("same", PlotPoints::from(vec![[0.0, 0.0], [max, max]]))
                    .color(Color32::GRAY)
                    .style(egui_plot::LineStyle::dashed_dense()),
            );
            let series = [
                ("same spills", same, Color32::from_rgb(121, 192, 255)),
                (
                    "fewer under the candidate",
                    better,
                    Color32::from_rgb(126, 231, 135),
                ),
                (
                    "more under the candidate",
                    worse,
                    Color32::from_rgb(255, 123, 114),
                ),
            ];
            for (name, pts, colour) in series {
                if !pts.is_empty() {
                    plot.points(Points::new(name, pts).radius(3.0).color(colour));
                }
            }
            plot.pointer_coordinate()
        });
    if response.response.clicked()
        && let Some(at) = response.inner
        && let Some(row) = nearest(&state.rows, at.x, at.y, max / 20.0)
    {
        commands.push(Command::OpenCorpusFunction(row.file.clone(), row.index));
    }
}

/// The row whose spills point is nearest `(x, y)`, within `reach`.
fn nearest(rows: &[Row], x: f64, y: f64, reach: f64) -> Option<&Row> {
    rows.iter()
        .filter_map(|r| {
            let (b, c) = r.spills?;
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
                        let text = match d {
                            None => RichText::new("–").weak(),
                            Some(d) if *d > 0.0 => RichText::new(format!("{d:+}")).color(error),
                            Some(d) if *d < 0.0 => RichText::new(format!("{d:+}"))
                                .color(Color32::from_rgb(126, 231, 135)),
                            Some(_) => RichText::new("0").weak(),
                        };
                        cell(ui, 5 + k, text);
                    }
                });
            }
        });
}
