//! Code views in tabs: the Wasm text, CLIF as translated and as optimized,
//! VCode before allocation and the final code with allocations.

use egui::RichText;

use super::compiled::Loaded;

/// Which text the code panel shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeTab {
    Wasm,
    ClifTranslated,
    ClifOptimized,
    VCode,
    Final,
}

impl CodeTab {
    pub const ALL: [CodeTab; 5] = [
        CodeTab::Wasm,
        CodeTab::ClifTranslated,
        CodeTab::ClifOptimized,
        CodeTab::VCode,
        CodeTab::Final,
    ];

    pub fn title(self) -> &'static str {
        match self {
            CodeTab::Wasm => "Wasm",
            CodeTab::ClifTranslated => "CLIF (translated)",
            CodeTab::ClifOptimized => "CLIF (optimized)",
            CodeTab::VCode => "VCode (before regalloc)",
            CodeTab::Final => "Final code (allocated)",
        }
    }
}

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
        CodeTab::ClifOptimized => Ok(t.prepared.clif.as_str()),
        CodeTab::VCode => t
            .traced
            .trace
            .vcode_before
            .as_deref()
            .ok_or_else(|| "Cranelift logged no VCode for this compile".to_string()),
        CodeTab::Final => t
            .code()
            .map(|c| c.final_vcode.as_str())
            .ok_or_else(|| "the compile did not finish".to_string()),
    }
}

/// Scroll state of the code panel: which step it last followed.
#[derive(Default)]
pub struct CodeFollow {
    followed: Option<(u64, usize)>,
}

pub fn code_views_ui(
    ui: &mut egui::Ui,
    tab: &mut CodeTab,
    follow: &mut CodeFollow,
    loaded: Option<&Loaded>,
    busy: bool,
) {
    // Fill the panel: egui remembers a panel's size from what its content used.
    ui.set_min_height(ui.available_height());
    ui.horizontal(|ui| {
        for t in CodeTab::ALL {
            ui.selectable_value(tab, t, t.title());
        }
    });
    ui.separator();
    let Some(l) = loaded else {
        ui.label(RichText::new("nothing compiled yet").weak());
        return;
    };
    // In the VCode listing, mark the instructions where the current step's
    // bundle has uses, and scroll to the first when the step changes.
    let marked: Vec<usize> = match (*tab, l.focus.bundle) {
        (CodeTab::VCode, Some(b)) => {
            let chart = &l.compiled.chart;
            let segs = l.state.segs(b);
            chart
                .use_insts(segs)
                .into_iter()
                .filter_map(|i| chart.inst_line(i))
                .collect()
        }
        _ => Vec::new(),
    };
    match tab_text(*tab, l, busy) {
        Ok(text) => {
            if let (CodeTab::VCode, Some(b)) = (*tab, l.focus.bundle) {
                ui.label(
                    RichText::new(format!(
                        "highlighted: the {} instruction{} where bundle {b} has uses or defs",
                        marked.len(),
                        if marked.len() == 1 { "" } else { "s" }
                    ))
                    .small()
                    .weak(),
                );
            }
            let lines: Vec<&str> = text.lines().collect();
            let row_h = ui.text_style_height(&egui::TextStyle::Monospace);
            let row_step = row_h + ui.spacing().item_spacing.y;
            let digits = lines.len().max(1).to_string().len();
            let mut area = egui::ScrollArea::both()
                .id_salt(("code", *tab as u8))
                .auto_shrink([false, false]);
            let key = (l.id, l.cursor);
            if *tab == CodeTab::VCode && follow.followed != Some(key) {
                follow.followed = Some(key);
                if let Some(first) = marked.first() {
                    area = area.vertical_scroll_offset(first.saturating_sub(3) as f32 * row_step);
                }
            }
            let mark = ui.visuals().selection.bg_fill.gamma_multiply(0.45);
            area.show_rows(ui, row_h, lines.len(), |ui, rows| {
                for i in rows {
                    let frame = if marked.contains(&i) {
                        egui::Frame::new().fill(mark)
                    } else {
                        egui::Frame::new()
                    };
                    frame.show(ui, |ui| {
                        ui.horizontal(|ui| {
                            ui.spacing_mut().item_spacing.x = 8.0;
                            ui.label(
                                RichText::new(format!("{:>digits$}", i + 1))
                                    .monospace()
                                    .weak(),
                            );
                            ui.add(egui::Label::new(RichText::new(lines[i]).monospace()).extend());
                        });
                    });
                }
            });
        }
        Err(why) => {
            ui.label(RichText::new(why).weak());
        }
    }
}
