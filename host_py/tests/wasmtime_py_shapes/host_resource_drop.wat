;; Shape after wasmtime-py tests/component/test_value.py::TestValue::test_resource_host_dtor
;; (and ::test_exception_in_host_resource_dtor): the component imports a resource type and
;; exports one function taking ownership of it, which just drops it (so the host's destructor
;; runs). There are no imported functions, only the imported resource type:
;;   import t: resource
;;   export drop: func(x: own<t>)
;; The host gives the guest its object; the guest's drop runs the object's close().
(component
  (import "t" (type $t (sub resource)))
  (core func $drop-t (canon resource.drop $t))
  (core module $code
    (import "" "drop-t" (func $drop (param i32)))
    (func (export "drop") (param $h i32) (call $drop (local.get $h))))
  (core instance $code
    (instantiate $code (with "" (instance (export "drop-t" (func $drop-t))))))
  (func (export "drop") (param "x" (own $t)) (canon lift (core func $code "drop")))
)
