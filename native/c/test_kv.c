/* C test of the KV-cache policies of libhpccore (hpc_kv_policy_*): the kept positions of StreamingLLM, H2O, SnapKV, full
 * and TokenSelect against the rules restated here as plain loops (exact, ties to the lower position), the compacted K/V
 * against a gather of the caller's K/V (exact), and bad arguments. Exit code 0 = pass. */
#include "test_util.h"

#include <math.h>

/* Scores in quarters, so that they tie often (ties go to the lower position). */
static float* quarters_buffer(size_t n) {
    float* p = random_buffer(n);
    for (size_t i = 0; i < n; i++) p[i] = roundf(p[i] * 4.0f) / 4.0f;
    return p;
}

/* The k best of score[lo..hi) (larger first, ties to the lower index) marked in `keep`: k passes of "best not taken". */
static void naive_top(const float* score, int lo, int hi, int k, char* keep) {
    for (int i = 0; i < k && i < hi - lo; i++) {
        int best = -1;
        for (int j = lo; j < hi; j++)
            if (!keep[j] && (best < 0 || score[j] > score[best])) best = j;
        keep[best] = 1;
    }
}

/* The expected kept set of one (row, kv head) as a 0/1 mask over T tokens. agg: the kv head's score per token (its
 * query heads' scores summed, in head order, in float as the policy accumulates them). */
static void naive_policy(const hpc_kv_policy_params* p, int T, const float* agg, char* keep) {
    memset(keep, 0, (size_t)T);
    if (T <= p->budget || p->kind == HPC_KV_FULL) { memset(keep, 1, (size_t)T); return; }
    if (p->kind == HPC_KV_STREAMING_LLM) {
        for (int i = 0; i < p->sinks; i++) keep[i] = 1;
        for (int i = T - (p->budget - p->sinks); i < T; i++) keep[i] = 1;
    } else if (p->kind == HPC_KV_H2O) {
        int recent = p->recent < 0 ? p->budget / 2 : p->recent;
        naive_top(agg, 0, T - recent, p->budget - recent, keep);
        for (int i = T - recent; i < T; i++) keep[i] = 1;
    } else { /* SnapKV: the window is kept; prefix votes max-pooled over kernel neighbours (within the prefix) */
        int w = p->window < p->budget ? p->window : p->budget, prefix = T - w, half = p->kernel / 2;
        float* pooled = malloc((size_t)prefix * sizeof(float));
        for (int i = 0; i < prefix; i++) {
            pooled[i] = -INFINITY;
            for (int j = i - half; j <= i + half; j++)
                if (j >= 0 && j < prefix && agg[j] > pooled[i]) pooled[i] = agg[j];
        }
        naive_top(pooled, 0, prefix, p->budget - w, keep);
        free(pooled);
        for (int i = prefix; i < T; i++) keep[i] = 1;
    }
}

