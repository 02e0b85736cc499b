//! The Registers tab: allocate the function again with fewer registers per
//! class (regalloc2 alone, on the function Cranelift lowered), and a plot of
//! splits, spills, reloads and moves against the register count of a class.

use egui::{Color32, RichText};
use egui_plot::{HoverPosition, Line, Plot, PlotPoints, VLine, uniform_grid_spacer};

use crate::engine::compile::realloc::{self, RegisterCounts};
use crate::engine::replay::pressure;

use super::command::Command;
use super::compiled::Loaded;
use super::state::SweepState;

/// The tab. `edit` holds the counts being chosen.
pub fn registers_ui(
    ui: &mut egui::Ui,
    loaded: Option<&Loaded>,
    edit: &mut RegisterCounts,
    sweep: &SweepState,
    commands: &mut Vec<Command>,
) {
    let Some(l) = loaded else {
        ui.label("Nothing compiled yet.");
        return;
    };
    if l.compiled.log.is_some() {
        ui.label("A trace from a log has no function here to allocate again.");
        return;
    }
    let on_screen = l.compiled.registers;
    ui.label(
        "Allocate this function again with fewer registers: the real regalloc2, on the \
         function Cranelift lowered, with registers taken away (preferred ones are kept \
         first). The steps, chart and moves then show the new allocation; no machine code \
         is emitted.",
    );
    if !on_screen.is_full() {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!("On screen: regalloc2 alone with {}.", on_screen.text()),
        );
    }
    let triple = l.compiled.trace.target();
    let mut any = false;
    for p in &l.compiled.chart.pressure {
        // The target's count, not the one the allocation on screen kept.
        let Some(all) = pressure::allocatable(triple, p.class) else {
            continue;
        };
        let class: regalloc2::RegClass = p.class.into();
        any = true;
        ui.horizontal_wrapped(|ui| {
            let mut n = edit.get(class).unwrap_or(all as usize);
            ui.label(format!("{}:", realloc::class_name(class)));
            ui.add(egui::Slider::new(&mut n, 1..=all as usize).suffix(format!(" of {all}")));
            edit.set(class, (n < all as usize).then_some(n));
            ui.weak(format!("at most {} live at once", p.max_live));
        });
    }
    if !any {
        ui.label("The target's register counts are unknown.");
        return;
    }
    ui.horizontal_wrapped(|ui| {
        if ui
            .add_enabled(*edit != on_screen, egui::Button::new("Allocate"))
            .on_hover_text("Allocate again with these counts")
            .clicked()
        {
            commands.push(Command::SetRegisters(*edit));
        }
        if ui
            .add_enabled(!on_screen.is_full(), egui::Button::new("All registers"))
            .on_hover_text("Back to the compile as Wasmtime does it")
            .clicked()
        {
            commands.push(Command::SetRegisters(RegisterCounts::default()));
        }
    });
    ui.separator();
    ui.strong("By register count");
    ui.horizontal_wrapped(|ui| {
        for p in &l.compiled.chart.pressure {
            if p.registers.is_none() {
                continue;
            }
            let class: regalloc2::RegClass = p.class.into();
            if ui
                .button(format!("Sweep {}", realloc::class_name(class)))
                .on_hover_text(
                    "Allocate with every count of this class, from all registers down to the \
                     fewest regalloc2 manages",
                )
                .clicked()
            {
                commands.push(Command::Sweep(class));
            }
        }
    });
    let Some((_, _, class)) = sweep.key else {
        return;
    };
    match &sweep.result {
        None => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!(
                    "allocating with each count of {} registers…",
                    realloc::class_name(class)
                ));
            });
        }
        Some(Err(e)) => {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        Some(Ok(points)) => sweep_plot_ui(ui, points, class, on_screen, edit, commands),
    }
}

/// One count of a sweep's point.
type Count = dyn Fn(&realloc::SweepPoint) -> usize;

/// The sweep as lines; a click picks the nearest count.
fn sweep_plot_ui(
    ui: &mut egui::Ui,
    points: &[realloc::SweepPoint],
    class: regalloc2::RegClass,
    on_screen: RegisterCounts,
    edit: &RegisterCounts,
    commands: &mut Vec<Command>,
) {
    let ok: Vec<&realloc::SweepPoint> = points.iter().filter(|p| p.error.is_none()).collect();
    let series = |f: &dyn Fn(&realloc::SweepPoint) -> usize| -> PlotPoints<'static> {
        ok.iter()
            .map(|p| [p.registers as f64, f(p) as f64])
            .collect::<Vec<_>>()
            .into()
    };
    let all = points.first().map_or(0, |p| p.registers);
    let current = on_screen.get(class).unwrap_or(all);
    let name = realloc::class_name(class);
    // The legend above the plot, never over its lines.
    let lines: [(&str, Color32, &Count); 4] = [
        ("spills", Color32::from_rgb(235, 100, 90), &|p| {
            p.edits.spills
        }),
        ("reloads", Color32::from_rgb(240, 170, 60), &|p| {
            p.edits.reloads
        }),
        ("moves", Color32::from_rgb(110, 160, 255), &|p| {
            p.edits.moves
        }),
        ("splits", Color32::from_rgb(80, 210, 200), &|p| p.splits),
    ];
    ui.horizontal_wrapped(|ui| {
        for (label, color, _) in &lines {
            ui.label(RichText::new(format!("— {label}")).color(*color).small());
        }
        ui.label(RichText::new("┊ on screen").weak().small());
    });
    // At least 200 px tall, more when the panel has room.
    let height = (ui.available_height() * 0.45).clamp(240.0, 380.0);
    let response = Plot::new("register_sweep")
        .height(height)
        .x_axis_label(format!("{name} registers"))
        .y_axis_label("edits, splits")
        // A tick at every count (every fifth on a wide sweep).
        .x_grid_spacer(uniform_grid_spacer(|input| {
            let span = input.bounds.1 - input.bounds.0;
            if span > 24.0 {
                [5.0, 10.0, 50.0]
            } else {
                [1.0, 5.0, 10.0]
            }
        }))
        .label_formatter(move |pos| match pos {
            HoverPosition::NearDataPoint {
                plot_name,
                position,
                ..
            } if !plot_name.is_empty() => Some(format!(
                "{} {name} registers: {} {plot_name}",
                position.x.round(),
                position.y.round()
            )),
            _ => None,
        })
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .include_y(0.0)
        .show(ui, |pui| {
            for (label, color, f) in &lines {
                pui.line(Line::new(*label, series(*f)).color(*color));
            }
            pui.vline(VLine::new("on screen", current as f64));
            pui.pointer_coordinate()
        });
    let rect = response.response.rect;
    ui.data_mut(|d| d.insert_temp(egui::Id::unique(super::tabs::SWEEP_PLOT_RECT), rect));
    if response.response.clicked()
        && let Some(at) = response.inner
        && let Some(p) = ok
            .iter()
            .min_by_key(|p| ((p.registers as f64 - at.x).abs() * 1000.0) as u64)
    {
        let mut counts = *edit;
        counts.set(class, (p.registers < all).then_some(p.registers));
        commands.push(Command::SetRegisters(counts));
    }
    ui.weak("Click the plot to allocate with that count.");
    if let Some(failed) = points.iter().find(|p| p.error.is_some()) {
        ui.weak(format!(
            "With {}: {}",
            failed.registers,
            failed.error.as_deref().unwrap_or_default()
        ));
    }
    if ok.iter().any(|p| !p.checked) {
        ui.colored_label(
            ui.visuals().error_fg_color,
            "regalloc2's checker rejected an allocation of the sweep",
        );
    }
}
