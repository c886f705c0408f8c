;; Attacks: assuming every component has a linear memory and an allocator. This one has
;; neither: its exports take and return only scalars, which need no canonical options.
(component
  (core module $m
    (func (export "answer") (result i32) (i32.const 42))
    (func (export "negate") (param f64) (result f64) (f64.neg (local.get 0)))
    (func (export "flip") (param i32) (result i32) (i32.eqz (local.get 0)))
  )
  (core instance $i (instantiate $m))
  (func (export "answer") (result u32) (canon lift (core func $i "answer")))
  (func (export "negate") (param "x" f64) (result f64) (canon lift (core func $i "negate")))
  (func (export "flip") (param "b" bool) (result bool) (canon lift (core func $i "flip")))
)
