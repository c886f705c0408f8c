;; Attacks: finding the core function by the component export's NAME. The core module
;; exports "add" with a different core type (and wrong behaviour) and "cabi_realloc" that
;; traps; the component's `add` actually lifts "real-add" (and uses no realloc at all).
(component
  (core module $m
    (memory (export "memory") 1)
    ;; decoys: same names a host might guess, different types and behaviour
    (func (export "add") (param i64) (result i64) (i64.const -1))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) unreachable)
    (func (export "cabi_post_add") (param i32) unreachable)
    ;; the function the component really exports as `add`
    (func (export "real-add") (param i32 i32) (result i32)
      (i32.add (local.get 0) (local.get 1)))
    ;; and `sub` really lifts the function exported as "add2"
    (func (export "add2") (param i32 i32) (result i32)
      (i32.sub (local.get 0) (local.get 1)))
  )
  (core instance $i (instantiate $m))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "real-add")))
  (func (export "sub") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "add2")))
)