/* Runs `p` on random K/V [B, T, Hkv, D] (and scores [B, H, T]) and compares positions and compacted K/V. */
static void test_evicting(hpc_kv_policy_params p, int B, int T, int H, int Hkv, int D) {
    size_t nk = (size_t)B * T * Hkv * D;
    float *k = random_buffer(nk), *v = random_buffer(nk), *s = quarters_buffer((size_t)B * H * T);
    int64_t ks[4] = {B, T, Hkv, D}, ss[3] = {B, H, T};
    hpc_tensor *tk = make_f32(k, ks, 4), *tv = make_f32(v, ks, 4), *ts = make_f32(s, ss, 3);
    hpc_tensor *ti = NULL, *tkk = NULL, *tvv = NULL;
    hpc_kv_policy* policy = NULL;
    OK(hpc_kv_policy_create(&p, &policy));
    /* Twice on one handle: evicting policies carry nothing from one call to the next, so the second call's result
     * must be the first's. */
    OK(hpc_kv_policy_apply(policy, tk, tv, p.kind == HPC_KV_STREAMING_LLM ? NULL : ts, NULL, &ti, &tkk, &tvv));
    hpc_tensor_free(ti); hpc_tensor_free(tkk); hpc_tensor_free(tvv);
    ti = tkk = tvv = NULL;
    OK(hpc_kv_policy_apply(policy, tk, tv, p.kind == HPC_KV_STREAMING_LLM ? NULL : ts, NULL, &ti, &tkk, &tvv));
    int64_t shape[8];
    int32_t rank = 0;
    OK(hpc_tensor_info(ti, NULL, &rank, shape, 8));
    int K = T < p.budget || p.kind == HPC_KV_FULL ? T : p.budget;
    CHECK(rank == 3 && shape[0] == B && shape[1] == Hkv && shape[2] == K, "kind %d T=%d: kept_indices shape", p.kind, T);
    int* idx = malloc((size_t)B * Hkv * K * sizeof(int));
    float *gk = malloc((size_t)B * K * Hkv * D * sizeof(float)), *gv = malloc((size_t)B * K * Hkv * D * sizeof(float));
    OK(hpc_tensor_copy_to(ti, idx, (size_t)B * Hkv * K * sizeof(int)));
    OK(hpc_tensor_copy_to(tkk, gk, (size_t)B * K * Hkv * D * sizeof(float)));
    OK(hpc_tensor_copy_to(tvv, gv, (size_t)B * K * Hkv * D * sizeof(float)));
    char* keep = malloc((size_t)T);
    float* agg = malloc((size_t)T * sizeof(float));
    int wrong = 0, group = H / Hkv;
    for (int b = 0; b < B; b++)
        for (int g = 0; g < Hkv; g++) {
            for (int t = 0; t < T; t++) {
                agg[t] = 0.0f;
                for (int h = g * group; h < (g + 1) * group; h++) agg[t] += s[((size_t)b * H + h) * T + t];
            }
            naive_policy(&p, T, agg, keep);
            int n = 0;
            for (int t = 0; t < T; t++) {
                if (!keep[t]) continue;
                wrong += n >= K || idx[((size_t)b * Hkv + g) * K + n] != t;
                for (int d = 0; d < D && n < K; d++) {
                    size_t at = (((size_t)b * K + n) * Hkv + g) * D + d, src = (((size_t)b * T + t) * Hkv + g) * D + d;
                    wrong += gk[at] != k[src] || gv[at] != v[src];
                }
                n++;
            }
            wrong += n != K;
        }
    CHECK(wrong == 0, "kind %d B=%d T=%d H=%d Hkv=%d D=%d budget=%d: %d mismatches", p.kind, B, T, H, Hkv, D, p.budget,
          wrong);
    hpc_kv_policy_free(policy);
    hpc_tensor_free(ti); hpc_tensor_free(tkk); hpc_tensor_free(tvv);
    hpc_tensor_free(tk); hpc_tensor_free(tv); hpc_tensor_free(ts);
    free(k); free(v); free(s); free(idx); free(gk); free(gv); free(keep); free(agg);
}

/* TokenSelect: per row, votes[j] = sum over query heads of softmax_j(q_h . k_{j, h / group}) over the candidates
 * [sinks, T - local); the `budget` best (ties to the lower position) plus sinks and locals, the same for every kv head.
 * The votes are summed in double here and in float in the library, so a choice may differ only between candidates
 * whose votes are within 1e-5 of each other. */
