/* C test of the KV policies that carry state between hpc_kv_policy_apply calls, as the decoder carries it between
 * decode steps: TokenSelect's selection cache (a similar query reuses the last vote, a dissimilar one votes again,
 * hpc_kv_policy_reset forgets) and Recycled Attention (a full step every `stride` calls records the tokens with the
 * most attention; the calls in between read those and the tokens that arrived since), against the rules restated here
 * as plain loops. Exit code 0 = pass. */
#include "test_util.h"

#include <math.h>

/* Kept positions [B, Hkv, K] of one call; *K receives K. The caller frees the result. */
static int* apply(hpc_kv_policy* policy, const float* k, const float* q, int B, int T, int H, int Hkv, int D, int* K) {
    int64_t ks[4] = {B, T, Hkv, D}, qs[4] = {B, 1, H, D}, shape[8];
    hpc_tensor *tk = make_f32(k, ks, 4), *tq = make_f32(q, qs, 4), *ti = NULL, *tkk = NULL;
    OK(hpc_kv_policy_apply(policy, tk, tk, NULL, tq, &ti, &tkk, NULL));
    int32_t rank = 0;
    OK(hpc_tensor_info(ti, NULL, &rank, shape, 8));
    *K = (int)shape[2];
    int* idx = malloc((size_t)B * Hkv * *K * sizeof(int));
    float* kept = malloc((size_t)B * *K * Hkv * D * sizeof(float));
    OK(hpc_tensor_copy_to(ti, idx, (size_t)B * Hkv * *K * sizeof(int)));
    OK(hpc_tensor_copy_to(tkk, kept, (size_t)B * *K * Hkv * D * sizeof(float)));
    int wrong = 0; /* the compacted keys are a gather of the kept positions */
    for (int b = 0; b < B; b++)
        for (int g = 0; g < Hkv; g++)
            for (int i = 0; i < *K; i++)
                for (int d = 0; d < D; d++)
                    wrong += kept[(((size_t)b * *K + i) * Hkv + g) * D + d] !=
                             k[(((size_t)b * T + idx[((size_t)b * Hkv + g) * *K + i]) * Hkv + g) * D + d];
    CHECK(wrong == 0, "T=%d: compacted keys are not a gather (%d mismatches)", T, wrong);
    hpc_tensor_free(tk); hpc_tensor_free(tq); hpc_tensor_free(ti); hpc_tensor_free(tkk);
    free(kept);
    return idx;
}

static int same(const int* a, int ka, const int* b, int kb, int n) {
    return ka == kb && memcmp(a, b, (size_t)n * ka * sizeof(int)) == 0;
}

/* What a fresh policy (no state) keeps for these inputs. */
static int* fresh(const hpc_kv_policy_params* p, const float* k, const float* q, int B, int T, int H, int Hkv, int D,
                  int* K) {
    hpc_kv_policy* policy = NULL;
    OK(hpc_kv_policy_create(p, &policy));
    int* idx = apply(policy, k, q, B, T, H, Hkv, D, K);
    hpc_kv_policy_free(policy);
    return idx;
}

static void test_tokenselect_cache(void) {
    const int B = 2, T = 40, H = 4, Hkv = 2, D = 8;
    hpc_kv_policy_params p = hpc_kv_policy_default_params();
    p.kind = HPC_KV_TOKENSELECT;
    p.budget = 4;
    p.sinks = 2;
    p.local = 3;
    float *k1 = random_buffer((size_t)B * T * Hkv * D), *k2 = random_buffer((size_t)B * (T + 1) * Hkv * D);
    float *q1 = random_buffer((size_t)B * H * D), *near = malloc((size_t)B * H * D * sizeof(float));
    float* far = malloc((size_t)B * H * D * sizeof(float));
    for (int i = 0; i < B * H * D; i++) near[i] = q1[i] + 0.01f * uniform(), far[i] = -q1[i]; /* cos ~1 and -1 */
    hpc_kv_policy* policy = NULL;
    OK(hpc_kv_policy_create(&p, &policy));
    int K1, K2, K3, K4, Kf;
    int* first = apply(policy, k1, q1, B, T, H, Hkv, D, &K1);
    CHECK(K1 == 2 + 4 + 3, "first call: K %d", K1);
    /* New keys, one more token, a similar query: the cached vote is reused (the first call's voted candidates), where
     * a fresh vote on these keys chooses otherwise. */
    int* second = apply(policy, k2, near, B, T + 1, H, Hkv, D, &K2);
    int* revote = fresh(&p, k2, near, B, T + 1, H, Hkv, D, &Kf);
    int wrong = K2 != K1 + 0;
    for (int r = 0; r < B * Hkv && !wrong; r++) {
        const int *a = first + (size_t)r * K1, *c = second + (size_t)r * K2;
        for (int i = 0; i < 2 + 4; i++) wrong += c[i] != a[i];           /* sinks and the cached vote */
        for (int i = 0; i < 3; i++) wrong += c[6 + i] != T + 1 - 3 + i; /* the newest 3 of T + 1 */
    }
    CHECK(wrong == 0, "TokenSelect: a similar query must reuse the last vote (%d mismatches)", wrong);
    CHECK(!same(second, K2, revote, Kf, B * Hkv), "TokenSelect: the reuse is indistinguishable from a vote (bad seed?)");
    /* A dissimilar query votes again: what a fresh policy keeps. */
    free(revote);
    int* third = apply(policy, k2, far, B, T + 1, H, Hkv, D, &K3);
    revote = fresh(&p, k2, far, B, T + 1, H, Hkv, D, &Kf);
    CHECK(same(third, K3, revote, Kf, B * Hkv), "TokenSelect: a dissimilar query must vote again");
    /* After a reset, even a similar query votes. */
    OK(hpc_kv_policy_reset(policy));
    free(revote);
    int* fourth = apply(policy, k2, near, B, T + 1, H, Hkv, D, &K4);
    revote = fresh(&p, k2, near, B, T + 1, H, Hkv, D, &Kf);
    CHECK(same(fourth, K4, revote, Kf, B * Hkv), "TokenSelect: after hpc_kv_policy_reset the query must vote");
    hpc_kv_policy_free(policy);
    free(k1); free(k2); free(q1); free(near); free(far);
    free(first); free(second); free(third); free(fourth); free(revote);
}

