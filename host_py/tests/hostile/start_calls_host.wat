;; Attacks: host calls during instantiation. The core module's start function calls the
;; lowered host import `ping(7)` before any export exists; `seen` returns what it got.
(component
  (import "test:hostile/host@0.1.0" (instance $host
    (export "ping" (func (param "x" u32) (result u32)))))
  (alias export $host "ping" (func $ping))
  (core func $ping-lowered (canon lower (func $ping)))
  (core module $m
    (import "test:hostile/host@0.1.0" "ping" (func $ping (param i32) (result i32)))
    (memory (export "memory") 1)
    (global $seen (mut i32) (i32.const 0))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func $init (global.set $seen (call $ping (i32.const 7))))
    (start $init)
    (func (export "seen") (result i32) (global.get $seen))
  )
  (core instance $i (instantiate $m
    (with "test:hostile/host@0.1.0" (instance (export "ping" (func $ping-lowered))))))
  (func (export "seen") (result u32) (canon lift (core func $i "seen")))
)
