//! A release gate's report as one self-contained HTML page (inline style,
//! plots as inline SVG, nothing loaded): the verdict, the new failures, the
//! deltas by metric with the worst functions, a scatter of baseline against
//! candidate spills per function and a histogram of the spill deltas.

use std::fmt::Write as _;

use super::svg::escape;
use crate::triage::gate::{GateFunction, GateSummary, Metric};
use crate::triage::scan::{FileReport, FunctionReport, ScanReport};

const STYLE: &str = "body{background:#18181c;color:#dcdce1;font:14px/1.4 sans-serif;margin:16px;max-width:1200px}\
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:20px 0 6px}.weak{color:#9698a0}\
table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left;vertical-align:top}\
th{border-bottom:1px solid #444}td.n{text-align:right;font-variant-numeric:tabular-nums}\
.fail{color:#ff7b72}.ok{color:#7ee787}.plots{display:flex;flex-wrap:wrap;gap:16px}\
svg text{fill:#c0c0c8;font:11px sans-serif}";

/// Functions listed at most in the failures table.
const MAX_LISTED: usize = 500;
/// Points drawn at most in the scatter (the rest are counted).
const MAX_POINTS: usize = 20_000;

/// The page for a gate's report; a report without a gate gets a page that
/// says so.
pub fn html(report: &ScanReport) -> String {
    let mut h = String::with_capacity(64 * 1024);
    h.push_str("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>");
    let Some(g) = &report.gate else {
        h.push_str("not a gate</title></head><body><p>This report is a scan's, not a release gate's.</p></body></html>");
        return h;
    };
    let _ = write!(
        h,
        "regalloc2 {} against {}</title><style>{STYLE}</style></head><body>",
        escape(&g.candidate_name()),
        g.baseline
    );
    let _ = write!(
        h,
        "<h1>Release gate: regalloc2 {} (candidate) against {} (baseline)</h1>",
        escape(&g.candidate_name()),
        g.baseline
    );
    let s = &report.summary;
    let conditions = s
        .conditions
        .as_ref()
        .map(|c| {
            format!(
                "target {}, opt {}, {} allocator",
                c.target, c.opt, c.algorithm
            )
        })
        .unwrap_or_default();
    let _ = write!(
        h,
        "<p class=\"weak\">{} functions in {} modules; {}; {:.1} s on {} jobs.</p>",
        s.functions,
        s.modules,
        escape(&conditions),
        s.elapsed_ms as f64 / 1000.0,
        s.jobs
    );
    verdict(&mut h, g, report);
    failures(&mut h, &report.files);
    h.push_str("<h2>Quality where both finished</h2>");
    let _ = write!(
        h,
        "<p>{} functions allocated by both; {} of them the very same allocation.</p>",
        g.compared, g.same_allocation
    );
    metrics(&mut h, g);
    h.push_str("<div class=\"plots\">");
    scatter(&mut h, g, &report.files);
    histogram(&mut h, &report.files, Metric::Spills);
    histogram(&mut h, &report.files, Metric::Moves);
    h.push_str("</div>");
    worst(&mut h, g);
    h.push_str("</body></html>");
    h
}

fn verdict(h: &mut String, g: &GateSummary, report: &ScanReport) {
    let errors = report.summary.module_errors + g.not_lowered;
    let pass = g.new_failures() == 0 && errors == 0;
    let _ = write!(
        h,
        "<h2 class=\"{}\">{}</h2><table>",
        if pass { "ok" } else { "fail" },
        if pass {
            "Passed: the candidate has no new failure"
        } else {
            "Failed"
        }
    );
    let rows = [
        ("new loops", g.new_loops),
        ("new timeouts", g.new_timeouts),
        ("new panics", g.new_panics),
        ("new checker failures", g.new_checker_failures),
        ("functions it cannot take", g.new_cannot_take),
        (
            "fixed (the baseline fails, the candidate does not)",
            g.fixed,
        ),
        ("fail in both", g.both_fail),
        ("not lowered", g.not_lowered),
        ("module errors", report.summary.module_errors),
    ];
    for (what, n) in rows {
        let _ = write!(h, "<tr><td>{what}</td><td class=\"n\">{n}</td></tr>");
    }
    h.push_str("</table>");
}

fn gated(
    files: &[FileReport],
) -> impl Iterator<Item = (&FileReport, &FunctionReport, &GateFunction)> {
    files.iter().flat_map(|f| {
        f.functions
            .iter()
            .filter_map(move |func| Some((f, func, func.gate.as_ref()?)))
    })
}

