;; Lesson: in a loop with a call inside, values live through the whole loop are split
;; around the call: look at where the split points land relative to the loop's blocks.
(module
  (import "env" "tick" (func $tick (param i32)))
  (memory (export "memory") 1)
  (func $loop (export "loop") (param $n i32) (param $base i32) (result i32)
    (local $i i32) (local $acc i32) (local $k0 i32) (local $k1 i32) (local $k2 i32)
    (local.set $k0 (i32.load (local.get $base)))
    (local.set $k1 (i32.load offset=4 (local.get $base)))
    (local.set $k2 (i32.load offset=8 (local.get $base)))
    (block $done
      (loop $again
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (i32.add (local.get $acc)
          (i32.mul (i32.load offset=16 (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 2))))
                   (i32.add (local.get $k0) (i32.xor (local.get $k1) (local.get $k2))))))
        (call $tick (local.get $acc))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $again)))
    (i32.add (local.get $acc) (i32.add (local.get $k0) (local.get $k2)))
  )
)
