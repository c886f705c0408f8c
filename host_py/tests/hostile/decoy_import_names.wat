;; Attacks: mapping core imports to component imports by NAME. The core module imports
;; the lowered host function `ping` as "env" "f0" (core names are arbitrary), and a second,
;; unrelated lowered function `pong` under the name "test:hostile/host@0.1.0" "ping".
(component
  (import "test:hostile/host@0.1.0" (instance $host
    (export "ping" (func (param "x" u32) (result u32)))
    (export "pong" (func (param "x" u32) (result u32)))))
  (alias export $host "ping" (func $ping))
  (alias export $host "pong" (func $pong))
  (core func $ping-lowered (canon lower (func $ping)))
  (core func $pong-lowered (canon lower (func $pong)))
  (core module $m
    (import "env" "f0" (func $ping (param i32) (result i32)))
    (import "test:hostile/host@0.1.0" "ping" (func $pong (param i32) (result i32)))
    (memory (export "memory") 1)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func (export "call-ping") (param i32) (result i32) (call $ping (local.get 0)))
    (func (export "call-pong") (param i32) (result i32) (call $pong (local.get 0)))
  )
  (core instance $i (instantiate $m
    (with "env" (instance (export "f0" (func $ping-lowered))))
    (with "test:hostile/host@0.1.0" (instance (export "ping" (func $pong-lowered))))))
  (func (export "call-ping") (param "x" u32) (result u32) (canon lift (core func $i "call-ping")))
  (func (export "call-pong") (param "x" u32) (result u32) (canon lift (core func $i "call-pong")))
)
