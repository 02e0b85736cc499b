(module
  ;; A loop that gets split: values defined before the loop live through it,
  ;; and a call inside the loop clobbers the caller-saved registers, so the
  ;; allocator splits the long-lived bundles around the call.
  (import "env" "tick" (func $tick (param i32)))
  (memory (export "memory") 1)
  (func $loop (export "sum_with_calls") (param $n i32) (param $base i32) (result i32)
    (local $i i32) (local $acc i32) (local $x i32) (local $y i32) (local $z i32)
    (local.set $x (i32.load (local.get $base)))
    (local.set $y (i32.load offset=4 (local.get $base)))
    (local.set $z (i32.load offset=8 (local.get $base)))
    (block $done
      (loop $again
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc
          (i32.add (local.get $acc)
            (i32.mul (i32.load offset=16 (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 2))))
                     (local.get $x))))
        (if (i32.eqz (i32.and (local.get $i) (i32.const 7)))
          (then (call $tick (local.get $acc))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $again)))
    (i32.add (local.get $acc) (i32.add (local.get $y) (local.get $z)))))
