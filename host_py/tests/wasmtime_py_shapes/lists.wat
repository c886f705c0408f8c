;; Shape after wasmtime-py tests/component/test_func.py::TestFunc::test_string and ::test_list
;; (its `list_component` helper): a host import `echo-T: func(v: T) -> T` for a T that lives in
;; linear memory, and the export `echo-T` lifted from a core function that calls it. The memory
;; and the allocator belong to their own core module ($libc, exporting "mem" and "realloc",
;; not the conventional `memory`/`cabi_realloc`); the module with the code has no memory and
;; only forwards pointers. Both the lift (for the host's arguments) and the lower (for the
;; import's result) name $libc's memory and realloc in their canonical options.
;;
;; The core function gets (ptr, len) of the argument, calls the import with the same (ptr, len)
;; plus a return pointer (fixed address 8), and returns that address: the import's result is
;; the export's result.
;;
;; T: string, list<u8>, list<u32> (as in wasmtime-py), and list<string> (a list whose elements
;; are themselves allocated). realloc here is a bump allocator that honours alignment, grows
;; the memory on demand and copies the old block when asked to grow one; it never frees.
(component
  (import "echo-string" (func $host-string (param "v" string) (result string)))
  (import "echo-bytes" (func $host-bytes (param "v" (list u8)) (result (list u8))))
  (import "echo-u32s" (func $host-u32s (param "v" (list u32)) (result (list u32))))
  (import "echo-strings" (func $host-strings (param "v" (list string)) (result (list string))))

  (core module $libc
    (memory (export "mem") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc")
      (param $old i32) (param $old-size i32) (param $align i32) (param $size i32) (result i32)
      (local $ptr i32) (local $end i32) (local $pages i32)
      ;; round the bump pointer up to the requested alignment (a power of two)
      (local.set $ptr
        (i32.and
          (i32.add (global.get $next) (i32.sub (local.get $align) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get $align))))
      (local.set $end (i32.add (local.get $ptr) (local.get $size)))
      ;; grow the memory until the block fits
      (local.set $pages (i32.shr_u (i32.add (local.get $end) (i32.const 0xffff)) (i32.const 16)))
      (if (i32.gt_u (local.get $pages) (memory.size))
        (then
          (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
            (then unreachable))))
      ;; a reallocation keeps the old contents (as much of them as fits)
      (if (local.get $old)
        (then
          (memory.copy
            (local.get $ptr)
            (local.get $old)
            (select (local.get $old-size) (local.get $size)
              (i32.lt_u (local.get $old-size) (local.get $size))))))
      (global.set $next (local.get $end))
      (local.get $ptr)))
  (core instance $libc (instantiate $libc))

  (core func $lowered-string
    (canon lower (func $host-string)
      (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
  (core func $lowered-bytes
    (canon lower (func $host-bytes)
      (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
  (core func $lowered-u32s
    (canon lower (func $host-u32s)
      (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
  (core func $lowered-strings
    (canon lower (func $host-strings)
      (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))

  (core module $code
    (import "host" "echo-string" (func $call-string (param i32 i32 i32)))
    (import "host" "echo-bytes" (func $call-bytes (param i32 i32 i32)))
    (import "host" "echo-u32s" (func $call-u32s (param i32 i32 i32)))
    (import "host" "echo-strings" (func $call-strings (param i32 i32 i32)))
    (func (export "echo-string") (param i32 i32) (result i32)
      (call $call-string (local.get 0) (local.get 1) (i32.const 8))
      (i32.const 8))
    (func (export "echo-bytes") (param i32 i32) (result i32)
      (call $call-bytes (local.get 0) (local.get 1) (i32.const 8))
      (i32.const 8))
    (func (export "echo-u32s") (param i32 i32) (result i32)
      (call $call-u32s (local.get 0) (local.get 1) (i32.const 8))
      (i32.const 8))
    (func (export "echo-strings") (param i32 i32) (result i32)
      (call $call-strings (local.get 0) (local.get 1) (i32.const 8))
      (i32.const 8)))
  (core instance $code
    (instantiate $code
      (with "host" (instance
        (export "echo-string" (func $lowered-string))
        (export "echo-bytes" (func $lowered-bytes))
        (export "echo-u32s" (func $lowered-u32s))
        (export "echo-strings" (func $lowered-strings))))))

  (func (export "echo-string") (param "v" string) (result string)
    (canon lift (core func $code "echo-string")
      (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
  (func (export "echo-bytes") (param "v" (list u8)) (result (list u8))
    (canon lift (core func $code "echo-bytes")
      (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
  (func (export "echo-u32s") (param "v" (list u32)) (result (list u32))
    (canon lift (core func $code "echo-u32s")
      (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
  (func (export "echo-strings") (param "v" (list string)) (result (list string))
    (canon lift (core func $code "echo-strings")
      (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
)
