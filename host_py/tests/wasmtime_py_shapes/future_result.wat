;; After the TODO at the end of wasmtime-py tests/component/test_func.py ("roundtrip future"):
;; an export returning a `future<u32>` (component-model async), which sandlink does not map:
;;   later: func() -> future<u32>
(component
  (core module $code
    (func (export "later") (result i32) (i32.const 0)))
  (core instance $code (instantiate $code))
  (func (export "later") (result (future u32))
    (canon lift (core func $code "later")))
)
