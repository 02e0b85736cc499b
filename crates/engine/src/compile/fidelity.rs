//! Is our compile what Wasmtime compiles? Compares the machine code of our
//! untraced compile with Wasmtime's own code for the same function, byte for
//! byte, ignoring only the bytes that relocations patch (Wasmtime resolves calls
//! between functions when it links its artifact; ours are placeholders).

use cranelift_codegen::isa::TargetIsa;

use crate::compile::CompiledCode;

/// The comparison for one function.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Fidelity {
    pub ours_bytes: usize,
    pub wasmtime_bytes: usize,
    /// Bytes covered by relocations, excluded from the comparison.
    pub reloc_bytes: usize,
    /// Offsets (outside relocations) where the two differ.
    pub differing_offsets: Vec<usize>,
}

impl Fidelity {
    pub fn identical(&self) -> bool {
        self.ours_bytes == self.wasmtime_bytes && self.differing_offsets.is_empty()
    }

    pub fn text(&self) -> String {
        if self.identical() {
            format!(
                "identical to Wasmtime's code ({} bytes, {} patched by relocations)",
                self.ours_bytes, self.reloc_bytes
            )
        } else {
            format!(
                "differs from Wasmtime's code: {} vs {} bytes, {} differing bytes outside relocations",
                self.ours_bytes,
                self.wasmtime_bytes,
                self.differing_offsets.len()
            )
        }
    }
}

/// Compares our code with Wasmtime's.
pub fn compare(ours: &CompiledCode, wasmtime: &[u8]) -> Fidelity {
    let mut masked = vec![false; ours.code.len()];
    for r in &ours.reloc_sites {
        for m in masked
            .iter_mut()
            .take(r.end.min(ours.code.len()))
            .skip(r.start)
        {
            *m = true;
        }
    }
    let differing_offsets = ours
        .code
        .iter()
        .zip(wasmtime)
        .enumerate()
        .filter(|(i, (a, b))| a != b && !masked[*i])
        .map(|(i, _)| i)
        .collect();
    Fidelity {
        ours_bytes: ours.code.len(),
        wasmtime_bytes: wasmtime.len(),
        reloc_bytes: masked.iter().filter(|m| **m).count(),
        differing_offsets,
    }
}

/// The first instruction where the two codes differ, as each disassembles it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FirstDifference {
    /// Byte offset of the first differing byte (or where the shorter code ends).
    pub offset: usize,
    /// Our instruction there, `0x1a4: mov rax, qword ptr [rdi + 8]`.
    pub ours: String,
    /// Wasmtime's instruction there.
    pub wasmtime: String,
}

impl Fidelity {
    /// Where the codes first differ: the first differing byte outside
    /// relocations, or the end of the shorter code; `None` when identical.
    pub fn first_offset(&self) -> Option<usize> {
        if self.identical() {
            return None;
        }
        let end = self.ours_bytes.min(self.wasmtime_bytes);
        Some(self.differing_offsets.first().copied().unwrap_or(end))
    }
}

/// The instruction at the first difference in both codes, disassembled for
/// `isa` (capstone, through Cranelift); bytes in hex where it cannot be.
pub fn first_difference(
    report: &Fidelity,
    ours: &CompiledCode,
    wasmtime: &[u8],
    isa: &dyn TargetIsa,
) -> Option<FirstDifference> {
    let offset = report.first_offset()?;
    Some(FirstDifference {
        offset,
        ours: instruction_at(&ours.code, offset, isa),
        wasmtime: instruction_at(wasmtime, offset, isa),
    })
}

/// The instruction of `code` that covers `offset`.
fn instruction_at(code: &[u8], offset: usize, isa: &dyn TargetIsa) -> String {
    if offset >= code.len() {
        return format!("(code ends at 0x{:x})", code.len());
    }
    let hex = |bytes: &[u8]| {
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let Ok(cs) = isa.to_capstone() else {
        return format!(
            "0x{offset:x}: {}",
            hex(&code[offset..code.len().min(offset + 8)])
        );
    };
    let Ok(insns) = cs.disasm_all(code, 0) else {
        return format!(
            "0x{offset:x}: {}",
            hex(&code[offset..code.len().min(offset + 8)])
        );
    };
    for i in insns.iter() {
        let start = i.address() as usize;
        let end = start + i.bytes().len();
        if (start..end).contains(&offset) {
            return format!(
                "0x{start:x}: {} {}",
                i.mnemonic().unwrap_or("?"),
                i.op_str().unwrap_or("")
            )
            .trim_end()
            .to_string();
        }
    }
    // Capstone stops at bytes it cannot decode (data, padding).
    format!(
        "0x{offset:x}: {}",
        hex(&code[offset..code.len().min(offset + 8)])
    )
}

/// `code` disassembled for `isa`, one instruction per line with its offset
/// (`    1a4  movq 8(%rdi), %r10`), and the number of instructions. Bytes
/// capstone cannot decode (inside jump tables and constant pools) are listed
/// in hex and decoding resumes after them, as objdump does.
pub fn listing(code: &[u8], isa: &dyn TargetIsa) -> (String, usize) {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut count = 0;
    let mut pos = 0;
    let mut undecoded: Vec<u8> = Vec::new();
    let flush = |out: &mut String, undecoded: &mut Vec<u8>, end: usize| {
        let start = end - undecoded.len();
        for (n, chunk) in undecoded.chunks(16).enumerate() {
            let bytes: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
            let _ = writeln!(out, "  {:>6x}  .bytes {}", start + n * 16, bytes.join(" "));
        }
        undecoded.clear();
    };
    let cs = isa.to_capstone().ok();
    while pos < code.len() {
        let mut advanced = false;
        if let Some(cs) = &cs
            && let Ok(insns) = cs.disasm_all(&code[pos..], pos as u64)
        {
            for i in insns.iter() {
                if !undecoded.is_empty() {
                    flush(&mut out, &mut undecoded, pos);
                }
                let text = format!(
                    "{} {}",
                    i.mnemonic().unwrap_or("?"),
                    i.op_str().unwrap_or("")
                );
                let _ = writeln!(out, "  {:>6x}  {}", i.address(), text.trim_end());
                count += 1;
                pos = i.address() as usize + i.bytes().len();
                advanced = true;
            }
        }
        if !advanced && pos < code.len() {
            undecoded.push(code[pos]);
            pos += 1;
        }
    }
    flush(&mut out, &mut undecoded, pos);
    (out, count)
}
