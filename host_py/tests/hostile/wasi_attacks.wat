;; Attacks: the WASI 0.2 host (streams, pollables, descriptors, preopens) with calls no
;; real toolchain makes: forged, dropped and other-type handles to its resources; a
;; written list outside memory, straddling its end, 2^28 bytes long, or wrapping past 2^32;
;; get-directories' return area outside memory or misaligned. Each must trap, and write
;; nothing; `hello` (writes "hi\n" to stdout) and `preopen-count` are healthy.
;;
;; The imported instance types are WASI 0.2.0's own, cut down to the functions used here.
(component $C
  (import "wasi:io/error@0.2.0" (instance $io-error
    (export "error" (type (sub resource)))))
  (alias export $io-error "error" (type $error))

  (import "wasi:io/poll@0.2.0" (instance $poll
    (export "pollable" (type $p (sub resource)))
    (export "[method]pollable.block" (func (param "self" (borrow $p))))))
  (alias export $poll "pollable" (type $pollable))
  (alias export $poll "[method]pollable.block" (func $block))

  (import "wasi:io/streams@0.2.0" (instance $streams
    (export "output-stream" (type $os (sub resource)))
    (alias outer $C $error (type $e0))
    (export "error" (type $e (eq $e0)))
    (type $se0 (variant (case "last-operation-failed" (own $e)) (case "closed")))
    (export "stream-error" (type $se (eq $se0)))
    (export "[method]output-stream.blocking-write-and-flush"
      (func (param "self" (borrow $os)) (param "contents" (list u8))
        (result (result (error $se)))))))
  (alias export $streams "output-stream" (type $output-stream))
  (alias export $streams "[method]output-stream.blocking-write-and-flush" (func $write))

  (import "wasi:cli/stdout@0.2.0" (instance $stdout
    (alias outer $C $output-stream (type $os0))
    (export "output-stream" (type $os (eq $os0)))
    (export "get-stdout" (func (result (own $os))))))
  (alias export $stdout "get-stdout" (func $get-stdout))

  (import "wasi:clocks/monotonic-clock@0.2.0" (instance $clock
    (alias outer $C $pollable (type $p0))
    (export "pollable" (type $p (eq $p0)))
    (type $d0 u64)
    (export "duration" (type $d (eq $d0)))
    (export "subscribe-duration" (func (param "when" $d) (result (own $p))))))
  (alias export $clock "subscribe-duration" (func $subscribe-duration))

  (import "wasi:filesystem/types@0.2.0" (instance $fs
    (export "descriptor" (type $d (sub resource)))
    (type $ec0 (enum "access" "would-block" "already" "bad-descriptor" "busy" "deadlock"
      "quota" "exist" "file-too-large" "illegal-byte-sequence" "in-progress" "interrupted"
      "invalid" "io" "is-directory" "loop" "too-many-links" "message-size" "name-too-long"
      "no-device" "no-entry" "no-lock" "insufficient-memory" "insufficient-space"
      "not-directory" "not-empty" "not-recoverable" "unsupported" "no-tty" "no-such-device"
      "overflow" "not-permitted" "pipe" "read-only" "invalid-seek" "text-file-busy"
      "cross-device"))
    (export "error-code" (type $ec (eq $ec0)))
    (type $pf0 (flags "symlink-follow"))
    (export "path-flags" (type $pf (eq $pf0)))
    (type $of0 (flags "create" "directory" "exclusive" "truncate"))
    (export "open-flags" (type $of (eq $of0)))
    (type $df0 (flags "read" "write" "file-integrity-sync" "data-integrity-sync"
      "requested-write-sync" "mutate-directory"))
    (export "descriptor-flags" (type $df (eq $df0)))
    (export "[method]descriptor.open-at"
      (func (param "self" (borrow $d)) (param "path-flags" $pf) (param "path" string)
        (param "open-flags" $of) (param "flags" $df) (result (result (own $d) (error $ec)))))))
  (alias export $fs "descriptor" (type $descriptor))
  (alias export $fs "[method]descriptor.open-at" (func $open-at))

  (import "wasi:filesystem/preopens@0.2.0" (instance $preopens
    (alias outer $C $descriptor (type $d0))
    (export "descriptor" (type $d (eq $d0)))
    (export "get-directories" (func (result (list (tuple (own $d) string)))))))
  (alias export $preopens "get-directories" (func $get-directories))

  ;; One page of memory, "hi\n" at 256 and "x" at 260, and a bump allocator from 4096.
  (core module $libc
    (memory (export "memory") 1)
    (data (i32.const 256) "hi\n")
    (data (i32.const 260) "x")
    (global $bump (mut i32) (i32.const 4096))
    (func (export "cabi_realloc") (param i32 i32) (param $align i32) (param $size i32)
      (result i32)
      (local $p i32)
      (local.set $p
        (i32.and
          (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get $align))))
      (if (i32.gt_u (local.get $size) (i32.sub (i32.const 65536) (local.get $p)))
        (then unreachable))
      (global.set $bump (i32.add (local.get $p) (local.get $size)))
      (local.get $p)))
  (core instance $libc (instantiate $libc))
  (alias core export $libc "memory" (core memory $mem))
  (alias core export $libc "cabi_realloc" (core func $realloc))

  (core func $get-stdout-lowered (canon lower (func $get-stdout)))
  (core func $write-lowered (canon lower (func $write) (memory $mem)))
  (core func $drop-stream (canon resource.drop $output-stream))
  (core func $subscribe-lowered (canon lower (func $subscribe-duration)))
  (core func $block-lowered (canon lower (func $block)))
  (core func $drop-pollable (canon resource.drop $pollable))
  (core func $drop-descriptor (canon resource.drop $descriptor))
  (core func $get-directories-lowered
    (canon lower (func $get-directories) (memory $mem) (realloc $realloc) string-encoding=utf8))
  (core func $open-at-lowered
    (canon lower (func $open-at) (memory $mem) string-encoding=utf8))

  ;; Each attack returns the discriminant of the result it got (0: ok), if it gets one.
  ;; Return areas are at 512 (8-aligned, 12 bytes at most).
  (core module $code
    (import "libc" "memory" (memory 1))
    (import "wasi" "get-stdout" (func $get-stdout (result i32)))
    (import "wasi" "write" (func $write (param i32 i32 i32 i32)))
    (import "wasi" "drop-stream" (func $drop-stream (param i32)))
    (import "wasi" "subscribe-duration" (func $subscribe (param i64) (result i32)))
    (import "wasi" "block" (func $block (param i32)))
    (import "wasi" "drop-pollable" (func $drop-pollable (param i32)))
    (import "wasi" "drop-descriptor" (func $drop-descriptor (param i32)))
    (import "wasi" "get-directories" (func $get-directories (param i32)))
    (import "wasi" "open-at" (func $open-at (param i32 i32 i32 i32 i32 i32 i32)))

    ;; write(stream, ptr, len): the result's discriminant.
    (func $write-to (param $s i32) (param $ptr i32) (param $len i32) (result i32)
      (call $write (local.get $s) (local.get $ptr) (local.get $len) (i32.const 512))
      (i32.load8_u (i32.const 512)))

    ;; Healthy: "hi\n" to stdout, the stream dropped; 0.
    (func (export "hello") (result i32)
      (local $s i32) (local $r i32)
      (local.set $s (call $get-stdout))
      (local.set $r (call $write-to (local.get $s) (i32.const 256) (i32.const 3)))
      (call $drop-stream (local.get $s))
      (local.get $r))
    ;; Healthy: how many preopened directories (their descriptors dropped again).
    (func (export "preopen-count") (result i32)
      (local $list i32) (local $n i32) (local $i i32)
      (call $get-directories (i32.const 512))
      (local.set $list (i32.load (i32.const 512)))
      (local.set $n (i32.load (i32.const 516)))
      (block $done
        (loop $each
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (call $drop-descriptor
            (i32.load (i32.add (local.get $list) (i32.mul (local.get $i) (i32.const 12)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $each)))
      (local.get $n))

    ;; Handles to output streams: never given, dropped, another resource's.
    (func (export "write-forged") (param $h i32) (result i32)
      (call $write-to (local.get $h) (i32.const 256) (i32.const 3)))
    (func (export "stdout-dropped-write") (result i32)
      (local $s i32)
      (local.set $s (call $get-stdout))
      (call $drop-stream (local.get $s))
      (call $write-to (local.get $s) (i32.const 256) (i32.const 3)))
    (func (export "stdout-dropped-twice")
      (local $s i32)
      (local.set $s (call $get-stdout))
      (call $drop-stream (local.get $s))
      (call $drop-stream (local.get $s)))
    ;; No output stream is live here, so the pollable's handle names none.
    (func (export "pollable-as-stream") (result i32)
      (call $write-to (call $subscribe (i64.const 0)) (i32.const 256) (i32.const 3)))

    ;; The written list: outside memory, straddling its end, too long, wrapping past 2^32.
    (func (export "write-outside") (result i32)
      (call $write-to (call $get-stdout) (i32.const 0xFFFF0000) (i32.const 100)))
    (func (export "write-straddles") (result i32)
      (call $write-to (call $get-stdout) (i32.const 65530) (i32.const 100)))
    (func (export "write-huge") (result i32)
      (call $write-to (call $get-stdout) (i32.const 0) (i32.const 0x10000000)))
    ;; 0xFFFFFF00 + 0x200 wraps to 0x100, inside memory, if added in 32 bits.
    (func (export "write-wraps") (result i32)
      (call $write-to (call $get-stdout) (i32.const 0xFFFFFF00) (i32.const 0x200)))

    ;; Pollables: dropped, never given, an output stream's handle.
    (func (export "block-dropped-pollable")
      (local $p i32)
      (local.set $p (call $subscribe (i64.const 0)))
      (call $drop-pollable (local.get $p))
      (call $block (local.get $p)))
    (func (export "block-forged") (param $h i32) (call $block (local.get $h)))
    (func (export "stream-as-pollable") (call $block (call $get-stdout)))

    ;; Descriptors: never given, an output stream's handle.
    (func (export "drop-forged-descriptor") (param $h i32) (call $drop-descriptor (local.get $h)))
    (func (export "drop-stream-as-descriptor") (call $drop-descriptor (call $get-stdout)))
    ;; open-at(h, no path flags, "x", no open flags, read).
    (func (export "open-at-forged") (param $h i32) (result i32)
      (call $open-at (local.get $h) (i32.const 0) (i32.const 260) (i32.const 1)
        (i32.const 0) (i32.const 1) (i32.const 512))
      (i32.load8_u (i32.const 512)))

    ;; get-directories' return area: past the end, straddling it, misaligned.
    (func (export "get-directories-result-outside") (call $get-directories (i32.const 0xFFFFFFF0)))
    (func (export "get-directories-result-straddles") (call $get-directories (i32.const 65532)))
    (func (export "get-directories-result-misaligned") (call $get-directories (i32.const 514)))
  )
  (core instance $code (instantiate $code
    (with "libc" (instance $libc))
    (with "wasi" (instance
      (export "get-stdout" (func $get-stdout-lowered))
      (export "write" (func $write-lowered))
      (export "drop-stream" (func $drop-stream))
      (export "subscribe-duration" (func $subscribe-lowered))
      (export "block" (func $block-lowered))
      (export "drop-pollable" (func $drop-pollable))
      (export "drop-descriptor" (func $drop-descriptor))
      (export "get-directories" (func $get-directories-lowered))
      (export "open-at" (func $open-at-lowered))))))

  (func (export "hello") (result u32) (canon lift (core func $code "hello")))
  (func (export "preopen-count") (result u32) (canon lift (core func $code "preopen-count")))
  (func (export "write-forged") (param "h" u32) (result u32)
    (canon lift (core func $code "write-forged")))
  (func (export "stdout-dropped-write") (result u32)
    (canon lift (core func $code "stdout-dropped-write")))
  (func (export "stdout-dropped-twice") (canon lift (core func $code "stdout-dropped-twice")))
  (func (export "pollable-as-stream") (result u32)
    (canon lift (core func $code "pollable-as-stream")))
  (func (export "write-outside") (result u32) (canon lift (core func $code "write-outside")))
  (func (export "write-straddles") (result u32)
    (canon lift (core func $code "write-straddles")))
  (func (export "write-huge") (result u32) (canon lift (core func $code "write-huge")))
  (func (export "write-wraps") (result u32) (canon lift (core func $code "write-wraps")))
  (func (export "block-dropped-pollable") (canon lift (core func $code "block-dropped-pollable")))
  (func (export "block-forged") (param "h" u32) (canon lift (core func $code "block-forged")))
  (func (export "stream-as-pollable") (canon lift (core func $code "stream-as-pollable")))
  (func (export "drop-forged-descriptor") (param "h" u32)
    (canon lift (core func $code "drop-forged-descriptor")))
  (func (export "drop-stream-as-descriptor")
    (canon lift (core func $code "drop-stream-as-descriptor")))
  (func (export "open-at-forged") (param "h" u32) (result u32)
    (canon lift (core func $code "open-at-forged")))
  (func (export "get-directories-result-outside")
    (canon lift (core func $code "get-directories-result-outside")))
  (func (export "get-directories-result-straddles")
    (canon lift (core func $code "get-directories-result-straddles")))
  (func (export "get-directories-result-misaligned")
    (canon lift (core func $code "get-directories-result-misaligned")))
)
