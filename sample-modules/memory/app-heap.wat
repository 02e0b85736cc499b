(module
  ;; A module laid out as wasm-ld lays out C: data below __data_end, its own
  ;; heap from __heap_base, grown with memory.grow. It exports no malloc/free,
  ;; so WAMR inserts its host-managed app heap into memory 0 at __heap_base and
  ;; moves __heap_base up (core/iwasm/interpreter/wasm_runtime.c:357-398).
  ;;   spillscope layout sample-modules/memory/app-heap.wat --profile wamr --profile wamr:software
  (memory (export "memory") 2)
  (global $data_end (export "__data_end") i32 (i32.const 1024))
  (global $heap_base (export "__heap_base") i32 (i32.const 4096))
  (global $brk (mut i32) (i32.const 4096))
  (data (i32.const 16) "static data")
  ;; A bump allocator that grows the memory when it runs out.
  (func (export "sbrk") (param $bytes i32) (result i32)
    (local $old i32)
    (local.set $old (global.get $brk))
    (global.set $brk (i32.add (global.get $brk) (local.get $bytes)))
    (if (i32.gt_u (global.get $brk) (i32.shl (memory.size) (i32.const 16)))
      (then (drop (memory.grow (i32.const 1)))))
    (local.get $old)))
