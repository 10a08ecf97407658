/* C test of EMS on caller-provided K/V (hpc_kv_policy_apply, HPC_KV_EMS) against its rules restated here as plain
 * loops (methods.md 3.15; src/HpcCore.Models/KvCache/Policies/EmsKvPolicy.cs): per (row, kv head), the global score
 * G = totals / queries that saw the token (a causal prefill: (T - t) per query head), the local score L = the window's
 * attention, score = G / max G + L / max L (float, as the library); keep sinks, the newest `recent` and the top-scored
 * middle tokens (ties to the lower position); then half of the rest, best score first, are merged into the kept
 * middle token whose key is most similar (cosine; score-weighted means of K and V, the centre's score growing). Kept
 * positions must match exactly; kept K/V within 1e-5 (merged) or exactly (untouched). Exit code 0 = pass. */
#include "test_util.h"

#include <math.h>

static double cosine(const float* a, const float* b, int D) {
    double ab = 0, aa = 0, bb = 0;
    for (int d = 0; d < D; d++) {
        ab += (double)a[d] * b[d];
        aa += (double)a[d] * a[d];
        bb += (double)b[d] * b[d];
    }
    return ab / sqrt(aa * bb);
}

/* One (row, kv head): tokens' keys/values [T, D] (merged in place), totals and window scores [T]; writes the kept
 * indices into keep and returns how many. */
static int naive_ems(const hpc_kv_policy_params* p, int T, int group, float* k, float* v, const float* tot,
                     const float* win, int D, int* keep) {
    int recent = p->recent < 0 ? (p->budget / 4 < 16 ? p->budget / 4 : 16) : p->recent, n = 0;
    if (T <= p->budget) {
        for (int t = 0; t < T; t++) keep[t] = t;
        return T;
    }
    float* score = malloc((size_t)T * sizeof(float));
    float gmax = -INFINITY, lmax = -INFINITY;
    for (int t = 0; t < T; t++) {
        score[t] = tot[t] / (float)(group * (T - t));
        if (score[t] > gmax) gmax = score[t];
        if (win[t] > lmax) lmax = win[t];
    }
    for (int t = 0; t < T; t++) score[t] = (gmax > 0 ? score[t] / gmax : 0.0f) + (lmax > 0 ? win[t] / lmax : 0.0f);
    char* kept = calloc((size_t)T, 1);
    for (int t = 0; t < p->sinks; t++) kept[t] = 1;
    for (int t = T - recent; t < T; t++) kept[t] = 1;
    for (int c = 0; c < p->budget - p->sinks - recent; c++) {
        int best = -1;
        for (int t = p->sinks; t < T - recent; t++)
            if (!kept[t] && (best < 0 || score[t] > score[best])) best = t;
        kept[best] = 1;
    }
    for (int t = 0; t < T; t++)
        if (kept[t]) keep[n++] = t;
    /* The rest, ascending; (int)(rest * 0.5) of them merged, best score first (ties: the lower position). */
    int* rest = malloc((size_t)T * sizeof(int));
    float* rest_score = malloc((size_t)T * sizeof(float));
    int m = 0;
    for (int t = 0; t < T; t++)
        if (!kept[t]) rest[m] = t, rest_score[m++] = score[t];
    int merges = (int)((float)m * 0.5f);
    for (int done = 0; done < merges; done++) {
        int best = 0;
        for (int r = 1; r < m; r++)
            if (rest_score[r] > rest_score[best]) best = r;
        int token = rest[best], centre = -1;
        rest_score[best] = -INFINITY;
        double best_cos = -INFINITY;
        for (int i = 0; i < n; i++) {
            int c = keep[i];
            if (c < p->sinks || c >= T - recent) continue;
            double cs = cosine(k + (size_t)token * D, k + (size_t)c * D, D);
            if (cs > best_cos) best_cos = cs, centre = c;
        }
        if (centre < 0) continue;
        float wc = score[centre], wt = score[token], total = wc + wt;
        if (!(total > 0)) wc = wt = 1.0f, total = 2.0f;
        for (int d = 0; d < D; d++) {
            float* kc = k + (size_t)centre * D + d;
            float* vc = v + (size_t)centre * D + d;
            *kc = (*kc * wc + k[(size_t)token * D + d] * wt) / total;
            *vc = (*vc * wc + v[(size_t)token * D + d] * wt) / total;
        }
        score[centre] += score[token];
    }
    free(score); free(kept); free(rest); free(rest_score);
    return n;
}

