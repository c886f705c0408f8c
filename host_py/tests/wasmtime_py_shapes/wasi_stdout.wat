;; Not in wasmtime-py's component tests (they only add WASI to a Linker: test_linker.py::
;; TestLinker::test_add_wasip2), so this is the smallest component of ours that NEEDS WASI the
;; way a real guest printing to stdout does: it imports wasi:io/streams' `output-stream`
;; resource (implemented by the host) and wasi:cli/stdout's `get-stdout`, and exports
;;   hello: func()     gets stdout's handle and drops it again
;; It loads only when WASI is granted (`wasi=`).
(component
  (import "wasi:io/streams@0.2.0" (instance $streams
    (export "output-stream" (type (sub resource)))))
  (alias export $streams "output-stream" (type $output-stream))
  (import "wasi:cli/stdout@0.2.0" (instance $stdout
    (alias outer 1 $output-stream (type $os))
    (export "output-stream" (type $os' (eq $os)))
    (export "get-stdout" (func (result (own $os'))))))
  (alias export $stdout "get-stdout" (func $get-stdout))

  (core func $get-stdout-lowered (canon lower (func $get-stdout)))
  (core func $drop-stream (canon resource.drop $output-stream))
  (core module $code
    (import "wasi:cli/stdout@0.2.0" "get-stdout" (func $get-stdout (result i32)))
    (import "wasi:io/streams@0.2.0" "[resource-drop]output-stream" (func $drop (param i32)))
    (func (export "hello") (call $drop (call $get-stdout))))
  (core instance $code
    (instantiate $code
      (with "wasi:cli/stdout@0.2.0" (instance (export "get-stdout" (func $get-stdout-lowered))))
      (with "wasi:io/streams@0.2.0" (instance
        (export "[resource-drop]output-stream" (func $drop-stream))))))
  (func (export "hello") (canon lift (core func $code "hello")))
)
