;; Shape after wasmtime-py tests/component/test_func.py::TestFunc::test_roundtrip_empty
;; (and test_linker.py::TestLinker::test_host_exception): a world-level import
;; `x: func()` lowered into a core module (no memory anywhere) whose only function calls it,
;; lifted back out as the export `x: func()`. Calling the export calls the host once.
(component
  (import "x" (func $host-x))
  (core func $host-x-lowered (canon lower (func $host-x)))
  (core module $code
    (import "host" "x" (func $call-host))
    (func (export "run") (call $call-host)))
  (core instance $code
    (instantiate $code
      (with "host" (instance (export "x" (func $host-x-lowered))))))
  (func (export "x") (canon lift (core func $code "run")))
)
