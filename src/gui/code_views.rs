//! Code views in tabs: the Wasm text, CLIF as translated and as optimized,
//! VCode before allocation and the final code with allocations.

use egui::RichText;

use super::command::Command;
use super::compiled::{Loaded, LoadedId};
use super::tabs::{CodeLayout, CodeTab};

/// The text of a tab, or why there is none.
fn tab_text(tab: CodeTab, l: &Loaded, busy: bool) -> Result<&str, String> {
    let pending = || {
        if busy {
            "still being produced on the worker…".to_string()
        } else {
            "not available".to_string()
        }
    };
    let t = &l.compiled.trace;
    match tab {
        CodeTab::Wasm => match &l.extras {
            Some(e) => e.wasm_text.as_deref().map_err(Clone::clone),
            None => Err(pending()),
        },
        CodeTab::ClifTranslated => match &l.extras {
            Some(e) => e.clif_translated.as_deref().map_err(Clone::clone),
            None => Err(pending()),
        },
        CodeTab::ClifOptimized => t.clif().map_err(str::to_string),
        CodeTab::VCode => t
            .traced
            .trace
            .vcode_before
            .as_deref()
            .ok_or_else(|| "Cranelift logged no VCode for this compile".to_string()),
        CodeTab::Final => t
            .code()
            .map(|c| c.final_vcode.as_str())
            .ok_or_else(|| why_no_code(l)),
    }
}

/// Why the compile on screen has no final code, as of now.
fn why_no_code(l: &Loaded) -> String {
    let c = &l.compiled;
    if c.running {
        "the compile is still running: the final code comes when Cranelift emits it".into()
    } else if c.stopped_by_user {
        "you stopped the compile before Cranelift emitted code".into()
    } else if let Some(stop) = &c.trace.traced.trace.stopped {
        format!("the compile {stop}, so no code was emitted")
    } else {
        "the compile did not finish".into()
    }
}

/// Scroll state of the code panel: what it last followed (compile, step,
/// selection, tab).
#[derive(Default)]
pub struct CodeFollow {
    followed: Option<(LoadedId, usize, Option<u32>, u8)>,
}

/// The lines of `tab` to mark: the selected entry's (strong) and those where
/// the current step's bundle has uses (weak), 0-based.
pub fn marked_lines(tab: CodeTab, l: &Loaded) -> (Vec<usize>, Vec<usize>) {
    let link = l.link();
    let selected: Vec<usize> = match (link, l.selected) {
        (Some(m), Some(e)) => m.lines_of(e, tab).iter().map(|&x| x as usize).collect(),
        _ => Vec::new(),
    };
    let Some(b) = l.focus.bundle else {
        return (selected, Vec::new());
    };
    let chart = &l.compiled.chart;
    let insts = chart.use_insts(l.state.segs(b));
    let mut step: Vec<usize> = match (tab, link) {
        (CodeTab::VCode, _) => insts.iter().filter_map(|&i| chart.inst_line(i)).collect(),
        (_, Some(m)) => {
            let mut entries: Vec<u32> = insts.iter().filter_map(|&i| m.entry_of_inst(i)).collect();
            entries.sort_unstable();
            entries.dedup();
            entries
                .iter()
                .flat_map(|&e| m.lines_of(e, tab).iter().map(|&x| x as usize))
                .collect()
        }
        _ => Vec::new(),
    };
    step.sort_unstable();
    step.dedup();
    (selected, step)
}