static void test_tokenselect(hpc_kv_policy_params p, int B, int T, int H, int Hkv, int D) {
    size_t nk = (size_t)B * T * Hkv * D;
    float *k = random_buffer(nk), *v = random_buffer(nk), *q = random_buffer((size_t)B * H * D);
    int64_t ks[4] = {B, T, Hkv, D}, qs[4] = {B, 1, H, D};
    hpc_tensor *tk = make_f32(k, ks, 4), *tv = make_f32(v, ks, 4), *tq = make_f32(q, qs, 4), *ti = NULL;
    hpc_kv_policy* policy = NULL;
    OK(hpc_kv_policy_create(&p, &policy));
    OK(hpc_kv_policy_apply(policy, tk, tv, NULL, tq, &ti, NULL, NULL));
    int lo = p.sinks < T ? p.sinks : T, hi = T - p.local > lo ? T - p.local : lo, n = hi - lo;
    int K = n <= p.budget ? T : lo + p.budget + (T - hi);
    int64_t shape[8];
    int32_t rank = 0;
    OK(hpc_tensor_info(ti, NULL, &rank, shape, 8));
    CHECK(rank == 3 && shape[2] == K, "TokenSelect T=%d: K %lld, expected %d", T, (long long)shape[2], K);
    int* idx = malloc((size_t)B * Hkv * K * sizeof(int));
    OK(hpc_tensor_copy_to(ti, idx, (size_t)B * Hkv * K * sizeof(int)));
    double* votes = calloc((size_t)T, sizeof(double));
    double* dots = malloc((size_t)T * sizeof(double));
    char* keep = malloc((size_t)T);
    int wrong = 0, group = H / Hkv;
    for (int b = 0; b < B; b++) {
        memset(votes, 0, (size_t)T * sizeof(double));
        for (int h = 0; h < H; h++) {
            double max = -INFINITY, sum = 0.0;
            for (int j = lo; j < hi; j++) {
                dots[j] = 0.0;
                for (int d = 0; d < D; d++)
                    dots[j] += (double)q[((size_t)b * H + h) * D + d] * k[(((size_t)b * T + j) * Hkv + h / group) * D + d];
                if (dots[j] > max) max = dots[j];
            }
            for (int j = lo; j < hi; j++) sum += exp(dots[j] - max);
            for (int j = lo; j < hi; j++) votes[j] += exp(dots[j] - max) / sum;
        }
        memset(keep, 0, (size_t)T);
        if (n <= p.budget) memset(keep, 1, (size_t)T);
        else {
            for (int i = 0; i < lo; i++) keep[i] = 1;
            for (int i = hi; i < T; i++) keep[i] = 1;
            for (int c = 0; c < p.budget; c++) {
                int best = -1;
                for (int j = lo; j < hi; j++)
                    if (!keep[j] && (best < 0 || votes[j] > votes[best])) best = j;
                keep[best] = 1;
            }
        }
        double boundary = INFINITY; /* the weakest vote kept */
        for (int j = lo; j < hi; j++)
            if (keep[j] && votes[j] < boundary) boundary = votes[j];
        for (int g = 0; g < Hkv; g++) {
            const int* row = idx + ((size_t)b * Hkv + g) * K;
            for (int i = 0; i < K; i++) {
                wrong += i > 0 && row[i] <= row[i - 1]; /* ascending */
                wrong += row[i] < 0 || row[i] >= T || (!keep[row[i]] && fabs(votes[row[i]] - boundary) > 1e-5);
            }
        }
    }
    CHECK(wrong == 0, "TokenSelect B=%d T=%d H=%d Hkv=%d D=%d budget=%d: %d mismatches", B, T, H, Hkv, D, p.budget, wrong);
    hpc_kv_policy_free(policy);
    hpc_tensor_free(ti); hpc_tensor_free(tk); hpc_tensor_free(tv); hpc_tensor_free(tq);
    free(k); free(v); free(q); free(idx); free(votes); free(dots); free(keep);
}

