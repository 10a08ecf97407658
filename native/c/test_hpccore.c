/* C test of libhpccore: every result is compared with a plain loop written here in C (double accumulation), and bad
 * arguments must return the right status and a message naming the function and the argument. Exit code 0 = pass. */
#include "test_util.h"

#include <math.h>

/* Naive attention: q [B, Tq, H, D], k, v [B, Tk, Hkv, D]; query head h reads kv head h / (H / Hkv). Optional
 * causal (bottom-right aligned), key bias [B, Tk] added to the logits, key mask [B, Tk] (0 drops the key).
 * totals (if not NULL) [B, H, Tk] receive the probabilities summed over queries. */
static void naive_attention(const float* q, const float* k, const float* v, const float* bias,
                            const unsigned char* mask, float* out, double* totals, int B, int Tq, int Tk, int H,
                            int Hkv, int D, int causal) {
    double scale = 1.0 / sqrt((double)D);
    double* p = malloc((size_t)Tk * sizeof(double));
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            int g = h / (H / Hkv);
            for (int t = 0; t < Tq; t++) {
                double max = -INFINITY, sum = 0.0;
                for (int j = 0; j < Tk; j++) {
                    if ((causal && j > t + (Tk - Tq)) || (mask && !mask[(size_t)b * Tk + j])) {
                        p[j] = -INFINITY;
                        continue;
                    }
                    double s = 0.0;
                    for (int d = 0; d < D; d++)
                        s += (double)q[(((size_t)b * Tq + t) * H + h) * D + d] * k[(((size_t)b * Tk + j) * Hkv + g) * D + d];
                    p[j] = s * scale + (bias ? bias[(size_t)b * Tk + j] : 0.0);
                    if (p[j] > max) max = p[j];
                }
                for (int j = 0; j < Tk; j++) { p[j] = p[j] == -INFINITY ? 0.0 : exp(p[j] - max); sum += p[j]; }
                for (int d = 0; d < D; d++) {
                    double acc = 0.0;
                    for (int j = 0; j < Tk; j++) acc += p[j] / sum * v[(((size_t)b * Tk + j) * Hkv + g) * D + d];
                    out[(((size_t)b * Tq + t) * H + h) * D + d] = (float)acc;
                }
                if (totals)
                    for (int j = 0; j < Tk; j++) totals[((size_t)b * H + h) * Tk + j] += p[j] / sum;
            }
        }
    free(p);
}

/* with_extras: also a key bias (like ToMe's log size) and a padding mask that drops every third key. */
static void test_attention(int B, int Tq, int Tk, int H, int Hkv, int D, int causal, int with_extras) {
    size_t nq = (size_t)B * Tq * H * D, nk = (size_t)B * Tk * Hkv * D;
    float *q = random_buffer(nq), *k = random_buffer(nk), *v = random_buffer(nk);
    float* expected = malloc(nq * sizeof(float));
    float* actual = malloc(nq * sizeof(float));
    double* totals = calloc((size_t)B * H * Tk, sizeof(double));
    float* got_totals = malloc((size_t)B * H * Tk * sizeof(float));
    float* bias = NULL;
    unsigned char* mask = NULL;
    hpc_tensor *tbias = NULL, *tmask = NULL;
    int64_t bs[2] = {B, Tk};
    if (with_extras) {
        bias = random_buffer((size_t)B * Tk);
        mask = malloc((size_t)B * Tk);
        for (size_t i = 0; i < (size_t)B * Tk; i++) mask[i] = (unsigned char)(i % 3 != 1);
        tbias = make_f32(bias, bs, 2);
        OK(hpc_tensor_create(HPC_U8, bs, 2, mask, (size_t)B * Tk, &tmask));
    }
    naive_attention(q, k, v, bias, mask, expected, totals, B, Tq, Tk, H, Hkv, D, causal);

    int64_t qs[4] = {B, Tq, H, D}, ks[4] = {B, Tk, Hkv, D}, ts[3] = {B, H, Tk};
    hpc_tensor *tq = make_f32(q, qs, 4), *tk = make_f32(k, ks, 4), *tv = make_f32(v, ks, 4), *tt = NULL, *out = NULL;
    OK(hpc_tensor_create(HPC_F32, ts, 3, NULL, 0, &tt));
    hpc_attention_params params = hpc_attention_default_params();
    params.causal = causal;
    params.key_totals = tt;
    params.key_bias = tbias;
    params.key_padding_mask = tmask;
    OK(hpc_attention_forward(tq, tk, tv, &params, &out));
    CHECK(strcmp(hpc_last_error(), "") == 0, "last error not cleared after a success");

    int64_t shape[8] = {0};
    int32_t rank = 0;
    hpc_dtype dtype = HPC_I64;
    OK(hpc_tensor_info(out, &dtype, &rank, shape, 8));
    CHECK(dtype == HPC_F32 && rank == 4 && shape[0] == B && shape[1] == Tq && shape[2] == H && shape[3] == D,
          "attention output dtype/shape");
    OK(hpc_tensor_copy_to(out, actual, nq * sizeof(float)));
    OK(hpc_tensor_copy_to(tt, got_totals, (size_t)B * H * Tk * sizeof(float)));
    double worst = 0.0, worst_totals = 0.0;
    for (size_t i = 0; i < nq; i++) worst = fmax(worst, fabs((double)actual[i] - expected[i]));
    for (size_t i = 0; i < (size_t)B * H * Tk; i++) worst_totals = fmax(worst_totals, fabs(got_totals[i] - totals[i]));
    CHECK(worst < 2e-5, "attention B=%d Tq=%d Tk=%d H=%d Hkv=%d D=%d causal=%d extras=%d: max |err| %.3g", B, Tq, Tk,
          H, Hkv, D, causal, with_extras, worst);
    CHECK(worst_totals < 1e-4 * Tq, "key_totals: max |err| %.3g", worst_totals);

    hpc_tensor_free(out);
    hpc_tensor_free(tt);
    hpc_tensor_free(tq);
    hpc_tensor_free(tk);
    hpc_tensor_free(tv);
    hpc_tensor_free(tbias);
    hpc_tensor_free(tmask);
    free(bias); free(mask);
    free(q); free(k); free(v); free(expected); free(actual); free(totals); free(got_totals);
}