fn failures(h: &mut String, files: &[FileReport]) {
    let listed: Vec<(&FileReport, &FunctionReport)> = files
        .iter()
        .flat_map(|f| f.functions.iter().map(move |func| (f, func)))
        .filter(|(_, func)| match &func.gate {
            Some(g) => !g.candidate.outcome.is_ok(),
            None => true,
        })
        .collect();
    let errors: Vec<&FileReport> = files.iter().filter(|f| f.error.is_some()).collect();
    if listed.is_empty() && errors.is_empty() {
        return;
    }
    h.push_str("<h2>Functions that failed</h2><table><tr><th>module</th><th>function</th><th>status</th><th>what happened</th></tr>");
    for f in errors {
        let _ = write!(
            h,
            "<tr><td>{}</td><td></td><td class=\"fail\">module error</td><td>{}</td></tr>",
            escape(&f.path),
            escape(f.error.as_deref().unwrap_or(""))
        );
    }
    for (f, func) in listed.iter().take(MAX_LISTED) {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{} {}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
            escape(&f.path),
            func.index,
            escape(&func.name),
            if func.status.name() == "ok" {
                "weak"
            } else {
                "fail"
            },
            func.status.name(),
            escape(&func.details)
        );
    }
    h.push_str("</table>");
    if listed.len() > MAX_LISTED {
        let _ = write!(
            h,
            "<p class=\"weak\">… and {} more (the JSON report lists them all).</p>",
            listed.len() - MAX_LISTED
        );
    }
}

