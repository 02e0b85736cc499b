(module
  ;; The same layout as app-heap.wat, but the module exports malloc and free
  ;; with the signatures WAMR looks for ((i32) -> i32 and (i32) -> ()), so
  ;; WAMR puts no app heap of its own in memory 0
  ;; (core/iwasm/interpreter/wasm_runtime.c:315-322).
  ;;   spillscope layout sample-modules/memory/malloc-free.wat --profile wamr
  (memory (export "memory") 2)
  (global $data_end (export "__data_end") i32 (i32.const 1024))
  (global $heap_base (export "__heap_base") i32 (i32.const 4096))
  (global $brk (mut i32) (i32.const 4096))
  (data (i32.const 16) "static data")
  (func (export "malloc") (param $bytes i32) (result i32)
    (local $old i32)
    (local.set $old (global.get $brk))
    (global.set $brk (i32.add (global.get $brk) (local.get $bytes)))
    (if (i32.gt_u (global.get $brk) (i32.shl (memory.size) (i32.const 16)))
      (then (drop (memory.grow (i32.const 1)))))
    (local.get $old))
  (func (export "free") (param $at i32)))
