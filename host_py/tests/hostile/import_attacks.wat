;; Attacks: the host functions a component imports, handed pointers outside the guest's
;; memory, misaligned or too long, bytes that are not UTF-8, a result area outside memory,
;; and a realloc that answers with a block outside memory. Each such call must trap
;; before the host function sees anything; the `*-ok` exports show the same calls working.
;;
;; Imports: log(s: string); get() -> string (its result goes through a return area);
;; wide(17 x u32) -> u32 (its parameters spill to memory).
(component
  (import "test:hostile/host@0.1.0" (instance $host
    (export "log" (func (param "s" string)))
    (export "get" (func (result string)))
    (export "wide" (func
      (param "a0" u32) (param "a1" u32) (param "a2" u32) (param "a3" u32) (param "a4" u32)
      (param "a5" u32) (param "a6" u32) (param "a7" u32) (param "a8" u32) (param "a9" u32)
      (param "a10" u32) (param "a11" u32) (param "a12" u32) (param "a13" u32)
      (param "a14" u32) (param "a15" u32) (param "a16" u32) (result u32)))))
  (alias export $host "log" (func $log))
  (alias export $host "get" (func $get))
  (alias export $host "wide" (func $wide))

  ;; Memory and a bump allocator; `rogue` makes the allocator answer outside memory.
  (core module $libc
    (memory (export "memory") 1)
    (global $bump (mut i32) (i32.const 4096))
    (global $rogue (export "rogue") (mut i32) (i32.const 0))
    (func (export "cabi_realloc") (param i32 i32) (param $align i32) (param $size i32)
      (result i32)
      (local $p i32)
      (if (global.get $rogue) (then (return (i32.const 0xFFFFFF00))))
      (local.set $p (global.get $bump))
      (global.set $bump (i32.add (local.get $p) (local.get $size)))
      (local.get $p))
    (func (export "set-rogue") (global.set $rogue (i32.const 1)))
  )
  (core instance $libc (instantiate $libc))
  (alias core export $libc "memory" (core memory $mem))
  (alias core export $libc "cabi_realloc" (core func $realloc))

  (core func $log-lowered (canon lower (func $log) (memory $mem)))
  (core func $get-lowered (canon lower (func $get) (memory $mem) (realloc $realloc)))
  (core func $wide-lowered (canon lower (func $wide) (memory $mem)))

  (core module $code
    (import "libc" "memory" (memory 1))
    (import "libc" "set-rogue" (func $set-rogue))
    (import "host" "log" (func $log (param i32 i32)))
    (import "host" "get" (func $get (param i32)))
    (import "host" "wide" (func $wide (param i32) (result i32)))
    ;; "hi" at 100, a lone 0xFF byte at 200, seventeen u32 (1..17) at 2048.
    (data (i32.const 100) "hi")
    (data (i32.const 200) "\ff")
    (data (i32.const 2048)
      "\01\00\00\00\02\00\00\00\03\00\00\00\04\00\00\00\05\00\00\00\06\00\00\00"
      "\07\00\00\00\08\00\00\00\09\00\00\00\0a\00\00\00\0b\00\00\00\0c\00\00\00"
      "\0d\00\00\00\0e\00\00\00\0f\00\00\00\10\00\00\00\11\00\00\00")
    (func (export "log-ok") (call $log (i32.const 100) (i32.const 2)))
    (func (export "log-outside") (call $log (i32.const 0xFFFF0000) (i32.const 16)))
    (func (export "log-straddles") (call $log (i32.const 65530) (i32.const 16)))
    (func (export "log-too-long") (call $log (i32.const 0) (i32.const 0x10000000)))
    (func (export "log-not-utf8") (call $log (i32.const 200) (i32.const 1)))
    ;; The length of the string `get` returned.
    (func (export "get-ok") (result i32)
      (call $get (i32.const 1024))
      (i32.load (i32.const 1028)))
    (func (export "get-outside") (call $get (i32.const 0xFFFFFFF0)))
    (func (export "get-misaligned") (call $get (i32.const 1026)))
    (func (export "get-rogue-realloc") (call $set-rogue) (call $get (i32.const 1024)))
    (func (export "wide-ok") (result i32) (call $wide (i32.const 2048)))
    (func (export "wide-outside") (result i32) (call $wide (i32.const 0xFFFFFFF0)))
    (func (export "wide-misaligned") (result i32) (call $wide (i32.const 2050)))
  )
  (core instance $code (instantiate $code
    (with "libc" (instance $libc))
    (with "host" (instance
      (export "log" (func $log-lowered))
      (export "get" (func $get-lowered))
      (export "wide" (func $wide-lowered))))))

  (func (export "log-ok") (canon lift (core func $code "log-ok")))
  (func (export "log-outside") (canon lift (core func $code "log-outside")))
  (func (export "log-straddles") (canon lift (core func $code "log-straddles")))
  (func (export "log-too-long") (canon lift (core func $code "log-too-long")))
  (func (export "log-not-utf8") (canon lift (core func $code "log-not-utf8")))
  (func (export "get-ok") (result u32) (canon lift (core func $code "get-ok")))
  (func (export "get-outside") (canon lift (core func $code "get-outside")))
  (func (export "get-misaligned") (canon lift (core func $code "get-misaligned")))
  (func (export "get-rogue-realloc") (canon lift (core func $code "get-rogue-realloc")))
  (func (export "wide-ok") (result u32) (canon lift (core func $code "wide-ok")))
  (func (export "wide-outside") (result u32) (canon lift (core func $code "wide-outside")))
  (func (export "wide-misaligned") (result u32) (canon lift (core func $code "wide-misaligned")))
)
