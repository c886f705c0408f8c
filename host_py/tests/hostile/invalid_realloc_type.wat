;; Attacks: trusting the realloc's core type. INVALID: the `realloc` option names a
;; function of type (i32) -> i64 instead of (i32, i32, i32, i32) -> i32. Validation must
;; reject it at load.
(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "cabi_realloc") (param i32) (result i64) (i64.const 0))
    (func (export "echo") (param i32 i32) (result i32) (i32.const 8))
  )
  (core instance $i (instantiate $m))
  (alias core export $i "memory" (core memory $mem))
  (alias core export $i "cabi_realloc" (core func $realloc))
  (func (export "echo") (param "s" string) (result string)
    (canon lift (core func $i "echo") (memory $mem) (realloc $realloc)))
)
