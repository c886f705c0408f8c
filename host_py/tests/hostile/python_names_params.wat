;; Attacks: Python spelling of parameter names. The `test:hostile/params` interface (its
;; functions are flattened onto the loaded object) has parameters named like a host's
;; generated-code locals (`s`, `ctx`, `slots`, `sp`, `m`) and like Python keywords and
;; builtins (`class`, `from`, `lambda`, `len`, `type`, `list`, `bytes`).
(component
  (core module $m
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
    ;; (ptr, len) through the return area at 8
    (func $ret (param $ptr i32) (param $len i32) (result i32)
      (i32.store (i32.const 8) (local.get $ptr))
      (i32.store (i32.const 12) (local.get $len))
      (i32.const 8))
    ;; echo-slots(slots: list<u8>) -> list<u8>; echo-s(s: string) -> string
    (func (export "test:hostile/params@0.1.0#echo-slots") (param i32 i32) (result i32)
      (call $ret (local.get 0) (local.get 1)))
    (func (export "test:hostile/params@0.1.0#echo-s") (param i32 i32) (result i32)
      (call $ret (local.get 0) (local.get 1)))
    ;; mix(s, ctx, slots, sp, m: u32) -> u32 = s*10000 + ctx*1000 + slots*100 + sp*10 + m
    (func (export "test:hostile/params@0.1.0#mix") (param i32 i32 i32 i32 i32) (result i32)
      (i32.add
        (i32.add
          (i32.add (i32.mul (local.get 0) (i32.const 10000)) (i32.mul (local.get 1) (i32.const 1000)))
          (i32.add (i32.mul (local.get 2) (i32.const 100)) (i32.mul (local.get 3) (i32.const 10))))
        (local.get 4)))
    ;; builtins(len, type, list, bytes: u32) -> u32 = len*1000 + type*100 + list*10 + bytes
    (func (export "test:hostile/params@0.1.0#builtins") (param i32 i32 i32 i32) (result i32)
      (i32.add
        (i32.add (i32.mul (local.get 0) (i32.const 1000)) (i32.mul (local.get 1) (i32.const 100)))
        (i32.add (i32.mul (local.get 2) (i32.const 10)) (local.get 3))))
    ;; keywords(class, from, lambda: u32) -> u32 = class*100 + from*10 + lambda
    (func (export "test:hostile/params@0.1.0#keywords") (param i32 i32 i32) (result i32)
      (i32.add
        (i32.add (i32.mul (local.get 0) (i32.const 100)) (i32.mul (local.get 1) (i32.const 10)))
        (local.get 2)))
    ;; pick(m: string, sp: string, ctx: string, which: u32) -> string
    (func (export "test:hostile/params@0.1.0#pick") (param i32 i32 i32 i32 i32 i32 i32) (result i32)
      (if (result i32) (i32.eqz (local.get 6))
        (then (call $ret (local.get 0) (local.get 1)))
        (else
          (if (result i32) (i32.eq (local.get 6) (i32.const 1))
            (then (call $ret (local.get 2) (local.get 3)))
            (else (call $ret (local.get 4) (local.get 5)))))))
  )
  (core instance $i (instantiate $m))
  (alias core export $i "memory" (core memory $mem))
  (alias core export $i "cabi_realloc" (core func $realloc))
  (func $echo-slots (param "slots" (list u8)) (result (list u8))
    (canon lift (core func $i "test:hostile/params@0.1.0#echo-slots") (memory $mem) (realloc $realloc)))
  (func $echo-s (param "s" string) (result string)
    (canon lift (core func $i "test:hostile/params@0.1.0#echo-s") (memory $mem) (realloc $realloc)))
  (func $mix (param "s" u32) (param "ctx" u32) (param "slots" u32) (param "sp" u32) (param "m" u32)
    (result u32)
    (canon lift (core func $i "test:hostile/params@0.1.0#mix")))
  (func $builtins (param "len" u32) (param "type" u32) (param "list" u32) (param "bytes" u32)
    (result u32)
    (canon lift (core func $i "test:hostile/params@0.1.0#builtins")))
  (func $keywords (param "class" u32) (param "from" u32) (param "lambda" u32) (result u32)
    (canon lift (core func $i "test:hostile/params@0.1.0#keywords")))
  (func $pick (param "m" string) (param "sp" string) (param "ctx" string) (param "which" u32)
    (result string)
    (canon lift (core func $i "test:hostile/params@0.1.0#pick") (memory $mem) (realloc $realloc)))
  (instance $params
    (export "echo-slots" (func $echo-slots))
    (export "echo-s" (func $echo-s))
    (export "mix" (func $mix))
    (export "builtins" (func $builtins))
    (export "keywords" (func $keywords))
    (export "pick" (func $pick)))
  (export "test:hostile/params@0.1.0" (instance $params))
)
