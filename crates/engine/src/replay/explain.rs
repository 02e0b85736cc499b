//! Plain-words explanations of allocator steps, for the step panel and the CLI.

use crate::trace::{
    BundleProps, Event, Outcome, PReg, Phase, RegNames, Requirement, SpillKind, Step, VRegId,
};

/// A register by its target's name (`rax`), or regalloc2's (`p0i`) with no
/// target.
pub fn reg(p: PReg, names: Option<RegNames>) -> String {
    names.map_or_else(|| p.text(), |n| n.name(p))
}

fn requirement(req: Requirement, names: Option<RegNames>) -> String {
    match req {
        Requirement::FixedReg(p) => format!("fixed register {}", reg(p, names)),
        Requirement::FixedStack(p) => format!("fixed stack slot {}", reg(p, names)),
        other => other.text(),
    }
}

fn bundle_name(b: u32) -> String {
    format!("bundle {b}")
}

fn list(bundles: &[u32]) -> String {
    let names: Vec<String> = bundles.iter().map(|b| bundle_name(*b)).collect();
    names.join(", ")
}

/// One short line: what happened to the step's bundle; registers by their
/// target's `names` when known.
pub fn headline(step: &Step, names: Option<RegNames>) -> String {
    let b = bundle_name(step.bundle);
    let evicted = step.evicted();
    let eviction = if evicted.is_empty() {
        String::new()
    } else {
        format!(" after evicting {}", list(&evicted))
    };
    match &step.outcome {
        Outcome::Allocated { preg } => {
            format!("{b} got register {}{eviction}", reg(*preg, names))
        }
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
/// ([`Replay::vregs_at_start`](super::Replay::vregs_at_start)), `props` its
/// properties then ([`Replay::props_at_start`](super::Replay::props_at_start)).
pub fn explain(
    step: &Step,
    vregs: &[VRegId],
    names: Option<RegNames>,
    props: Option<BundleProps>,
) -> Vec<String> {
    let mut out = Vec::new();
    let b = bundle_name(step.bundle);
    match step.phase {
        Phase::Main => out.push(format!(
            "The allocator took {b} from the queue{}{}.",
            step.hint
                .map(|h| format!(" with a hint for {}", reg(h, names)))
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
                    out.push(format!("Attempt {n}: it needs {}.", requirement(*req, names)));
                } else {
                    out.push(format!("It needs {}.", requirement(*req, names)));
                }
            }
            Event::Probe { .. } => probes += 1,
            Event::Conflict { preg, bundles, point } => out.push(format!(
                "{} is taken at {} by {}.",
                preg.map(|p| reg(p, names)).unwrap_or_else(|| "The register".into()),
                point.text(),
                list(bundles)
            )),
            Event::ConflictFixed { preg, point, .. } => out.push(format!(
                "{} is reserved at {} (a clobber or a fixed operand).",
                preg.map(|p| reg(p, names)).unwrap_or_else(|| "The register".into()),
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
                from.map(|p| format!(" from {}", reg(p, names))).unwrap_or_default()
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
    // A minimal bundle cannot be split again: say so, and what pins it.
    let minimal_now = step
        .events
        .iter()
        .any(|e| matches!(e, Event::Props { bundle, minimal: true, .. } if *bundle == step.bundle));
    if let Some(p) = props.filter(|p| p.minimal)
        && !minimal_now
    {
        out.insert(
            1.min(out.len()),
            format!(
                "{b} is minimal: its ranges cover a single instruction, so it cannot be split any further; it must find a register there (evicting what it can outweigh) or its use is not satisfied{}.",
                if p.fixed {
                    ". It also has a fixed-register use: only that one register will do"
                } else {
                    ""
                }
            ),
        );
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
    out.push(format!("Result: {}.", headline(step, names)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::Replay;
    use crate::replay::fixtures::log;
    use std::sync::Arc;

    #[test]
    fn every_step_of_a_real_log_is_told_by_its_outcome() {
        let trace = Arc::new(log("regalloc2-0.15.2.log"));
        let replay = Replay::new(Arc::clone(&trace));
        assert!(trace.steps.len() > 10);
        for (i, step) in trace.steps.iter().enumerate() {
            let h = headline(step, None);
            assert!(h.starts_with(&format!("bundle {}", step.bundle)), "{h}");
            match &step.outcome {
                Outcome::Allocated { preg } => {
                    assert!(
                        h.contains(&format!("got register {}", reg(*preg, None))),
                        "{h}"
                    )
                }
                Outcome::Split { children, .. } => {
                    for c in children {
                        assert!(h.contains(&format!("bundle {c}")), "{h}");
                    }
                }
                Outcome::Spilled { .. } => {
                    assert!(h.contains("stack") || h.contains("no register"), "{h}")
                }
                Outcome::Incomplete => assert!(h.contains("stopped"), "{h}"),
            }
            for b in step.evicted() {
                assert!(h.contains("evicting") && h.contains(&format!("bundle {b}")));
            }
            let text = explain(
                step,
                replay.vregs_at_start(i),
                None,
                replay.props_at_start(i),
            );
            assert!(!text.is_empty(), "step {} has no explanation", i + 1);
            // In the main pass the paragraph names the values the bundle held.
            if step.phase != crate::trace::Phase::Main {
                assert!(text[0].starts_with("Second chance"), "{text:?}");
                continue;
            }
            for v in replay.vregs_at_start(i) {
                assert!(
                    text.iter().any(|s| s.contains(&format!("v{v}"))),
                    "step {}: {text:?}",
                    i + 1
                );
            }
        }
    }

    #[test]
    fn registers_are_named_on_the_target_when_known() {
        let p = PReg {
            class: crate::trace::RegClass::Int,
            hw: 3,
        };
        let x86 = RegNames::for_triple("x86_64-unknown-linux-gnu");
        assert_eq!(reg(p, x86), "rbx");
        assert_eq!(reg(p, None), p.text());
    }
}
