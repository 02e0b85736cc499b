//! What a module says about its own linear memory, read with wasmparser: its
//! memories, where its data segments land, the layout globals a linker exports,
//! the stack those globals imply (inferred, and labelled so), and every load and
//! store with its constant offset. Nothing here depends on a runtime; profiles
//! and address maps are built on top in `profile` and `map`.

use std::collections::HashMap;
use std::path::Path;

use wasmparser::{ExternalKind, MemArg, Name, Operator, Payload, TypeRef, ValType};

use super::LayoutError;

/// A memory as the module declares or imports it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MemoryInfo {
    /// Index in the module's memory index space (imports first).
    pub index: u32,
    pub min_pages: u64,
    pub max_pages: Option<u64>,
    /// memory64: indexed by i64.
    pub memory64: bool,
    pub shared: bool,
    /// log2 of the page size when the custom-page-sizes proposal sets one.
    pub custom_page_size_log2: Option<u32>,
    pub page_size_bytes: u64,
    /// `module.name` when the memory is imported.
    pub import: Option<String>,
    /// Export names, in export-section order.
    pub exports: Vec<String>,
}

impl MemoryInfo {
    pub fn page_size_log2(&self) -> u32 {
        self.custom_page_size_log2.unwrap_or(16)
    }

    pub fn min_bytes(&self) -> u128 {
        u128::from(self.min_pages) << self.page_size_log2()
    }

    /// Bytes of the index space: 4 GiB for 32-bit memories, 16 EiB for 64-bit.
    pub fn index_space_bytes(&self) -> u128 {
        if self.memory64 { 1 << 64 } else { 1 << 32 }
    }

    /// The declared maximum in bytes, if the module declares one.
    pub fn declared_max_bytes(&self) -> Option<u128> {
        self.max_pages
            .map(|p| u128::from(p) << self.page_size_log2())
    }

    /// The most this memory can ever hold: its declared maximum, or the whole
    /// index space (in whole pages) when it declares none.
    pub fn max_bytes(&self) -> u128 {
        let index_space_pages = self.index_space_bytes() >> self.page_size_log2();
        let pages = self
            .max_pages
            .map_or(index_space_pages, |p| u128::from(p).min(index_space_pages));
        pages << self.page_size_log2()
    }

    /// `memory 0 ("memory")` or `memory 1 (imported env.mem)`.
    pub fn label(&self) -> String {
        match (&self.import, self.exports.first()) {
            (Some(imp), _) => format!("memory {} (imported {imp})", self.index),
            (None, Some(name)) => format!("memory {} (\"{name}\")", self.index),
            (None, None) => format!("memory {}", self.index),
        }
    }
}

/// The value of a constant expression, as far as it can be known from the module.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ConstValue {
    /// The expression in Wasm text, e.g. `global.get 1; i32.const 16; i32.add`.
    pub expr: String,
    /// Its value when every part of it is a constant the module itself fixes.
    pub value: Option<u64>,
    /// Why the value is unknown; `None` when it is known.
    pub unknown_reason: Option<String>,
    /// Globals the value was resolved through (outermost first).
    pub via_globals: Vec<u32>,
}

/// One data segment.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DataSegment {
    /// Index in the data section.
    pub index: u32,
    /// Name from the name section (wasm-ld writes `.rodata`, `.data`, ...).
    pub name: Option<String>,
    pub length_bytes: u64,
    /// Byte offset of the segment in the module.
    pub module_offset: usize,
    pub active: bool,
    /// For active segments: the memory it initializes.
    pub memory: Option<u32>,
    /// For active segments: where in that memory it starts.
    pub offset: Option<ConstValue>,
}

impl DataSegment {
    /// `[start, end)` in its memory, when the offset is known.
    pub fn range_bytes(&self) -> Option<(u128, u128)> {
        let start = u128::from(self.offset.as_ref()?.value?);
        Some((start, start + u128::from(self.length_bytes)))
    }

    /// `segment 3 (.data)`.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("segment {} ({n})", self.index),
            None => format!("segment {}", self.index),
        }
    }
}

/// The globals linkers use to describe memory layout.
pub const LAYOUT_GLOBAL_NAMES: [&str; 7] = [
    "__stack_pointer",
    "__data_end",
    "__heap_base",
    "__global_base",
    "__stack_low",
    "__stack_high",
    "__memory_base",
];

