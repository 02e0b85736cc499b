//! Real names of regalloc2's physical registers, per target: what a person
//! reads in the machine code (`rbx`, `x19`, `a0`, `r7`) for what regalloc2
//! calls `p3i`. regalloc2's register is Cranelift's hardware encoding in its
//! class (cranelift-codegen 0.135 `isa/*/inst/regs.rs`: `PReg::new(enc,
//! class)`), so the tables below are the encodings of each architecture.

use super::model::{PReg, RegClass};

/// A target whose register names are known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegNames {
    X86_64,
    Aarch64,
    Riscv64,
    S390x,
}

const X86_64_GPR: [&str; 16] = [
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
    "r14", "r15",
];

const RISCV_X: [&str; 32] = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4",
    "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4",
    "t5", "t6",
];

const RISCV_F: [&str; 32] = [
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2",
    "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9",
    "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
];

impl RegNames {
    /// The names for a target triple (`x86_64-unknown-linux-gnu`); `None` for
    /// an architecture not listed, or a trace from a log (no target).
    pub fn for_triple(triple: &str) -> Option<RegNames> {
        let arch = triple.split('-').next().unwrap_or("");
        match arch {
            "x86_64" => Some(RegNames::X86_64),
            "aarch64" => Some(RegNames::Aarch64),
            a if a.starts_with("riscv64") => Some(RegNames::Riscv64),
            "s390x" => Some(RegNames::S390x),
            _ => None,
        }
    }

    /// The register's name on this target; regalloc2's name (`p3i`) for a
    /// register the table does not cover.
    pub fn name(self, p: PReg) -> String {
        let n = usize::from(p.hw);
        let known: Option<String> = match (self, p.class) {
            (RegNames::X86_64, RegClass::Int) => X86_64_GPR.get(n).map(|s| s.to_string()),
            (RegNames::X86_64, RegClass::Float | RegClass::Vector) => {
                (n < 16).then(|| format!("xmm{n}"))
            }
            (RegNames::Aarch64, RegClass::Int) => (n < 31).then(|| format!("x{n}")),
            (RegNames::Aarch64, RegClass::Float | RegClass::Vector) => {
                (n < 32).then(|| format!("v{n}"))
            }
            (RegNames::Riscv64, RegClass::Int) => RISCV_X.get(n).map(|s| s.to_string()),
            (RegNames::Riscv64, RegClass::Float) => RISCV_F.get(n).map(|s| s.to_string()),
            (RegNames::Riscv64, RegClass::Vector) => (n < 32).then(|| format!("v{n}")),
            (RegNames::S390x, RegClass::Int) => (n < 16).then(|| format!("r{n}")),
            // s390x's floating-point registers are the low halves of v0–v15.
            (RegNames::S390x, RegClass::Float | RegClass::Vector) => match n {
                0..16 => Some(format!("f{n}")),
                16..32 => Some(format!("v{n}")),
                _ => None,
            },
        };
        known.unwrap_or_else(|| p.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(hw: u8, class: RegClass) -> PReg {
        PReg { hw, class }
    }

    #[test]
    fn names_follow_each_architectures_encoding() {
        let x64 = RegNames::for_triple("x86_64-unknown-linux-gnu").unwrap();
        assert_eq!(x64.name(p(3, RegClass::Int)), "rbx");
        assert_eq!(x64.name(p(15, RegClass::Int)), "r15");
        assert_eq!(x64.name(p(2, RegClass::Float)), "xmm2");
        let a64 = RegNames::for_triple("aarch64-unknown-linux-gnu").unwrap();
        assert_eq!(a64.name(p(19, RegClass::Int)), "x19");
        assert_eq!(a64.name(p(31, RegClass::Int)), "p31i");
        assert_eq!(a64.name(p(8, RegClass::Float)), "v8");
        let rv = RegNames::for_triple("riscv64gc-unknown-linux-gnu").unwrap();
        assert_eq!(rv.name(p(10, RegClass::Int)), "a0");
        assert_eq!(rv.name(p(8, RegClass::Float)), "fs0");
        assert_eq!(rv.name(p(3, RegClass::Vector)), "v3");
        let z = RegNames::for_triple("s390x-unknown-linux-gnu").unwrap();
        assert_eq!(z.name(p(7, RegClass::Int)), "r7");
        assert_eq!(z.name(p(7, RegClass::Float)), "f7");
        assert_eq!(z.name(p(20, RegClass::Float)), "v20");
        assert_eq!(RegNames::for_triple("not-a-target"), None);
    }
}
