// The C ABI of libseedgo.so (bench/seed_go): the types the Go exports take and return, and
// the two C helpers of seedgo.c. The Python side mirrors these structs in ctypes.
#ifndef SEEDGO_H
#define SEEDGO_H

#include <stddef.h>
#include <stdint.h>

// hello's output: one line (UTF-8, not NUL-terminated) handed to the caller's callback.
typedef void (*seed_print_fn)(void *ctx, const char *line, size_t len);

// UTF-8 bytes, not NUL-terminated (there is a NUL after them, never counted); malloc'ed.
typedef struct {
    char *ptr;
    size_t len;
} SeedStr;

typedef struct {
    SeedStr name;
    uint32_t age;
} SeedFriend;

// seed_parse_person's result, freed with seed_person_free. On failure `error.ptr` is not
// NULL (the message) and every other field is empty.
typedef struct {
    SeedStr error;
    SeedStr name;
    uint32_t age;
    SeedStr *cars;
    size_t cars_len;
    SeedFriend *friends;
    size_t friends_len;
} SeedPerson;

// Calls `print(ctx, line, len)`: Go cannot call a C function pointer itself.
void seed_call_print(seed_print_fn print, void *ctx, const char *line, size_t len);

// Frees a seed_parse_person result and everything it points to (NULL: nothing).
void seed_person_free(SeedPerson *person);

#endif
