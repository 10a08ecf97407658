/* hpccore from C: attention over a small random input with the attention each key received exported, one ToMe step
 * (plan on the keys' metric, merge, proportional attention with log(size) as key bias), H2O on the same keys and
 * values, and, given the repository root as argument, the committed ViT classifier with and without ToMe and, where
 * llama2.c's stories260K is found (../shared/models next to the repository), generation with StreamingLLM.
 * The regions between doctest markers are the C blocks of docs/C_ABI.md (DocsSyncTests keeps them equal). */
#include "hpccore.h"

#include <stdio.h>
#include <stdlib.h>

#define TRY(call)                                                                                                    \
    do {                                                                                                             \
        hpc_status s_ = (call);                                                                                      \
        if (s_ != HPC_OK) {                                                                                          \
            fprintf(stderr, "%s -> status %d: %s\n", #call, (int)s_, hpc_last_error());                             \
            return 1;                                                                                                \
        }                                                                                                            \
    } while (0)

enum { B = 1, T = 197, H = 4, D = 16, C = H * D };

static int attention_tome_h2o(void) {
    static float x[B * T * C];
    for (int i = 0; i < B * T * C; i++) x[i] = (float)((i * 7919) % 101) / 101.0f - 0.5f;
    /* doctest: c-attention-tome */
    /* q = k = v = x viewed as [B, T, H, D]; export the attention each key received, [B, H, T]. */
    int64_t heads[4] = {B, T, H, D}, tokens[3] = {B, T, C}, per_head[3] = {B, H, T};
    hpc_tensor *qkv = NULL, *out = NULL, *received = NULL;
    TRY(hpc_tensor_create(HPC_F32, heads, 4, x, sizeof x, &qkv));
    TRY(hpc_tensor_create(HPC_F32, per_head, 3, NULL, 0, &received)); /* zeros */
    hpc_attention_params attn = hpc_attention_default_params();
    attn.key_totals = received;
    TRY(hpc_attention_forward(qkv, qkv, qkv, &attn, &out));

    /* ToMe: metric = keys averaged over heads; merge r = 16 tokens of x, [CLS] protected; log(size) is the key bias
     * of proportional attention in the next block. */
    hpc_tensor *metric = NULL, *flat = NULL, *merged = NULL, *size = NULL, *bias = NULL;
    hpc_merge_plan* plan = NULL;
    hpc_tome_params tome = hpc_tome_default_params();
    tome.class_token = 1;
    TRY(hpc_tome_key_metric(qkv, &metric));
    TRY(hpc_tome_plan(metric, 16, &tome, &plan));
    TRY(hpc_tensor_create(HPC_F32, tokens, 3, x, sizeof x, &flat));
    TRY(hpc_tome_merge(plan, flat, NULL, &merged, &size)); /* size-weighted averages, [B, T - 16, C] */
    TRY(hpc_tome_log_size(size, &bias));
    int32_t r = 0, before = 0, after = 0;
    TRY(hpc_merge_plan_info(plan, &r, &before, &after));
    printf("ToMe r=%d: %d -> %d tokens\n", r, before, after);
    /* end doctest */

    /* doctest: c-kv-h2o */
    /* H2O on the same K/V: scores = the attention each key received; keep 64 tokens per kv head (32 newest + 32
     * heaviest hitters). Kept positions come back ascending [B, Hkv, 64], K/V compacted [B, 64, Hkv, D]. */
    hpc_kv_policy_params kv = hpc_kv_policy_default_params();
    kv.kind = HPC_KV_H2O;
    kv.budget = 64;
    hpc_kv_policy* policy = NULL;
    hpc_tensor *kept = NULL, *kept_k = NULL, *kept_v = NULL;
    TRY(hpc_kv_policy_create(&kv, &policy));
    TRY(hpc_kv_policy_apply(policy, qkv, qkv, received, NULL, &kept, &kept_k, &kept_v));
    int32_t positions[H * 64];
    TRY(hpc_tensor_copy_to(kept, positions, sizeof positions));
    printf("H2O: kv head 0 keeps positions %d, %d, ..., %d\n", positions[0], positions[1], positions[63]);
    /* end doctest */

    hpc_tensor_free(kept); hpc_tensor_free(kept_k); hpc_tensor_free(kept_v); hpc_kv_policy_free(policy);
    hpc_tensor_free(bias); hpc_tensor_free(size); hpc_tensor_free(merged); hpc_tensor_free(flat);
    hpc_tensor_free(metric); hpc_merge_plan_free(plan); hpc_tensor_free(out); hpc_tensor_free(received);
    hpc_tensor_free(qkv);
    return 0;
}

static int vit(const char* model_path) {
    enum { N = 2 };
    static uint8_t images[N * 28 * 28]; /* two 28 x 28 grey images: a bright square, a dark frame */
    for (int i = 0; i < N * 28 * 28; i++) {
        int y = i % (28 * 28) / 28, x = i % 28;
        images[i] = (uint8_t)(i < 28 * 28 ? (y > 6 && y < 22 && x > 6 && x < 22) * 255 : (y < 3 || y > 24) * 200);
    }
    /* doctest: c-vit */
    hpc_vit* vit = NULL;
    hpc_vit_info info;
    hpc_tensor *pixels = NULL, *logits = NULL, *reduced = NULL;
    TRY(hpc_vit_load(model_path, &vit));
    TRY(hpc_vit_get_info(vit, &info));
    /* 8-bit [N, 28, 28, 1] -> normalised F32 [N, C, S, S] with the model's mean and std. */
    TRY(hpc_vit_preprocess(vit, images, sizeof images, N, 28, 28, &pixels));
    TRY(hpc_vit_forward(vit, pixels, NULL, &logits)); /* [N, classes] */
    hpc_vit_params tome = hpc_vit_default_params();
    tome.tome_r = 8; /* ToMe: 8 tokens merged in every block */
    TRY(hpc_vit_forward(vit, pixels, &tome, &reduced));
    size_t bytes = sizeof(float) * N * (size_t)info.classes;
    float *plain = malloc(bytes), *merged = malloc(bytes);
    TRY(hpc_tensor_copy_to(logits, plain, bytes));
    TRY(hpc_tensor_copy_to(reduced, merged, bytes));
    printf("ViT (%d classes): image 0 logit 0 = %.4f plain, %.4f with ToMe r=8\n", info.classes, plain[0], merged[0]);
    free(plain);
    free(merged);
    /* end doctest */
    hpc_tensor_free(reduced); hpc_tensor_free(logits); hpc_tensor_free(pixels); hpc_vit_free(vit);
    return 0;
}

static int lm_streaming(const char* model_path, const char* tokenizer_path) {
    hpc_lm* lm = NULL;
    char text[4096];
    size_t length = 0;
    TRY(hpc_lm_load(model_path, tokenizer_path, &lm));
    /* doctest: c-lm-streaming */
    hpc_lm_generate_params gen = hpc_lm_generate_default_params(); /* greedy, full cache */
    gen.kv_policy.kind = HPC_KV_STREAMING_LLM;
    gen.kv_policy.budget = 64; /* 4 sinks + the 60 newest tokens per (layer, kv head) */
    TRY(hpc_lm_generate(lm, "Once upon a time", 200, &gen, text, sizeof text, &length));
    hpc_lm_kv_stats kv;
    TRY(hpc_lm_get_kv_stats(lm, &kv)); /* at most 64 tokens per head, however long the text */
    printf("StreamingLLM: %d tokens processed, at most %d cached per head (%lld bytes)\n", kv.position,
           kv.max_head_tokens, (long long)kv.bytes_held);
    /* end doctest */
    TRY(hpc_lm_free(lm));
    return 0;
}

int main(int argc, char** argv) {
    /* doctest: c-getting-started */
    int64_t shape[2] = {2, 3};
    float data[6] = {1, 2, 3, 4, 5, 6};
    hpc_tensor* t = NULL;
    hpc_status status = hpc_tensor_create(HPC_F32, shape, 2, data, 5, &t); /* 5 bytes: wrong on purpose */
    if (status != HPC_OK) /* prints: status 2: hpc_tensor_create: data_bytes is 5 but F32 [2, 3] needs 24. */
        printf("status %d: %s\n", (int)status, hpc_last_error());
    TRY(hpc_tensor_create(HPC_F32, shape, 2, data, sizeof data, &t));
    TRY(hpc_tensor_free(t));
    /* end doctest */
    if (attention_tome_h2o() != 0) return 1;
    if (argc > 1) {
        char path[4096];
        snprintf(path, sizeof path, "%s/assets/vit/vit-fmnist.safetensors", argv[1]);
        if (vit(path) != 0) return 1;
        char model[4096], tokenizer[4096];
        snprintf(model, sizeof model, "%s/../shared/models/stories260K/stories260K.bin", argv[1]);
        snprintf(tokenizer, sizeof tokenizer, "%s/../shared/models/stories260K/tok512.bin", argv[1]);
        FILE* f = fopen(model, "rb");
        if (f) {
            fclose(f);
            if (lm_streaming(model, tokenizer) != 0) return 1;
        } else {
            printf("stories260K not found next to the repository: LM block skipped\n");
        }
    }
    printf("sample: ok\n");
    return 0;
}
