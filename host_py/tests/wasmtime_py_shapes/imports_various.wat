;; Shape after wasmtime-py tests/component/test_types.py::TestTypes::test_func: world-level
;; imports of several signatures,
;;   a: func()
;;   b: func(x: u32)
;;   c: func() -> string
;;   d: func(a: u8, b: u16) -> u32
;; which wasmtime-py only reflects on. Here each is also called: the exports of the same names
;; and signatures forward their arguments to the import and return its result. Only `c` needs
;; memory: its string comes back through a return pointer (fixed address 8) into the memory of
;; a separate core module ($libc: "mem" and "realloc", a bump allocator that grows the memory
;; as needed), and is lifted from there.
(component
  (import "a" (func $host-a))
  (import "b" (func $host-b (param "x" u32)))
  (import "c" (func $host-c (result string)))
  (import "d" (func $host-d (param "a" u8) (param "b" u16) (result u32)))

  (core module $libc
    (memory (export "mem") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc")
      (param $old i32) (param $old-size i32) (param $align i32) (param $size i32) (result i32)
      (local $ptr i32) (local $pages i32)
      ;; fresh blocks only: nothing in this component ever reallocates
      (if (local.get $old) (then unreachable))
      (local.set $ptr
        (i32.and
          (i32.add (global.get $next) (i32.sub (local.get $align) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get $align))))
      (global.set $next (i32.add (local.get $ptr) (local.get $size)))
      (local.set $pages (i32.shr_u (i32.add (global.get $next) (i32.const 0xffff)) (i32.const 16)))
      (if (i32.gt_u (local.get $pages) (memory.size))
        (then
          (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
            (then unreachable))))
      (local.get $ptr)))
  (core instance $libc (instantiate $libc))

  (core func $lowered-a (canon lower (func $host-a)))
  (core func $lowered-b (canon lower (func $host-b)))
  (core func $lowered-c
    (canon lower (func $host-c)
      (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
  (core func $lowered-d (canon lower (func $host-d)))

  (core module $code
    (import "host" "a" (func $a))
    (import "host" "b" (func $b (param i32)))
    (import "host" "c" (func $c (param i32)))
    (import "host" "d" (func $d (param i32 i32) (result i32)))
    (func (export "a") (call $a))
    (func (export "b") (param i32) (call $b (local.get 0)))
    (func (export "c") (result i32) (call $c (i32.const 8)) (i32.const 8))
    (func (export "d") (param i32 i32) (result i32) (call $d (local.get 0) (local.get 1))))
  (core instance $code
    (instantiate $code
      (with "host" (instance
        (export "a" (func $lowered-a))
        (export "b" (func $lowered-b))
        (export "c" (func $lowered-c))
        (export "d" (func $lowered-d))))))

  (func (export "a") (canon lift (core func $code "a")))
  (func (export "b") (param "x" u32) (canon lift (core func $code "b")))
  (func (export "c") (result string)
    (canon lift (core func $code "c") (memory (core memory $libc "mem"))))
  (func (export "d") (param "a" u8) (param "b" u16) (result u32)
    (canon lift (core func $code "d")))
)
