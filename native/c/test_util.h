/* Shared by the C tests of libhpccore: a failure counter with CHECK / OK, a seeded uniform generator, F32 tensors from
 * host buffers, and the bad-argument check (status and a message naming the function and the argument). */
#ifndef HPCCORE_TEST_UTIL_H
#define HPCCORE_TEST_UTIL_H

#include "hpccore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define CHECK(cond, ...)                                                                                             \
    do {                                                                                                             \
        if (!(cond)) {                                                                                               \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                                     \
            fprintf(stderr, __VA_ARGS__);                                                                            \
            fprintf(stderr, " [last error: %s]\n", hpc_last_error());                                               \
            failures++;                                                                                              \
        }                                                                                                            \
    } while (0)

#define OK(call) CHECK((call) == HPC_OK, "%s failed", #call)

/* Seeded uniform [-1, 1) (a 64-bit LCG: the same inputs on every platform). */
static inline float uniform(void) {
    static uint64_t state = 0x2545F4914F6CDD1DULL;
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((double)(state >> 40) / (double)(1ULL << 24)) * 2.0f - 1.0f;
}

static inline float* random_buffer(size_t n) {
    float* p = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = uniform();
    return p;
}

static inline hpc_tensor* make_f32(const float* data, const int64_t* shape, int32_t rank) {
    size_t n = 1;
    for (int32_t i = 0; i < rank; i++) n *= (size_t)shape[i];
    hpc_tensor* t = NULL;
    OK(hpc_tensor_create(HPC_F32, shape, rank, data, n * sizeof(float), &t));
    return t;
}

static inline int contains(const char* text, const char* part) { return strstr(text, part) != NULL; }

/* `got` must be `want`, and hpc_last_error() must name both parts (e.g. the function and the argument). */
static inline void expect_error(hpc_status got, hpc_status want, const char* part1, const char* part2, const char* what) {
    CHECK(got == want, "%s: status %d, expected %d", what, (int)got, (int)want);
    const char* msg = hpc_last_error();
    CHECK(contains(msg, part1) && contains(msg, part2), "%s: message '%s' should name '%s' and '%s'", what, msg, part1,
          part2);
}

#endif /* HPCCORE_TEST_UTIL_H */
