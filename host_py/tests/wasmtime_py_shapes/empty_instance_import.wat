;; Shape after wasmtime-py tests/component/test_types.py::TestTypes::test_instance (its
;; `(import "b" (instance))`): the component imports an instance with nothing in it, so there
;; is nothing for the host to provide, and exports one memory-less function next to it:
;;   import b: instance {}
;;   export ping: func() -> u32       always 7
(component
  (import "b" (instance))
  (core module $code
    (func (export "ping") (result i32) (i32.const 7)))
  (core instance $code (instantiate $code))
  (func (export "ping") (result u32) (canon lift (core func $code "ping")))
)
