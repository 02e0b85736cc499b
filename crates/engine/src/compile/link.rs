//! The link map of one compile: each Wasm operator (its module byte offset)
//! → the CLIF instructions Wasmtime made of it (as translated and as
//! optimized) → the VCode instructions lowering made of those (regalloc2's
//! program points) → the machine-code bytes emitted for them.
//!
//! Cranelift keeps a source location on every CLIF instruction (Wasmtime puts
//! the operator's module offset there: `@0052` in CLIF text) and on every
//! range of machine code. Which VCode instructions came from which CLIF
//! instruction is read from Cranelift's lowering records: lowering walks the
//! blocks backwards and each instruction's VCode in order, logging
//! `lowering: inst …` before the `emit: …` of each VCode instruction it makes.
//! Counting those emits against the VCode's own block sizes places each one
//! at its VCode index (edge blocks and the argument pseudo-instruction have no
//! CLIF origin). Code with no source location (prologue, epilogue, moves
//! between blocks) links to no operator.

use std::collections::HashMap;
use std::ops::Range;

use crate::capture::{RecordSink, Source, Verdict};
use crate::input::func_text::FuncText;

/// The CLIF instruction a group of VCode instructions was lowered from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Origin {
    /// An instruction, by its block and its text normalized.
    Inst { block: String, key: String },
    /// The branch that ends a block.
    Branch { block: String },
}

/// One lowering record that matters here.
#[derive(Debug)]
enum Lowered {
    /// `lower_clif_block:` — the next instruction scanned, in this block.
    Scan { block: String },
    /// `lowering: inst …` — VCode follows for this instruction.
    Inst { key: String },
    /// `lower_clif_branch:` — VCode follows for this block's branch.
    Branch { block: String },
    /// `emit: …` — one VCode instruction; `args` for the arguments pseudo-op.
    Emit { args: bool },
}

/// Collects Cranelift's lowering records and the VCode it printed.
#[derive(Default)]
pub struct LoweringSink {
    records: Vec<Lowered>,
    /// Instructions in each VCode block, in block order.
    block_sizes: Option<Vec<usize>>,
}

/// CLIF text normalized for matching: the comment dropped, the opcode's type
/// suffix dropped (Cranelift prints `iadd.i32` where the CLIF writer may
/// print `iadd`), spaces collapsed.
fn normalize(text: &str) -> String {
    let text = text.split(" ; ").next().unwrap_or(text).trim();
    let (results, rhs) = match text.split_once(" = ") {
        Some((r, rhs)) => (Some(r.trim()), rhs.trim()),
        None => (None, text),
    };
    let mut words = rhs.split_whitespace();
    let opcode = words.next().unwrap_or("");
    let opcode = opcode.split('.').next().unwrap_or(opcode);
    let rest: Vec<&str> = words.collect();
    let rhs = if rest.is_empty() {
        opcode.to_string()
    } else {
        format!("{opcode} {}", rest.join(" "))
    };
    match results {
        Some(r) => format!("{r} = {rhs}"),
        None => rhs,
    }
}

/// `block block1 inst …` → `block1`.
fn block_word(rest: &str) -> Option<String> {
    rest.strip_prefix("block ")
        .and_then(|r| r.split_whitespace().next())
        .map(str::to_string)
}

impl RecordSink for LoweringSink {
    fn record(&mut self, source: Source, _: log::Level, message: &str) -> Verdict {
        match source {
            Source::Lower => {
                if let Some(rest) = message.strip_prefix("lower_clif_block: ") {
                    if let Some(block) = block_word(rest) {
                        self.records.push(Lowered::Scan { block });
                    }
                } else if let Some(rest) = message.strip_prefix("lowering: inst ") {
                    // "lowering: inst inst48: return v58"
                    if let Some((_, text)) = rest.split_once(": ") {
                        self.records.push(Lowered::Inst {
                            key: normalize(text),
                        });
                    }
                } else if let Some(rest) = message.strip_prefix("lower_clif_branch: ") {
                    if let Some(block) = block_word(rest) {
                        self.records.push(Lowered::Branch { block });
                    }
                } else if let Some(rest) = message.strip_prefix("emit: ") {
                    let args = rest.trim_start().starts_with("args");
                    self.records.push(Lowered::Emit { args });
                } else {
                    return Verdict::IgnoreSite;
                }
                Verdict::Continue
            }
            Source::Compile => {
                if let Some(rest) = message.strip_prefix("vcode from lowering:") {
                    let mut sizes = Vec::new();
                    for line in rest.lines() {
                        let t = line.trim_start();
                        if t.starts_with("Block ") {
                            sizes.push(0);
                        } else if t.starts_with("Inst ")
                            && let Some(n) = sizes.last_mut()
                        {
                            *n += 1;
                        }
                    }
                    self.block_sizes = Some(sizes);
                }
                Verdict::Continue
            }
            _ => Verdict::IgnoreSite,
        }
    }
}

