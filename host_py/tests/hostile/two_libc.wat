;; Attacks: picking "the" main module as the first one exporting `memory` + `cabi_realloc`.
;; Two modules do; the first is a decoy (its allocator traps, its memory holds a different
;; greeting); the lifts use the second module's memory, allocator and code.
(component
  (core module $decoy
    (memory (export "memory") 1)
    (data (i32.const 0) "\08\00\00\00\05\00\00\00decoy")
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) unreachable)
    (func (export "echo") (param i32 i32) (result i32) (i32.const 0))
    (func (export "greet") (result i32) (i32.const 0))
  )
  (core instance $decoy (instantiate $decoy))
  (core module $real
    (memory (export "memory") 1)
    (data (i32.const 64) "hello")
    (global $bump (mut i32) (i32.const 1024))
    (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32)
      (param $size i32) (result i32)
      (local $p i32)
      (if (local.get $old) (then unreachable))
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
      (local.get $p))
    (func (export "echo") (param $ptr i32) (param $len i32) (result i32)
      (i32.store (i32.const 8) (local.get $ptr))
      (i32.store (i32.const 12) (local.get $len))
      (i32.const 8))
    (func (export "greet") (result i32)
      (i32.store (i32.const 16) (i32.const 64))
      (i32.store (i32.const 20) (i32.const 5))
      (i32.const 16))
  )
  (core instance $real (instantiate $real))
  (alias core export $real "memory" (core memory $mem))
  (alias core export $real "cabi_realloc" (core func $realloc))
  (func (export "echo") (param "text" string) (result string)
    (canon lift (core func $real "echo") (memory $mem) (realloc $realloc)))
  (func (export "greet") (result string)
    (canon lift (core func $real "greet") (memory $mem)))
)