/* Naive top-k of one row: k passes of "largest not yet taken", ties to the lower index. */
static void naive_topk(const float* row, int n, int k, int* idx) {
    char* taken = calloc((size_t)n, 1);
    for (int i = 0; i < k; i++) {
        int best = -1;
        for (int j = 0; j < n; j++)
            if (!taken[j] && (best < 0 || row[j] > row[best])) best = j;
        taken[best] = 1;
        idx[i] = best;
    }
    free(taken);
}

static void test_topk_and_prune(int rows, int n, int k, int c) {
    float* scores = random_buffer((size_t)rows * n);
    for (size_t i = 0; i < (size_t)rows * n; i++) scores[i] = roundf(scores[i] * 8.0f) / 8.0f; /* many ties */
    float* x = random_buffer((size_t)rows * n * c);
    int64_t ss[2] = {rows, n}, xs[3] = {rows, n, c};
    hpc_tensor *ts = make_f32(scores, ss, 2), *tx = make_f32(x, xs, 3), *values = NULL, *indices = NULL;
    OK(hpc_topk(ts, k, &values, &indices));
    int* got = malloc((size_t)rows * k * sizeof(int));
    float* got_values = malloc((size_t)rows * k * sizeof(float));
    int* want = malloc((size_t)k * sizeof(int));
    OK(hpc_tensor_copy_to(indices, got, (size_t)rows * k * sizeof(int)));
    OK(hpc_tensor_copy_to(values, got_values, (size_t)rows * k * sizeof(float)));
    int mismatches = 0;
    for (int r = 0; r < rows; r++) {
        naive_topk(scores + (size_t)r * n, n, k, want);
        for (int i = 0; i < k; i++) {
            mismatches += got[r * k + i] != want[i];
            mismatches += got_values[r * k + i] != scores[(size_t)r * n + want[i]];
        }
    }
    CHECK(mismatches == 0, "top-k rows=%d n=%d k=%d: %d mismatches", rows, n, k, mismatches);

    /* Pruning keeps the same set, in token order, and gathers those rows exactly. */
    hpc_tensor *kept = NULL, *kept_idx = NULL;
    hpc_prune_params pp = hpc_prune_default_params();
    CHECK(pp.keep_order == 1, "prune default keep_order");
    OK(hpc_prune_topk(tx, ts, k, &pp, &kept, &kept_idx));
    int* order = malloc((size_t)rows * k * sizeof(int));
    float* rows_kept = malloc((size_t)rows * k * c * sizeof(float));
    OK(hpc_tensor_copy_to(kept_idx, order, (size_t)rows * k * sizeof(int)));
    OK(hpc_tensor_copy_to(kept, rows_kept, (size_t)rows * k * c * sizeof(float)));
    mismatches = 0;
    for (int r = 0; r < rows; r++) {
        naive_topk(scores + (size_t)r * n, n, k, want);
        for (int i = 0; i < k; i++) { /* insertion sort: the expected ascending order */
            for (int j = i; j > 0 && want[j - 1] > want[j]; j--) { int t = want[j]; want[j] = want[j - 1]; want[j - 1] = t; }
        }
        for (int i = 0; i < k; i++) {
            mismatches += order[r * k + i] != want[i];
            for (int e = 0; e < c; e++)
                mismatches += rows_kept[((size_t)r * k + i) * c + e] != x[((size_t)r * n + want[i]) * c + e];
        }
    }
    CHECK(mismatches == 0, "prune rows=%d n=%d k=%d: %d mismatches", rows, n, k, mismatches);

    hpc_tensor_free(values); hpc_tensor_free(indices); hpc_tensor_free(kept); hpc_tensor_free(kept_idx);
    hpc_tensor_free(ts); hpc_tensor_free(tx);
    free(scores); free(x); free(got); free(got_values); free(want); free(order); free(rows_kept);
}

