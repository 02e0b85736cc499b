//! Teaching mode: each step told for someone new to register allocation, in
//! sentences whose technical words are glossary terms (the app underlines
//! them and shows the definition on hover; the CLI prints the glossary once).

use super::explain::reg;
use crate::trace::{
    BundleProps, Event, Outcome, Phase, RegNames, Requirement, SpillKind, Step, VRegId,
};

/// The glossary: term and definition, in the order a lesson meets them.
pub const GLOSSARY: [(&str, &str); 11] = [
    (
        "virtual register",
        "A value of the program before allocation (v40). There are as many as the code needs; the allocator maps each to a machine register or a stack slot.",
    ),
    (
        "live range",
        "The stretch of code, from one program point to another, over which a value must be kept because it is used later.",
    ),
    (
        "program point",
        "A position in the code: every instruction has two, pre (before it: where its inputs are read) and post (after it: where its results are written). 12-pre is just before instruction 12.",
    ),
    (
        "bundle",
        "A group of live ranges (of one or more values that are copies of each other) that the allocator tries to place in one register as a whole.",
    ),
    (
        "queue",
        "The bundles still to place, biggest and most used first; split and evicted bundles go back into it.",
    ),
    (
        "hint",
        "A register a bundle would like, because an instruction next to it uses that register; taking it saves a move.",
    ),
    (
        "spill weight",
        "How costly it is to keep a bundle out of a register: its uses, weighted by how deep in loops they are. The allocator evicts only bundles lighter than the one it is placing.",
    ),
    (
        "eviction",
        "Taking a register away from a bundle that already had it, because a heavier bundle needs it; the evicted bundle goes back into the queue.",
    ),
    (
        "split",
        "Cutting a bundle in two at a program point, so each part can get a different register (or the stack); a move joins the parts.",
    ),
    (
        "minimal bundle",
        "A bundle around one instruction only: it cannot be split again, so it must get a register there.",
    ),
    (
        "spill slot",
        "A place in the function's stack frame for a value that gets no register: it is stored there (a spill) and loaded back (a reload) where an instruction needs it in a register.",
    ),
];

/// The definition of a glossary term.
pub fn definition(term: &str) -> Option<&'static str> {
    GLOSSARY.iter().find(|(t, _)| *t == term).map(|(_, d)| *d)
}

/// Part of a sentence: plain text, or a glossary term as written here.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum Piece {
    Text(String),
    Term { term: &'static str, text: String },
}

impl Piece {
    pub fn text(&self) -> &str {
        match self {
            Piece::Text(t) | Piece::Term { text: t, .. } => t,
        }
    }
}

/// A sentence of pieces.
pub type Sentence = Vec<Piece>;

/// Builds a sentence from text with terms written `[term|shown text]` or
/// `[term]`.
fn say(s: &str) -> Sentence {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        if open > 0 {
            out.push(Piece::Text(rest[..open].to_string()));
        }
        let Some(close) = rest[open..].find(']') else {
            break;
        };
        let inner = &rest[open + 1..open + close];
        let (term, shown) = inner.split_once('|').unwrap_or((inner, inner));
        match GLOSSARY.iter().find(|(t, _)| *t == term) {
            Some((t, _)) => out.push(Piece::Term {
                term: t,
                text: shown.to_string(),
            }),
            None => out.push(Piece::Text(shown.to_string())),
        }
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest.to_string()));
    }
    out
}

/// A sentence as plain text.
pub fn plain(s: &Sentence) -> String {
    s.iter().map(Piece::text).collect()
}