impl LoweringSink {
    /// The CLIF origin of every VCode instruction, by index.
    fn origins(&self) -> Result<Vec<Option<Origin>>, String> {
        let sizes = self
            .block_sizes
            .as_ref()
            .ok_or("Cranelift printed no VCode for this compile")?;
        let total: usize = sizes.iter().sum();
        let emits = self
            .records
            .iter()
            .filter(|r| matches!(r, Lowered::Emit { .. }))
            .count();
        if emits != total {
            return Err(format!(
                "lowering emitted {emits} VCode instructions but the VCode has {total}"
            ));
        }
        // Groups of emits in record order: each one VCode instruction run in
        // forward order, the groups themselves in backward order.
        let mut groups: Vec<(Option<Origin>, usize)> = Vec::new();
        let mut new_group = true;
        let mut origin: Option<Origin> = None;
        let mut block = String::new();
        // Blocks are lowered last to first; count down the current one.
        let mut next_block = sizes.len();
        let mut left = 0usize;
        let mut exhausted = true;
        for r in &self.records {
            if exhausted && next_block > 0 {
                // The block before has all its VCode: what follows is the
                // next block's (records of instructions that made no VCode
                // may trail; an edge block's jump comes with no record).
                next_block -= 1;
                left = sizes[next_block];
                exhausted = false;
                origin = None;
                new_group = true;
            }
            match r {
                Lowered::Scan { block: b } => {
                    block = b.clone();
                    origin = None;
                    new_group = true;
                }
                Lowered::Inst { key } => {
                    origin = Some(Origin::Inst {
                        block: block.clone(),
                        key: key.clone(),
                    });
                    new_group = true;
                }
                Lowered::Branch { block: b } => {
                    block = b.clone();
                    origin = Some(Origin::Branch { block: b.clone() });
                    new_group = true;
                }
                Lowered::Emit { args } => {
                    if *args {
                        origin = None;
                        new_group = true;
                    }
                    if new_group {
                        groups.push((origin.clone(), 0));
                        new_group = false;
                    }
                    if let Some(g) = groups.last_mut() {
                        g.1 += 1;
                    }
                    left = left.saturating_sub(1);
                    if left == 0 {
                        exhausted = true;
                    }
                }
            }
        }
        let mut out = vec![None; total];
        let mut before = 0usize;
        for (o, count) in groups {
            let first = total - before - count;
            for slot in &mut out[first..first + count] {
                *slot = o.clone();
            }
            before += count;
        }
        Ok(out)
    }
}

/// One line of CLIF text that is an instruction.
#[derive(Clone, Debug)]
struct ClifInst {
    /// 1-based line number in the text.
    line: usize,
    srcloc: Option<u32>,
    text: String,
}

/// The instructions of a CLIF text, with their blocks.
struct ClifIndex {
    insts: Vec<ClifInst>,
    by_key: HashMap<(String, String), usize>,
    /// Each block's last instruction (its branch).
    last_of: HashMap<String, usize>,
}

fn clif_index(text: &str) -> ClifIndex {
    let mut insts = Vec::new();
    let mut by_key = HashMap::new();
    let mut last_of = HashMap::new();
    let mut block: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let (srcloc, body) = match raw.trim_start().strip_prefix('@') {
            Some(rest) => {
                let hex: String = rest.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
                (u32::from_str_radix(&hex, 16).ok(), &rest[hex.len()..])
            }
            None => (None, raw),
        };
        let t = body.trim();
        if t.is_empty() || t == "}" {
            continue;
        }
        if t.starts_with("block") && t.ends_with(':') {
            let name = t.trim_end_matches(':');
            let name = name.split('(').next().unwrap_or(name).trim().to_string();
            block = Some(name);
            continue;
        }
        let Some(b) = &block else { continue };
        let idx = insts.len();
        by_key.entry((b.clone(), normalize(t))).or_insert(idx);
        last_of.insert(b.clone(), idx);
        insts.push(ClifInst {
            line: i + 1,
            srcloc,
            text: t.to_string(),
        });
    }
    ClifIndex {
        insts,
        by_key,
        last_of,
    }
}

