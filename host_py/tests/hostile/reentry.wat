;; Attacks: re-entering an instance. `call-out(x)` calls the host import `callback(x)` and
;; returns its result + 1; a Python callback that calls `double` or `crash` on the same
;; loaded object re-enters the instance while `call-out` is still on its stack, which the
;; component model forbids.
(component
  (import "test:hostile/host@0.1.0" (instance $host
    (export "callback" (func (param "x" u32) (result u32)))))
  (alias export $host "callback" (func $callback))
  (core func $callback-lowered (canon lower (func $callback)))
  (core module $m
    (import "test:hostile/host@0.1.0" "callback" (func $callback (param i32) (result i32)))
    (memory (export "memory") 1)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func (export "call-out") (param i32) (result i32)
      (i32.add (call $callback (local.get 0)) (i32.const 1)))
    (func (export "double") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
    (func (export "crash") unreachable)
  )
  (core instance $i (instantiate $m
    (with "test:hostile/host@0.1.0" (instance (export "callback" (func $callback-lowered))))))
  (func (export "call-out") (param "x" u32) (result u32) (canon lift (core func $i "call-out")))
  (func (export "double") (param "x" u32) (result u32) (canon lift (core func $i "double")))
  (func (export "crash") (canon lift (core func $i "crash")))
)
