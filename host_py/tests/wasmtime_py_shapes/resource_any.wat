;; Shape after wasmtime-py tests/component/test_value.py::TestValue::test_resource_any: a
;; resource type defined and exported by the component itself (rep i32, no destructor, no
;; constructor or methods), used only by two world-level functions:
;;   resource t
;;   new: func(x: u32) -> own<t>     a new t whose rep is x
;;   drop: func(x: own<t>)           takes ownership back and drops it
;; The core module imports the canonical resource.new / resource.drop built-ins; no memory.
(component
  (type $t' (resource (rep i32)))
  (export $t "t" (type $t'))
  (core func $resource-new (canon resource.new $t))
  (core func $resource-drop (canon resource.drop $t))

  (core module $code
    (import "" "resource-new" (func $resource-new (param i32) (result i32)))
    (import "" "resource-drop" (func $resource-drop (param i32)))
    (func (export "new") (param $rep i32) (result i32)
      (call $resource-new (local.get $rep)))
    (func (export "drop") (param $handle i32)
      (call $resource-drop (local.get $handle))))
  (core instance $code
    (instantiate $code
      (with "" (instance
        (export "resource-new" (func $resource-new))
        (export "resource-drop" (func $resource-drop))))))

  (func (export "new") (param "x" u32) (result (own $t))
    (canon lift (core func $code "new")))
  (func (export "drop") (param "x" (own $t))
    (canon lift (core func $code "drop")))
)
