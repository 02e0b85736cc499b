//! The link map as the code views use it: which entry (Wasm operator) each
//! line of each code tab belongs to, each entry's lines in every tab, and the
//! final code's listing with each run of instructions' operator and VCode
//! instructions written beside it.

use std::collections::HashMap;

use crate::engine::compile::link::{LinkMap, leading_hex};

use super::tabs::CodeTab;

/// The texts the tabs show, as the map is matched against them.
pub struct LinkTexts<'a> {
    pub wasm: Option<&'a str>,
    pub clif_translated: Option<&'a str>,
    pub vcode: Option<&'a str>,
    pub final_code: Option<&'a str>,
}

/// A link map with its line lookups.
pub struct LinkModel {
    pub map: LinkMap,
    /// Per tab: line (0-based) → entry.
    line_entry: [Vec<Option<u32>>; 5],
    /// Per entry, per tab: its lines (0-based).
    entry_lines: Vec<[Vec<u32>; 5]>,
    /// VCode instruction → entry.
    inst_entry: Vec<Option<u32>>,
    /// The final code listing with origins beside it (`None` when there is
    /// no listing to annotate).
    pub final_text: Option<String>,
}

fn tab_slot(tab: CodeTab) -> usize {
    match tab {
        CodeTab::Wasm => 0,
        CodeTab::ClifTranslated => 1,
        CodeTab::ClifOptimized => 2,
        CodeTab::VCode => 3,
        CodeTab::Final => 4,
    }
}

impl LinkModel {
    pub fn new(map: LinkMap, texts: LinkTexts<'_>) -> LinkModel {
        let n = map.entries.len();
        let mut entry_lines: Vec<[Vec<u32>; 5]> = vec![Default::default(); n];
        let mut line_entry: [Vec<Option<u32>>; 5] = Default::default();
        let mut set =
            |tab: CodeTab, line: usize, e: usize, entry_lines: &mut Vec<[Vec<u32>; 5]>| {
                let slot = tab_slot(tab);
                let v = &mut line_entry[slot];
                if v.len() <= line {
                    v.resize(line + 1, None);
                }
                if v[line].is_none() {
                    v[line] = Some(e as u32);
                    entry_lines[e][slot].push(line as u32);
                }
            };
        let by_offset: HashMap<u32, usize> = map
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.wasm_offset.map(|o| (o, i)))
            .collect();
        if let Some(text) = texts.wasm {
            for (line, l) in text.lines().enumerate() {
                if let Some(e) = leading_hex(l).and_then(|o| by_offset.get(&o)) {
                    set(CodeTab::Wasm, line, *e, &mut entry_lines);
                }
            }
        }
        for (e, entry) in map.entries.iter().enumerate() {
            for c in &entry.clif {
                set(CodeTab::ClifOptimized, c.line - 1, e, &mut entry_lines);
            }
            if texts.clif_translated.is_some() {
                for c in &entry.clif_translated {
                    set(CodeTab::ClifTranslated, c.line - 1, e, &mut entry_lines);
                }
            }
        }
        let mut inst_entry = vec![None; map.vcode_insts];
        for (e, entry) in map.entries.iter().enumerate() {
            for &v in &entry.vcode {
                if let Some(slot) = inst_entry.get_mut(v as usize) {
                    *slot = Some(e as u32);
                }
            }
        }
        if let Some(text) = texts.vcode {
            for (line, l) in text.lines().enumerate() {
                let inst = l
                    .trim_start()
                    .strip_prefix("Inst ")
                    .and_then(|r| r.split(':').next())
                    .and_then(|n| n.parse::<usize>().ok());
                if let Some(e) = inst.and_then(|i| inst_entry.get(i).copied().flatten()) {
                    set(CodeTab::VCode, line, e as usize, &mut entry_lines);
                }
            }
        }
        let mut final_text = None;
        if let Some(text) = texts.final_code {
            let (out, of_line) = map.annotate(text);
            for (line, e) in of_line.into_iter().enumerate() {
                if let Some(e) = e {
                    set(CodeTab::Final, line, e, &mut entry_lines);
                }
            }
            final_text = Some(out);
        }
        LinkModel {
            map,
            line_entry,
            entry_lines,
            inst_entry,
            final_text,
        }
    }

    /// The entry line `line` of `tab` belongs to.
    pub fn entry_of(&self, tab: CodeTab, line: usize) -> Option<u32> {
        self.line_entry[tab_slot(tab)].get(line).copied().flatten()
    }

    /// The lines of `entry` in `tab`.
    pub fn lines_of(&self, entry: u32, tab: CodeTab) -> &[u32] {
        self.entry_lines
            .get(entry as usize)
            .map_or(&[], |l| &l[tab_slot(tab)])
    }

    /// The entry of VCode instruction `inst`.
    pub fn entry_of_inst(&self, inst: u32) -> Option<u32> {
        self.inst_entry.get(inst as usize).copied().flatten()
    }

    /// What an entry is, in a few words (`@0052 i32.load`).
    pub fn describe(&self, entry: u32) -> String {
        match self.map.entries.get(entry as usize) {
            Some(e) => match (e.wasm_offset, &e.wasm_op) {
                (Some(o), Some(op)) => format!("@{o:04x} {op}"),
                (Some(o), None) => format!("@{o:04x}"),
                _ => "code with no Wasm origin (prologue, epilogue, block ends)".into(),
            },
            None => String::new(),
        }
    }
}
