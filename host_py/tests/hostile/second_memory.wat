;; Attacks: assuming the lifted memory is the one exported as "memory". The core module
;; has two memories (multi-memory); "memory" holds a decoy, and every lift names the
;; second one, "heap", together with an allocator that allocates in "heap".
(component
  (core module $m
    (memory $decoy (export "memory") 1)
    (memory $heap (export "heap") 1)
    (data (memory $decoy) (i32.const 0) "\40\00\00\00\05\00\00\00")
    (data (memory $decoy) (i32.const 64) "decoy")
    (data (memory $heap) (i32.const 64) "hello")
    (global $bump (mut i32) (i32.const 1024))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) unreachable)
    (func (export "alloc") (param $old i32) (param $old_size i32) (param $align i32)
      (param $size i32) (result i32)
      (local $p i32)
      (if (local.get $old) (then unreachable))
      (local.set $p
        (i32.and
          (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get $align))))
      (global.set $bump (i32.add (local.get $p) (local.get $size)))
      (if (i32.gt_u (global.get $bump) (i32.mul (memory.size $heap) (i32.const 65536)))
        (then
          (if (i32.eq
                (memory.grow $heap
                  (i32.add (i32.shr_u (global.get $bump) (i32.const 16)) (i32.const 1)))
                (i32.const -1))
            (then unreachable))))
      (local.get $p))
    (func (export "greet") (result i32)
      (i32.store $heap (i32.const 0) (i32.const 64))
      (i32.store $heap (i32.const 4) (i32.const 5))
      (i32.const 0))
    (func (export "echo") (param $ptr i32) (param $len i32) (result i32)
      (i32.store $heap (i32.const 8) (local.get $ptr))
      (i32.store $heap (i32.const 12) (local.get $len))
      (i32.const 8))
    ;; first(xs: list<u8>) -> u32: the first byte, read from "heap" (256 if empty)
    (func (export "first") (param $ptr i32) (param $len i32) (result i32)
      (if (result i32) (local.get $len)
        (then (i32.load8_u $heap (local.get $ptr)))
        (else (i32.const 256))))
  )
  (core instance $i (instantiate $m))
  (alias core export $i "heap" (core memory $heap))
  (alias core export $i "alloc" (core func $alloc))
  (func (export "greet") (result string)
    (canon lift (core func $i "greet") (memory $heap)))
  (func (export "echo") (param "text" string) (result string)
    (canon lift (core func $i "echo") (memory $heap) (realloc $alloc)))
  (func (export "first") (param "xs" (list u8)) (result u32)
    (canon lift (core func $i "first") (memory $heap) (realloc $alloc)))
)
