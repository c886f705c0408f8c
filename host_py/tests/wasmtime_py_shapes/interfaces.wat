;; Shape after wasmtime-py tests/component/test_component.py::TestComponent::test_exports and
;; test_types.py::TestTypes::test_instance: instances as imports and exports, here holding
;; functions (wasmtime-py's hold core modules, which are not callable). Next to a
;; world-level export:
;;   import sandlink:shapes/log@0.1.0 { note: func(n: u32) }
;;   export sandlink:shapes/math@0.1.0 { add: func(a: u32, b: u32) -> u32   (wrapping)
;;                                       negate: func(x: s64) -> s64        (wrapping) }
;;   export answer: func() -> u32       calls log.note(42), then returns 42
;; One core module without memory implements all three.
(component
  (import "sandlink:shapes/log@0.1.0" (instance $log
    (export "note" (func (param "n" u32)))))
  (alias export $log "note" (func $note))
  (core func $note-lowered (canon lower (func $note)))

  (core module $code
    (import "sandlink:shapes/log@0.1.0" "note" (func $note (param i32)))
    (func (export "add") (param i32 i32) (result i32)
      (i32.add (local.get 0) (local.get 1)))
    (func (export "negate") (param i64) (result i64)
      (i64.sub (i64.const 0) (local.get 0)))
    (func (export "answer") (result i32)
      (call $note (i32.const 42))
      (i32.const 42)))
  (core instance $code
    (instantiate $code
      (with "sandlink:shapes/log@0.1.0" (instance (export "note" (func $note-lowered))))))

  (func $add (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $code "add")))
  (func $negate (param "x" s64) (result s64)
    (canon lift (core func $code "negate")))
  (instance $math
    (export "add" (func $add))
    (export "negate" (func $negate)))
  (export "sandlink:shapes/math@0.1.0" (instance $math))

  (func (export "answer") (result u32) (canon lift (core func $code "answer")))
)
