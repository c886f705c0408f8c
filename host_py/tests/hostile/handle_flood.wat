;; Attacks: the handle table's size. `flood(n)` creates `n` handles with resource.new and
;; never drops them (returns the last handle); `flood-forever` never stops creating them.
;; `count` is a healthy call.
(component
  (type $r (resource (rep i32)))
  (export $r-exported "r" (type $r))
  (core func $r-new (canon resource.new $r))
  (core module $m
    (import "[export]$root" "[resource-new]r" (func $r-new (param i32) (result i32)))
    (memory (export "memory") 1)
    (global $calls (mut i32) (i32.const 0))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func (export "flood") (param $n i32) (result i32)
      (local $h i32)
      (block $done
        (loop $next
          (br_if $done (i32.eqz (local.get $n)))
          (local.set $h (call $r-new (local.get $n)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $next)))
      (local.get $h))
    (func (export "flood-forever")
      (loop $forever
        (drop (call $r-new (i32.const 1)))
        (br $forever)))
    (func (export "count") (result i32)
      (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
      (global.get $calls))
  )
  (core instance $i (instantiate $m
    (with "[export]$root" (instance (export "[resource-new]r" (func $r-new))))))
  (func (export "flood") (param "n" u32) (result u32) (canon lift (core func $i "flood")))
  (func (export "flood-forever") (canon lift (core func $i "flood-forever")))
  (func (export "count") (result u32) (canon lift (core func $i "count")))
)
