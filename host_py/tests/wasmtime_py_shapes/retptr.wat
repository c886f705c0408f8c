;; Shape after wasmtime-py tests/component/test_func.py::TestFunc::test_record, ::test_tuple,
;; ::test_variant (the payload-carrying parts), ::test_option and ::test_result, all built with
;; its `retptr_component` helper: a host import `echo-T: func(v: T) -> T` and the export
;; `echo-T` lifted from a core function that calls it. T flattens to two core values, so the
;; result does not fit in one: the lowered import gets an extra return-pointer argument and
;; the lifted export returns a pointer. The memory those pointers point into belongs to a
;; separate core module ($libc, exporting it as "mem") that has no realloc and no code; the
;; module with the code has no memory at all and simply passes the fixed address 16.
;;
;; Named types (imported for the import's signature, exported under the same name for the
;; export's, as a world using them on both sides is encoded):
;;   pair:          record { a: u32, b: bool }
;;   num:           variant { a(u32), b(u64) }
;;   int-or-float:  variant { a(u32), b(f32) }
;;   maybe-float:   variant { a, b(f32) }
;; Anonymous: tuple<u32, bool>, option<u32>, result<u32, f32>, result<u32>, result<_, f32>.
(component
  (type $pair' (record (field "a" u32) (field "b" bool)))
  (type $num' (variant (case "a" u32) (case "b" u64)))
  (type $int-or-float' (variant (case "a" u32) (case "b" f32)))
  (type $maybe-float' (variant (case "a") (case "b" f32)))
  (import "pair" (type $pair (eq $pair')))
  (import "num" (type $num (eq $num')))
  (import "int-or-float" (type $int-or-float (eq $int-or-float')))
  (import "maybe-float" (type $maybe-float (eq $maybe-float')))

  (import "echo-record" (func $host-echo-record (param "v" $pair) (result $pair)))
  (import "echo-tuple" (func $host-echo-tuple (param "v" (tuple u32 bool)) (result (tuple u32 bool))))
  (import "echo-num" (func $host-echo-num (param "v" $num) (result $num)))
  (import "echo-int-or-float" (func $host-echo-int-or-float (param "v" $int-or-float) (result $int-or-float)))
  (import "echo-maybe-float" (func $host-echo-maybe-float (param "v" $maybe-float) (result $maybe-float)))
  (import "echo-option" (func $host-echo-option (param "v" (option u32)) (result (option u32))))
  (import "echo-result" (func $host-echo-result (param "v" (result u32 (error f32))) (result (result u32 (error f32)))))
  (import "echo-result-ok" (func $host-echo-result-ok (param "v" (result u32)) (result (result u32))))
  (import "echo-result-err" (func $host-echo-result-err (param "v" (result (error f32))) (result (result (error f32)))))

  (core module $libc (memory (export "mem") 1))
  (core instance $libc (instantiate $libc))

  (core func $lowered-echo-record (canon lower (func $host-echo-record) (memory (core memory $libc "mem"))))
  (core func $lowered-echo-tuple (canon lower (func $host-echo-tuple) (memory (core memory $libc "mem"))))
  (core func $lowered-echo-num (canon lower (func $host-echo-num) (memory (core memory $libc "mem"))))
  (core func $lowered-echo-int-or-float (canon lower (func $host-echo-int-or-float) (memory (core memory $libc "mem"))))
  (core func $lowered-echo-maybe-float (canon lower (func $host-echo-maybe-float) (memory (core memory $libc "mem"))))
  (core func $lowered-echo-option (canon lower (func $host-echo-option) (memory (core memory $libc "mem"))))
  (core func $lowered-echo-result (canon lower (func $host-echo-result) (memory (core memory $libc "mem"))))
  (core func $lowered-echo-result-ok (canon lower (func $host-echo-result-ok) (memory (core memory $libc "mem"))))
  (core func $lowered-echo-result-err (canon lower (func $host-echo-result-err) (memory (core memory $libc "mem"))))

  (core module $code
    (import "host" "echo-record" (func $call-echo-record (param i32 i32 i32)))
    (import "host" "echo-tuple" (func $call-echo-tuple (param i32 i32 i32)))
    (import "host" "echo-num" (func $call-echo-num (param i32 i64 i32)))
    (import "host" "echo-int-or-float" (func $call-echo-int-or-float (param i32 i32 i32)))
    (import "host" "echo-maybe-float" (func $call-echo-maybe-float (param i32 f32 i32)))
    (import "host" "echo-option" (func $call-echo-option (param i32 i32 i32)))
    (import "host" "echo-result" (func $call-echo-result (param i32 i32 i32)))
    (import "host" "echo-result-ok" (func $call-echo-result-ok (param i32 i32 i32)))
    (import "host" "echo-result-err" (func $call-echo-result-err (param i32 f32 i32)))
    (func (export "echo-record") (param i32 i32) (result i32)
      (call $call-echo-record (local.get 0) (local.get 1) (i32.const 16))
      (i32.const 16))
    (func (export "echo-tuple") (param i32 i32) (result i32)
      (call $call-echo-tuple (local.get 0) (local.get 1) (i32.const 16))
      (i32.const 16))
    (func (export "echo-num") (param i32 i64) (result i32)
      (call $call-echo-num (local.get 0) (local.get 1) (i32.const 16))
      (i32.const 16))
    (func (export "echo-int-or-float") (param i32 i32) (result i32)
      (call $call-echo-int-or-float (local.get 0) (local.get 1) (i32.const 16))
      (i32.const 16))
    (func (export "echo-maybe-float") (param i32 f32) (result i32)
      (call $call-echo-maybe-float (local.get 0) (local.get 1) (i32.const 16))
      (i32.const 16))
    (func (export "echo-option") (param i32 i32) (result i32)
      (call $call-echo-option (local.get 0) (local.get 1) (i32.const 16))
      (i32.const 16))
    (func (export "echo-result") (param i32 i32) (result i32)
      (call $call-echo-result (local.get 0) (local.get 1) (i32.const 16))
      (i32.const 16))
    (func (export "echo-result-ok") (param i32 i32) (result i32)
      (call $call-echo-result-ok (local.get 0) (local.get 1) (i32.const 16))
      (i32.const 16))
    (func (export "echo-result-err") (param i32 f32) (result i32)
      (call $call-echo-result-err (local.get 0) (local.get 1) (i32.const 16))
      (i32.const 16)))
  (core instance $code
    (instantiate $code
      (with "host" (instance
        (export "echo-record" (func $lowered-echo-record))
        (export "echo-tuple" (func $lowered-echo-tuple))
        (export "echo-num" (func $lowered-echo-num))
        (export "echo-int-or-float" (func $lowered-echo-int-or-float))
        (export "echo-maybe-float" (func $lowered-echo-maybe-float))
        (export "echo-option" (func $lowered-echo-option))
        (export "echo-result" (func $lowered-echo-result))
        (export "echo-result-ok" (func $lowered-echo-result-ok))
        (export "echo-result-err" (func $lowered-echo-result-err))))))

  (export $pair-out "pair" (type $pair))
  (export $num-out "num" (type $num))
  (export $int-or-float-out "int-or-float" (type $int-or-float))
  (export $maybe-float-out "maybe-float" (type $maybe-float))

  (func (export "echo-record") (param "v" $pair-out) (result $pair-out)
    (canon lift (core func $code "echo-record") (memory (core memory $libc "mem"))))
  (func (export "echo-tuple") (param "v" (tuple u32 bool)) (result (tuple u32 bool))
    (canon lift (core func $code "echo-tuple") (memory (core memory $libc "mem"))))
  (func (export "echo-num") (param "v" $num-out) (result $num-out)
    (canon lift (core func $code "echo-num") (memory (core memory $libc "mem"))))
  (func (export "echo-int-or-float") (param "v" $int-or-float-out) (result $int-or-float-out)
    (canon lift (core func $code "echo-int-or-float") (memory (core memory $libc "mem"))))
  (func (export "echo-maybe-float") (param "v" $maybe-float-out) (result $maybe-float-out)
    (canon lift (core func $code "echo-maybe-float") (memory (core memory $libc "mem"))))
  (func (export "echo-option") (param "v" (option u32)) (result (option u32))
    (canon lift (core func $code "echo-option") (memory (core memory $libc "mem"))))
  (func (export "echo-result") (param "v" (result u32 (error f32))) (result (result u32 (error f32)))
    (canon lift (core func $code "echo-result") (memory (core memory $libc "mem"))))
  (func (export "echo-result-ok") (param "v" (result u32)) (result (result u32))
    (canon lift (core func $code "echo-result-ok") (memory (core memory $libc "mem"))))
  (func (export "echo-result-err") (param "v" (result (error f32))) (result (result (error f32)))
    (canon lift (core func $code "echo-result-err") (memory (core memory $libc "mem"))))
)
