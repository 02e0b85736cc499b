//! Finding steps: a small query ("split", "spill bundle 249", "v690",
//! "rax") matched against each step, for search, filtering, next/previous and
//! breakpoints in the app. Every term must hold.

use super::Replay;
use crate::trace::{
    Allocation, BundleId, Event, Loc, Outcome, PReg, RegClass, RegNames, SpAt, SpEvent, SpStep,
    Step, VRegId,
};

/// One condition on a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Term {
    /// The step split its bundle.
    Split,
    /// The step evicted another bundle.
    Eviction,
    /// The step spilled its bundle (or sent it to its spill bundle).
    Spill,
    /// The step allocated a register.
    Allocated,
    /// The step is about this bundle, or evicts, splits off or meets it.
    Bundle(BundleId),
    /// The step's bundle held this vreg when it began.
    VReg(VRegId),
    /// The step probed, got or evicted from this register.
    Reg(PReg),
}

/// A conjunction of terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepQuery {
    pub terms: Vec<Term>,
}

/// `p3i`, or a target's name for a register (`rax`, `x3`, `xmm2`).
fn reg_named(word: &str, names: Option<RegNames>) -> Option<PReg> {
    const CLASSES: [RegClass; 3] = [RegClass::Int, RegClass::Float, RegClass::Vector];
    if word.len() > 2
        && word.starts_with('p')
        && let Some(class) = word
            .chars()
            .last()
            .and_then(|c| CLASSES.into_iter().find(|k| k.suffix() == c))
        && let Ok(hw) = word[1..word.len() - 1].parse::<u8>()
        && u32::from(hw) <= PReg::MAX_HW
    {
        return Some(PReg { hw, class });
    }
    let names = names?;
    for class in CLASSES {
        for hw in 0..=PReg::MAX_HW as u8 {
            let p = PReg { hw, class };
            if names.name(p).eq_ignore_ascii_case(word) {
                return Some(p);
            }
        }
    }
    None
}

impl StepQuery {
    /// Reads a query: words `split`, `evict`, `spill`, `alloc`, `bundle N`
    /// (or `bN`, or a bare number), `vN` (or `vreg N`), a register (`rax`,
    /// `p3i`, `reg x5`).
    pub fn parse(text: &str, names: Option<RegNames>) -> Result<StepQuery, String> {
        let words: Vec<String> = text
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
        let mut terms = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let w = words[i].as_str();
            let next_number = words.get(i + 1).and_then(|n| n.parse::<u32>().ok());
            let term = match w {
                "split" | "splits" => Term::Split,
                "evict" | "evicts" | "eviction" | "evictions" => Term::Eviction,
                "spill" | "spills" | "spilled" => Term::Spill,
                "alloc" | "allocated" | "allocation" => Term::Allocated,
                "bundle" => {
                    i += 1;
                    Term::Bundle(next_number.ok_or("`bundle` needs a number")?)
                }
                "vreg" => {
                    i += 1;
                    Term::VReg(next_number.ok_or("`vreg` needs a number")?)
                }
                "reg" | "register" => {
                    i += 1;
                    let name = words.get(i).ok_or("`reg` needs a register name")?;
                    Term::Reg(
                        reg_named(name, names)
                            .ok_or_else(|| format!("`{name}` is not a register here"))?,
                    )
                }
                _ => {
                    if let Ok(n) = w.parse::<u32>() {
                        Term::Bundle(n)
                    } else if let Some(n) = w.strip_prefix('b').and_then(|n| n.parse().ok()) {
                        Term::Bundle(n)
                    } else if let Some(n) = w.strip_prefix('v').and_then(|n| n.parse().ok()) {
                        Term::VReg(n)
                    } else if let Some(p) = reg_named(w, names) {
                        Term::Reg(p)
                    } else {
                        return Err(format!(
                            "`{w}`: try split, evict, spill, alloc, bundle 12, v40 or a register"
                        ));
                    }
                }
            };
            terms.push(term);
            i += 1;
        }
        if terms.is_empty() {
            return Err("an empty query".into());
        }
        Ok(StepQuery { terms })
    }

    /// Whether step `i` (0-based) of `replay` matches every term. A
    /// single-pass trace is searched in its own steps.
    pub fn matches(&self, replay: &Replay, i: usize) -> bool {
        match replay.trace().allocation() {
            Allocation::SinglePass(log) => log
                .steps
                .get(i)
                .is_some_and(|step| self.terms.iter().all(|t| single_pass_matches(*t, step))),
            Allocation::Backtracking(steps) => steps
                .get(i)
                .is_some_and(|step| self.terms.iter().all(|t| term_matches(*t, replay, i, step))),
        }
    }

    /// The 0-based indices of the matching steps.
    pub fn all(&self, replay: &Replay) -> Vec<usize> {
        (0..steps_of(replay))
            .filter(|&i| self.matches(replay, i))
            .collect()
    }
}

