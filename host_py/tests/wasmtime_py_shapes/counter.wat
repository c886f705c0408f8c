;; Shape extending wasmtime-py tests/component/test_value.py::TestValue::test_resource_any
;; (a resource the component defines and exports) with everything sandlink maps onto a class:
;;   resource counter {
;;     constructor(start: u32)                 [constructor]counter
;;     get: func() -> u32                      [method]counter.get
;;     add: func(n: u32) -> u32                [method]counter.add   (wrapping; new value)
;;     zero: static func() -> counter          [static]counter.zero
;;     take: static func(c: counter) -> u32    [static]counter.take  (own: the value, then drops c)
;;   }
;;   dropped: func() -> u32                    how many times the destructor has run
;; Two core modules: $state owns a private memory (4-byte cells; a counter's rep is its cell's
;; address) and the destructor; $code implements the exports on top of $state's functions and
;; the canonical resource.new / resource.rep / resource.drop built-ins. The destructor has to
;; exist before the resource type that names it, hence the split. No canonical option names a
;; memory: nothing crosses the boundary through memory.
(component
  (core module $state
    (memory 1)
    (global $next (mut i32) (i32.const 16))
    (global $dropped (mut i32) (i32.const 0))
    (func (export "alloc") (param $start i32) (result i32)
      (local $cell i32)
      (local.set $cell (global.get $next))
      (global.set $next (i32.add (global.get $next) (i32.const 4)))
      (i32.store (local.get $cell) (local.get $start))
      (local.get $cell))
    (func (export "get") (param $cell i32) (result i32)
      (i32.load (local.get $cell)))
    (func (export "add") (param $cell i32) (param $n i32) (result i32)
      (i32.store (local.get $cell) (i32.add (i32.load (local.get $cell)) (local.get $n)))
      (i32.load (local.get $cell)))
    (func (export "dtor") (param $cell i32)
      (global.set $dropped (i32.add (global.get $dropped) (i32.const 1))))
    (func (export "dropped") (result i32)
      (global.get $dropped)))
  (core instance $state (instantiate $state))

  (type $counter' (resource (rep i32) (dtor (core func $state "dtor"))))
  (export $counter "counter" (type $counter'))
  (core func $resource-new (canon resource.new $counter))
  (core func $resource-rep (canon resource.rep $counter))
  (core func $resource-drop (canon resource.drop $counter))

  (core module $code
    (import "state" "alloc" (func $alloc (param i32) (result i32)))
    (import "state" "get" (func $get (param i32) (result i32)))
    (import "state" "add" (func $add (param i32 i32) (result i32)))
    (import "state" "dropped" (func $dropped (result i32)))
    (import "[export]counter" "new" (func $resource-new (param i32) (result i32)))
    (import "[export]counter" "rep" (func $resource-rep (param i32) (result i32)))
    (import "[export]counter" "drop" (func $resource-drop (param i32)))
    ;; own<counter> results are handles made by resource.new; a borrow<counter> argument
    ;; arrives as the rep itself (the component defines the resource); an own<counter>
    ;; argument arrives as a handle.
    (func (export "constructor") (param $start i32) (result i32)
      (call $resource-new (call $alloc (local.get $start))))
    (func (export "get") (param $rep i32) (result i32)
      (call $get (local.get $rep)))
    (func (export "add") (param $rep i32) (param $n i32) (result i32)
      (call $add (local.get $rep) (local.get $n)))
    (func (export "zero") (result i32)
      (call $resource-new (call $alloc (i32.const 0))))
    (func (export "take") (param $handle i32) (result i32)
      (local $value i32)
      (local.set $value (call $get (call $resource-rep (local.get $handle))))
      (call $resource-drop (local.get $handle))
      (local.get $value))
    (func (export "dropped") (result i32)
      (call $dropped)))
  (core instance $code
    (instantiate $code
      (with "state" (instance $state))
      (with "[export]counter" (instance
        (export "new" (func $resource-new))
        (export "rep" (func $resource-rep))
        (export "drop" (func $resource-drop))))))

  (func (export "[constructor]counter") (param "start" u32) (result (own $counter))
    (canon lift (core func $code "constructor")))
  (func (export "[method]counter.get") (param "self" (borrow $counter)) (result u32)
    (canon lift (core func $code "get")))
  (func (export "[method]counter.add") (param "self" (borrow $counter)) (param "n" u32) (result u32)
    (canon lift (core func $code "add")))
  (func (export "[static]counter.zero") (result (own $counter))
    (canon lift (core func $code "zero")))
  (func (export "[static]counter.take") (param "c" (own $counter)) (result u32)
    (canon lift (core func $code "take")))
  (func (export "dropped") (result u32)
    (canon lift (core func $code "dropped")))
)