/* ToMe: the plan removes r tokens; the size-weighted merge conserves total size and size-weighted mass (a merged
 * token is the size-weighted mean of its inputs), and unmerge gives each input position its merged token. */
static void test_tome(int B, int N, int C, int r) {
    float* x = random_buffer((size_t)B * N * C);
    int64_t xs[3] = {B, N, C};
    hpc_tensor *tx = make_f32(x, xs, 3), *merged = NULL, *size = NULL, *unmerged = NULL;
    hpc_merge_plan* plan = NULL;
    hpc_tome_params params = hpc_tome_default_params();
    params.class_token = 1;
    OK(hpc_tome_plan(tx, r, &params, &plan));
    int32_t applied = -1, in = -1, out = -1;
    OK(hpc_merge_plan_info(plan, &applied, &in, &out));
    int expect_r = r < (N - 1) / 2 ? r : (N - 1) / 2;
    CHECK(applied == expect_r && in == N && out == N - expect_r, "plan info r=%d in=%d out=%d", applied, in, out);
    OK(hpc_tome_merge(plan, tx, NULL, &merged, &size));
    OK(hpc_tome_unmerge(plan, merged, &unmerged));
    float* m = malloc((size_t)B * out * C * sizeof(float));
    float* s = malloc((size_t)B * out * sizeof(float));
    float* u = malloc((size_t)B * N * C * sizeof(float));
    OK(hpc_tensor_copy_to(merged, m, (size_t)B * out * C * sizeof(float)));
    OK(hpc_tensor_copy_to(size, s, (size_t)B * out * sizeof(float)));
    OK(hpc_tensor_copy_to(unmerged, u, (size_t)B * N * C * sizeof(float)));
    double worst = 0.0;
    for (int b = 0; b < B; b++) {
        double total = 0.0;
        for (int i = 0; i < out; i++) total += s[b * out + i];
        CHECK(fabs(total - N) < 1e-3, "sizes sum to %.3f, not %d", total, N);
        for (int e = 0; e < C; e++) {
            double before = 0.0, after = 0.0, back = 0.0;
            for (int i = 0; i < N; i++) before += x[((size_t)b * N + i) * C + e];
            for (int i = 0; i < out; i++) after += (double)s[b * out + i] * m[((size_t)b * out + i) * C + e];
            /* Unmerged rows repeat each merged token once per absorbed input: the same sum as size-weighted. */
            for (int i = 0; i < N; i++) back += u[((size_t)b * N + i) * C + e];
            worst = fmax(worst, fmax(fabs(before - after), fabs(after - back)));
        }
        /* [CLS] (token 0) is protected: never merged, so it comes back unchanged. */
        for (int e = 0; e < C; e++) worst = fmax(worst, fabs(u[(size_t)b * N * C + e] - x[(size_t)b * N * C + e]));
    }
    CHECK(worst < 1e-3, "ToMe B=%d N=%d C=%d r=%d: mass error %.3g", B, N, C, r, worst);
    hpc_merge_plan_free(plan);
    hpc_tensor_free(tx); hpc_tensor_free(merged); hpc_tensor_free(size); hpc_tensor_free(unmerged);
    free(x); free(m); free(s); free(u);
}

