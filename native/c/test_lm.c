/* C test of hpc_lm_*: greedy generation with stories260K must continue "Once upon a time" exactly as llama2.c's run.c
 * does (an independent implementation); every KV policy with a budget that keeps everything must give the full
 * cache's text; StreamingLLM at a small budget holds at most its budget per head (hpc_lm_get_kv_stats) and is
 * deterministic; bad arguments. The model folder comes from argv[1] (CMake passes HPCCORE_STORIES260K); exit code 77
 * (CTest: skipped) when the files are not there. */
#include "test_util.h"

static const char* RUN_C = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.";
static const char* PROMPT = "Once upon a time";

static char* generate(hpc_lm* lm, int max_new, const hpc_lm_generate_params* params, hpc_lm_kv_stats* stats) {
    static char text[2][8192];
    static int turn = 0;
    char* out = text[turn ^= 1];
    size_t length = 0;
    out[0] = 0;
    OK(hpc_lm_generate(lm, PROMPT, max_new, params, out, sizeof text[0], &length));
    CHECK(strlen(out) == length, "length %zu, text has %zu bytes", length, strlen(out));
    if (stats) OK(hpc_lm_get_kv_stats(lm, stats));
    return out;
}

/* Budget 512 (the model's whole context) keeps every token, so every policy must read what the full cache reads. */
static void test_policies_keeping_everything(hpc_lm* lm, const char* full) {
    const int kinds[] = {HPC_KV_STREAMING_LLM, HPC_KV_H2O, HPC_KV_SNAPKV, HPC_KV_TOKENSELECT, HPC_KV_RAZOR_ATTENTION,
                         HPC_KV_EMS};
    for (int i = 0; i < 6; i++) {
        hpc_lm_generate_params p = hpc_lm_generate_default_params();
        p.kv_policy.kind = kinds[i];
        p.kv_policy.budget = 512;
        const char* text = generate(lm, 40, &p, NULL);
        CHECK(strcmp(text, full) == 0, "kind %d, budget 512: text differs from the full cache's\n  got:  %s\n  want: %s",
              kinds[i], text, full);
    }
}

/* StreamingLLM keeping 16 tokens per head over a longer generation: bounded, fewer bytes than the full cache, the
 * same text on every run. */
static void test_streaming_bounded(hpc_lm* lm) {
    hpc_lm_kv_stats full_stats, stats, again_stats;
    hpc_lm_generate_params p = hpc_lm_generate_default_params();
    generate(lm, 120, &p, &full_stats);
    p.kv_policy.kind = HPC_KV_STREAMING_LLM;
    p.kv_policy.budget = 16;
    char first[8192];
    snprintf(first, sizeof first, "%s", generate(lm, 120, &p, &stats));
    const char* again = generate(lm, 120, &p, &again_stats);
    CHECK(strcmp(first, again) == 0, "StreamingLLM is not deterministic:\n  %s\n  %s", first, again);
    CHECK(full_stats.position > 32 && full_stats.tokens_held % full_stats.position == 0 &&
              full_stats.max_head_tokens == full_stats.position,
          "full cache: position %d, %lld tokens held, %d in the fullest head", full_stats.position,
          (long long)full_stats.tokens_held, full_stats.max_head_tokens);
    long long heads = full_stats.tokens_held / (full_stats.position > 0 ? full_stats.position : 1);
    CHECK(stats.position > 16 && stats.max_head_tokens == 16 && stats.tokens_held == heads * 16,
          "StreamingLLM budget 16: position %d, %d tokens in the fullest head, %lld held over %lld heads", stats.position,
          stats.max_head_tokens, (long long)stats.tokens_held, heads);
    CHECK(stats.bytes_held < full_stats.bytes_held && stats.peak_bytes_held < full_stats.peak_bytes_held,
          "StreamingLLM holds %lld bytes (peak %lld), the full cache %lld (peak %lld)", (long long)stats.bytes_held,
          (long long)stats.peak_bytes_held, (long long)full_stats.bytes_held, (long long)full_stats.peak_bytes_held);
    CHECK(again_stats.bytes_held == stats.bytes_held && again_stats.tokens_held == stats.tokens_held,
          "a second run holds a different cache");
    /* The stateful and merging policies at a small budget run and repeat themselves too. */
    const int kinds[] = {HPC_KV_TOKENSELECT, HPC_KV_RECYCLED, HPC_KV_EMS, HPC_KV_RAZOR_ATTENTION};
    for (int i = 0; i < 4; i++) {
        p = hpc_lm_generate_default_params();
        p.kv_policy.kind = kinds[i];
        p.kv_policy.budget = 24;
        snprintf(first, sizeof first, "%s", generate(lm, 80, &p, NULL));
        again = generate(lm, 80, &p, NULL);
        CHECK(strlen(first) > strlen(PROMPT) && strcmp(first, again) == 0, "kind %d budget 24: '%s' then '%s'", kinds[i],
              first, again);
    }
}

