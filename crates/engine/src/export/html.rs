//! One trace as a self-contained HTML report: one file that works offline and
//! loads nothing (inline style and script, the chart as inline SVG), like
//! `wasmtime explore`'s output. It holds the summary and diagnosis, the chart
//! at the last step, every step with its explanation, every inserted move with
//! its cause, and the VCode and final code; clicking a step marks the VCode
//! instructions its bundle covered, clicking a move shows its cause step.

use std::fmt::Write as _;

use super::scene;
use super::svg::{self, escape};
use crate::replay::Replay;
use crate::replay::diagnose::Diagnosis;
use crate::replay::explain;
use crate::replay::moves::MoveReport;
use crate::trace::RegNames;

/// Steps written at most (a report of a bigger trace says how many were left out).
pub const MAX_STEPS: usize = 10_000;

/// What the report is about.
pub struct Report<'a> {
    pub title: String,
    /// `x86_64-unknown-linux-gnu`, `from log`.
    pub target: String,
    pub replay: &'a Replay,
    pub names: Option<RegNames>,
    pub checker: String,
    pub diagnosis: &'a Diagnosis,
    pub moves: &'a MoveReport,
    /// VCode before allocation, if logged.
    pub vcode: Option<&'a str>,
    /// The final code (disassembly or allocated VCode), if compiled.
    pub final_code: Option<&'a str>,
}

const STYLE: &str = "body{background:#18181c;color:#dcdce1;font:14px/1.4 sans-serif;margin:16px}\
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:18px 0 6px}\
.weak{color:#9698a0}table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left;vertical-align:top}\
tr.step{cursor:pointer}tr.step:hover,tr.move:hover{background:#2a2b31}tr.sel{background:#23405a}\
pre{background:#101013;padding:8px;overflow:auto;max-height:480px;font:12px/1.35 monospace}\
pre span.mark{background:#3d5a2a}.chart{overflow:auto;max-height:640px;border:1px solid #333}\
details{margin:4px 0}.grid{display:grid;grid-template-columns:1fr 1fr;gap:12px}";

/// The script: a step row marks the VCode lines of the instructions its
/// bundle covered; a move row jumps to its cause step.
const SCRIPT: &str = "function mark(r){document.querySelectorAll('tr.sel').forEach(e=>e.classList.remove('sel'));\
r.classList.add('sel');var f=+r.dataset.from,t=+r.dataset.to;\
document.querySelectorAll('#vcode span[data-inst]').forEach(function(s){var i=+s.dataset.inst;\
s.classList.toggle('mark',i>=f&&i<=t)});}\
document.querySelectorAll('tr.step').forEach(function(r){r.addEventListener('click',function(){mark(r)})});\
document.querySelectorAll('tr.move[data-step]').forEach(function(r){r.addEventListener('click',function(){\
var s=document.getElementById('step-'+r.dataset.step);if(s){mark(s);s.scrollIntoView({block:'center'})}})});";

/// The HTML text of `r`.
pub fn write(r: &Report) -> String {
    let replay = r.replay;
    let trace = replay.trace();
    let c = trace.counts();
    let mut h = String::with_capacity(64 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>spillscope: {}</title><style>{STYLE}</style></head><body>\n",
        escape(&r.title)
    );
    let _ = writeln!(
        h,
        "<h1>{}</h1><div class=\"weak\">{} · made by spillscope from regalloc2's trace-log records</div>",
        escape(&r.title),
        escape(&r.target)
    );
    let m = &r.moves.summary;
    let _ = writeln!(
        h,
        "<p>{} steps: {} allocated, {} splits, {} evictions, {} spilled; {} spill slots; {} moves, {} spills, {} reloads; checker: {}.</p><p>{}</p>",
        c.steps,
        c.allocated,
        c.splits,
        c.evictions,
        c.spilled,
        c.spill_slots,
        m.moves,
        m.spills,
        m.reloads,
        escape(&r.checker),
        escape(&r.diagnosis.description)
    );
    h.push_str("<h2>The chart after the last step</h2><div class=\"chart\">");
    let chart = scene::chart(replay, replay.len(), &r.title, r.names, 400);
    // Inline SVG: the XML declaration-free document embeds as is.
    h.push_str(&svg::write(&chart));
    h.push_str("</div>\n");

    h.push_str("<div class=\"grid\"><div><h2>Steps</h2><p class=\"weak\">Click a step: the VCode instructions its bundle covered are marked.</p><table>\n");
    let shown = replay.len().min(MAX_STEPS);
    let mut state = replay.initial().clone();
    for (i, step) in replay.steps()[..shown].iter().enumerate() {
        // The instructions the bundle covered when the step began.
        let segs = state.segs(step.bundle);
        let from = segs.iter().map(|s| s.from.inst()).min().unwrap_or(0);
        let to = segs.iter().map(|s| s.to.inst()).max().unwrap_or(0);
        replay.seek(&mut state, i + 1);
        let lines = explain::explain(
            step,
            replay.vregs_at_start(i),
            r.names,
            replay.props_at_start(i),
        );
        let _ = write!(
            h,
            "<tr class=\"step\" id=\"step-{n}\" data-from=\"{from}\" data-to=\"{to}\"><td>{n}</td><td>{}<details><summary class=\"weak\">why</summary><ul>",
            escape(&explain::headline(step, r.names)),
            n = i + 1
        );
        for l in lines {
            let _ = write!(h, "<li>{}</li>", escape(&l));
        }
        h.push_str("</ul></details></td></tr>\n");
    }
    h.push_str("</table>");
    if shown < replay.len() {
        let _ = write!(
            h,
            "<p class=\"weak\">The first {shown} of {} steps; <code>spillscope trace --json</code> lists them all.</p>",
            replay.len()
        );
    }
    h.push_str("</div><div><h2>VCode before allocation</h2><pre id=\"vcode\">");
    match r.vcode {
        Some(v) => {
            for line in v.lines() {
                let inst = line
                    .trim_start()
                    .strip_prefix("Inst ")
                    .and_then(|s| s.split(':').next())
                    .and_then(|n| n.parse::<u32>().ok());
                match inst {
                    Some(i) => {
                        let _ = writeln!(h, "<span data-inst=\"{i}\">{}</span>", escape(line));
                    }
                    None => {
                        let _ = writeln!(h, "{}", escape(line));
                    }
                }
            }
        }
        None => h.push_str("Cranelift logged no VCode for this trace."),
    }
    h.push_str("</pre><h2>Final code</h2><pre>");
    h.push_str(&escape(
        r.final_code
            .unwrap_or("No machine code: nothing was emitted for this trace."),
    ));
    h.push_str("</pre></div></div>\n<h2>Inserted moves</h2><p class=\"weak\">Click a move with a cause: its step is shown.</p><table><tr><th>point</th><th>kind</th><th>from → to</th><th>why</th></tr>\n");
    for mv in r.moves.moves.iter().take(MAX_STEPS) {
        let step = mv
            .cause
            .as_ref()
            .map(|c| format!(" data-step=\"{}\"", c.step))
            .unwrap_or_default();
        let _ = writeln!(
            h,
            "<tr class=\"move\"{step}><td>{}</td><td>{}</td><td>{} → {}</td><td>{}</td></tr>",
            mv.point.text(),
            mv.kind.word(),
            escape(&mv.from),
            escape(&mv.to),
            escape(&mv.why)
        );
    }
    let _ = write!(h, "</table>\n<script>{SCRIPT}</script></body></html>\n");
    h
}
