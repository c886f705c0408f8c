;; Attacks: finding the allocator by NAME. The module exports a `cabi_realloc` with the
;; wrong core type (and it traps); the lift names the real allocator, "alloc", with the
;; `realloc` canonical option. A string echo needs it to lower its argument.
(component
  (core module $m
    (memory (export "memory") 1)
    (global $bump (mut i32) (i32.const 1024))
    (func (export "cabi_realloc") (param i32) (result i32) unreachable)
    (func (export "alloc") (param $old i32) (param $old_size i32) (param $align i32)
      (param $size i32) (result i32)
      (local $p i32)
      (local.set $p
        (i32.and
          (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get $align))))
      (global.set $bump (i32.add (local.get $p) (local.get $size)))
      (if (i32.gt_u (global.get $bump) (i32.mul (memory.size) (i32.const 65536)))
        (then
          (if (i32.eq
                (memory.grow (i32.add (i32.shr_u (global.get $bump) (i32.const 16)) (i32.const 1)))
                (i32.const -1))
            (then unreachable))))
      (if (local.get $old)
        (then
          (memory.copy (local.get $p) (local.get $old)
            (select (local.get $old_size) (local.get $size)
              (i32.lt_u (local.get $old_size) (local.get $size))))))
      (local.get $p))
    ;; echo(s: string) -> string: hand the argument's (ptr, len) back through a return area
    (func (export "echo") (param $ptr i32) (param $len i32) (result i32)
      (i32.store (i32.const 8) (local.get $ptr))
      (i32.store (i32.const 12) (local.get $len))
      (i32.const 8))
  )
  (core instance $i (instantiate $m))
  (alias core export $i "memory" (core memory $mem))
  (alias core export $i "alloc" (core func $alloc))
  (func (export "echo") (param "s" string) (result string)
    (canon lift (core func $i "echo") (memory $mem) (realloc $alloc)))
)
