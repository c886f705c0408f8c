;; Attacks: trusting the lift's core type. INVALID: `add(a: u32, b: u32) -> u32` lifts a
;; core function of type (i64) -> i64. Validation must reject it at load.
(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) unreachable)
    (func (export "add") (param i64) (result i64) (local.get 0))
  )
  (core instance $i (instantiate $m))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "add")))
)
