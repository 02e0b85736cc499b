;; Lesson: a call may overwrite every caller-saved register, so values live across it
;; go to callee-saved registers (rbx, r12-r15 on x86_64) or to the stack.
(module
  (import "env" "log" (func $log (param i32)))
  (func $across_a_call (export "across_a_call") (param $a i32) (param $b i32) (result i32)
    (local $x i32) (local $y i32) (local $z i32) (local $w i32) (local $u i32) (local $t i32)
    (local.set $x (i32.mul (local.get $a) (local.get $b)))
    (local.set $y (i32.add (local.get $a) (i32.const 7)))
    (local.set $z (i32.sub (local.get $b) (i32.const 3)))
    (local.set $w (i32.xor (local.get $a) (local.get $b)))
    (local.set $u (i32.shl (local.get $a) (i32.const 3)))
    (local.set $t (i32.rotl (local.get $b) (i32.const 5)))
    ;; x, y, z, w, u and t are all needed after this call
    (call $log (local.get $x))
    (i32.add (i32.add (i32.add (local.get $x) (local.get $y)) (i32.add (local.get $z) (local.get $w)))
             (i32.add (local.get $u) (local.get $t)))
  )
)