static void test_bad_arguments(void) {
    float data[2 * 5 * 2 * 4] = {0};
    int64_t qs[4] = {2, 5, 2, 4}, ks[4] = {2, 5, 2, 3}, ss[2] = {2, 5};
    hpc_tensor *q = make_f32(data, qs, 4), *k = make_f32(data, ks, 4), *scores = make_f32(data, ss, 2);
    hpc_tensor *out = (hpc_tensor*)&data, *values = NULL, *indices = NULL;

    expect_error(hpc_attention_forward(q, q, q, NULL, NULL), HPC_ERR_NULL_POINTER, "hpc_attention_forward", "out",
                 "NULL out");
    expect_error(hpc_attention_forward(q, NULL, q, NULL, &out), HPC_ERR_NULL_POINTER, "hpc_attention_forward", "k",
                 "NULL k");
    CHECK(out == NULL, "out must be set to NULL on failure");
    expect_error(hpc_attention_forward(q, k, k, NULL, &out), HPC_ERR_INVALID_ARGUMENT, "Attention.Forward", "k",
                 "head dim mismatch");
    hpc_attention_params p = hpc_attention_default_params();
    p.window_left = -7;
    expect_error(hpc_attention_forward(q, q, q, &p, &out), HPC_ERR_OUT_OF_RANGE, "hpc_attention_forward",
                 "window_left", "bad window");
    expect_error(hpc_topk(scores, 6, &values, &indices), HPC_ERR_OUT_OF_RANGE, "TopK", "k", "k > N");
    expect_error(hpc_topk(scores, 2, NULL, NULL), HPC_ERR_NULL_POINTER, "hpc_topk", "indices", "NULL indices");
    expect_error(hpc_tensor_create(HPC_F32, qs, 4, data, 7, &out), HPC_ERR_INVALID_ARGUMENT, "hpc_tensor_create",
                 "data_bytes", "short data");
    expect_error(hpc_tensor_create((hpc_dtype)42, qs, 4, data, sizeof data, &out), HPC_ERR_INVALID_ARGUMENT,
                 "hpc_tensor_create", "dtype", "bad dtype");
    int64_t negative[2] = {2, -1};
    expect_error(hpc_tensor_create(HPC_F32, negative, 2, NULL, 0, &out), HPC_ERR_OUT_OF_RANGE, "hpc_tensor_create",
                 "shape[1]", "negative dim");
    expect_error(hpc_tensor_create(HPC_F32, NULL, 2, NULL, 0, &out), HPC_ERR_NULL_POINTER, "hpc_tensor_create",
                 "shape", "NULL shape");
    float small[3];
    expect_error(hpc_tensor_copy_to(scores, small, sizeof small), HPC_ERR_BUFFER_TOO_SMALL, "hpc_tensor_copy_to",
                 "dst_bytes", "short destination");
    int64_t dims[1];
    expect_error(hpc_tensor_info(scores, NULL, NULL, dims, 1), HPC_ERR_BUFFER_TOO_SMALL, "hpc_tensor_info", "shape",
                 "short shape buffer");
    expect_error(hpc_tome_merge(NULL, q, NULL, &out, NULL), HPC_ERR_NULL_POINTER, "hpc_tome_merge", "plan",
                 "NULL plan");
    /* A tensor handle is not a plan, and a freed handle is dead: both are reported, neither crashes. */
    expect_error(hpc_merge_plan_info((const hpc_merge_plan*)scores, NULL, NULL, NULL), HPC_ERR_INVALID_HANDLE,
                 "hpc_merge_plan_info", "plan", "wrong handle kind");
    OK(hpc_tensor_free(k));
    expect_error(hpc_tensor_free(k), HPC_ERR_INVALID_HANDLE, "hpc_tensor_free", "tensor", "double free");
    expect_error(hpc_attention_forward(q, k, q, NULL, &out), HPC_ERR_INVALID_HANDLE, "hpc_attention_forward", "k",
                 "freed handle");
    expect_error(hpc_attention_forward(q, (hpc_tensor*)&data, q, NULL, &out), HPC_ERR_INVALID_HANDLE,
                 "hpc_attention_forward", "k", "forged handle");
    OK(hpc_tensor_free(NULL));
    CHECK(strcmp(hpc_last_error(), "") == 0, "a success clears the last error");
    hpc_tensor_free(q);
    hpc_tensor_free(scores);
}