/// The number of steps a search runs over: the bundle steps, or for a
/// single-pass trace its instruction and block-start steps.
pub fn steps_of(replay: &Replay) -> usize {
    replay.trace().step_count()
}

/// A term on a single-pass step: `evict` an eviction, `spill` a new spill
/// slot or an operand on the stack, `alloc` a register taken from the LRU
/// list, a number the instruction, `vN` a value the step names, a register
/// one it reserved, took, evicted from or placed an operand in. Single-pass
/// never splits.
fn single_pass_matches(t: Term, step: &SpStep) -> bool {
    let names_vreg = |v: VRegId| {
        step.events.iter().any(|e| match e {
            SpEvent::Reserved { vreg, .. } => *vreg == Some(v),
            SpEvent::Evicted { vreg, .. }
            | SpEvent::Picked { vreg, .. }
            | SpEvent::Freed { vreg }
            | SpEvent::LiveIn { vreg, .. }
            | SpEvent::BlockParam { vreg } => *vreg == v,
            SpEvent::Operand { operand, .. } => operand.vreg == Some(v),
            SpEvent::Move { vreg, .. } => *vreg == Some(v),
            _ => false,
        })
    };
    match t {
        Term::Split => false,
        Term::Eviction => step.evictions().next().is_some(),
        Term::Spill => {
            step.slots().next().is_some()
                || step
                    .events
                    .iter()
                    .any(|e| matches!(e, SpEvent::Operand { alloc, .. } if alloc.is_stack()))
        }
        Term::Allocated => step
            .events
            .iter()
            .any(|e| matches!(e, SpEvent::Picked { .. })),
        Term::Bundle(n) => step.at == SpAt::Inst { inst: n },
        Term::VReg(v) => names_vreg(v),
        Term::Reg(p) => step.events.iter().any(|e| match e {
            SpEvent::Reserved { preg, .. }
            | SpEvent::Evicted { preg, .. }
            | SpEvent::Picked { preg, .. }
            | SpEvent::Scratch { preg } => *preg == p,
            SpEvent::Operand { alloc, .. } => *alloc == Loc::Reg(p),
            _ => false,
        }),
    }
}

fn term_matches(t: Term, replay: &Replay, i: usize, step: &Step) -> bool {
    match t {
        Term::Split => matches!(step.outcome, Outcome::Split { .. }),
        Term::Eviction => step.events.iter().any(|e| matches!(e, Event::Evict { .. })),
        Term::Spill => matches!(step.outcome, Outcome::Spilled { .. }),
        Term::Allocated => matches!(step.outcome, Outcome::Allocated { .. }),
        Term::Bundle(b) => {
            step.bundle == b
                || step.events.iter().any(|e| match e {
                    Event::Evict { bundle, .. } | Event::Assigned { bundle, .. } => *bundle == b,
                    Event::NewBundle { bundle, parent } => *bundle == b || *parent == b,
                    Event::Conflict { bundles, .. } => bundles.contains(&b),
                    _ => false,
                })
        }
        Term::VReg(v) => replay.vregs_at_start(i).contains(&v),
        Term::Reg(p) => {
            matches!(step.outcome, Outcome::Allocated { preg } if preg == p)
                || step.events.iter().any(|e| match e {
                    Event::Probe { preg } | Event::Assigned { preg, .. } => *preg == p,
                    Event::Evict { from, .. } => *from == Some(p),
                    _ => false,
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_read_as_people_write_them() {
        let x86 = RegNames::for_triple("x86_64-unknown-linux-gnu");
        let q = StepQuery::parse("split bundle 249", x86).unwrap();
        assert_eq!(q.terms, vec![Term::Split, Term::Bundle(249)]);
        let q = StepQuery::parse("v690, rax", x86).unwrap();
        assert_eq!(
            q.terms,
            vec![
                Term::VReg(690),
                Term::Reg(PReg {
                    hw: 0,
                    class: RegClass::Int
                })
            ]
        );
        assert_eq!(
            StepQuery::parse("p3i", None).unwrap().terms,
            vec![Term::Reg(PReg {
                hw: 3,
                class: RegClass::Int
            })]
        );
        assert!(StepQuery::parse("frobnicate", x86).is_err());
        assert!(StepQuery::parse("", x86).is_err());
    }
}