static void test_bad_arguments(void) {
    float data[2 * 9 * 2 * 4] = {0};
    int64_t ks[4] = {2, 9, 2, 4}, vs[4] = {2, 9, 2, 3}, ss[3] = {2, 3, 9}, qs[4] = {2, 1, 4, 4};
    hpc_tensor *k = make_f32(data, ks, 4), *v = make_f32(data, vs, 4), *s3 = make_f32(data, ss, 3);
    hpc_tensor *q = make_f32(data, qs, 4), *idx = (hpc_tensor*)&data;
    hpc_kv_policy *policy = (hpc_kv_policy*)&data, *h2o = NULL, *ts = NULL;

    hpc_kv_policy_params p = hpc_kv_policy_default_params();
    CHECK(p.kind == HPC_KV_STREAMING_LLM && p.budget == 256 && p.sinks == 4 && p.recent == -1 && p.window == 32 &&
              p.kernel == 5 && p.local == 32 && p.stride == 8 && p.ratio == 4.0f && p.pool == 0 && p.reserved == 0, "default params");
    p.budget = 4;
    expect_error(hpc_kv_policy_create(&p, &policy), HPC_ERR_OUT_OF_RANGE, "hpc_kv_policy_create", "sinks",
                 "StreamingLLM budget <= sinks");
    CHECK(policy == NULL, "out must be set to NULL on failure");
    p = hpc_kv_policy_default_params();
    p.budget = 0;
    expect_error(hpc_kv_policy_create(&p, &policy), HPC_ERR_OUT_OF_RANGE, "hpc_kv_policy_create", "budget", "budget 0");
    p = hpc_kv_policy_default_params();
    p.kind = HPC_KV_SNAPKV;
    p.kernel = 4;
    expect_error(hpc_kv_policy_create(&p, &policy), HPC_ERR_OUT_OF_RANGE, "hpc_kv_policy_create", "kernel", "even kernel");
    p.kernel = 5;
    p.kind = HPC_KV_RAZOR_ATTENTION;
    expect_error(hpc_kv_policy_create(&p, &policy), HPC_ERR_UNSUPPORTED, "hpc_kv_policy_create", "decoder state",
                 "RazorAttention on caller K/V");
    p.kind = HPC_KV_RECYCLED;
    p.stride = 0;
    expect_error(hpc_kv_policy_create(&p, &policy), HPC_ERR_OUT_OF_RANGE, "hpc_kv_policy_create", "stride", "stride 0");
    p = hpc_kv_policy_default_params();
    p.kind = HPC_KV_EMS;
    p.budget = 20;
    p.recent = 16;
    expect_error(hpc_kv_policy_create(&p, &policy), HPC_ERR_OUT_OF_RANGE, "hpc_kv_policy_create", "sinks + recent",
                 "EMS budget <= sinks + recent");
    p.kind = 9;
    expect_error(hpc_kv_policy_create(&p, &policy), HPC_ERR_INVALID_ARGUMENT, "hpc_kv_policy_create", "kind", "bad kind");
    p = hpc_kv_policy_default_params();
    p.reserved = 1;
    expect_error(hpc_kv_policy_create(&p, &policy), HPC_ERR_INVALID_ARGUMENT, "hpc_kv_policy_create", "reserved",
                 "reserved");
    expect_error(hpc_kv_policy_create(NULL, NULL), HPC_ERR_NULL_POINTER, "hpc_kv_policy_create", "out", "NULL out");

    p = hpc_kv_policy_default_params();
    p.kind = HPC_KV_H2O;
    p.budget = 4;
    OK(hpc_kv_policy_create(&p, &h2o));
    expect_error(hpc_kv_policy_apply(h2o, k, k, NULL, NULL, &idx, NULL, NULL), HPC_ERR_NULL_POINTER,
                 "hpc_kv_policy_apply", "scores", "H2O without scores");
    CHECK(idx == NULL, "kept_indices must be set to NULL on failure");
    expect_error(hpc_kv_policy_apply(h2o, k, k, s3, NULL, &idx, NULL, NULL), HPC_ERR_INVALID_ARGUMENT,
                 "hpc_kv_policy_apply", "multiple of Hkv", "H = 3 with Hkv = 2");
    expect_error(hpc_kv_policy_apply(h2o, k, v, s3, NULL, &idx, NULL, NULL), HPC_ERR_INVALID_ARGUMENT,
                 "hpc_kv_policy_apply", "values", "values shape");
    expect_error(hpc_kv_policy_apply(h2o, k, k, s3, NULL, NULL, NULL, NULL), HPC_ERR_NULL_POINTER,
                 "hpc_kv_policy_apply", "kept_indices", "NULL kept_indices");
    expect_error(hpc_kv_policy_apply(NULL, k, k, s3, NULL, &idx, NULL, NULL), HPC_ERR_NULL_POINTER,
                 "hpc_kv_policy_apply", "policy", "NULL policy");
    expect_error(hpc_kv_policy_apply((hpc_kv_policy*)k, k, k, s3, NULL, &idx, NULL, NULL), HPC_ERR_INVALID_HANDLE,
                 "hpc_kv_policy_apply", "policy", "a tensor is not a policy");
    expect_error(hpc_kv_policy_apply(h2o, (hpc_tensor*)h2o, k, s3, NULL, &idx, NULL, NULL), HPC_ERR_INVALID_HANDLE,
                 "hpc_kv_policy_apply", "keys", "a policy is not a tensor");
    int64_t hs[3] = {2, 9, 8};
    hpc_tensor* i32 = NULL;
    OK(hpc_tensor_create(HPC_I32, hs, 3, NULL, 0, &i32));
    expect_error(hpc_kv_policy_apply(h2o, i32, k, s3, NULL, &idx, NULL, NULL), HPC_ERR_INVALID_ARGUMENT,
                 "hpc_kv_policy_apply", "keys", "I32 rank-3 keys");

    p = hpc_kv_policy_default_params();
    p.kind = HPC_KV_TOKENSELECT;
    OK(hpc_kv_policy_create(&p, &ts));
    expect_error(hpc_kv_policy_apply(ts, k, k, NULL, NULL, &idx, NULL, NULL), HPC_ERR_NULL_POINTER,
                 "hpc_kv_policy_apply", "query", "TokenSelect without query");
    expect_error(hpc_kv_policy_apply(ts, k, k, NULL, k, &idx, NULL, NULL), HPC_ERR_INVALID_ARGUMENT,
                 "hpc_kv_policy_apply", "query", "query of the wrong shape");
    OK(hpc_kv_policy_apply(ts, k, k, NULL, q, &idx, NULL, NULL));
    hpc_tensor_free(idx);
    expect_error(hpc_kv_policy_reset(NULL), HPC_ERR_NULL_POINTER, "hpc_kv_policy_reset", "policy", "reset NULL");
    expect_error(hpc_kv_policy_reset((hpc_kv_policy*)k), HPC_ERR_INVALID_HANDLE, "hpc_kv_policy_reset", "policy",
                 "reset a tensor");

    hpc_kv_policy* ems = NULL;
    p = hpc_kv_policy_default_params();
    p.kind = HPC_KV_EMS;
    OK(hpc_kv_policy_create(&p, &ems));
    expect_error(hpc_kv_policy_apply(ems, k, k, s3, NULL, &idx, NULL, NULL), HPC_ERR_INVALID_ARGUMENT,
                 "hpc_kv_policy_apply", "[B, 2, H, T]", "EMS with rank-3 scores");
    expect_error(hpc_kv_policy_apply(ems, k, k, q, NULL, &idx, NULL, NULL), HPC_ERR_INVALID_ARGUMENT,
                 "hpc_kv_policy_apply", "scores", "EMS scores of the wrong shape");
    hpc_kv_policy_free(ems);

    OK(hpc_kv_policy_free(h2o));
    expect_error(hpc_kv_policy_free(h2o), HPC_ERR_INVALID_HANDLE, "hpc_kv_policy_free", "policy", "double free");
    OK(hpc_kv_policy_free(NULL));
    hpc_kv_policy_free(ts);
    hpc_tensor_free(k); hpc_tensor_free(v); hpc_tensor_free(s3); hpc_tensor_free(q); hpc_tensor_free(i32);
}