/* Issue #21: sizes from C never wrap. [65536]^4 F32 had 2^64 elements, wrapped to 0 bytes, and hpc_topk on it killed
 * the process; now the shape is refused. A shape that is valid but cannot be allocated is HPC_ERR_OUT_OF_MEMORY.
 * Every failure's message names the function, also where the exception came from the managed library. */
static void test_sizes_and_messages(void) {
    hpc_tensor* out = (hpc_tensor*)&out;
    int64_t huge[4] = {65536, 65536, 65536, 65536};
    expect_error(hpc_tensor_create(HPC_F32, huge, 4, NULL, 0, &out), HPC_ERR_OUT_OF_RANGE, "hpc_tensor_create",
                 "65536", "element count overflow");
    CHECK(out == NULL, "out must be NULL after an overflowing shape");
    float one = 1.0f;
    expect_error(hpc_tensor_create(HPC_F32, huge, 4, &one, sizeof one, &out), HPC_ERR_OUT_OF_RANGE,
                 "hpc_tensor_create", "65536", "element count overflow with data");
    int64_t zero_then_huge[5] = {0, 65536, 65536, 65536, 65536};
    expect_error(hpc_tensor_create(HPC_U8, zero_then_huge, 5, NULL, 0, &out), HPC_ERR_OUT_OF_RANGE,
                 "hpc_tensor_create", "65536", "stride overflow behind a zero dim");
    int64_t too_big[2] = {1 << 28, 1 << 28}; /* 2^56 F32 elements: valid, 256 PB */
    expect_error(hpc_tensor_create(HPC_F32, too_big, 2, NULL, 0, &out), HPC_ERR_OUT_OF_MEMORY, "hpc_tensor_create",
                 "", "unallocatable zeros");

    /* A small k on a long row (the k-sized heap path) matches a plain selection, ties to the lower index. */
    enum { N = 5000 };
    static float row[N];
    for (int i = 0; i < N; i++) row[i] = (float)((i * 7919) % 1000);
    int64_t rs[2] = {1, N};
    hpc_tensor *scores = make_f32(row, rs, 2), *values = NULL, *indices = NULL;
    OK(hpc_topk(scores, 3, &values, &indices));
    int got[3], want[3];
    OK(hpc_tensor_copy_to(indices, got, sizeof got));
    naive_topk(row, N, 3, want);
    CHECK(memcmp(got, want, sizeof got) == 0, "top-3 of 5000: got %d %d %d, want %d %d %d", got[0], got[1], got[2],
          want[0], want[1], want[2]);
    hpc_tensor_free(values);
    hpc_tensor_free(indices);
    /* Errors raised inside the managed op are prefixed with the entry point's name. */
    expect_error(hpc_topk(scores, N + 1, &values, &indices), HPC_ERR_OUT_OF_RANGE, "hpc_topk", "k", "k > N");
    expect_error(hpc_topk(scores, -1, &values, &indices), HPC_ERR_OUT_OF_RANGE, "hpc_topk", "k", "k < 0");
    hpc_tensor_free(scores);
}

int main(void) {
    CHECK(hpc_version() != NULL && hpc_version()[0] != '\0', "version");
    test_attention(1, 1, 1, 1, 1, 1, 0, 0);
    test_attention(2, 7, 33, 4, 2, 16, 0, 0);
    test_attention(2, 7, 33, 4, 2, 16, 1, 0);
    test_attention(1, 31, 31, 6, 1, 64, 1, 0);
    test_attention(1, 1, 129, 8, 8, 32, 0, 0);
    test_attention(2, 7, 33, 4, 2, 16, 0, 1);
    test_attention(1, 31, 31, 6, 3, 16, 1, 1);
    test_topk_and_prune(3, 129, 7, 5);
    test_topk_and_prune(2, 1, 1, 3);
    test_topk_and_prune(4, 197, 197, 2);
    test_tome(2, 197, 8, 16);
    test_tome(1, 7, 3, 100);
    test_bad_arguments();
    test_sizes_and_messages();
    if (failures) {
        fprintf(stderr, "hpccore C test: %d failure(s)\n", failures);
        return 1;
    }
    printf("hpccore C test: all checks passed\n");
    return 0;
}
