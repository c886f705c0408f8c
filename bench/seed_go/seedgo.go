// Package main is the seed benchmark's system, rebuilt: Go functions exported through cgo,
// built with `go build -buildmode=c-shared` (`just build-seed-go`:
// target/seed_go/libseedgo.so) and called from Python with ctypes (bench/seed_go/__init__.py).
// Standard library only. The C types are in seedgo.h.
//
//   - seed_hello: prints `Hello, <name>!` through the caller's C callback.
//   - seed_add: a + b, wrapping at 2^32.
//   - seed_parse_person: encoding/json into a Go struct, handed back as malloc'ed C structs
//     (seed_person_free, in seedgo.c, frees them).
//   - seed_ws_mask: RFC 6455 masking, a plain byte loop into the caller's output buffer.
package main

/*
#include <stdlib.h>
#include "seedgo.h"
*/
import "C"

import (
	"encoding/json"
	"unsafe"
)

func main() {} // required by -buildmode=c-shared; never run

// bytesAt is the n bytes at p, without a copy (valid only during the call that passed them).
func bytesAt(p unsafe.Pointer, n C.size_t) []byte {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(p), int(n))
}

//export seed_hello
func seed_hello(name *C.char, n C.size_t, print C.seed_print_fn, ctx unsafe.Pointer) {
	line := make([]byte, 0, int(n)+8)
	line = append(line, "Hello, "...)
	line = append(line, bytesAt(unsafe.Pointer(name), n)...)
	line = append(line, '!')
	// A pointer to Go memory holding no Go pointers may be passed to C for the call's duration.
	C.seed_call_print(print, ctx, (*C.char)(unsafe.Pointer(&line[0])), C.size_t(len(line)))
}

//export seed_add
func seed_add(a, b C.uint32_t) C.uint32_t {
	return a + b
}

// The document as encoding/json sees it. Pointers, so that a missing member or a null (which
// encoding/json skips silently for a plain field) can be told apart from "", 0 or [].
type friendDoc struct {
	Name *string `json:"name"`
	Age  *uint32 `json:"age"`
}

type personDoc struct {
	Name    *string      `json:"name"`
	Age     *uint32      `json:"age"`
	Cars    *[]*string   `json:"cars"`
	Friends *[]friendDoc `json:"friends"`
}

// check is the first required member that is missing (or null), as sandlink words it.
func (p *personDoc) check() string {
	switch {
	case p.Name == nil:
		return "missing field `name`"
	case p.Age == nil:
		return "missing field `age`"
	case p.Cars == nil:
		return "missing field `cars`"
	case p.Friends == nil:
		return "missing field `friends`"
	}
	for _, car := range *p.Cars {
		if car == nil {
			return "expected string"
		}
	}
	for _, f := range *p.Friends {
		if f.Name == nil {
			return "missing field `name`"
		}
		if f.Age == nil {
			return "missing field `age`"
		}
	}
	return ""
}

func setStr(dst *C.SeedStr, s string) {
	dst.ptr = C.CString(s) // malloc'ed, never NULL (also for "")
	dst.len = C.size_t(len(s))
}

// calloc'ed room for n elements of size bytes (at least one, so the pointer is never NULL).
func callocN(n int, size C.size_t) unsafe.Pointer {
	if n == 0 {
		n = 1
	}
	return C.calloc(C.size_t(n), size)
}

//export seed_parse_person
func seed_parse_person(text *C.char, n C.size_t) *C.SeedPerson {
	out := (*C.SeedPerson)(C.calloc(1, C.sizeof_SeedPerson))
	var doc personDoc
	// encoding/json copies every string it keeps, so the input need not be copied first.
	if err := json.Unmarshal(bytesAt(unsafe.Pointer(text), n), &doc); err != nil {
		setStr(&out.error, err.Error())
		return out
	}
	if msg := doc.check(); msg != "" {
		setStr(&out.error, msg)
		return out
	}
	setStr(&out.name, *doc.Name)
	out.age = C.uint32_t(*doc.Age)
	cars := *doc.Cars
	out.cars = (*C.SeedStr)(callocN(len(cars), C.sizeof_SeedStr))
	out.cars_len = C.size_t(len(cars))
	carsOut := unsafe.Slice(out.cars, len(cars))
	for i, car := range cars {
		setStr(&carsOut[i], *car)
	}
	friends := *doc.Friends
	out.friends = (*C.SeedFriend)(callocN(len(friends), C.sizeof_SeedFriend))
	out.friends_len = C.size_t(len(friends))
	friendsOut := unsafe.Slice(out.friends, len(friends))
	for i, f := range friends {
		setStr(&friendsOut[i].name, *f.Name)
		friendsOut[i].age = C.uint32_t(*f.Age)
	}
	return out
}

//export seed_ws_mask
func seed_ws_mask(in, out *C.uint8_t, n C.size_t, key, offset C.uint32_t) {
	// RFC 6455 §5.3: out[i] = in[i] ^ key[(offset+i) % 4], the key's 4 bytes in wire order
	// (`key` is them read as a big-endian u32). One byte per iteration, as the seed did.
	k := [4]byte{byte(key >> 24), byte(key >> 16), byte(key >> 8), byte(key)}
	src := bytesAt(unsafe.Pointer(in), n)
	dst := bytesAt(unsafe.Pointer(out), n)
	o := uint(offset)
	for i := range src {
		dst[i] = src[i] ^ k[(o+uint(i))%4]
	}
}