/// A layout global found in the module.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LayoutGlobal {
    pub name: String,
    pub global_index: u32,
    /// `export` or `name section` (wasm-ld names its globals there even when it
    /// does not export them).
    pub recognised_by: &'static str,
    pub mutable: bool,
    /// `module.name` when the global is imported (its value is the embedder's).
    pub import: Option<String>,
    /// The initial value (for a mutable global such as `__stack_pointer`, the
    /// value at instantiation).
    pub initial: ConstValue,
}

impl LayoutGlobal {
    /// The value when the global is what a linker writes for a layout
    /// symbol: defined here, immutable, and initialized by one `i32.const`
    /// (the form WAMR requires of `__heap_base` and `__data_end`).
    pub fn plain_i32_const(&self) -> Option<u32> {
        let plain = self.import.is_none()
            && !self.mutable
            && self.initial.expr.starts_with("i32.const ")
            && !self.initial.expr.contains(';');
        plain
            .then_some(self.initial.value)
            .flatten()
            .map(|v| v as u32)
    }
}

/// An exported function and its signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionExport {
    pub name: String,
    /// Index in the function index space (imports first).
    pub function: u32,
    /// Whether the exported function is an import re-exported.
    pub imported: bool,
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
}

/// Which way the stack grows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StackDirection {
    Down,
    Up,
}

/// Where the stack sits relative to the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StackPlacement {
    /// wasm-ld `--stack-first`: the stack at the bottom of memory, data above it.
    BeforeData,
    /// wasm-ld's older default: data from `--global-base`, the stack above it,
    /// the heap above the stack.
    AfterData,
    /// Given by `__stack_low` / `__stack_high`.
    Exported,
}

/// The stack region, inferred from the layout globals. Always an inference:
/// nothing in a module declares a stack.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StackInference {
    pub memory: u32,
    /// Always true; present so every consumer shows the label.
    pub inferred: bool,
    /// `__stack_pointer`'s initial value: the top of a downward stack.
    pub pointer_initial_bytes: u64,
    /// Lowest address of the stack region, when it can be inferred.
    pub low_bytes: Option<u64>,
    /// One past the highest address.
    pub high_bytes: u64,
    pub direction: StackDirection,
    pub placement: StackPlacement,
    /// Why we believe this, in words.
    pub basis: Vec<String>,
}

impl StackInference {
    pub fn size_bytes(&self) -> Option<u64> {
        self.low_bytes
            .map(|low| self.high_bytes.saturating_sub(low))
    }
}

/// One load, store or atomic access with a constant offset.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AccessSite {
    /// Index in the function index space (imports first).
    pub function: u32,
    pub function_name: Option<String>,
    /// Byte offset of the instruction in the module.
    pub module_offset: usize,
    /// Wasm text name, e.g. `i64.load8_u`.
    pub instruction: String,
    pub memory: u32,
    pub offset_bytes: u64,
    pub access_size_bytes: u8,
}

impl AccessSite {
    /// `offset + access size`: what Wasmtime compares with the guard.
    pub fn offset_and_size_bytes(&self) -> u128 {
        u128::from(self.offset_bytes) + u128::from(self.access_size_bytes)
    }

    /// `i32.load offset=41943040 in func 3 ($far) at byte 0x5c`.
    pub fn describe(&self) -> String {
        let func = match &self.function_name {
            Some(n) => format!("func {} (${n})", self.function),
            None => format!("func {}", self.function),
        };
        format!(
            "{} offset={} in {func} at byte 0x{:x}",
            self.instruction, self.offset_bytes, self.module_offset
        )
    }
}

/// Accesses to one memory, summarised.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AccessSummary {
    pub memory: u32,
    pub accesses: u64,
    pub with_nonzero_offset: u64,
    /// The access with the largest `offset + size` (the first one found on ties).
    pub largest_offset: Option<AccessSite>,
}

