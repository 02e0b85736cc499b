//! Plain-words explanations of allocator steps, for the step panel and the CLI.

use crate::engine::trace::{Event, Outcome, Phase, SpillKind, Step, VRegId};

fn bundle_name(b: u32) -> String {
    format!("bundle {b}")
}

fn list(bundles: &[u32]) -> String {
    let names: Vec<String> = bundles.iter().map(|b| bundle_name(*b)).collect();
    names.join(", ")
}

/// One short line: what happened to the step's bundle.
pub fn headline(step: &Step) -> String {
    let b = bundle_name(step.bundle);
    let evicted = step.evicted();
    let eviction = if evicted.is_empty() {
        String::new()
    } else {
        format!(" after evicting {}", list(&evicted))
    };
    match &step.outcome {
        Outcome::Allocated { preg } => format!("{b} got register {}{eviction}", preg.text()),
        Outcome::Split { at, children } if children.len() > 1 => format!(
            "{b} was cut into {} minimal bundles around its uses{eviction}",
            children.len()
        ),
        Outcome::Split { at, children } => format!(
            "{b} was split at {}; the part after it became {}{eviction}",
            at.text(),
            list(children)
        ),
        Outcome::Spilled { how } => match how {
            SpillKind::Deferred => {
                format!("{b} needs no register; it waits for the spill-bundle pass")
            }
            SpillKind::IntoSpillBundle => {
                format!("{b} needs no register; its ranges joined its spill bundle")
            }
            SpillKind::StackRequired => format!("{b} must live in a stack slot"),
            SpillKind::NoRegisterLeft => {
                format!("{b} found no free register and goes to a stack slot")
            }
        },
        Outcome::Incomplete => format!("{b}: the trace stopped during this step"),
    }
}

/// A paragraph: the step's reasoning in order, in words. `vregs` are the
/// virtual registers of the step's bundle when the step began
/// ([`Replay::vregs_at_start`](super::Replay::vregs_at_start)).
pub fn explain(step: &Step, vregs: &[VRegId]) -> Vec<String> {
    let mut out = Vec::new();
    let b = bundle_name(step.bundle);
    match step.phase {
        Phase::Main => out.push(format!(
            "The allocator took {b} from the queue{}{}.",
            step.hint
                .map(|h| format!(" with a hint for {}", h.text()))
                .unwrap_or_default(),
            if vregs.is_empty() {
                String::new()
            } else {
                format!(
                    " (virtual registers {})",
                    vregs.iter().map(|v| format!("v{v}")).collect::<Vec<_>>().join(", ")
                )
            }
        )),
        Phase::SpillBundles => out.push(format!(
            "Second chance: {b} holds ranges that were spilled or needed no register; the allocator tries to find it a register anyway."
        )),
    }
    let mut probes = 0;
    for e in &step.events {
        match e {
            Event::RequirementConflict => out.push("Its uses ask for incompatible locations (for example a fixed register and a stack slot), so it must be split before anything else.".to_string()),
            Event::Attempt { n, req } => {
                if *n > 1 {
                    out.push(format!("Attempt {n}: it needs {}.", req.text()));
                } else {
                    out.push(format!("It needs {}.", req.text()));
                }
            }
            Event::Probe { .. } => probes += 1,
            Event::Conflict { preg, bundles, point } => out.push(format!(
                "{} is taken at {} by {}.",
                preg.map(|p| p.text()).unwrap_or_else(|| "The register".into()),
                point.text(),
                list(bundles)
            )),
            Event::ConflictFixed { preg, point, .. } => out.push(format!(
                "{} is reserved at {} (a clobber or a fixed operand).",
                preg.map(|p| p.text()).unwrap_or_else(|| "The register".into()),
                point.text()
            )),
            Event::LowestEvict { bundles, cost } if !bundles.is_empty() => out.push(format!(
                "Cheapest to evict: {} (spill weight {}).",
                list(bundles),
                cost.map(|c| c.to_string()).unwrap_or_else(|| "?".into())
            )),
            Event::OurWeight { weight } => {
                out.push(format!("Its own spill weight is {weight}."))
            }
            Event::DecideSplit { .. } => out.push(
                "Evicting would cost at least as much as splitting, so it splits.".to_string(),
            ),
            Event::Evict { bundle, from } => out.push(format!(
                "It evicts {}{}, which goes back into the queue.",
                bundle_name(*bundle),
                from.map(|p| format!(" from {}", p.text())).unwrap_or_default()
            )),
            Event::MinimalSplit { .. } => out.push(
                "It has been split too often (or spans one instruction): it is cut into minimal bundles, one per use, and the rest goes to its spill bundle.".to_string(),
            ),
            Event::ToSpillBundle { spill_bundle, seg, .. } => out.push(format!(
                "The part {}..{} has no uses and moves to spill bundle {}.",
                seg.from.text(),
                seg.to.text(),
                spill_bundle
            )),
            Event::TooManyLiveRegs => out.push(
                "It checks whether too many values are live at once for the register file.".to_string(),
            ),
            _ => {}
        }
    }
    if probes > 0 {
        out.insert(
            1.min(out.len()),
            format!(
                "It probed {probes} register{}.",
                if probes == 1 { "" } else { "s" }
            ),
        );
    }
    out.push(format!("Result: {}.", headline(step)));
    out
}
