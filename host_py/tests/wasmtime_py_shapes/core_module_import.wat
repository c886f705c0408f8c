;; Shape after wasmtime-py tests/component/test_types.py::TestTypes::test_component (and
;; ::test_module): the component imports a core module (with its own import and export) and
;; re-exports it. The host would have to supply a core module, which sandlink's imports (Python
;; callables per function) cannot express, so this cannot load.
(component
  (import "a" (core module $a
    (import "b" "c" (func))
    (export "d" (global i32))))
  (export "g" (core module $a))
)
