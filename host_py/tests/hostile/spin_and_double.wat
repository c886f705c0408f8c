;; Attacks: a call that never returns. `spin` loops forever (only a limit or an interrupt
;; can stop it); `double` is a healthy call to check the object afterwards.
(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) unreachable)
    (func (export "spin") (loop $forever (br $forever)))
    (func (export "double") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
  )
  (core instance $i (instantiate $m))
  (func (export "spin") (canon lift (core func $i "spin")))
  (func (export "double") (param "x" u32) (result u32) (canon lift (core func $i "double")))
)
