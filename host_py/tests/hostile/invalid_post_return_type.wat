;; Attacks: trusting the post-return's core type. INVALID: the post-return of a function
;; whose core result is one i32 must take (i32); this one takes (i64, i64) and returns
;; an i32. Validation must reject it at load.
(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) unreachable)
    (func (export "greet") (result i32) (i32.const 8))
    (func (export "cabi_post_greet") (param i64 i64) (result i32) (i32.const 0))
  )
  (core instance $i (instantiate $m))
  (alias core export $i "memory" (core memory $mem))
  (func (export "greet") (result string)
    (canon lift (core func $i "greet") (memory $mem) (post-return (core func $i "cabi_post_greet"))))
)