/// Everything the module says about its linear memory.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ModuleLayout {
    pub memories: Vec<MemoryInfo>,
    pub segments: Vec<DataSegment>,
    pub layout_globals: Vec<LayoutGlobal>,
    /// The stack of memory 0, when `__stack_pointer` has a known initial value.
    pub stack: Option<StackInference>,
    /// Why no stack was inferred, when none was.
    pub stack_note: Option<String>,
    /// Per memory, in memory order.
    pub access_summaries: Vec<AccessSummary>,
    /// Every memory access, in code order (large; not serialized).
    #[serde(skip)]
    pub accesses: Vec<AccessSite>,
    /// Exported functions with their signatures (for WAMR's malloc/free rule).
    #[serde(skip)]
    pub function_exports: Vec<FunctionExport>,
    /// Whether any function uses `memory.size` or `memory.grow` (WAMR folds a
    /// memory that cannot grow into one page).
    #[serde(skip)]
    pub memory_size_or_grow: bool,
}

impl ModuleLayout {
    pub fn memory(&self, index: u32) -> Option<&MemoryInfo> {
        self.memories.iter().find(|m| m.index == index)
    }

    pub fn layout_global(&self, name: &str) -> Option<&LayoutGlobal> {
        self.layout_globals.iter().find(|g| g.name == name)
    }

    /// The known value of a layout global.
    pub fn layout_value(&self, name: &str) -> Option<u64> {
        self.layout_global(name)?.initial.value
    }

    /// Active segments of `memory`.
    pub fn segments_of(&self, memory: u32) -> impl Iterator<Item = &DataSegment> {
        self.segments
            .iter()
            .filter(move |s| s.active && s.memory == Some(memory))
    }

    pub fn accesses_of(&self, memory: u32) -> impl Iterator<Item = &AccessSite> {
        self.accesses.iter().filter(move |a| a.memory == memory)
    }

    /// Reads a validated module.
    pub fn from_wasm(path: &Path, wasm: &[u8]) -> Result<ModuleLayout, LayoutError> {
        let raw = RawModule::parse(path, wasm)?;
        Ok(raw.into_layout())
    }
}

// ---------------------------------------------------------------------------
// Parsing

struct RawGlobal<'a> {
    import: Option<String>,
    mutable: bool,
    ty: ValType,
    init: Option<wasmparser::ConstExpr<'a>>,
}

struct RawSegment<'a> {
    length_bytes: u64,
    module_offset: usize,
    placement: Option<(u32, wasmparser::ConstExpr<'a>)>,
}

#[derive(Default)]
struct RawModule<'a> {
    memories: Vec<MemoryInfo>,
    globals: Vec<RawGlobal<'a>>,
    global_exports: HashMap<u32, Vec<String>>,
    global_names: HashMap<u32, String>,
    function_names: HashMap<u32, String>,
    data_names: HashMap<u32, String>,
    segments: Vec<RawSegment<'a>>,
    imported_functions: u32,
    /// Per type index: the signature, for function types.
    types: Vec<Option<(Vec<ValType>, Vec<ValType>)>>,
    /// Per function (imports first): its type index.
    function_types: Vec<u32>,
    function_exports: Vec<(String, u32)>,
    memory_size_or_grow: bool,
    accesses: Vec<AccessSite>,
    /// Per defined function: (function index, ops touching each global).
    stack_evidence: Vec<(u32, Vec<GlobalUse>)>,
}

/// What a function does with a global, in order, for the stack-direction evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GlobalUse {
    Get(u32),
    Set(u32),
    Add,
    Sub,
}

fn wasm_error(path: &Path, e: wasmparser::BinaryReaderError) -> LayoutError {
    LayoutError::InvalidWasm {
        path: path.to_path_buf(),
        offset: e.offset(),
        message: e.message().to_string(),
    }
}

fn memory_from(index: u32, ty: &wasmparser::MemoryType, import: Option<String>) -> MemoryInfo {
    MemoryInfo {
        index,
        min_pages: ty.initial,
        max_pages: ty.maximum,
        memory64: ty.memory64,
        shared: ty.shared,
        custom_page_size_log2: ty.page_size_log2,
        page_size_bytes: u64::from(ty.page_size()),
        import,
        exports: Vec::new(),
    }
}

