;; Shape after wasmtime-py tests/component/test_func.py::TestFunc::test_enum, ::test_flags,
;; ::test_variant (its first, payload-less part) and ::test_result (its last part, `(result)`),
;; all through the `roundtrip_simple` helper: a host import `echo-T: func(v: T) -> T` lowered
;; into a memory-less core module and lifted back out as the export `echo-T`. Each of these
;; types flattens to a single i32, so no memory is involved.
;;
;; wasmtime-py names each type by importing it as "t" (`(import "t" (type (eq ...)))`). Here
;; each named type is imported under its own name (for the import's signature) and exported
;; under the same name (for the export's signature), the way a world that uses a type on both
;; sides is encoded:
;;   letter:   enum { a, b, c }
;;   letters:  flags { a, b, c }
;;   ab:       variant { a, b }        (no payloads)
;;   echo-result uses the anonymous `result` (neither ok nor err has a payload)
(component
  (type $letter' (enum "a" "b" "c"))
  (type $letters' (flags "a" "b" "c"))
  (type $ab' (variant (case "a") (case "b")))
  (import "letter" (type $letter (eq $letter')))
  (import "letters" (type $letters (eq $letters')))
  (import "ab" (type $ab (eq $ab')))

  (import "echo-enum" (func $host-enum (param "v" $letter) (result $letter)))
  (import "echo-flags" (func $host-flags (param "v" $letters) (result $letters)))
  (import "echo-variant" (func $host-variant (param "v" $ab) (result $ab)))
  (import "echo-result" (func $host-result (param "v" (result)) (result (result))))

  (core func $lowered-enum (canon lower (func $host-enum)))
  (core func $lowered-flags (canon lower (func $host-flags)))
  (core func $lowered-variant (canon lower (func $host-variant)))
  (core func $lowered-result (canon lower (func $host-result)))

  (core module $code
    (import "host" "echo-enum" (func $call-enum (param i32) (result i32)))
    (import "host" "echo-flags" (func $call-flags (param i32) (result i32)))
    (import "host" "echo-variant" (func $call-variant (param i32) (result i32)))
    (import "host" "echo-result" (func $call-result (param i32) (result i32)))
    (func (export "echo-enum") (param i32) (result i32) (call $call-enum (local.get 0)))
    (func (export "echo-flags") (param i32) (result i32) (call $call-flags (local.get 0)))
    (func (export "echo-variant") (param i32) (result i32) (call $call-variant (local.get 0)))
    (func (export "echo-result") (param i32) (result i32) (call $call-result (local.get 0))))
  (core instance $code
    (instantiate $code
      (with "host" (instance
        (export "echo-enum" (func $lowered-enum))
        (export "echo-flags" (func $lowered-flags))
        (export "echo-variant" (func $lowered-variant))
        (export "echo-result" (func $lowered-result))))))

  (export $letter-out "letter" (type $letter))
  (export $letters-out "letters" (type $letters))
  (export $ab-out "ab" (type $ab))

  (func (export "echo-enum") (param "v" $letter-out) (result $letter-out)
    (canon lift (core func $code "echo-enum")))
  (func (export "echo-flags") (param "v" $letters-out) (result $letters-out)
    (canon lift (core func $code "echo-flags")))
  (func (export "echo-variant") (param "v" $ab-out) (result $ab-out)
    (canon lift (core func $code "echo-variant")))
  (func (export "echo-result") (param "v" (result)) (result (result))
    (canon lift (core func $code "echo-result")))
)