/* hpc_lm_generate with bad parameters: `status`, and a message naming the function and `field`. */
static void bad_params(hpc_lm* lm, const hpc_lm_generate_params* p, hpc_status status, const char* field, const char* what) {
    char text[256];
    size_t length = 0;
    expect_error(hpc_lm_generate(lm, PROMPT, 4, p, text, sizeof text, &length), status, "hpc_lm_generate", field, what);
}

static void test_bad_arguments(hpc_lm* lm, const char* tokenizer, size_t length, const char* full) {
    char text[4096], small[8];
    size_t needed = 0;
    hpc_lm_generate_params p = hpc_lm_generate_default_params();
    CHECK(p.kv_policy.kind == HPC_KV_FULL && p.kv_policy.budget == 256 && p.kv_policy.sinks == 4 &&
              p.sampler.temperature == 0.0f && p.sampler.top_k == 0 && p.sampler.reserved == 0,
          "default generate params");
    /* A short buffer reports the size needed. */
    expect_error(hpc_lm_generate(lm, PROMPT, 40, NULL, small, sizeof small, &needed), HPC_ERR_BUFFER_TOO_SMALL,
                 "hpc_lm_generate", "capacity", "short buffer");
    CHECK(needed == length, "short buffer: needed %zu, expected %zu", needed, length);
    p.kv_policy.kind = 42;
    bad_params(lm, &p, HPC_ERR_INVALID_ARGUMENT, "kind", "unknown policy kind");
    p = hpc_lm_generate_default_params();
    p.kv_policy.kind = HPC_KV_STREAMING_LLM;
    p.kv_policy.budget = 0;
    bad_params(lm, &p, HPC_ERR_OUT_OF_RANGE, "budget", "budget 0");
    p.kv_policy.budget = 4; /* StreamingLLM: budget must exceed sinks (4) */
    bad_params(lm, &p, HPC_ERR_OUT_OF_RANGE, "sinks", "budget <= sinks");
    p = hpc_lm_generate_default_params();
    p.kv_policy.kind = HPC_KV_RAZOR_ATTENTION;
    p.kv_policy.ratio = 0.5f;
    bad_params(lm, &p, HPC_ERR_OUT_OF_RANGE, "ratio", "razor ratio < 1");
    p = hpc_lm_generate_default_params();
    p.sampler.reserved = 1;
    bad_params(lm, &p, HPC_ERR_INVALID_ARGUMENT, "reserved", "sampler.reserved");
    expect_error(hpc_lm_generate(lm, PROMPT, -1, NULL, text, sizeof text, &needed), HPC_ERR_OUT_OF_RANGE,
                 "hpc_lm_generate", "max_new_tokens", "max_new_tokens -1");
    expect_error(hpc_lm_get_kv_stats(lm, NULL), HPC_ERR_NULL_POINTER, "hpc_lm_get_kv_stats", "stats", "NULL stats");
    hpc_lm_kv_stats stats;
    expect_error(hpc_lm_get_kv_stats((const hpc_lm*)&stats, &stats), HPC_ERR_INVALID_HANDLE, "hpc_lm_get_kv_stats", "lm",
                 "forged handle");
    /* The failures left the model usable: the defaults give the full cache's text again. */
    CHECK(strcmp(generate(lm, 40, NULL, NULL), full) == 0, "after the failures the text changed");

    hpc_lm* missing = NULL;
    expect_error(hpc_lm_load("/nonexistent/model.bin", tokenizer, &missing), HPC_ERR_IO, "model.bin", "", "missing file");
    CHECK(missing == NULL, "out must be NULL after a failed load");

    /* A prompt longer than the 512-token context is HPC_ERR_OUT_OF_RANGE (it was HPC_ERR_INTERNAL), refused before it
     * is encoded: 64 kB of text cannot fit 512 tokens of a tokenizer whose longest piece is a few bytes. */
    size_t long_bytes = 64 * 1024;
    char* long_prompt = malloc(long_bytes + 1);
    memset(long_prompt, 'a', long_bytes);
    long_prompt[long_bytes] = 0;
    expect_error(hpc_lm_generate(lm, long_prompt, 4, NULL, text, sizeof text, &needed), HPC_ERR_OUT_OF_RANGE,
                 "hpc_lm_generate", "prompt", "prompt longer than the context");
    free(long_prompt);
    CHECK(strcmp(generate(lm, 40, NULL, NULL), full) == 0, "after the long prompt the text changed");
}

