//! The current step in plain words (the engine's `explain`), with the state of
//! its bundle after the step.

use egui::RichText;

use crate::engine::replay::Status;
use crate::engine::replay::{explain, narrate};
use crate::engine::trace::{Constraint, Phase, Point};

use super::compiled::Loaded;

/// The step told for a beginner: glossary terms underlined, their meaning
/// on hover; the whole glossary below.
fn narration_ui(ui: &mut egui::Ui, l: &Loaded, i: usize) {
    let replay = &l.compiled.trace.replay;
    let step = &replay.steps()[i];
    for sentence in narrate::narrate(
        step,
        replay.vregs_at_start(i),
        l.compiled.names,
        replay.props_at_start(i),
    ) {
        ui.horizontal_wrapped(|ui| {
            ui.spacing_mut().item_spacing.x = 0.0;
            for piece in sentence {
                match piece {
                    narrate::Piece::Text(t) => {
                        ui.label(t);
                    }
                    narrate::Piece::Term { term, text } => {
                        ui.label(RichText::new(text).underline())
                            .on_hover_text(format!(
                                "{term}: {}",
                                narrate::definition(term).unwrap_or_default()
                            ));
                    }
                }
            }
        });
    }
    ui.collapsing("Glossary", |ui| {
        for (term, def) in narrate::GLOSSARY {
            ui.horizontal_wrapped(|ui| {
                ui.strong(term);
                ui.label(def);
            });
        }
    });
}

pub fn explain_panel_ui(ui: &mut egui::Ui, loaded: Option<&Loaded>, teaching: &mut bool) {
    ui.add_space(4.0);
    ui.checkbox(teaching, "Teaching mode")
        .on_hover_text("Each step told plainly, technical words explained on hover");
    let on = *teaching;
    let Some(l) = loaded else {
        ui.strong("Step");
        ui.label(RichText::new("nothing compiled yet").weak());
        return;
    };
    let replay = &l.compiled.trace.replay;
    if replay.is_empty() {
        ui.strong("No steps");
        ui.label(format!(
            "{} with {} logs no per-bundle steps; the summary and the final code show its result.",
            l.compiled.label,
            l.compiled.settings.algorithm.name()
        ));
        return;
    }
    let Some(i) = l.cursor.checked_sub(1) else {
        ui.strong(format!("Before step 1 of {}", replay.len()));
        let queued = l
            .state
            .bundles
            .iter()
            .filter(|b| b.status == Status::Queued)
            .count();
        ui.label(format!(
            "Initial state of {}: {} bundles, {} of them in the allocation queue. \
             Press Forward (or →) to let the allocator take the first one.",
            l.compiled.label,
            l.state.bundles.len(),
            queued
        ));
        return;
    };
    let step = &replay.steps()[i];
    ui.horizontal(|ui| {
        ui.strong(format!("Step {} of {}", l.cursor, replay.len()));
        ui.label(
            RichText::new(match step.phase {
                Phase::Main => "main queue",
                Phase::SpillBundles => "spill-bundle pass",
            })
            .weak(),
        );
    });
    let names = l.compiled.names;
    ui.label(RichText::new(explain::headline(step, names)).strong());
    egui::ScrollArea::vertical()
        .id_salt("explain_scroll")
        .max_height(ui.available_height())
        .auto_shrink([false, false])
        .show(ui, |ui| {
            if on {
                narration_ui(ui, l, i);
                return;
            }
            for line in explain::explain(
                step,
                replay.vregs_at_start(i),
                names,
                replay.props_at_start(i),
            ) {
                ui.horizontal_wrapped(|ui| {
                    ui.label("•");
                    ui.label(line);
                });
            }
            // A minimal bundle: the uses that pin it, by constraint.
            if replay.props_at_start(i).is_some_and(|p| p.minimal) {
                let chart = &l.compiled.chart;
                let segs = l.state.segs(step.bundle);
                for s in segs {
                    let Some(r) = chart.ranges.get(&s.range) else {
                        continue;
                    };
                    for u in r
                        .uses
                        .iter()
                        .filter(|u| u.pos >= s.from && u.pos < s.to.max(Point(s.from.0 + 1)))
                    {
                        let what = match u.constraint {
                            Constraint::FixedReg(p) | Constraint::Fixed(p) => {
                                format!("must be in {}", explain::reg(p, names))
                            }
                            Constraint::Reuse(k) => format!("must reuse operand {k}'s register"),
                            Constraint::Reg => "needs a register".into(),
                            Constraint::Stack => "needs a stack slot".into(),
                            Constraint::Limit(n) => format!("needs one of the first {n} registers"),
                            Constraint::Any => "can be anywhere".into(),
                        };
                        let inst = chart.inst_text(u.pos.inst()).unwrap_or_default();
                        ui.horizontal_wrapped(|ui| {
                            ui.label("•");
                            ui.label(format!(
                                "What pins it: a {} at {} ({}, {}) {what}: {inst}",
                                if u.def { "def" } else { "use" },
                                u.pos.text(),
                                if u.late { "late" } else { "early" },
                                u.vreg.map_or_else(|| "a value".into(), |v| format!("v{v}")),
                            ));
                        });
                    }
                }
            }
            if let Some(b) = l.state.bundles.get(step.bundle as usize) {
                let segs = l.state.segs(step.bundle);
                let vregs = replay.vregs_of(segs);
                let vregs: Vec<String> = vregs.iter().map(|v| format!("v{v}")).collect();
                ui.label(
                    RichText::new(format!(
                        "Now: bundle {} is {}, {} segment{}{}",
                        step.bundle,
                        match b.status {
                            Status::Allocated(p) => {
                                format!("in {}", explain::reg(p, names))
                            }
                            s => s.name().to_string(),
                        },
                        segs.len(),
                        if segs.len() == 1 { "" } else { "s" },
                        if vregs.is_empty() {
                            String::new()
                        } else {
                            format!(" of {}", vregs.join(", "))
                        }
                    ))
                    .weak(),
                );
            }
        });
}
