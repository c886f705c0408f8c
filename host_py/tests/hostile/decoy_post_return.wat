;; Attacks: finding the post-return function by NAME. `greet` names its post-return
;; "cleanup" (it counts its calls); the module also exports a decoy "cabi_post_greet"
;; that traps. `cleanups` reports how many times the real post-return ran.
(component
  (core module $m
    (memory (export "memory") 1)
    (data (i32.const 64) "hello")
    (global $cleanups (mut i32) (i32.const 0))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) unreachable)
    (func (export "cabi_post_greet") (param i32) unreachable)
    (func (export "greet") (result i32)
      (i32.store (i32.const 8) (i32.const 64))
      (i32.store (i32.const 12) (i32.const 5))
      (i32.const 8))
    (func (export "cleanup") (param $retptr i32)
      ;; the post-return gets the core result back: check it, then count
      (if (i32.ne (local.get $retptr) (i32.const 8)) (then unreachable))
      (global.set $cleanups (i32.add (global.get $cleanups) (i32.const 1))))
    (func (export "cleanups") (result i32) (global.get $cleanups))
  )
  (core instance $i (instantiate $m))
  (alias core export $i "memory" (core memory $mem))
  (func (export "greet") (result string)
    (canon lift (core func $i "greet") (memory $mem) (post-return (core func $i "cleanup"))))
  (func (export "cleanups") (result u32) (canon lift (core func $i "cleanups")))
)
