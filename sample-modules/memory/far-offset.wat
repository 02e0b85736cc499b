(module
  ;; Constant access offsets against Wasmtime's 32 MiB guard. With the default
  ;; 4 GiB reservation a 32-bit memory needs no bounds check as long as
  ;; offset + access size <= 32 MiB + 1 (the largest index is 4 GiB - 1): the
  ;; i64.load at offset 32 MiB - 8 fits, the i32.load at offset 40 MiB
  ;; (41943040) does not and keeps an
  ;; explicit check under every profile; with signals-based traps off
  ;; ("explicit") every access is checked.
  (memory (export "memory") 1)
  (func $near (export "near") (param $p i32) (result i64)
    (i64.load offset=33554424 (local.get $p)))
  (func $far (export "far") (param $p i32) (result i32)
    (i32.add
      (i32.load offset=41943040 (local.get $p))
      (i32.load offset=16 (local.get $p)))))