/// One CLIF instruction in a link map.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ClifRef {
    /// 1-based line in the CLIF text.
    pub line: usize,
    pub text: String,
}

/// One Wasm operator (or, with no offset, the code no operator owns) and
/// what it became.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LinkEntry {
    /// Module byte offset of the operator; `null` for code with no Wasm
    /// origin (prologue, epilogue, jumps between blocks, moves at block ends).
    pub wasm_offset: Option<u32>,
    pub wasm_op: Option<String>,
    /// Its CLIF instructions as Wasmtime optimized them (the CLIF compiled).
    pub clif: Vec<ClifRef>,
    /// Its CLIF instructions as translated, before optimization.
    pub clif_translated: Vec<ClifRef>,
    /// Its VCode instructions (program points `N-pre`/`N-post`).
    pub vcode: Vec<u32>,
    /// Its machine code: byte ranges `[start, end)` in the function.
    pub code: Vec<[u32; 2]>,
}

/// The link map of one function's compile.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct LinkMap {
    pub code_bytes: usize,
    pub vcode_insts: usize,
    pub entries: Vec<LinkEntry>,
    /// Why a part of the map is missing, when one is.
    pub note: Option<String>,
    /// The machine code disassembled with offsets (`  3e  movq …`).
    #[serde(skip)]
    pub listing: String,
}

/// `3-5 9` for `[3, 4, 5, 9]`.
pub fn compact(list: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < list.len() {
        let mut j = i;
        while j + 1 < list.len() && list[j + 1] == list[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            list[i].to_string()
        } else {
            format!("{}-{}", list[i], list[j])
        });
        i = j + 1;
    }
    parts.join(" ")
}

/// The leading hex number of a listing line (`  3e  movq …` → 0x3e).
pub fn leading_hex(line: &str) -> Option<u32> {
    let word = line.split_whitespace().next()?;
    u32::from_str_radix(word, 16).ok()
}

impl LinkMap {
    /// A listing (`  3e  movq …` lines) with each run of instructions'
    /// operator and VCode instructions written beside its first line, and
    /// the entry of every line.
    pub fn annotate(&self, listing: &str) -> (String, Vec<Option<usize>>) {
        let mut ranges: Vec<(u32, u32, usize)> = self
            .entries
            .iter()
            .enumerate()
            .flat_map(|(e, entry)| entry.code.iter().map(move |[s, t]| (*s, *t, e)))
            .collect();
        ranges.sort();
        let entry_at = |offset: u32| -> Option<usize> {
            let i = ranges.partition_point(|r| r.0 <= offset);
            let r = ranges.get(i.checked_sub(1)?)?;
            (offset < r.1).then_some(r.2)
        };
        let mut out = String::with_capacity(listing.len() * 2);
        let mut of_line = Vec::new();
        let mut last: Option<usize> = None;
        for l in listing.lines() {
            let e = leading_hex(l).and_then(entry_at);
            out.push_str(l);
            if let Some(e) = e
                && last != Some(e)
            {
                let entry = &self.entries[e];
                let origin = match (entry.wasm_offset, &entry.wasm_op) {
                    (Some(o), Some(op)) => format!("@{o:04x} {op}"),
                    (Some(o), None) => format!("@{o:04x}"),
                    _ => "no Wasm origin".into(),
                };
                let pad = 44usize.saturating_sub(l.chars().count()).max(2);
                out.push_str(&" ".repeat(pad));
                out.push_str(&format!("; {origin}"));
                if !entry.vcode.is_empty() && entry.wasm_offset.is_some() {
                    out.push_str(&format!("  [VCode {}]", compact(&entry.vcode)));
                }
            }
            last = e;
            of_line.push(e);
            out.push('\n');
        }
        (out, of_line)
    }
}

/// What a link map is built from: one compile's records and outputs.
pub struct LinkInputs<'a> {
    pub func: Option<&'a FuncText>,
    /// The CLIF compiled, and the CLIF as translated (if known).
    pub clif: &'a str,
    pub clif_translated: Option<&'a str>,
    pub lowering: &'a LoweringSink,
    pub code_bytes: usize,
    pub srclocs: &'a [(Range<u32>, u32)],
}