/* Recycled's decision at a full step for row b, kv head g: mass[j] = sum over the group's query heads of
 * softmax_j(q_h . k_j / sqrt(D)) over all T tokens, for j < T - 1 (the query's own token is not recycled); the
 * `budget` largest (double here, float in the library: a choice may differ only within 1e-6 of the boundary). */
static void recycled_mass(const float* k, const float* q, int b, int g, int T, int H, int Hkv, int D, double* mass) {
    int group = H / Hkv;
    memset(mass, 0, (size_t)T * sizeof(double));
    double* s = malloc((size_t)T * sizeof(double));
    for (int h = g * group; h < (g + 1) * group; h++) {
        double max = -INFINITY, sum = 0;
        for (int j = 0; j < T; j++) {
            s[j] = 0;
            for (int d = 0; d < D; d++)
                s[j] += (double)q[((size_t)b * H + h) * D + d] * k[(((size_t)b * T + j) * Hkv + g) * D + d];
            s[j] /= sqrt((double)D);
            if (s[j] > max) max = s[j];
        }
        for (int j = 0; j < T; j++) sum += exp(s[j] - max);
        for (int j = 0; j < T - 1; j++) mass[j] += exp(s[j] - max) / sum;
    }
    free(s);
}

static void test_recycled(void) {
    const int B = 2, H = 4, Hkv = 2, D = 8, T0 = 20, budget = 5, stride = 3, calls = 7;
    hpc_kv_policy_params p = hpc_kv_policy_default_params();
    p.kind = HPC_KV_RECYCLED;
    p.budget = budget;
    p.stride = stride;
    hpc_kv_policy* policy = NULL;
    OK(hpc_kv_policy_create(&p, &policy));
    double* mass = malloc((size_t)(T0 + calls) * sizeof(double));
    char* recycled = malloc((size_t)B * Hkv * (T0 + calls));
    double* boundary = malloc((size_t)B * Hkv * sizeof(double));
    int full_at = 0; /* T of the last full step */
    for (int c = 0; c < calls; c++) {
        int T = T0 + c, K = 0;
        float *k = random_buffer((size_t)B * T * Hkv * D), *q = random_buffer((size_t)B * H * D);
        int* idx = apply(policy, k, q, B, T, H, Hkv, D, &K);
        int full = c % stride == 0, wrong = 0;
        if (full) {
            CHECK(K == T, "Recycled call %d (a full step): K %d, expected %d", c, K, T);
            for (int r = 0; r < B * Hkv; r++)
                for (int i = 0; i < K && K == T; i++) wrong += idx[(size_t)r * K + i] != i;
            /* This step's decision, checked by the next calls. */
            for (int b = 0; b < B; b++)
                for (int g = 0; g < Hkv; g++) {
                    char* mark = recycled + ((size_t)b * Hkv + g) * (T0 + calls);
                    recycled_mass(k, q, b, g, T, H, Hkv, D, mass);
                    memset(mark, 0, (size_t)(T0 + calls));
                    double weakest = INFINITY;
                    for (int n = 0; n < budget; n++) {
                        int best = -1;
                        for (int j = 0; j < T - 1; j++)
                            if (!mark[j] && (best < 0 || mass[j] > mass[best])) best = j;
                        mark[best] = 1;
                        if (mass[best] < weakest) weakest = mass[best];
                    }
                    boundary[(size_t)b * Hkv + g] = weakest;
                    for (int j = 0; j < T - 1; j++) /* near-ties at the boundary: either choice is right */
                        if (fabs(mass[j] - weakest) <= 1e-6) mark[j] = 2;
                }
            full_at = T;
        } else {
            int expect = budget + (T - full_at + 1);
            CHECK(K == expect, "Recycled call %d: K %d, expected %d", c, K, expect);
            for (int r = 0; r < B * Hkv && K == expect; r++) {
                const char* mark = recycled + (size_t)r * (T0 + calls);
                const int* row = idx + (size_t)r * K;
                for (int i = 0; i < budget; i++) wrong += row[i] >= full_at - 1 || !mark[row[i]];
                for (int i = 0; i < T - full_at + 1; i++) wrong += row[budget + i] != full_at - 1 + i;
            }
        }
        CHECK(wrong == 0, "Recycled call %d (T=%d, %s step): %d mismatches", c, T, full ? "full" : "recycling", wrong);
        free(k); free(q); free(idx);
    }
    hpc_kv_policy_free(policy);
    free(mass); free(recycled); free(boundary);
}

int main(void) {
    test_tokenselect_cache();
    test_recycled();
    if (failures) {
        fprintf(stderr, "hpccore stateful KV test: %d failure(s)\n", failures);
        return 1;
    }
    printf("hpccore stateful KV test: all checks passed\n");
    return 0;
}