impl<'a> RawModule<'a> {
    fn parse(path: &Path, wasm: &'a [u8]) -> Result<RawModule<'a>, LayoutError> {
        let err = |e| wasm_error(path, e);
        let mut m = RawModule::default();
        for payload in wasmparser::Parser::new(0).parse_all(wasm) {
            match payload.map_err(err)? {
                Payload::ImportSection(reader) => {
                    for imp in reader.into_imports() {
                        let imp = imp.map_err(err)?;
                        let name = format!("{}.{}", imp.module, imp.name);
                        match imp.ty {
                            TypeRef::Func(ty) | TypeRef::FuncExact(ty) => {
                                m.imported_functions += 1;
                                m.function_types.push(ty);
                            }
                            TypeRef::Memory(ty) => {
                                let index = m.memories.len() as u32;
                                m.memories.push(memory_from(index, &ty, Some(name)));
                            }
                            TypeRef::Global(ty) => m.globals.push(RawGlobal {
                                import: Some(name),
                                mutable: ty.mutable,
                                ty: ty.content_type,
                                init: None,
                            }),
                            TypeRef::Table(_) | TypeRef::Tag(_) => {}
                        }
                    }
                }
                Payload::TypeSection(reader) => {
                    for group in reader {
                        for sub in group.map_err(err)?.into_types() {
                            m.types.push(match &sub.composite_type.inner {
                                wasmparser::CompositeInnerType::Func(f) => {
                                    Some((f.params().to_vec(), f.results().to_vec()))
                                }
                                _ => None,
                            });
                        }
                    }
                }
                Payload::FunctionSection(reader) => {
                    for ty in reader {
                        m.function_types.push(ty.map_err(err)?);
                    }
                }
                Payload::MemorySection(reader) => {
                    for ty in reader {
                        let ty = ty.map_err(err)?;
                        let index = m.memories.len() as u32;
                        m.memories.push(memory_from(index, &ty, None));
                    }
                }
                Payload::GlobalSection(reader) => {
                    for g in reader {
                        let g = g.map_err(err)?;
                        m.globals.push(RawGlobal {
                            import: None,
                            mutable: g.ty.mutable,
                            ty: g.ty.content_type,
                            init: Some(g.init_expr),
                        });
                    }
                }
                Payload::ExportSection(reader) => {
                    for e in reader {
                        let e = e.map_err(err)?;
                        match e.kind {
                            ExternalKind::Memory => {
                                if let Some(mem) = m.memories.get_mut(e.index as usize) {
                                    mem.exports.push(e.name.to_string());
                                }
                            }
                            ExternalKind::Global => m
                                .global_exports
                                .entry(e.index)
                                .or_default()
                                .push(e.name.to_string()),
                            ExternalKind::Func | ExternalKind::FuncExact => {
                                m.function_exports.push((e.name.to_string(), e.index))
                            }
                            _ => {}
                        }
                    }
                }
                Payload::DataSection(reader) => {
                    for d in reader {
                        let d = d.map_err(err)?;
                        let placement = match d.kind {
                            wasmparser::DataKind::Passive => None,
                            wasmparser::DataKind::Active {
                                memory_index,
                                offset_expr,
                            } => Some((memory_index, offset_expr)),
                        };
                        m.segments.push(RawSegment {
                            length_bytes: d.data.len() as u64,
                            module_offset: d.range.start,
                            placement,
                        });
                    }
                }
                Payload::CodeSectionEntry(body) => {
                    let function = m.imported_functions + m.stack_evidence.len() as u32;
                    let mut uses = Vec::new();
                    let mut ops = body.get_operators_reader().map_err(err)?;
                    while !ops.eof() {
                        let (op, module_offset) = ops.read_with_offset().map_err(err)?;
                        if let Some((memarg, visit_name)) = memarg_of(&op) {
                            m.accesses.push(AccessSite {
                                function,
                                function_name: None,
                                module_offset,
                                instruction: wasm_name_from_visit(visit_name),
                                memory: memarg.memory,
                                offset_bytes: memarg.offset,
                                // Every memarg's maximum alignment is its natural
                                // alignment, i.e. the access width.
                                access_size_bytes: 1u8 << memarg.max_align,
                            });
                            continue;
                        }
                        match op {
                            Operator::GlobalGet { global_index } => {
                                uses.push(GlobalUse::Get(global_index))
                            }
                            Operator::GlobalSet { global_index } => {
                                uses.push(GlobalUse::Set(global_index))
                            }
                            Operator::I32Add | Operator::I64Add => uses.push(GlobalUse::Add),
                            Operator::I32Sub | Operator::I64Sub => uses.push(GlobalUse::Sub),
                            Operator::MemorySize { .. } | Operator::MemoryGrow { .. } => {
                                m.memory_size_or_grow = true
                            }
                            _ => {}
                        }
                    }
                    m.stack_evidence.push((function, uses));
                }
                Payload::CustomSection(c) => {
                    if let wasmparser::KnownCustom::Name(reader) = c.as_known() {
                        // A malformed name section is not fatal: names are optional.
                        for name in reader.into_iter().flatten() {
                            let (map, target) = match name {
                                Name::Function(map) => (map, &mut m.function_names),
                                Name::Global(map) => (map, &mut m.global_names),
                                Name::Data(map) => (map, &mut m.data_names),
                                _ => continue,
                            };
                            for naming in map.into_iter().flatten() {
                                target.insert(naming.index, naming.name.to_string());
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(m)
    }

    fn into_layout(self) -> ModuleLayout {
        let evaluator = Evaluator {
            globals: &self.globals,
        };
        let segments: Vec<DataSegment> = self
            .segments
            .iter()
            .enumerate()
            .map(|(i, s)| DataSegment {
                index: i as u32,
                name: self.data_names.get(&(i as u32)).cloned(),
                length_bytes: s.length_bytes,
                module_offset: s.module_offset,
                active: s.placement.is_some(),
                memory: s.placement.as_ref().map(|(mem, _)| *mem),
                offset: s.placement.as_ref().map(|(_, e)| evaluator.eval(e)),
            })
            .collect();

        let mut layout_globals = Vec::new();
        for wanted in LAYOUT_GLOBAL_NAMES {
            let by_export = self
                .global_exports
                .iter()
                .filter(|(_, names)| names.iter().any(|n| n == wanted))
                .map(|(i, _)| *i)
                .min();
            let found = by_export.map(|i| (i, "export")).or_else(|| {
                self.global_names
                    .iter()
                    .filter(|(_, n)| n.as_str() == wanted)
                    .map(|(i, _)| *i)
                    .min()
                    .map(|i| (i, "name section"))
            });
            let Some((index, recognised_by)) = found else {
                continue;
            };
            let Some(g) = self.globals.get(index as usize) else {
                continue;
            };
            layout_globals.push(LayoutGlobal {
                name: wanted.to_string(),
                global_index: index,
                recognised_by,
                mutable: g.mutable,
                import: g.import.clone(),
                initial: evaluator.eval_global(index, 0),
            });
        }

        let mut accesses = self.accesses;
        for a in &mut accesses {
            a.function_name = self.function_names.get(&a.function).cloned();
        }
        let access_summaries = self
            .memories
            .iter()
            .map(|mem| summarise(mem.index, &accesses))
            .collect();

        let function_exports = self
            .function_exports
            .iter()
            .map(|(name, function)| {
                let signature = self
                    .function_types
                    .get(*function as usize)
                    .and_then(|ty| self.types.get(*ty as usize))
                    .cloned()
                    .flatten()
                    .unwrap_or_default();
                FunctionExport {
                    name: name.clone(),
                    function: *function,
                    imported: *function < self.imported_functions,
                    params: signature.0,
                    results: signature.1,
                }
            })
            .collect();

        let mut layout = ModuleLayout {
            memories: self.memories,
            segments,
            layout_globals,
            stack: None,
            stack_note: None,
            access_summaries,
            accesses,
            function_exports,
            memory_size_or_grow: self.memory_size_or_grow,
        };
        match infer_stack(&layout, &self.stack_evidence) {
            Ok(stack) => layout.stack = Some(stack),
            Err(note) => layout.stack_note = Some(note),
        }
        layout
    }
}

fn summarise(memory: u32, accesses: &[AccessSite]) -> AccessSummary {
    let mut summary = AccessSummary {
        memory,
        accesses: 0,
        with_nonzero_offset: 0,
        largest_offset: None,
    };
    for a in accesses.iter().filter(|a| a.memory == memory) {
        summary.accesses += 1;
        if a.offset_bytes != 0 {
            summary.with_nonzero_offset += 1;
        }
        let larger = summary
            .largest_offset
            .as_ref()
            .is_none_or(|l| a.offset_and_size_bytes() > l.offset_and_size_bytes());
        if larger {
            summary.largest_offset = Some(a.clone());
        }
    }
    summary
}

// ---------------------------------------------------------------------------
// Constant expressions

#[derive(Clone, Copy, Debug)]
enum Val {
    I32(u32),
    I64(u64),
}

impl Val {
    fn as_u64(self) -> u64 {
        match self {
            Val::I32(v) => u64::from(v),
            Val::I64(v) => v,
        }
    }
}

struct Evaluator<'g, 'a> {
    globals: &'g [RawGlobal<'a>],
}

/// Deeper chains of `global.get` than this are not followed (valid modules can
/// only refer to earlier globals, so this is a guard, not a limit users meet).
const MAX_GLOBAL_DEPTH: usize = 64;

impl Evaluator<'_, '_> {
    fn eval(&self, expr: &wasmparser::ConstExpr<'_>) -> ConstValue {
        self.eval_at_depth(expr, 0)
    }

    fn eval_global(&self, index: u32, depth: usize) -> ConstValue {
        let expr = format!("global.get {index}");
        let unknown = |reason: String| ConstValue {
            expr: expr.clone(),
            value: None,
            unknown_reason: Some(reason),
            via_globals: vec![index],
        };
        let Some(g) = self.globals.get(index as usize) else {
            return unknown(format!("global {index} does not exist"));
        };
        if let Some(import) = &g.import {
            return unknown(format!(
                "global {index} is imported ({import}): its value is set by the embedder"
            ));
        }
        let Some(init) = &g.init else {
            return unknown(format!("global {index} has no initializer"));
        };
        if depth >= MAX_GLOBAL_DEPTH {
            return unknown(format!(
                "global {index}: more than {MAX_GLOBAL_DEPTH} nested global.get"
            ));
        }
        let mut inner = self.eval_at_depth(init, depth + 1);
        inner.via_globals.insert(0, index);
        inner
    }

    fn eval_at_depth(&self, expr: &wasmparser::ConstExpr<'_>, depth: usize) -> ConstValue {
        let mut text = Vec::new();
        let mut stack: Vec<Option<Val>> = Vec::new();
        let mut reason: Option<String> = None;
        let mut via = Vec::new();
        let mut ops = expr.get_operators_reader();
        while !ops.eof() {
            let op = match ops.read() {
                Ok(op) => op,
                Err(e) => {
                    reason.get_or_insert_with(|| format!("unreadable expression: {e}"));
                    break;
                }
            };
            match op {
                Operator::End => continue,
                Operator::I32Const { value } => {
                    text.push(format!("i32.const {value}"));
                    stack.push(Some(Val::I32(value as u32)));
                }
                Operator::I64Const { value } => {
                    text.push(format!("i64.const {value}"));
                    stack.push(Some(Val::I64(value as u64)));
                }
                Operator::GlobalGet { global_index } => {
                    text.push(format!("global.get {global_index}"));
                    let g = self.eval_global(global_index, depth);
                    via.extend(g.via_globals.iter().copied());
                    if let (Some(r), None) = (&g.unknown_reason, &reason) {
                        reason = Some(r.clone());
                    }
                    let ty = self.globals.get(global_index as usize).map(|g| g.ty);
                    stack.push(g.value.map(|v| match ty {
                        Some(ValType::I64) => Val::I64(v),
                        _ => Val::I32(v as u32),
                    }));
                }
                Operator::I32Add | Operator::I32Sub | Operator::I32Mul => {
                    let name = match op {
                        Operator::I32Add => "i32.add",
                        Operator::I32Sub => "i32.sub",
                        _ => "i32.mul",
                    };
                    text.push(name.to_string());
                    let (b, a) = (stack.pop().flatten(), stack.pop().flatten());
                    stack.push(match (a, b) {
                        (Some(a), Some(b)) => {
                            let (a, b) = (a.as_u64() as u32, b.as_u64() as u32);
                            Some(Val::I32(match name {
                                "i32.add" => a.wrapping_add(b),
                                "i32.sub" => a.wrapping_sub(b),
                                _ => a.wrapping_mul(b),
                            }))
                        }
                        _ => None,
                    });
                }
                Operator::I64Add | Operator::I64Sub | Operator::I64Mul => {
                    let name = match op {
                        Operator::I64Add => "i64.add",
                        Operator::I64Sub => "i64.sub",
                        _ => "i64.mul",
                    };
                    text.push(name.to_string());
                    let (b, a) = (stack.pop().flatten(), stack.pop().flatten());
                    stack.push(match (a, b) {
                        (Some(a), Some(b)) => {
                            let (a, b) = (a.as_u64(), b.as_u64());
                            Some(Val::I64(match name {
                                "i64.add" => a.wrapping_add(b),
                                "i64.sub" => a.wrapping_sub(b),
                                _ => a.wrapping_mul(b),
                            }))
                        }
                        _ => None,
                    });
                }
                other => {
                    let shown = format!("{other:?}");
                    text.push(shown.clone());
                    reason.get_or_insert_with(|| format!("`{shown}` is not an integer constant"));
                    stack.push(None);
                }
            }
        }
        let value = if stack.len() == 1 {
            stack.pop().flatten()
        } else {
            reason.get_or_insert_with(|| "expression does not leave one value".to_string());
            None
        };
        ConstValue {
            expr: text.join("; "),
            value: value.map(Val::as_u64),
            unknown_reason: if value.is_some() { None } else { reason },
            via_globals: via,
        }
    }
}

// ---------------------------------------------------------------------------
// Memory accesses: the memarg of any operator that has one

/// `(memarg x)`-style helper: finds the operand named `memarg` among an
/// operator's fields and returns it (its own tokens, so hygiene keeps the binding).
macro_rules! memarg_in {
    () => { None };
    ($first:ident $($rest:ident)*) => { memarg_in!(@check $first [$first] $($rest)*) };
    (@check memarg [$id:ident] $($rest:ident)*) => { Some(*$id) };
    (@check $other:ident [$id:ident] $($rest:ident)*) => { memarg_in!($($rest)*) };
}

macro_rules! define_memarg_of {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
        /// The memory immediate of a load, store or atomic, with the visitor
        /// name of the instruction (`visit_i32_load`).
        fn memarg_of(op: &Operator<'_>) -> Option<(MemArg, &'static str)> {
            match op {
                $(
                    Operator::$op $({ $($arg),* })? => {
                        $($( let _ = $arg; )*)?
                        let found: Option<MemArg> = memarg_in!($($($arg)*)?);
                        found.map(|m| (m, stringify!($visit)))
                    }
                )*
                _ => None,
            }
        }
    };
}
wasmparser::for_each_operator!(define_memarg_of);

/// `visit_i32_atomic_rmw8_add_u` → `i32.atomic.rmw8.add_u`.
fn wasm_name_from_visit(visit: &str) -> String {
    let name = visit.strip_prefix("visit_").unwrap_or(visit);
    let mut out = String::new();
    let mut sep = "";
    for (i, part) in name.split('_').enumerate() {
        out.push_str(sep);
        out.push_str(part);
        // The type prefix, `atomic` and `rmw*` end with a dot in the text format.
        sep = if i == 0 || part == "atomic" || part.starts_with("rmw") {
            "."
        } else {
            "_"
        };
    }
    out
}

// ---------------------------------------------------------------------------
// Stack inference

fn infer_stack(
    layout: &ModuleLayout,
    evidence: &[(u32, Vec<GlobalUse>)],
) -> Result<StackInference, String> {
    let Some(sp) = layout.layout_global("__stack_pointer") else {
        return Err(
            "no `__stack_pointer` global (by export or name section): no stack inferred".into(),
        );
    };
    let Some(pointer) = sp.initial.value else {
        return Err(format!(
            "`__stack_pointer` (global {}) has no known initial value: {}",
            sp.global_index,
            sp.initial.unknown_reason.as_deref().unwrap_or("unknown")
        ));
    };
    let mut basis = Vec::new();
    let data_low = layout
        .segments_of(0)
        .filter_map(|s| s.range_bytes())
        .map(|(start, _)| start)
        .min();
    let data_end = layout
        .layout_value("__data_end")
        .map(u128::from)
        .or_else(|| {
            layout
                .segments_of(0)
                .filter_map(|s| s.range_bytes())
                .map(|(_, end)| end)
                .max()
        });
    let pointer_wide = u128::from(pointer);
    let (low, placement) = match (
        layout.layout_value("__stack_low"),
        layout.layout_value("__stack_high"),
    ) {
        (Some(low), Some(high)) if high == pointer => {
            basis.push(format!(
                "`__stack_low` = 0x{low:x} and `__stack_high` = 0x{high:x} bound the stack"
            ));
            let placement = if data_low.is_some_and(|d| u128::from(high) <= d) {
                StackPlacement::BeforeData
            } else {
                StackPlacement::Exported
            };
            (Some(low), placement)
        }
        _ => {
            if data_low.is_none_or(|d| pointer_wide <= d) {
                basis.push(match data_low {
                    Some(d) => format!(
                        "`__stack_pointer` starts at 0x{pointer:x}, at or below the first data byte 0x{d:x}: wasm-ld `--stack-first` layout, stack from 0 up to it"
                    ),
                    None => format!(
                        "`__stack_pointer` starts at 0x{pointer:x} and there is no data: stack from 0 up to it"
                    ),
                });
                (Some(0), StackPlacement::BeforeData)
            } else if let Some(end) = data_end.filter(|e| pointer_wide >= *e) {
                // wasm-ld aligns the stack's bottom to 16 bytes after the data.
                let low = end.div_ceil(16) * 16;
                basis.push(format!(
                    "`__stack_pointer` starts at 0x{pointer:x}, above the end of data 0x{end:x}: wasm-ld default layout (data, then the stack, then the heap)"
                ));
                (u64::try_from(low).ok(), StackPlacement::AfterData)
            } else {
                basis.push(format!(
                    "`__stack_pointer` starts at 0x{pointer:x}, among the data segments: the stack's bottom is unknown"
                ));
                (None, StackPlacement::AfterData)
            }
        }
    };

    // Direction: functions that reserve a frame read the stack pointer, adjust
    // it and write it back; count which way they adjust it.
    let (mut down, mut up) = (0u32, 0u32);
    for (_, uses) in evidence {
        let Some(get) = uses
            .iter()
            .position(|u| *u == GlobalUse::Get(sp.global_index))
        else {
            continue;
        };
        let Some(set) = uses[get..]
            .iter()
            .position(|u| *u == GlobalUse::Set(sp.global_index))
        else {
            continue;
        };
        match uses[get..get + set]
            .iter()
            .find(|u| matches!(u, GlobalUse::Add | GlobalUse::Sub))
        {
            Some(GlobalUse::Sub) => down += 1,
            Some(GlobalUse::Add) => up += 1,
            _ => {}
        }
    }
    let direction = if up > down {
        basis.push(format!(
            "{up} functions add to `__stack_pointer` before writing it back ({down} subtract): the stack grows up"
        ));
        StackDirection::Up
    } else if down > 0 {
        basis.push(format!(
            "{down} functions subtract from `__stack_pointer` before writing it back ({up} add): the stack grows down"
        ));
        StackDirection::Down
    } else {
        basis.push(
            "no function adjusts `__stack_pointer`; wasm-ld's convention is a stack that grows down"
                .into(),
        );
        StackDirection::Down
    };
    let sp_memory = 0;
    Ok(StackInference {
        memory: sp_memory,
        inferred: true,
        pointer_initial_bytes: pointer,
        low_bytes: low,
        high_bytes: pointer,
        direction,
        placement,
        basis,
    })
}

#[cfg(test)]
mod tests {
    use super::wasm_name_from_visit;

    #[test]
    fn instruction_names() {
        assert_eq!(wasm_name_from_visit("visit_i32_load"), "i32.load");
        assert_eq!(wasm_name_from_visit("visit_i64_load8_u"), "i64.load8_u");
        assert_eq!(
            wasm_name_from_visit("visit_i32_atomic_rmw8_add_u"),
            "i32.atomic.rmw8.add_u"
        );
        assert_eq!(
            wasm_name_from_visit("visit_memory_atomic_wait32"),
            "memory.atomic.wait32"
        );
        assert_eq!(
            wasm_name_from_visit("visit_v128_load8x8_s"),
            "v128.load8x8_s"
        );
    }
}
