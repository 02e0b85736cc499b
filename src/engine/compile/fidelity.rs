//! Is our compile what Wasmtime compiles? Compares the machine code of our
//! untraced compile with Wasmtime's own code for the same function, byte for
//! byte, ignoring only the bytes that relocations patch (Wasmtime resolves calls
//! between functions when it links its artifact; ours are placeholders).

use crate::engine::compile::CompiledCode;

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
