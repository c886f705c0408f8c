;; Attacks: unbounded work during instantiation. The core module's start function loops
;; forever, so only a limit (timeout or fuel) can stop the load or the first call.
(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func $init (loop $forever (br $forever)))
    (start $init)
    (func (export "double") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
  )
  (core instance $i (instantiate $m))
  (func (export "double") (param "x" u32) (result u32) (canon lift (core func $i "double")))
)
