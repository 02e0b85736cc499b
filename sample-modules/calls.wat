(module
  ;; Fixed registers from calls: arguments and results are pinned to the ABI's
  ;; registers, and values that live across a call must leave the caller-saved
  ;; registers (the call clobbers them).
  (import "env" "log" (func $log (param i32 i64 f64) (result i32)))
  (func $callee (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (i32.add (local.get 0) (i32.mul (local.get 7) (local.get 3))))
  (func $calls (export "calls") (param $a i32) (param $b i64) (param $c f64) (result i32)
    (local $keep1 i32) (local $keep2 i64) (local $keep3 f64)
    (local.set $keep1 (i32.mul (local.get $a) (i32.const 31)))
    (local.set $keep2 (i64.add (local.get $b) (i64.const 17)))
    (local.set $keep3 (f64.mul (local.get $c) (f64.const 1.5)))
    (drop (call $log (local.get $a) (local.get $b) (local.get $c)))
    (local.set $a
      (call $callee (local.get $keep1) (local.get $a) (i32.wrap_i64 (local.get $keep2))
                    (i32.const 4) (local.get $a) (i32.const 6) (local.get $keep1) (i32.const 8)))
    (drop (call $log (local.get $a) (local.get $keep2) (local.get $keep3)))
    (i32.add (local.get $a)
      (i32.add (local.get $keep1)
        (i32.add (i32.wrap_i64 (local.get $keep2)) (i32.trunc_f64_s (local.get $keep3)))))))
