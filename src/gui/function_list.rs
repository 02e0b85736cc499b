//! The function list: every function of the open file with its index, name
//! and body size, filtered by a search box; clicking one compiles it.

use egui::RichText;

use crate::engine::input::Input;

use super::command::Command;

const ROW_H: f32 = 18.0;

pub fn function_list_ui(
    ui: &mut egui::Ui,
    input: Option<&Input>,
    selected: Option<u32>,
    filter: &mut String,
    by_size: &mut bool,
    scrolled_to: &mut Option<u32>,
    commands: &mut Vec<Command>,
) {
    // Fill the panel: egui remembers a panel's size from what its content used.
    ui.set_min_width(ui.available_width());
    ui.add_space(4.0);
    ui.strong("Functions");
    let Some(input) = input else {
        ui.label(RichText::new("no file open").weak());
        return;
    };
    ui.horizontal(|ui| {
        let label = ui.label("Filter");
        ui.add(
            egui::TextEdit::singleline(filter)
                .hint_text("name or index")
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label.id);
    });
    ui.horizontal(|ui| {
        ui.label("Order");
        ui.selectable_value(by_size, false, "index");
        ui.selectable_value(by_size, true, "size")
            .on_hover_text("Largest first");
    });
    let needle = filter.trim().to_lowercase();
    let mut shown: Vec<_> = input
        .functions
        .iter()
        .filter(|f| {
            needle.is_empty()
                || f.label().to_lowercase().contains(&needle)
                || f.raw_name
                    .as_deref()
                    .is_some_and(|r| r.to_lowercase().contains(&needle))
                || f.index.to_string() == needle
        })
        .collect();
    if *by_size {
        shown.sort_by_key(|f| (std::cmp::Reverse(f.body_bytes), f.index));
    }
    let defined = input.functions.iter().filter(|f| !f.imported).count();
    ui.label(
        RichText::new(format!(
            "{} of {} shown · {} defined",
            shown.len(),
            input.functions.len(),
            defined
        ))
        .small()
        .weak(),
    );
    // A module opens on a function that is quick to trace: say so when the
    // largest is bigger.
    if let (Some(big), Some(first)) = (input.largest_function(), input.default_function())
        && big.index != first.index
    {
        ui.label(
            RichText::new(format!(
                "opened on the largest function under {} KB; the largest is {} ({} KB), which takes longer to trace",
                crate::engine::input::read::CHEAP_BODY_BYTES / 1024,
                big.label(),
                big.body_bytes / 1024
            ))
            .small()
            .weak(),
        );
    }
    ui.separator();
    let mut area = egui::ScrollArea::vertical()
        .id_salt("function_list")
        .auto_shrink([false, false]);
    // Bring the selection into view when it changes (from a path, the
    // command line or a restart, it may be far down the list).
    if *scrolled_to != selected {
        *scrolled_to = selected;
        if let Some(row) = shown.iter().position(|f| Some(f.index) == selected) {
            let step = ROW_H + ui.spacing().item_spacing.y;
            area = area.vertical_scroll_offset((row.saturating_sub(3)) as f32 * step);
        }
    }
    area.show_rows(ui, ROW_H, shown.len(), |ui, rows| {
        for f in &shown[rows] {
            let size = if f.imported {
                "import".to_string()
            } else {
                format!("{} B", f.body_bytes)
            };
            let text = format!("{:>4} {size:>8}  {}", f.index, f.label());
            let is_sel = selected == Some(f.index);
            let label = egui::Button::selectable(is_sel, RichText::new(text).monospace())
                .wrap_mode(egui::TextWrapMode::Truncate);
            let resp = ui
                .add_enabled(!f.imported, label)
                .on_hover_text(match &f.raw_name {
                    Some(raw) => format!("{}\nsymbol: {raw}", f.label()),
                    None => f.label(),
                })
                .on_disabled_hover_text(format!(
                    "{}: imported, so it has no body to compile",
                    f.label()
                ));
            if resp.clicked() && !is_sel {
                commands.push(Command::SelectFunction(f.index));
            }
        }
    });
}
