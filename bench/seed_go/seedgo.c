// The C half of the seed: cgo's trampoline for the print callback, and the free function
// (plain C, so freeing a result costs no call into the Go runtime).
#include <stdlib.h>

#include "seedgo.h"

void seed_call_print(seed_print_fn print, void *ctx, const char *line, size_t len) {
    if (print != NULL) {
        print(ctx, line, len);
    }
}

void seed_person_free(SeedPerson *person) {
    if (person == NULL) {
        return;
    }
    free(person->error.ptr);
    free(person->name.ptr);
    for (size_t i = 0; i < person->cars_len; i++) {
        free(person->cars[i].ptr);
    }
    free(person->cars);
    for (size_t i = 0; i < person->friends_len; i++) {
        free(person->friends[i].name.ptr);
    }
    free(person->friends);
    free(person);
}
