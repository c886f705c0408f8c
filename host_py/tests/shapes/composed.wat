;; Shape: a composed component (as `wac compose` makes): part $lib has its own memory and
;; lifts `add` and `shout`; the main part, with another memory, lowers them and calls them.
;; Strings cross from one memory to the other through the host.
(component
  (component $lib
    (core module $m
      (memory (export "memory") 1)
      (global $next (mut i32) (i32.const 1024))
      ;; a bump allocator that copies on growth: realloc(old, old_size, align, size)
      (func $realloc (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
        (local $p i32)
        global.get $next
        local.get $align i32.const 1 i32.sub i32.add
        local.get $align i32.const 1 i32.sub i32.const -1 i32.xor i32.and
        local.tee $p local.get $size i32.add global.set $next
        local.get $old
        if (memory.copy (local.get $p) (local.get $old) (local.get $old_size)) end
        local.get $p)
      (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
      ;; shout(ptr, len) -> retptr: an upper-cased copy (ASCII letters only)
      (func (export "shout") (param $p i32) (param $n i32) (result i32)
        (local $out i32) (local $i i32) (local $c i32)
        (local.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 1) (local.get $n)))
        (block $done (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $c (i32.load8_u (i32.add (local.get $p) (local.get $i))))
          (if (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 122)))
            (then (local.set $c (i32.sub (local.get $c) (i32.const 32)))))
          (i32.store8 (i32.add (local.get $out) (local.get $i)) (local.get $c))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
        (i32.store (i32.const 16) (local.get $out))
        (i32.store (i32.const 20) (local.get $n))
        i32.const 16)
    )
    (core instance $i (instantiate $m))
    (alias core export $i "memory" (core memory $mem))
    (alias core export $i "realloc" (core func $r))
    (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
    (func (export "shout") (param "s" string) (result string)
      (canon lift (core func $i "shout") (memory $mem) (realloc $r)))
  )
  (instance $lib (instantiate $lib))
  (alias export $lib "add" (func $add))
  (alias export $lib "shout" (func $shout))

  (core module $libc
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 2048))
    (func (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
      (local $p i32)
      global.get $next
      local.get $align i32.const 1 i32.sub i32.add
      local.get $align i32.const 1 i32.sub i32.const -1 i32.xor i32.and
      local.tee $p local.get $size i32.add global.set $next
      local.get $old
      if (memory.copy (local.get $p) (local.get $old) (local.get $old_size)) end
      local.get $p))
  (core instance $libc (instantiate $libc))
  (alias core export $libc "memory" (core memory $main-mem))
  (alias core export $libc "realloc" (core func $main-realloc))
  (core func $add-lowered (canon lower (func $add)))
  (core func $shout-lowered (canon lower (func $shout) (memory $main-mem) (realloc $main-realloc)))
  (core module $main
    (import "libc" "memory" (memory 1))
    (import "lib" "add" (func $add (param i32 i32) (result i32)))
    (import "lib" "shout" (func $shout (param i32 i32 i32)))
    (func (export "add3") (param i32 i32 i32) (result i32)
      (call $add (call $add (local.get 0) (local.get 1)) (local.get 2)))
    ;; shout the string, then shout the result again (it must not change)
    (func (export "shout-twice") (param $p i32) (param $n i32) (result i32)
      (call $shout (local.get $p) (local.get $n) (i32.const 32))
      (call $shout (i32.load (i32.const 32)) (i32.load (i32.const 36)) (i32.const 40))
      i32.const 40)
  )
  (core instance $main (instantiate $main
    (with "libc" (instance $libc))
    (with "lib" (instance (export "add" (func $add-lowered)) (export "shout" (func $shout-lowered))))))
  (func (export "add3") (param "a" u32) (param "b" u32) (param "c" u32) (result u32)
    (canon lift (core func $main "add3")))
  (func (export "shout-twice") (param "s" string) (result string)
    (canon lift (core func $main "shout-twice") (memory $main-mem) (realloc $main-realloc)))
)
