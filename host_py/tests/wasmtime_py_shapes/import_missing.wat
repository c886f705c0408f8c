;; Shape after wasmtime-py tests/component/test_linker.py::TestLinker::test_fail_instantiate
;; (and test_define_unknown_imports_as_traps): a component that only imports a function,
;; `x: func()`, and does nothing else. Instantiating it without providing `x` must fail.
(component
  (import "x" (func))
)
