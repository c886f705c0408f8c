;; Attacks: assuming one core module holds memory, allocator and code. Here $libc owns the
;; memory and `cabi_realloc`; the exported functions live in $code, which imports them.
(component
  (core module $libc
    (memory (export "memory") 1)
    (global $bump (mut i32) (i32.const 1024))
    (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32)
      (param $size i32) (result i32)
      (local $p i32)
      (if (local.get $old) (then unreachable))
      (local.set $p
        (i32.and
          (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get $align))))
      (global.set $bump (i32.add (local.get $p) (local.get $size)))
      (if (i32.gt_u (global.get $bump) (i32.mul (memory.size) (i32.const 65536)))
        (then
          (if (i32.eq
                (memory.grow (i32.add (i32.shr_u (global.get $bump) (i32.const 16)) (i32.const 1)))
                (i32.const -1))
            (then unreachable))))
      (local.get $p))
  )
  (core instance $libc (instantiate $libc))
  (core module $code
    (import "libc" "memory" (memory 1))
    ;; echo(s: string) -> string
    (func (export "echo") (param $ptr i32) (param $len i32) (result i32)
      (i32.store (i32.const 8) (local.get $ptr))
      (i32.store (i32.const 12) (local.get $len))
      (i32.const 8))
    ;; total(xs: list<u32>) -> u64
    (func (export "total") (param $ptr i32) (param $len i32) (result i64)
      (local $acc i64)
      (block $done
        (loop $next
          (br_if $done (i32.eqz (local.get $len)))
          (local.set $acc (i64.add (local.get $acc) (i64.load32_u (local.get $ptr))))
          (local.set $ptr (i32.add (local.get $ptr) (i32.const 4)))
          (local.set $len (i32.sub (local.get $len) (i32.const 1)))
          (br $next)))
      (local.get $acc))
  )
  (core instance $code (instantiate $code (with "libc" (instance $libc))))
  (alias core export $libc "memory" (core memory $mem))
  (alias core export $libc "cabi_realloc" (core func $realloc))
  (func (export "echo") (param "text" string) (result string)
    (canon lift (core func $code "echo") (memory $mem) (realloc $realloc)))
  (func (export "total") (param "xs" (list u32)) (result u64)
    (canon lift (core func $code "total") (memory $mem) (realloc $realloc)))
)
