(module
  ;; Data segment offsets given by globals. Segment 0's offset is an immutable
  ;; global whose initializer is an extended-const expression (0x10000 + 0x400),
  ;; which the module fixes: spillscope resolves it to 0x10400. Segment 1's
  ;; offset is an imported global, set by whoever instantiates the module:
  ;; spillscope reports it as unknown rather than guessing. Segment 2 is
  ;; passive (copied by memory.init at run time, not placed).
  (import "env" "table_base" (global $imported i32))
  (global $base i32 (i32.add (i32.const 0x10000) (i32.const 0x400)))
  (memory (export "memory") 2)
  (data (global.get $base) "resolved")
  (data (global.get $imported) "unknown")
  (data "passive segment")
  (func $init (export "init") (param $dst i32)
    (memory.init 2 (local.get $dst) (i32.const 0) (i32.const 15))
    (data.drop 2)))