fn metrics(h: &mut String, g: &GateSummary) {
    h.push_str("<table><tr><th>metric</th><th>baseline total</th><th>candidate total</th><th>better</th><th>worse</th><th>same</th><th>p1</th><th>p10</th><th>p50</th><th>p90</th><th>p99</th></tr>");
    for m in &g.metrics {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
            m.metric.name(),
            m.baseline_total,
            m.candidate_total,
            m.better,
            m.worse,
            m.same
        );
        for p in m.percentiles {
            let _ = write!(h, "<td class=\"n\">{p:+}</td>");
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>");
}

/// A square plot of baseline (x) against candidate (y) spills per function,
/// on a square-root scale (most functions spill little, a few a lot), with
/// the diagonal: points above it spill more under the candidate.
fn scatter(h: &mut String, g: &GateSummary, files: &[FileReport]) {
    let points: Vec<(f64, f64, String)> = gated(files)
        .filter_map(|(f, func, gf)| {
            let b = Metric::Spills.of(&gf.baseline)?;
            let c = Metric::Spills.of(&gf.candidate)?;
            Some((
                b,
                c,
                format!(
                    "{} function {} {}: {b} → {c}",
                    f.path, func.index, func.name
                ),
            ))
        })
        .collect();
    let (size, pad) = (420.0, 44.0);
    let max = points
        .iter()
        .map(|(b, c, _)| b.max(*c))
        .fold(1.0f64, f64::max);
    let scale = |v: f64| (v / max).sqrt() * (size - 2.0 * pad);
    let _ = write!(
        h,
        "<figure><svg width=\"{size}\" height=\"{size}\" viewBox=\"0 0 {size} {size}\" role=\"img\" aria-label=\"spills per function\">\
         <rect x=\"{pad}\" y=\"{pad}\" width=\"{w}\" height=\"{w}\" fill=\"#1f1f24\" stroke=\"#444\"/>\
         <line x1=\"{pad}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{pad}\" stroke=\"#666\" stroke-dasharray=\"4 3\"/>",
        w = size - 2.0 * pad,
        y0 = size - pad,
        x1 = size - pad
    );
    for t in sqrt_ticks(max, scale, 30.0) {
        let p = scale(t);
        let _ = write!(
            h,
            "<text x=\"{x}\" y=\"{y}\" text-anchor=\"middle\">{t}</text><text x=\"{xl}\" y=\"{yl}\" text-anchor=\"end\">{t}</text>",
            x = pad + p,
            y = size - pad + 14.0,
            xl = pad - 4.0,
            yl = size - pad - p + 4.0
        );
    }
    for (b, c, title) in points.iter().take(MAX_POINTS) {
        let colour = match c.partial_cmp(b) {
            Some(std::cmp::Ordering::Greater) => "#ff7b72",
            Some(std::cmp::Ordering::Less) => "#7ee787",
            _ => "#79c0ff",
        };
        let _ = write!(
            h,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{colour}\" fill-opacity=\"0.7\"><title>{}</title></circle>",
            pad + scale(*b),
            size - pad - scale(*c),
            escape(title)
        );
    }
    let _ = write!(
        h,
        "<text x=\"{mid}\" y=\"{yb}\" text-anchor=\"middle\">baseline {} spills</text>\
         <text x=\"12\" y=\"{mid}\" text-anchor=\"middle\" transform=\"rotate(-90 12 {mid})\">candidate {} spills</text></svg>\
         <figcaption class=\"weak\">Spills per function (square-root scale); red above the diagonal: more under the candidate{}.</figcaption></figure>",
        g.baseline,
        g.candidate,
        if points.len() > MAX_POINTS {
            format!("; {} of {} functions drawn", MAX_POINTS, points.len())
        } else {
            String::new()
        },
        mid = size / 2.0,
        yb = size - 8.0
    );
}

/// Round tick values from 0 to `max` for a square-root axis (1, 2, 5 × a
/// power of ten), at least `gap` pixels apart as `place` puts them.
fn sqrt_ticks(max: f64, place: impl Fn(f64) -> f64, gap: f64) -> Vec<f64> {
    let mut out = vec![0.0];
    let mut mag = 1.0;
    while mag <= max {
        for k in [1.0, 2.0, 5.0] {
            let t = k * mag;
            let last = *out.last().unwrap_or(&0.0);
            if t <= max && place(t) - place(last) >= gap {
                out.push(t);
            }
        }
        mag *= 10.0;
    }
    out
}

/// A histogram of the candidate's deltas of `metric` (candidate − baseline)
/// over the functions both finished, one bar per delta value in a range
/// around zero, the tails gathered in the end bars.
fn histogram(h: &mut String, files: &[FileReport], metric: Metric) {
    let deltas: Vec<i64> = gated(files)
        .filter_map(|(_, _, g)| g.delta(metric))
        .map(|d| d.round() as i64)
        .collect();
    const SPAN: i64 = 20;
    let mut bins = vec![0usize; (2 * SPAN + 1) as usize];
    for d in &deltas {
        bins[(d.clamp(&-SPAN, &SPAN) + SPAN) as usize] += 1;
    }
    let (w, hgt, pad) = (460.0, 420.0, 44.0);
    let peak = bins.iter().copied().max().unwrap_or(0).max(1) as f64;
    let bar = (w - 2.0 * pad) / bins.len() as f64;
    let _ = write!(
        h,
        "<figure><svg width=\"{w}\" height=\"{hgt}\" viewBox=\"0 0 {w} {hgt}\" role=\"img\" aria-label=\"{} deltas\">\
         <rect x=\"{pad}\" y=\"{pad}\" width=\"{iw}\" height=\"{ih}\" fill=\"#1f1f24\" stroke=\"#444\"/>",
        metric.name(),
        iw = w - 2.0 * pad,
        ih = hgt - 2.0 * pad
    );
    for (k, &n) in bins.iter().enumerate() {
        if n == 0 {
            continue;
        }
        // Square-root heights: the zero bar dwarfs the rest otherwise.
        let bh = (n as f64 / peak).sqrt() * (hgt - 2.0 * pad);
        let d = k as i64 - SPAN;
        let colour = match d.cmp(&0) {
            std::cmp::Ordering::Greater => "#ff7b72",
            std::cmp::Ordering::Less => "#7ee787",
            std::cmp::Ordering::Equal => "#79c0ff",
        };
        let label = match d {
            d if d == SPAN => format!("≥ {SPAN}"),
            d if d == -SPAN => format!("≤ -{SPAN}"),
            d => format!("{d:+}"),
        };
        let _ = write!(
            h,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{colour}\"><title>{label}: {n} functions</title></rect>",
            pad + k as f64 * bar + 0.5,
            hgt - pad - bh,
            bar - 1.0
        );
    }
    for d in [-SPAN, -10, 0, 10, SPAN] {
        let _ = write!(
            h,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{d:+}</text>",
            pad + (d + SPAN) as f64 * bar + bar / 2.0,
            hgt - pad + 14.0
        );
    }
    let _ = write!(
        h,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">candidate − baseline {}</text></svg>\
         <figcaption class=\"weak\">{} functions by their {} delta (square-root heights; hover a bar for its count).</figcaption></figure>",
        w / 2.0,
        hgt - 8.0,
        metric.name(),
        deltas.len(),
        metric.name()
    );
}

fn worst(h: &mut String, g: &GateSummary) {
    h.push_str("<h2>Where the candidate is worst</h2>");
    for m in &g.metrics {
        if m.worst.is_empty() {
            continue;
        }
        let _ = write!(
            h,
            "<details><summary>{} ({} functions worse)</summary><table><tr><th>module</th><th>function</th><th>baseline</th><th>candidate</th><th>delta</th></tr>",
            m.metric.name(),
            m.worse
        );
        for w in &m.worst {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{} {}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:+}</td></tr>",
                escape(&w.file),
                w.index,
                escape(&w.name),
                w.baseline,
                w.candidate,
                w.delta
            );
        }
        h.push_str("</table></details>");
    }
}