/* A truncated llama2.c checkpoint is a malformed file: HPC_ERR_IO (LmFormatException was HPC_ERR_INTERNAL), with a
 * message that names the function. */
static void test_truncated_checkpoint(const char* model, const char* tokenizer) {
    FILE* in = fopen(model, "rb");
    if (!in) return;
    static unsigned char head[4096];
    size_t n = fread(head, 1, sizeof head, in);
    fclose(in);
    const char* truncated = "hpccore_test_truncated.bin"; /* in CTest's working folder */
    FILE* out = fopen(truncated, "wb");
    CHECK(out != NULL, "cannot write %s", truncated);
    if (!out) return;
    fwrite(head, 1, n / 2, out);
    fclose(out);
    hpc_lm* lm = (hpc_lm*)head;
    expect_error(hpc_lm_load(truncated, tokenizer, &lm), HPC_ERR_IO, "hpc_lm_load", "", "truncated checkpoint");
    CHECK(lm == NULL, "out must be NULL after a failed load");
    remove(truncated);
}

int main(int argc, char** argv) {
    char model[4096], tokenizer[4096];
    if (argc < 2) return 77;
    snprintf(model, sizeof model, "%s/stories260K.bin", argv[1]);
    snprintf(tokenizer, sizeof tokenizer, "%s/tok512.bin", argv[1]);
    FILE* f = fopen(model, "rb");
    if (!f) {
        printf("stories260K not found in %s: skipped\n", argv[1]);
        return 77;
    }
    fclose(f);

    hpc_lm* lm = NULL;
    if (hpc_lm_load(model, tokenizer, &lm) != HPC_OK) {
        fprintf(stderr, "FAIL hpc_lm_load: %s\n", hpc_last_error());
        return 1;
    }
    hpc_lm_generate_params greedy = hpc_lm_generate_default_params();
    char full[8192];
    snprintf(full, sizeof full, "%s", generate(lm, 40, &greedy, NULL));
    CHECK(strncmp(full, RUN_C, strlen(RUN_C)) == 0, "greedy text differs from run.c:\n  got:  %s\n  want: %s...", full,
          RUN_C);
    printf("generate: %s\n", full);

    test_policies_keeping_everything(lm, full);
    test_streaming_bounded(lm);
    test_bad_arguments(lm, tokenizer, strlen(full), full);
    test_truncated_checkpoint(model, tokenizer);
    CHECK(hpc_lm_free(lm) == HPC_OK, "free");
    expect_error(hpc_lm_free(lm), HPC_ERR_INVALID_HANDLE, "hpc_lm_free", "lm", "double free");
    if (failures) {
        fprintf(stderr, "hpccore LM C test: %d failure(s)\n", failures);
        return 1;
    }
    printf("hpccore LM C test: all checks passed\n");
    return 0;
}
