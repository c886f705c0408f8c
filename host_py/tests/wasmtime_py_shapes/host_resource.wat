;; Shape after wasmtime-py tests/component/test_func.py::TestFunc::test_resources: a resource
;; type the component IMPORTS (the host implements it), with imported functions that make,
;; borrow and take it, each re-exported through a core module:
;;   import t: resource
;;   import mk: func() -> own<t>;   import borrow: func(t: borrow<t>);   import own: func(t: own<t>)
;;   export mk: func() -> own<t>;   export borrow: func(x: borrow<t>);   export own: func(x: own<t>)
;; The exported `borrow` also drops the handle it was lent (canonical resource.drop on the
;; imported type). Its exports pass the host's resource, which sandlink cannot do yet (its
;; imports could: see tests/test_host_resources.py), so this cannot load.
(component
  (import "t" (type $t (sub resource)))
  (import "mk" (func $host-mk (result (own $t))))
  (import "borrow" (func $host-borrow (param "t" (borrow $t))))
  (import "own" (func $host-own (param "t" (own $t))))

  (core func $lowered-mk (canon lower (func $host-mk)))
  (core func $lowered-borrow (canon lower (func $host-borrow)))
  (core func $lowered-own (canon lower (func $host-own)))
  (core func $drop-t (canon resource.drop $t))

  (core module $code
    (import "host" "mk" (func $mk (result i32)))
    (import "host" "borrow" (func $borrow (param i32)))
    (import "host" "own" (func $own (param i32)))
    (import "host" "drop-t" (func $drop (param i32)))
    (func (export "mk") (result i32) (call $mk))
    (func (export "borrow") (param $h i32)
      (call $borrow (local.get $h))
      (call $drop (local.get $h)))
    (func (export "own") (param $h i32) (call $own (local.get $h))))
  (core instance $code
    (instantiate $code
      (with "host" (instance
        (export "mk" (func $lowered-mk))
        (export "borrow" (func $lowered-borrow))
        (export "own" (func $lowered-own))
        (export "drop-t" (func $drop-t))))))

  (func (export "mk") (result (own $t)) (canon lift (core func $code "mk")))
  (func (export "borrow") (param "x" (borrow $t)) (canon lift (core func $code "borrow")))
  (func (export "own") (param "x" (own $t)) (canon lift (core func $code "own")))
)
