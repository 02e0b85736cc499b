//! The small text scanners every record parser uses: numbers after a key,
//! program points (`progpoint12-pre`), registers (`p3i`, `PReg(hw = ..)`,
//! `PRegIndex(n)`), bundle and range indices, requirements, operands and
//! range lists, in the `Debug`/`Display` forms regalloc2 0.9–0.15 print.
//! Numbers that no real allocation reaches (a point past
//! [`Point::MAX_INST`], a register number past [`PReg::MAX_HW`], anything past
//! `u32`) are not read, so nothing downstream computes with them.

use super::model::{BundleId, Constraint, PReg, Point, RegClass, Requirement, Seg, VRegId};

pub(super) fn number_at(s: &str) -> Option<(u32, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    Some((s[..end].parse().ok()?, &s[end..]))
}

/// Position of `key` in `s` (SIMD substring search; the scanners below run on
/// every record).
fn find(s: &str, key: &str) -> Option<usize> {
    memchr::memmem::find(s.as_bytes(), key.as_bytes())
}

/// Every number that directly follows `key` in `s`.
pub(super) fn all_after(s: &str, key: &str) -> Vec<u32> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = find(rest, key) {
        rest = &rest[i + key.len()..];
        if let Some((n, r)) = number_at(rest) {
            out.push(n);
            rest = r;
        }
    }
    out
}

/// `s.split_once(key)`, with the SIMD search.
pub(super) fn split_key<'a>(s: &'a str, key: &str) -> Option<(&'a str, &'a str)> {
    let i = find(s, key)?;
    Some((&s[..i], &s[i + key.len()..]))
}

/// `s.contains(key)`, with the SIMD search.
pub(super) fn has(s: &str, key: &str) -> bool {
    find(s, key).is_some()
}

pub(super) fn first_after(s: &str, key: &str) -> Option<u32> {
    let i = find(s, key)?;
    number_at(&s[i + key.len()..]).map(|(n, _)| n)
}

pub(super) fn bundles_in(s: &str) -> Vec<BundleId> {
    all_after(s, "LiveBundleIndex(")
}

pub(super) fn bundle_in(s: &str) -> Option<BundleId> {
    first_after(s, "LiveBundleIndex(").or_else(|| first_after(s, "bundle"))
}

pub(super) fn points_in(s: &str) -> Vec<Point> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = find(rest, "progpoint") {
        rest = &rest[i + "progpoint".len()..];
        if let Some((n, r)) = number_at(rest) {
            let post = r.starts_with("-post");
            // Past regalloc2's largest instruction: not a point (the record
            // then fails to parse rather than wrapping around).
            if let Some(p) = Point::checked(n, post) {
                out.push(p);
            }
            rest = r;
        }
    }
    out
}

pub(super) fn point_in(s: &str) -> Option<Point> {
    points_in(s).into_iter().next()
}

/// Parses `PReg(hw = 3, class = Int, index = 3)`, `PRegIndex(67)` or `p3i`;
/// `None` for regalloc2's invalid register.
pub(super) fn preg_in(s: &str) -> Option<PReg> {
    if let Some(i) = find(s, "PReg(hw = ") {
        let rest = &s[i + "PReg(hw = ".len()..];
        let (hw, rest) = number_at(rest)?;
        let class_start = find(rest, "class = ")? + "class = ".len();
        let class_name: String = rest[class_start..]
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        let class = RegClass::from_name(&class_name)?;
        if hw > PReg::MAX_HW || (hw == PReg::MAX_HW && class == RegClass::Int) {
            return None;
        }
        return Some(PReg {
            hw: hw as u8,
            class,
        });
    }
    if let Some(idx) = first_after(s, "PRegIndex(") {
        return Some(PReg {
            hw: (idx & PReg::MAX_HW) as u8,
            class: RegClass::from_index(idx >> 6)?,
        });
    }
    short_preg(s)
}

/// `p3i`-style register anywhere in `s` (word-bounded).
pub(super) fn short_preg(s: &str) -> Option<PReg> {
    let bytes = s.as_bytes();
    for (i, _) in s.match_indices('p') {
        if i > 0 && bytes[i - 1].is_ascii_alphanumeric() {
            continue;
        }
        if let Some((hw, rest)) = number_at(&s[i + 1..])
            && let Some(c) = rest.chars().next()
            && let Some(class) = RegClass::from_name(&c.to_string())
            && !rest[1..].starts_with(|c: char| c.is_ascii_alphanumeric())
            && hw <= PReg::MAX_HW
        {
            return Some(PReg {
                hw: hw as u8,
                class,
            });
        }
    }
    None
}

pub(super) fn option_number(s: &str) -> Option<u32> {
    // `Some(12)` or `None`.
    first_after(s, "Some(")
}

pub(super) fn requirement_in(s: &str) -> Option<Requirement> {
    let s = s.trim();
    Some(if s.starts_with("Any") {
        Requirement::Any
    } else if s.starts_with("Register") {
        Requirement::Register
    } else if s.starts_with("FixedReg") {
        Requirement::FixedReg(preg_in(s)?)
    } else if s.starts_with("FixedStack") {
        Requirement::FixedStack(preg_in(s)?)
    } else if s.starts_with("Limit") {
        Requirement::Limit(first_after(s, "(")?)
    } else if s.starts_with("Stack") {
        Requirement::Stack
    } else {
        return None;
    })
}

/// Parses an operand as regalloc2 displays it: `Def: v3i reg`,
/// `Use@Late: v7i fixed(p0i)`, `Fixed: p5i`.
pub(super) fn operand_in(s: &str) -> Option<(bool, bool, Option<VRegId>, Constraint)> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix("Fixed: ") {
        let p = short_preg(rest)?;
        return Some((false, false, None, Constraint::Fixed(p)));
    }
    let (head, rest) = split_key(s, ": ")?;
    let (kind, pos) = match head.split_once('@') {
        Some((k, p)) => (k, Some(p)),
        None => (head, None),
    };
    let def = kind == "Def";
    let late = match pos {
        Some(p) => p == "Late",
        None => def,
    };
    let rest = rest.trim();
    let vreg = rest.strip_prefix('v').and_then(number_at).map(|(n, _)| n);
    let constraint_text = rest.split_once(' ').map(|(_, c)| c.trim()).unwrap_or("");
    let constraint = if constraint_text.starts_with("any") {
        Constraint::Any
    } else if constraint_text.starts_with("reg") {
        Constraint::Reg
    } else if constraint_text.starts_with("stack") {
        Constraint::Stack
    } else if constraint_text.starts_with("fixed") {
        Constraint::FixedReg(short_preg(constraint_text)?)
    } else if constraint_text.starts_with("reuse") {
        Constraint::Reuse(first_after(constraint_text, "(")?)
    } else if constraint_text.starts_with("limit") {
        Constraint::Limit(first_after(constraint_text, "..=")? + 1)
    } else {
        return None;
    };
    Some((def, late, vreg, constraint))
}

/// `LiveRangeListEntry { range: CodeRange { from: .., to: .. }, index: LiveRangeIndex(n) }` lists.
pub(super) fn segs_in(s: &str) -> Vec<Seg> {
    let points = points_in(s);
    let ranges = all_after(s, "LiveRangeIndex(");
    points
        .chunks(2)
        .zip(ranges)
        .filter(|(p, _)| p.len() == 2)
        .map(|(p, r)| Seg {
            from: p[0],
            to: p[1],
            range: r,
        })
        .collect()
}