static void test_ems(hpc_kv_policy_params p, int B, int T, int H, int Hkv, int D) {
    size_t nk = (size_t)B * T * Hkv * D, ns = (size_t)B * 2 * H * T;
    float *k = random_buffer(nk), *v = random_buffer(nk), *s = random_buffer(ns);
    for (size_t i = 0; i < ns; i++) s[i] = fabsf(s[i]); /* attention received is never negative */
    int64_t ks[4] = {B, T, Hkv, D}, ss[4] = {B, 2, H, T};
    hpc_tensor *tk = make_f32(k, ks, 4), *tv = make_f32(v, ks, 4), *ts = make_f32(s, ss, 4);
    hpc_tensor *ti = NULL, *tkk = NULL, *tvv = NULL;
    hpc_kv_policy* policy = NULL;
    OK(hpc_kv_policy_create(&p, &policy));
    OK(hpc_kv_policy_apply(policy, tk, tv, ts, NULL, &ti, &tkk, &tvv));
    int K = T < p.budget ? T : p.budget, group = H / Hkv;
    int64_t shape[8];
    int32_t rank = 0;
    OK(hpc_tensor_info(ti, NULL, &rank, shape, 8));
    CHECK(rank == 3 && shape[0] == B && shape[1] == Hkv && shape[2] == K, "EMS T=%d: kept_indices shape", T);
    int* idx = malloc((size_t)B * Hkv * K * sizeof(int));
    float *gk = malloc((size_t)B * K * Hkv * D * sizeof(float)), *gv = malloc((size_t)B * K * Hkv * D * sizeof(float));
    OK(hpc_tensor_copy_to(ti, idx, (size_t)B * Hkv * K * sizeof(int)));
    OK(hpc_tensor_copy_to(tkk, gk, (size_t)B * K * Hkv * D * sizeof(float)));
    OK(hpc_tensor_copy_to(tvv, gv, (size_t)B * K * Hkv * D * sizeof(float)));
    float *hk = malloc((size_t)T * D * sizeof(float)), *hv = malloc((size_t)T * D * sizeof(float));
    float *tot = malloc((size_t)T * sizeof(float)), *win = malloc((size_t)T * sizeof(float));
    int* keep = malloc((size_t)T * sizeof(int));
    int wrong = 0;
    for (int b = 0; b < B; b++)
        for (int g = 0; g < Hkv; g++) {
            for (int t = 0; t < T; t++) {
                memcpy(hk + (size_t)t * D, k + (((size_t)b * T + t) * Hkv + g) * D, (size_t)D * sizeof(float));
                memcpy(hv + (size_t)t * D, v + (((size_t)b * T + t) * Hkv + g) * D, (size_t)D * sizeof(float));
                tot[t] = win[t] = 0.0f; /* the group's query heads summed in head order, in float, as the library */
                for (int h = g * group; h < (g + 1) * group; h++) {
                    tot[t] += s[(((size_t)b * 2 + 0) * H + h) * T + t];
                    win[t] += s[(((size_t)b * 2 + 1) * H + h) * T + t];
                }
            }
            int n = naive_ems(&p, T, group, hk, hv, tot, win, D, keep);
            wrong += n != K;
            for (int i = 0; i < K && i < n; i++) {
                wrong += idx[((size_t)b * Hkv + g) * K + i] != keep[i];
                for (int d = 0; d < D; d++) {
                    size_t at = (((size_t)b * K + i) * Hkv + g) * D + d;
                    float ek = hk[(size_t)keep[i] * D + d], ev = hv[(size_t)keep[i] * D + d];
                    wrong += fabsf(gk[at] - ek) > 1e-5f * (1 + fabsf(ek)) || fabsf(gv[at] - ev) > 1e-5f * (1 + fabsf(ev));
                }
            }
        }
    CHECK(wrong == 0, "EMS B=%d T=%d H=%d Hkv=%d D=%d budget=%d sinks=%d recent=%d: %d mismatches", B, T, H, Hkv, D,
          p.budget, p.sinks, p.recent, wrong);
    hpc_kv_policy_free(policy);
    hpc_tensor_free(ti); hpc_tensor_free(tkk); hpc_tensor_free(tvv);
    hpc_tensor_free(tk); hpc_tensor_free(tv); hpc_tensor_free(ts);
    free(k); free(v); free(s); free(idx); free(gk); free(gv); free(hk); free(hv); free(tot); free(win); free(keep);
}

int main(void) {
    const int sizes[] = {1, 7, 31, 33, 127, 129, 197};
    for (int i = 0; i < 7; i++) {
        hpc_kv_policy_params p = hpc_kv_policy_default_params();
        p.kind = HPC_KV_EMS;
        p.budget = 16;
        p.sinks = 2;
        test_ems(p, 2, sizes[i], 4, 2, 8); /* recent -1: min(16, 16 / 4) = 4 */
        p.recent = 5;
        p.sinks = 0;
        test_ems(p, 1, sizes[i], 6, 3, 5);
    }
    if (failures) {
        fprintf(stderr, "hpccore EMS test: %d failure(s)\n", failures);
        return 1;
    }
    printf("hpccore EMS test: all checks passed\n");
    return 0;
}
