;; Lesson: some instructions want their operands in particular registers (on x86_64 a
;; variable shift count in rcx, division in rax and rdx): the allocator must honour them.
(module
  (func $fixed (export "fixed") (param $a i32) (param $b i32) (param $c i32) (result i32)
    (local $q i32) (local $r i32) (local $s i32)
    (local.set $q (i32.div_u (local.get $a) (i32.or (local.get $b) (i32.const 1))))
    (local.set $r (i32.rem_u (local.get $c) (i32.or (local.get $a) (i32.const 1))))
    (local.set $s (i32.shl (local.get $q) (local.get $c)))
    (i32.add (i32.shr_u (local.get $s) (local.get $b)) (i32.add (local.get $q) (local.get $r)))
  )
)
