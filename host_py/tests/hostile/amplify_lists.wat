;; Attacks: result amplification. `nest(outer, inner)` returns a list<list<u64>> whose
;; `outer` elements all point at the SAME `inner` u64s, and `strings(outer, len)` a
;; list<string> whose elements all point at the same `len` bytes: a few hundred KiB of
;; guest memory would lift into gigabytes. Memory grows only as much as the guest needs.
(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) unreachable)
    ;; make sure `end` bytes are addressable
    (func $reserve (param $end i32)
      (local $pages i32)
      (local.set $pages (i32.shr_u (i32.add (local.get $end) (i32.const 0xffff)) (i32.const 16)))
      (if (i32.gt_u (local.get $pages) (memory.size))
        (then
          (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
            (then unreachable)))))
    ;; `count` (ptr, len) pairs at `at`, all equal to (`ptr`, `len`); returns the retptr (8)
    (func $fan-out (param $at i32) (param $count i32) (param $ptr i32) (param $len i32)
      (result i32)
      (local $i i32)
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
          (i32.store (i32.add (local.get $at) (i32.shl (local.get $i) (i32.const 3)))
            (local.get $ptr))
          (i32.store offset=4 (i32.add (local.get $at) (i32.shl (local.get $i) (i32.const 3)))
            (local.get $len))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (i32.store (i32.const 8) (local.get $at))
      (i32.store (i32.const 12) (local.get $count))
      (i32.const 8))
    ;; inner u64s at 0x10000 (each = its index), the outer (ptr, len) array right after
    (func (export "nest") (param $outer i32) (param $inner i32) (result i32)
      (local $at i32) (local $i i32)
      (local.set $at (i32.add (i32.const 0x10000) (i32.shl (local.get $inner) (i32.const 3))))
      (call $reserve (i32.add (local.get $at) (i32.shl (local.get $outer) (i32.const 3))))
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $inner)))
          (i64.store (i32.add (i32.const 0x10000) (i32.shl (local.get $i) (i32.const 3)))
            (i64.extend_i32_u (local.get $i)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (call $fan-out (local.get $at) (local.get $outer) (i32.const 0x10000) (local.get $inner)))
    ;; `len` bytes of "a" at 0x10000, the outer (ptr, len) array right after (8-aligned)
    (func (export "strings") (param $outer i32) (param $len i32) (result i32)
      (local $at i32)
      (local.set $at
        (i32.and (i32.add (i32.add (i32.const 0x10000) (local.get $len)) (i32.const 7))
          (i32.const -8)))
      (call $reserve (i32.add (local.get $at) (i32.shl (local.get $outer) (i32.const 3))))
      (memory.fill (i32.const 0x10000) (i32.const 0x61) (local.get $len))
      (call $fan-out (local.get $at) (local.get $outer) (i32.const 0x10000) (local.get $len)))
  )
  (core instance $i (instantiate $m))
  (alias core export $i "memory" (core memory $mem))
  (func (export "nest") (param "outer" u32) (param "inner" u32) (result (list (list u64)))
    (canon lift (core func $i "nest") (memory $mem)))
  (func (export "strings") (param "outer" u32) (param "len" u32) (result (list string))
    (canon lift (core func $i "strings") (memory $mem)))
)