int main(void) {
    hpc_kv_policy_params p = hpc_kv_policy_default_params();
    const int sizes[] = {1, 7, 31, 33, 127, 129, 197};
    for (int i = 0; i < 7; i++) {
        int T = sizes[i];
        p = hpc_kv_policy_default_params();
        p.budget = 16;
        test_evicting(p, 2, T, 4, 2, 8); /* StreamingLLM, sinks 4 */
        p.kind = HPC_KV_H2O;
        test_evicting(p, 2, T, 4, 2, 8); /* recent = budget / 2 */
        p.recent = 3;
        test_evicting(p, 1, T, 6, 3, 5);
        p.kind = HPC_KV_FULL;
        test_evicting(p, 2, T, 4, 2, 8);
        p.kind = HPC_KV_SNAPKV;
        p.pool = 1; /* the reference below max-pools (PyramidKV's choice; the default 0 averages, as SnapKV's authors) */
        p.window = 4;
        p.kernel = 3;
        test_evicting(p, 2, T, 4, 1, 8);
        p.window = 32; /* window > budget: the window is cut to the budget */
        test_evicting(p, 1, T, 2, 2, 4);
        p = hpc_kv_policy_default_params();
        p.kind = HPC_KV_TOKENSELECT;
        p.budget = 8;
        p.sinks = 2;
        p.local = 4;
        test_tokenselect(p, 2, T, 8, 2, 16);
    }
    p = hpc_kv_policy_default_params(); /* budget 256 over 197 tokens: everything kept */
    test_evicting(p, 1, 197, 2, 2, 4);
    test_bad_arguments();
    if (failures) {
        fprintf(stderr, "hpccore KV test: %d failure(s)\n", failures);
        return 1;
    }
    printf("hpccore KV test: all checks passed\n");
    return 0;
}
