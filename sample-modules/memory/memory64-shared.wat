(module
  ;; Two memories that change the rules. Memory 0 is 64-bit (memory64) with no
  ;; maximum: Wasmtime never elides its bounds checks, and it is moved when it
  ;; grows past the 4 GiB reservation. Memory 1 is shared (threads): it never
  ;; moves, so growth beyond its reservation fails instead.
  (memory $wide (export "wide") i64 1)
  (memory $shared (export "shared") 1 256 shared)
  (data (memory $wide) (i64.const 0x100) "in the 64-bit memory")
  (func $copy (export "copy") (param $at i64) (param $to i32)
    (i32.atomic.store $shared offset=4 (local.get $to)
      (i32.load $wide offset=8 (local.get $at)))))
