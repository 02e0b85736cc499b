(module
  ;; One 64-bit memory (memory64), 1 page growable to 4, and no memory.grow or
  ;; memory.size anywhere. V8 reserves 16 GiB for it; Wasmer and wasm3 reject
  ;; it; WAMR needs a memory64 build, which has no hardware bounds checks, and
  ;; as the module cannot grow its memory WAMR folds it into one page and
  ;; appends its app heap to that page.
  ;;   spillscope layout sample-modules/memory/memory64-only.wat --profile v8 --profile wamr --profile wasmer --profile wasm3
  (memory (export "memory") i64 1 4)
  (data (i64.const 0x40) "in a 64-bit memory")
  (func (export "peek") (param $at i64) (result i32)
    (i32.load offset=16 (local.get $at))))