/// The code panel: its views in tabs, or two or three side by side in
/// columns (`layout`), each marking the selection and the step's uses and
/// scrolling to them.
#[allow(clippy::too_many_arguments)]
pub fn code_views_ui(
    ui: &mut egui::Ui,
    tab: &mut CodeTab,
    layout: &mut CodeLayout,
    (follow, column_follow): (&mut CodeFollow, &mut [CodeFollow; 3]),
    loaded: Option<&Loaded>,
    busy: bool,
    hovered_inst: Option<u32>,
    commands: &mut Vec<Command>,
) {
    // Fill the panel: egui remembers a panel's size from what its content used.
    ui.set_min_height(ui.available_height());
    let before = *layout;
    ui.horizontal(|ui| {
        ui.selectable_value(&mut layout.columns, false, "Tabs");
        ui.selectable_value(&mut layout.columns, true, "Side by side")
            .on_hover_text("Two or three views in columns, linked as the tabs are");
        ui.separator();
        if layout.columns {
            ui.label(RichText::new("columns").small().weak());
            ui.selectable_value(&mut layout.count, 2, "2");
            ui.selectable_value(&mut layout.count, 3, "3");
        } else {
            for t in CodeTab::ALL {
                ui.selectable_value(tab, t, t.title());
            }
        }
    });
    if *layout != before {
        commands.push(Command::SetCodeLayout(*layout));
    }
    ui.separator();
    let Some(l) = loaded else {
        ui.label(RichText::new("nothing compiled yet").weak());
        return;
    };
    // What is selected, the step's uses and the link, said once for all views.
    let first = if layout.columns {
        layout.views[0]
    } else {
        *tab
    };
    let first_marks = marked_lines(first, l);
    info_ui(ui, l, first_marks.1.len());
    if !layout.columns {
        let view = (*tab, first_marks);
        text_ui(ui, view, follow, l, busy, hovered_inst, None, commands);
        return;
    }
    let mut first_marks = Some(first_marks);
    let shown = layout.shown().to_vec();
    let mut views = layout.views;
    ui.columns(shown.len(), |cols| {
        for (i, col) in cols.iter_mut().enumerate() {
            egui::ComboBox::from_id_salt(("code_column", i))
                .selected_text(views[i].title())
                .width(col.available_width().min(220.0))
                .show_ui(col, |ui| {
                    for t in CodeTab::ALL {
                        ui.selectable_value(&mut views[i], t, t.title());
                    }
                });
            // The first column's marks were made for the line above.
            let marks = match first_marks.take() {
                Some(m) if views[i] == first => m,
                _ => marked_lines(views[i], l),
            };
            text_ui(
                col,
                (views[i], marks),
                &mut column_follow[i],
                l,
                busy,
                hovered_inst,
                Some(i),
                commands,
            );
        }
    });
    if views != layout.views {
        commands.push(Command::SetCodeLayout(CodeLayout { views, ..*layout }));
    }
}

/// The line over the views: what the selection became, the step's uses
/// (`step_lines` of them in the first view), the link's state, the move
/// picked in the Moves list.
fn info_ui(ui: &mut egui::Ui, l: &Loaded, step_lines: usize) {
    ui.horizontal_wrapped(|ui| {
        let link_state = match &l.link {
            Some(Ok(_)) => None,
            Some(Err(e)) => Some(format!("not linked: {e}")),
            None if l.compiled.running => {
                Some("the views are linked when the compile finishes".into())
            }
            None if l.compiled.stopped_by_user => {
                Some("the compile was stopped: the views are not linked".into())
            }
            None if l.compiled.trace.compiled_by() == "wasmtime" => {
                Some("linking the views…".into())
            }
            None if l.compiled.trace.compiled_by() == "cranelift" => {
                Some("CLIF input: the views are not linked to Wasm".into())
            }
            None => Some("no compile here: the views are not linked".into()),
        };
        let what = match (l.selected, l.link()) {
            (Some(e), Some(m)) => {
                let entry = &m.map.entries[e as usize];
                let bytes: u32 = entry.code.iter().map(|[s, t]| t - s).sum();
                format!(
                    "selected: {} — {} CLIF instruction{}, {} VCode, {bytes} code bytes",
                    m.describe(e),
                    entry.clif.len(),
                    if entry.clif.len() == 1 { "" } else { "s" },
                    entry.vcode.len(),
                )
            }
            _ => "click a line to see what it became (or came from) in every view".into(),
        };
        ui.label(RichText::new(what).small());
        if let Some(b) = l.focus.bundle {
            ui.label(
                RichText::new(format!("· bundle {b}'s uses: {step_lines} lines"))
                    .small()
                    .weak(),
            );
        }
        if let Some(s) = link_state {
            ui.label(RichText::new(format!("· {s}")).small().weak());
        }
    });
    // The move picked in the Moves list, in words.
    if let Some(m) = l.selected_move.and_then(|i| l.compiled.moves.moves.get(i)) {
        ui.add(
            egui::Label::new(
                RichText::new(format!(
                    "{} {} → {} at {}: {}",
                    m.kind.word(),
                    m.from,
                    m.to,
                    m.point.text(),
                    m.why
                ))
                .small(),
            )
            .wrap(),
        );
    }
}

