// A plain single-threaded C forward pass of a llama2.c checkpoint (legacy format: 7 int32 header, float32 tensors),
// written from the format description in data-and-oracles.md, in the style of llama2.c's run.c (plain loops,
// compiler auto-vectorisation, RoPE angles from powf/cosf/sinf each step). It is NOT run.c (whose source is not on
// this machine): a stand-in for "a single-threaded C implementation" to measure on the same machine as HpcCore.
// Build: gcc -O3 -march=native -o plainc plainc.c -lm
// Run:   REPS=30 ./plainc stories260K.bin steps id0 id1 ...   (prompt ids, BOS first; greedy; prints the first
//        run's ids, then median/best tok/s over REPS runs)
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct { int dim, hidden, layers, heads, kv_heads, vocab, seq; } Config;

static void rmsnorm(float *o, const float *x, const float *w, int n) {
    float ss = 0;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    ss = 1.0f / sqrtf(ss / n + 1e-5f);
    for (int i = 0; i < n; i++) o[i] = w[i] * (ss * x[i]);
}

static void matmul(float *o, const float *x, const float *w, int n, int d) {  // W [d, n] x [n] -> [d]
    for (int i = 0; i < d; i++) {
        float v = 0;
        for (int j = 0; j < n; j++) v += w[i * n + j] * x[j];
        o[i] = v;
    }
}

static void softmax(float *x, int n) {
    float m = x[0], s = 0;
    for (int i = 1; i < n; i++) if (x[i] > m) m = x[i];
    for (int i = 0; i < n; i++) { x[i] = expf(x[i] - m); s += x[i]; }
    for (int i = 0; i < n; i++) x[i] /= s;
}

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s model.bin steps id...\n", argv[0]); return 1; }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    Config c;
    if (fread(&c, sizeof c, 1, f) != 1) return 1;
    int shared = c.vocab > 0;
    if (c.vocab < 0) c.vocab = -c.vocab;
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f) - sizeof c;
    fseek(f, sizeof c, SEEK_SET);
    float *data = malloc(bytes);
    if (fread(data, 1, bytes, f) != (size_t)bytes) return 1;
    fclose(f);
    int hd = c.dim / c.heads, kv = c.kv_heads * hd, L = c.layers, D = c.dim, H = c.hidden;
    float *p = data;
    float *emb = p; p += (long)c.vocab * D;
    float *rms_att = p; p += L * D;
    float *wq = p; p += (long)L * D * D;
    float *wk = p; p += (long)L * D * kv;
    float *wv = p; p += (long)L * D * kv;
    float *wo = p; p += (long)L * D * D;
    float *rms_ffn = p; p += L * D;
    float *w1 = p; p += (long)L * D * H;
    float *w2 = p; p += (long)L * H * D;
    float *w3 = p; p += (long)L * D * H;
    float *rms_final = p; p += D;
    p += (long)c.seq * hd;  // freq_cis_real and freq_cis_imag (unused)
    float *wcls = shared ? emb : p;
    float *x = calloc(D, 4), *xb = calloc(D, 4), *xb2 = calloc(D, 4), *hb = calloc(H, 4), *hb2 = calloc(H, 4);
    float *q = calloc(D, 4), *att = calloc((long)c.heads * c.seq, 4), *logits = calloc(c.vocab, 4);
    float *kc = calloc((long)L * c.seq * kv, 4), *vc = calloc((long)L * c.seq * kv, 4);
    int steps = atoi(argv[2]), nprompt = argc - 3, reps = getenv("REPS") ? atoi(getenv("REPS")) : 1;
    double walls[256], cpus[256];
    if (reps > 256) reps = 256;
    for (int rep = 0; rep < reps; rep++) {
    int token = atoi(argv[3]);
    double start = 0;
    clock_t cpu0 = 0;
    for (int pos = 0; pos < c.seq && pos < nprompt - 1 + steps; pos++) {
        if (pos == nprompt - 1) { start = now(); cpu0 = clock(); }  // time the generated tokens only
        memcpy(x, emb + (long)token * D, D * 4);
        for (int l = 0; l < L; l++) {
            rmsnorm(xb, x, rms_att + l * D, D);
            float *k = kc + ((long)l * c.seq + pos) * kv, *v = vc + ((long)l * c.seq + pos) * kv;
            matmul(q, xb, wq + (long)l * D * D, D, D);
            matmul(k, xb, wk + (long)l * D * kv, D, kv);
            matmul(v, xb, wv + (long)l * D * kv, D, kv);
            for (int i = 0; i < D; i += 2) {
                float freq = 1.0f / powf(10000.0f, (i % hd) / (float)hd), val = pos * freq, fcr = cosf(val), fci = sinf(val);
                for (int r = 0; r < (i < kv ? 2 : 1); r++) {
                    float *vec = r == 0 ? q : k, v0 = vec[i], v1 = vec[i + 1];
                    vec[i] = v0 * fcr - v1 * fci;
                    vec[i + 1] = v0 * fci + v1 * fcr;
                }
            }
            for (int h = 0; h < c.heads; h++) {
                float *qh = q + h * hd, *a = att + h * c.seq;
                int kvh = h / (c.heads / c.kv_heads);
                for (int t = 0; t <= pos; t++) {
                    float *kt = kc + ((long)l * c.seq + t) * kv + kvh * hd, s = 0;
                    for (int i = 0; i < hd; i++) s += qh[i] * kt[i];
                    a[t] = s / sqrtf(hd);
                }
                softmax(a, pos + 1);
                float *o = xb + h * hd;
                memset(o, 0, hd * 4);
                for (int t = 0; t <= pos; t++) {
                    float *vt = vc + ((long)l * c.seq + t) * kv + kvh * hd;
                    for (int i = 0; i < hd; i++) o[i] += a[t] * vt[i];
                }
            }
            matmul(xb2, xb, wo + (long)l * D * D, D, D);
            for (int i = 0; i < D; i++) x[i] += xb2[i];
            rmsnorm(xb, x, rms_ffn + l * D, D);
            matmul(hb, xb, w1 + (long)l * D * H, D, H);
            matmul(hb2, xb, w3 + (long)l * D * H, D, H);
            for (int i = 0; i < H; i++) hb[i] = hb[i] / (1.0f + expf(-hb[i])) * hb2[i];
            matmul(xb2, hb, w2 + (long)l * H * D, H, D);
            for (int i = 0; i < D; i++) x[i] += xb2[i];
        }
        rmsnorm(x, x, rms_final, D);
        matmul(logits, x, wcls, D, c.vocab);
        if (pos < nprompt - 1) { token = atoi(argv[4 + pos]); continue; }
        int best = 0;
        for (int i = 1; i < c.vocab; i++) if (logits[i] > logits[best]) best = i;
        token = best;
        if (rep == 0) printf("%d ", token);
    }
    walls[rep] = steps / (now() - start);
    cpus[rep] = steps / ((double)(clock() - cpu0) / CLOCKS_PER_SEC);
    }
    // Median and best over the repetitions (sorted in place; reps is small).
    for (int i = 0; i < reps; i++)
        for (int j = i + 1; j < reps; j++) {
            if (walls[j] < walls[i]) { double t = walls[i]; walls[i] = walls[j]; walls[j] = t; }
            if (cpus[j] < cpus[i]) { double t = cpus[i]; cpus[i] = cpus[j]; cpus[j] = t; }
        }
    printf("\nplain C: median %.0f tok/s, best %.0f, median %.0f tok per CPU-s (%d runs of %d tokens)\n",
           walls[reps / 2], walls[reps - 1], cpus[reps / 2], reps, steps);
    return 0;
}
