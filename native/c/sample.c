/* hpccore from C: attention over a small random input, then one ToMe step (plan on the keys' metric, merge the
 * tokens, and proportional attention over the merged tokens with log(size) as key bias). */
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

int main(void) {
    enum { B = 1, T = 197, H = 4, D = 16, C = H * D };
    static float x[B * T * C];
    for (int i = 0; i < B * T * C; i++) x[i] = (float)((i * 7919) % 101) / 101.0f - 0.5f;

    /* q = k = v = x viewed as [B, T, H, D]. */
    int64_t heads[4] = {B, T, H, D}, tokens[3] = {B, T, C};
    hpc_tensor *qkv = NULL, *out = NULL, *metric = NULL, *flat = NULL, *merged = NULL, *size = NULL, *bias = NULL;
    TRY(hpc_tensor_create(HPC_F32, heads, 4, x, sizeof x, &qkv));
    TRY(hpc_attention_forward(qkv, qkv, qkv, NULL, &out));

    /* ToMe: metric = keys averaged over heads, merge r = 16 tokens of x, keep [CLS]. */
    hpc_merge_plan* plan = NULL;
    hpc_tome_params tome = hpc_tome_default_params();
    tome.class_token = 1;
    TRY(hpc_tome_key_metric(qkv, &metric));
    TRY(hpc_tome_plan(metric, 16, &tome, &plan));
    TRY(hpc_tensor_create(HPC_F32, tokens, 3, x, sizeof x, &flat));
    TRY(hpc_tome_merge(plan, flat, NULL, &merged, &size));
    TRY(hpc_tome_log_size(size, &bias));
    int32_t r = 0, before = 0, after = 0;
    TRY(hpc_merge_plan_info(plan, &r, &before, &after));

    int64_t shape[8];
    int32_t rank = 0;
    TRY(hpc_tensor_info(merged, NULL, &rank, shape, 8));
    printf("attention: [%d, %d, %d, %d]; ToMe r=%d: %d -> %d tokens, merged [%lld, %lld, %lld]\n", B, T, H, D, r,
           before, after, (long long)shape[0], (long long)shape[1], (long long)shape[2]);

    hpc_tensor_free(bias); hpc_tensor_free(size); hpc_tensor_free(merged); hpc_tensor_free(flat);
    hpc_tensor_free(metric); hpc_merge_plan_free(plan); hpc_tensor_free(out); hpc_tensor_free(qkv);
    printf("sample: ok\n");
    return 0;
}
