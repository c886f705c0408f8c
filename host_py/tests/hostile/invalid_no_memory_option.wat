;; Attacks: a string lift without the `memory` option. INVALID: a string result needs a
;; memory to be read from. Validation must reject it at load.
(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) unreachable)
    (func (export "greet") (result i32) (i32.const 8))
  )
  (core instance $i (instantiate $m))
  (func (export "greet") (result string) (canon lift (core func $i "greet")))
)