fn values(vregs: &[VRegId]) -> String {
    match vregs {
        [] => String::new(),
        [v] => format!(" (the [virtual register] v{v})"),
        _ => format!(
            " (the [virtual register|virtual registers] {})",
            vregs
                .iter()
                .map(|v| format!("v{v}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Step `step` told plainly.
pub fn narrate(
    step: &Step,
    vregs: &[VRegId],
    names: Option<RegNames>,
    props: Option<BundleProps>,
) -> Vec<Sentence> {
    let b = step.bundle;
    let mut out = Vec::new();
    match step.phase {
        Phase::Main => out.push(say(&format!(
            "The allocator takes the next [bundle] from its [queue]: bundle {b}{}, a group of [live range|live ranges] that should share one register.",
            values(vregs)
        ))),
        Phase::SpillBundles => out.push(say(&format!(
            "All bundles have been placed; now bundle {b}, made of the pieces that went to the stack, gets a second chance at a register before it takes a [spill slot]."
        ))),
    }
    if let Some(h) = step.hint {
        out.push(say(&format!(
            "It would like {} (its [hint]): a neighbouring instruction uses that register, so taking it saves a move.",
            reg(h, names)
        )));
    }
    if props.is_some_and(|p| p.minimal) {
        out.push(say(
            "It is a [minimal bundle]: it covers one instruction, so it cannot be cut any smaller.",
        ));
    }
    let mut told_conflict = false;
    for e in &step.events {
        match e {
            Event::Attempt { req: Requirement::FixedReg(p), .. } => out.push(say(&format!(
                "An instruction needs this value in {} exactly, so only that register will do.",
                reg(*p, names)
            ))),
            Event::Conflict { preg, bundles, point } if !told_conflict => {
                told_conflict = true;
                let who = bundles
                    .iter()
                    .map(|b| format!("bundle {b}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                out.push(say(&format!(
                    "{} is already taken at [program point] {} by {who}.",
                    preg.map(|p| reg(p, names))
                        .unwrap_or_else(|| "The register it tried".into()),
                    point.text()
                )));
            }
            Event::Evict { bundle, from } => out.push(say(&format!(
                "Bundle {bundle} has a lower [spill weight], so the allocator takes {} from it: an [eviction]. Bundle {bundle} goes back into the queue to look for another place.",
                from.map(|p| reg(p, names)).unwrap_or_else(|| "its register".into())
            ))),
            Event::ConflictFixed { preg, point, .. } if !told_conflict => {
                told_conflict = true;
                out.push(say(&format!(
                    "{} is reserved at [program point] {}: an instruction there overwrites it or needs it for another value, and no bundle can be pushed out of a reservation.",
                    preg.map(|p| reg(p, names))
                        .unwrap_or_else(|| "The register it tried".into()),
                    point.text()
                )));
            }
            Event::DecideSplit { .. } => out.push(say(
                "It cannot have one register for its whole length without pushing out something heavier or reserved, so it will [split].",
            )),
            _ => {}
        }
    }
    let result = match &step.outcome {
        Outcome::Allocated { preg } => format!(
            "Result: bundle {b} gets {} for all of its live ranges.",
            reg(*preg, names)
        ),
        Outcome::Split { children, .. } if children.len() > 1 => format!(
            "Result: bundle {b} is cut into {} [minimal bundle|minimal bundles], one around each use; each waits in the queue and the stretches between uses go to the stack.",
            children.len()
        ),
        Outcome::Split { at, children } => format!(
            "Result: bundle {b} is [split] at {}; the part after it becomes bundle {} and waits in the queue. A move will join the two parts if they end up in different places.",
            at.text(),
            children
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Outcome::Spilled {
            how: SpillKind::NoRegisterLeft,
        } => format!(
            "Result: no register is free for bundle {b} and it is too light to push anyone out: it lives in a [spill slot] on the stack, loaded into a register only where an instruction needs it."
        ),
        Outcome::Spilled {
            how: SpillKind::StackRequired,
        } => {
            format!("Result: bundle {b} must live in a [spill slot] (its uses ask for the stack).")
        }
        Outcome::Spilled { .. } => format!(
            "Result: bundle {b} has no use that needs a register, so it waits on the stack side for the second chance at the end."
        ),
        Outcome::Incomplete => format!("The trace stops during this step of bundle {b}."),
    };
    out.push(say(&result));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_marked_and_shown_as_written() {
        let s = say("a [bundle] and [live range|live ranges] and [nonsense]");
        assert_eq!(plain(&s), "a bundle and live ranges and nonsense");
        let terms: Vec<&str> = s
            .iter()
            .filter_map(|p| match p {
                Piece::Term { term, .. } => Some(*term),
                _ => None,
            })
            .collect();
        assert_eq!(terms, ["bundle", "live range"]);
        for (t, d) in GLOSSARY {
            assert_eq!(definition(t), Some(d));
        }
    }
}
