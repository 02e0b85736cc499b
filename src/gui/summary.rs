//! The final allocation summary: counts over the whole trace, the checker's
//! verdict and the size of the code.

use egui::{Color32, RichText};

use crate::engine::capture::CaptureStop;
use crate::engine::compile::CheckerVerdict;
use crate::engine::replay::Status;
use crate::engine::session::FunctionTrace;

/// Counts computed once per compile (on the worker).
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub steps: usize,
    pub bundles: usize,
    pub allocated: usize,
    pub splits: usize,
    pub evictions: usize,
    pub spilled: usize,
    pub spill_slots: usize,
    /// Bundles that end in a register / on the stack after the last step.
    pub final_in_register: usize,
    pub final_on_stack: usize,
    pub checker: CheckerVerdict,
    pub code_bytes: Option<usize>,
    pub machine_insts: Option<usize>,
    pub records: u64,
    pub unparsed_records: u64,
    pub stopped: Option<String>,
    pub trace_ms: u128,
    /// A single-pass allocation's own counts (its steps are not bundles).
    pub single_pass: Option<crate::engine::trace::SpCounts>,
    /// The regalloc2 release that allocated (none for a log).
    pub release: Option<crate::engine::releases::Release>,
}

impl Summary {
    pub fn new(t: &FunctionTrace) -> Summary {
        let trace = &t.traced.trace;
        let counts = trace.counts();
        let last = t.replay.state_at(t.replay.len());
        let holding = |b: usize| !last.segs(b as crate::engine::trace::BundleId).is_empty();
        let final_in_register = (last.bundles.iter().enumerate())
            .filter(|(i, b)| matches!(b.status, Status::Allocated(_)) && holding(*i))
            .count();
        let final_on_stack = (last.bundles.iter().enumerate())
            .filter(|(i, b)| {
                matches!(b.status, Status::Spilled(_) | Status::SpillBundle) && holding(*i)
            })
            .count();
        Summary {
            steps: counts.steps,
            bundles: trace.bundle_count(),
            allocated: counts.allocated,
            splits: counts.splits,
            evictions: counts.evictions,
            spilled: counts.spilled,
            spill_slots: counts.spill_slots,
            final_in_register,
            final_on_stack,
            checker: t.checker().clone(),
            code_bytes: t.code().map(|c| c.code.len()),
            machine_insts: t.code().map(|c| c.machine_insts),
            records: trace.records,
            unparsed_records: trace.unparsed,
            // Where to raise the limit that stopped it.
            stopped: trace.stopped.as_ref().map(|stop| match stop {
                CaptureStop::Deadline { .. } => format!("{stop} (the Time menu raises it)"),
                CaptureStop::RecordBudget { .. } => format!("{stop} (the Budget menu raises it)"),
                _ => stop.to_string(),
            }),
            trace_ms: t.trace_elapsed.as_millis(),
            single_pass: match trace.allocation() {
                crate::engine::trace::Allocation::SinglePass(log) => Some(log.counts()),
                crate::engine::trace::Allocation::Backtracking(_) => None,
            },
            release: trace.release,
        }
    }
}

/// The summary grid.
pub fn summary_ui(ui: &mut egui::Ui, s: &Summary) {
    if let Some(c) = &s.single_pass {
        egui::Grid::new("summary_grid")
            .num_columns(4)
            .spacing([12.0, 2.0])
            .show(ui, |ui| {
                ui.label("steps");
                ui.strong(c.steps.to_string());
                ui.label("instructions");
                ui.strong(c.instructions.to_string());
                ui.end_row();
                ui.label("block starts");
                ui.strong(c.block_starts.to_string());
                ui.label("evictions");
                ui.strong(c.evictions.to_string());
                ui.end_row();
                ui.label("spill slots");
                ui.strong(c.spill_slots.to_string());
                ui.label("moves");
                ui.strong(c.edits.to_string());
                ui.end_row();
                ui.label("code bytes");
                ui.strong(s.code_bytes.map(|b| b.to_string()).unwrap_or("-".into()));
                ui.end_row();
            });
    } else {
        counts_grid(ui, s);
    }
    verdict_ui(ui, s);
}

fn counts_grid(ui: &mut egui::Ui, s: &Summary) {
    egui::Grid::new("summary_grid")
        .num_columns(4)
        .spacing([12.0, 2.0])
        .show(ui, |ui| {
            ui.label("steps");
            ui.strong(s.steps.to_string());
            ui.label("bundles");
            ui.strong(s.bundles.to_string());
            ui.end_row();
            ui.label("allocated");
            ui.strong(s.allocated.to_string());
            ui.label("splits");
            ui.strong(s.splits.to_string());
            ui.end_row();
            ui.label("evictions");
            ui.strong(s.evictions.to_string());
            ui.label("spilled");
            ui.strong(s.spilled.to_string());
            ui.end_row();
            ui.label("spill slots");
            ui.strong(s.spill_slots.to_string());
            ui.label("code bytes");
            ui.strong(s.code_bytes.map(|b| b.to_string()).unwrap_or("-".into()));
            ui.end_row();
        });
}

/// The checker's verdict, the records read and why the trace stopped.
fn verdict_ui(ui: &mut egui::Ui, s: &Summary) {
    ui.horizontal_wrapped(|ui| {
        ui.label("checker:");
        match &s.checker {
            CheckerVerdict::Ok => {
                ui.label(
                    RichText::new("ok")
                        .color(Color32::from_rgb(90, 200, 110))
                        .strong(),
                );
            }
            CheckerVerdict::NotRun => {
                ui.label(RichText::new("not run").weak());
            }
            CheckerVerdict::Failed(e) => {
                ui.label(
                    RichText::new(format!("FAILED: {e}"))
                        .color(Color32::from_rgb(235, 90, 80))
                        .strong(),
                );
            }
        }
    });
    let by = match s.release {
        Some(r) if r == crate::engine::releases::Release::CRANELIFT => {
            format!("regalloc2 {r} (Cranelift's), ")
        }
        Some(r) => format!("regalloc2 {r} on the function Cranelift gave regalloc2, "),
        None => String::new(),
    };
    ui.label(
        RichText::new(format!(
            "{by}{} records ({} not understood), traced in {} ms",
            s.records, s.unparsed_records, s.trace_ms
        ))
        .small()
        .weak(),
    );
    if let Some(stop) = &s.stopped {
        ui.colored_label(Color32::from_rgb(230, 170, 60), format!("Trace {stop}"));
    }
}
