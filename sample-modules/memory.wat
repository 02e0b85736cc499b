(module
  ;; Memory-heavy code: a byte-wise copy with a checksum and stores at
  ;; several offsets. Each access is bounds-checked or relies on guard pages,
  ;; depending on the runtime's memory settings.
  (memory (export "memory") 2 16)
  (data (i32.const 1024) "spillscope sample data")
  (func $copy_sum (export "copy_sum") (param $dst i32) (param $src i32) (param $len i32) (result i32)
    (local $i i32) (local $sum i32) (local $b i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $b (i32.load8_u (i32.add (local.get $src) (local.get $i))))
        (i32.store8 (i32.add (local.get $dst) (local.get $i)) (local.get $b))
        (local.set $sum (i32.add (i32.rotl (local.get $sum) (i32.const 5)) (local.get $b)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.store offset=0 (local.get $dst) (local.get $sum))
    (i64.store offset=8 (local.get $dst) (i64.extend_i32_u (local.get $len)))
    (f64.store offset=16 (local.get $dst) (f64.convert_i32_u (local.get $sum)))
    (local.get $sum)))