/// Builds the map.
pub fn build(inputs: LinkInputs<'_>) -> LinkMap {
    let opt = clif_index(inputs.clif);
    let translated = inputs.clif_translated.map(clif_index);
    let (origins, note) = match inputs.lowering.origins() {
        Ok(o) => (o, None),
        Err(e) => (Vec::new(), Some(format!("VCode not linked: {e}"))),
    };
    let mut vcode_loc: Vec<Option<u32>> = Vec::with_capacity(origins.len());
    for o in &origins {
        let idx = match o {
            Some(Origin::Inst { block, key }) => opt.by_key.get(&(block.clone(), key.clone())),
            Some(Origin::Branch { block }) => opt.last_of.get(block),
            None => None,
        };
        vcode_loc.push(idx.and_then(|&i| opt.insts[i].srcloc));
    }
    // Every source location, in the order the function's text gives them.
    let mut keys: Vec<Option<u32>> = Vec::new();
    if let Some(f) = inputs.func {
        keys.extend(f.lines.iter().filter_map(|(o, _)| o.map(Some)));
    }
    let mut seen: std::collections::HashSet<Option<u32>> = keys.iter().copied().collect();
    let extra = opt
        .insts
        .iter()
        .map(|i| i.srcloc)
        .chain(inputs.srclocs.iter().map(|(_, l)| Some(*l)))
        .chain(vcode_loc.iter().copied());
    for k in extra {
        if k.is_some() && seen.insert(k) {
            keys.push(k);
        }
    }
    keys.push(None);
    let slot: HashMap<Option<u32>, usize> = keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let mut entries: Vec<LinkEntry> = keys
        .iter()
        .map(|k| LinkEntry {
            wasm_offset: *k,
            wasm_op: k.and_then(|o| inputs.func.and_then(|f| f.op_at(o)).map(str::to_string)),
            clif: Vec::new(),
            clif_translated: Vec::new(),
            vcode: Vec::new(),
            code: Vec::new(),
        })
        .collect();
    for i in &opt.insts {
        entries[slot[&i.srcloc]].clif.push(ClifRef {
            line: i.line,
            text: i.text.clone(),
        });
    }
    if let Some(t) = &translated {
        for i in &t.insts {
            if let Some(&s) = slot.get(&i.srcloc) {
                entries[s].clif_translated.push(ClifRef {
                    line: i.line,
                    text: i.text.clone(),
                });
            }
        }
    }
    for (v, loc) in vcode_loc.iter().enumerate() {
        entries[slot[loc]].vcode.push(v as u32);
    }
    let mut covered = 0u32;
    let none = slot[&None];
    for (range, loc) in inputs.srclocs {
        if range.start > covered {
            push_range(&mut entries[none].code, covered..range.start);
        }
        push_range(&mut entries[slot[&Some(*loc)]].code, range.clone());
        covered = covered.max(range.end);
    }
    if (covered as usize) < inputs.code_bytes {
        push_range(&mut entries[none].code, covered..inputs.code_bytes as u32);
    }
    LinkMap {
        code_bytes: inputs.code_bytes,
        vcode_insts: origins.len(),
        entries,
        note,
        listing: String::new(),
    }
}

/// Appends a range, joined to the last one when they touch.
fn push_range(list: &mut Vec<[u32; 2]>, r: Range<u32>) {
    if r.is_empty() {
        return;
    }
    match list.last_mut() {
        Some(last) if last[1] == r.start => last[1] = r.end,
        _ => list.push([r.start, r.end]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_numbers_are_compacted() {
        assert_eq!(compact(&[3, 4, 5, 9]), "3-5 9");
        assert_eq!(compact(&[]), "");
        assert_eq!(leading_hex("    3e  movq"), Some(0x3e));
        assert_eq!(leading_hex("  .bytes"), None);
    }

    #[test]
    fn lowering_and_writer_texts_normalize_alike() {
        assert_eq!(
            normalize("v68 = iadd.i32 v21, v67  ; v67 = 1"),
            normalize("v68 = iadd v21, v67  ; v67 = 1")
        );
        assert_eq!(
            normalize("call_indirect.i64 sig0, v45(v44, v0, v38)"),
            "call_indirect sig0, v45(v44, v0, v38)"
        );
        assert_eq!(normalize("return v58"), "return v58");
    }
}