/// One view's text with its marks (the selection's lines and the step's,
/// from [`marked_lines`]), scrolled to the selection or the step's uses when
/// they change. In a `column`, long lines end in "…", whole on
/// hover; in the tabs they scroll sideways.
#[allow(clippy::too_many_arguments)]
fn text_ui(
    ui: &mut egui::Ui,
    (tab, (selected, marked)): (CodeTab, (Vec<usize>, Vec<usize>)),
    follow: &mut CodeFollow,
    l: &Loaded,
    busy: bool,
    hovered_inst: Option<u32>,
    column: Option<usize>,
    commands: &mut Vec<Command>,
) {
    let truncate = column.is_some();
    let text = match (tab, l.link()) {
        (CodeTab::Final, Some(m)) if m.final_text.is_some() => {
            Ok(m.final_text.as_deref().unwrap_or_default())
        }
        _ => tab_text(tab, l, busy),
    };
    let text = match text {
        Ok(t) => t,
        Err(why) => {
            ui.label(RichText::new(why).weak());
            return;
        }
    };
    let lines: Vec<&str> = text.lines().collect();
    let row_h = ui.text_style_height(&egui::TextStyle::Monospace);
    let row_step = row_h + ui.spacing().item_spacing.y;
    let digits = lines.len().max(1).to_string().len();
    let mut area = if truncate {
        egui::ScrollArea::vertical()
    } else {
        egui::ScrollArea::both()
    }
    .id_salt(("code", tab as u8, column))
    .auto_shrink([false, false]);
    let key = (l.id, l.cursor, l.selected, tab as u8);
    if follow.followed != Some(key) {
        let changed_step = follow.followed.is_none_or(|f| f.1 != key.1 || f.0 != key.0);
        follow.followed = Some(key);
        // The selection first; else, when the step moved, its uses.
        let target = selected
            .first()
            .or(if changed_step { marked.first() } else { None });
        if let Some(first) = target {
            area = area.vertical_scroll_offset(first.saturating_sub(3) as f32 * row_step);
        }
    }
    // What the pointer is over in the chart, marked lightly.
    let hovered: Vec<usize> = match (hovered_inst, l.link()) {
        (Some(i), Some(m)) => m
            .entry_of_inst(i)
            .map(|e| m.lines_of(e, tab).iter().map(|&x| x as usize).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let hover_fill = egui::Color32::from_rgba_unmultiplied(120, 200, 255, 40);
    let strong = egui::Color32::from_rgba_unmultiplied(255, 190, 60, 70);
    let weak = ui.visuals().selection.bg_fill.gamma_multiply(0.45);
    let link = l.link();
    area.show_rows(ui, row_h, lines.len(), |ui, rows| {
        for i in rows {
            let fill = if selected.binary_search(&i).is_ok() {
                strong
            } else if hovered.contains(&i) {
                hover_fill
            } else if marked.binary_search(&i).is_ok() {
                weak
            } else {
                egui::Color32::TRANSPARENT
            };
            egui::Frame::new().fill(fill).show(ui, |ui| {
                ui.set_min_width(ui.available_width());
                ui.horizontal(|ui| {
                    ui.spacing_mut().item_spacing.x = 8.0;
                    ui.label(
                        RichText::new(format!("{:>digits$}", i + 1))
                            .monospace()
                            .weak(),
                    );
                    let label = egui::Label::new(RichText::new(lines[i]).monospace())
                        .sense(egui::Sense::click());
                    let label = if truncate {
                        label.truncate()
                    } else {
                        label.extend()
                    };
                    if ui.add(label).clicked() {
                        let entry = link.and_then(|m| m.entry_of(tab, i));
                        commands.push(Command::SelectLink(entry));
                    }
                });
            });
        }
    });
}
