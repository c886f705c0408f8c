;; Not in wasmtime-py's component tests: an export of an `async` function type, lifted with the
;; `async` canonical option and a callback (component-model async), which sandlink does not
;; support:
;;   work: async func(n: u32)
;; The core function returns 0 (EXIT) at once; the callback is never reached.
(component
  (core module $code
    (func (export "work") (param i32) (result i32) (i32.const 0))
    (func (export "callback") (param i32 i32 i32) (result i32) (i32.const 0)))
  (core instance $code (instantiate $code))
  (type $work (func async (param "n" u32)))
  (func $work (type $work)
    (canon lift (core func $code "work") async (callback (core func $code "callback"))))
  (export "work" (func $work))
)
