(module
  ;; Data that crosses a page limit. The memory starts at 40 pages (2.5 MiB);
  ;; segment 1 ends exactly at the top of page 39 (byte 0x280000 = page 40).
  ;; Under a page limit of 32 pages, Wasmtime refuses to instantiate ("memory
  ;; minimum size of 40 pages exceeds memory limits"), while WasmEdge's
  ;; documented behaviour clamps the memory to 32 pages and logs an error, which
  ;; leaves segment 1 (and the data the code reads there) out of bounds.
  ;;   spillscope layout sample-modules/memory/page-limit.wat \
  ;;     --profile jit --profile limit:32 --profile wasmedge:32
  (memory (export "memory") 40 64)
  (data (i32.const 1024) "header: 22 bytes long.")
  (data (i32.const 0x27fff0) "0123456789abcdef")
  ;; Reads the last 8 bytes of segment 1.
  (func $tail (export "tail") (result i64)
    (i64.load (i32.const 0x27fff8)))
  (func $grow (export "grow") (param $pages i32) (result i32)
    (memory.grow (local.get $pages))))
