;; Shape after wasmtime-py tests/component/test_func.py::TestFunc::test_call
;; (also test_type_reflection, and test_instance.py::TestInstance::test_get_func):
;; exports lifted straight from one core module that has no memory and no realloc.
;;   a: func()                 does nothing
;;   b: func(x: u32)           traps (unreachable) unless x == 100
;;   c: func() -> u32          returns 101
(component
  (core module $code
    (func (export "nothing"))
    (func (export "want-100") (param $x i32)
      (if (i32.ne (local.get $x) (i32.const 100))
        (then unreachable)))
    (func (export "give-101") (result i32)
      (i32.const 101)))
  (core instance $code (instantiate $code))
  (func (export "a") (canon lift (core func $code "nothing")))
  (func (export "b") (param "x" u32) (canon lift (core func $code "want-100")))
  (func (export "c") (result u32) (canon lift (core func $code "give-101")))
)
