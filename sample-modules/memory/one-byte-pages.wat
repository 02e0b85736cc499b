(module
  ;; A memory of 1-byte pages (the custom-page-sizes proposal): 100 bytes,
  ;; growable to 200. Wasm sees exactly 100 bytes; the kernel maps whole host
  ;; pages, so `layout --measure` finds 4 KiB accessible, and under `explicit`
  ;; the reservation is rounded up to a host page.
  ;;   spillscope layout sample-modules/memory/one-byte-pages.wat --measure
  (memory (export "memory") 100 200 (pagesize 1))
  (func (export "peek") (param $at i32) (result i32)
    (i32.load8_u (local.get $at))))
