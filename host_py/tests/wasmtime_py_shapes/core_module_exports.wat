;; Shape after wasmtime-py tests/component/test_component.py::TestComponent::test_exports
;; (and test_instance.py::TestInstance::test_smoke): a component whose exports are core
;; modules, one at the top level ("foo") and one inside an exported instance ("x" -> "m").
;; Neither is a function, so neither is callable from the host. One ordinary function,
;; `ping: func() -> u32` (always 7), sits next to them so the load has something to call.
;; No core instance here has a memory.
(component
  (core module $nothing)
  (export "foo" (core module $nothing))

  (core module $holder)
  (instance $x (export "m" (core module $holder)))
  (export "x" (instance $x))

  (core module $code
    (func (export "ping") (result i32) (i32.const 7)))
  (core instance $code (instantiate $code))
  (func (export "ping") (result u32) (canon lift (core func $code "ping")))
)
