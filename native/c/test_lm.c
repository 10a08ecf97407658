/* C test of hpc_lm_*: greedy generation with stories260K must continue "Once upon a time" exactly as llama2.c's run.c
 * does (an independent implementation). The model folder comes from argv[1] (CMake passes HPCCORE_STORIES260K);
 * exit code 77 (CTest: skipped) when the files are not there. */
#include "hpccore.h"

#include <stdio.h>
#include <string.h>

static const char* RUN_C = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.";

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

    int failures = 0;
    hpc_lm* lm = NULL;
    if (hpc_lm_load(model, tokenizer, &lm) != HPC_OK) {
        fprintf(stderr, "FAIL hpc_lm_load: %s\n", hpc_last_error());
        return 1;
    }
    char text[4096];
    size_t length = 0;
    hpc_sampler_params greedy = hpc_sampler_default_params();
    if (hpc_lm_generate(lm, "Once upon a time", 40, &greedy, text, sizeof text, &length) != HPC_OK) {
        fprintf(stderr, "FAIL hpc_lm_generate: %s\n", hpc_last_error());
        failures++;
    } else if (strncmp(text, RUN_C, strlen(RUN_C)) != 0 || strlen(text) != length) {
        fprintf(stderr, "FAIL greedy text differs from run.c:\n  got:  %s\n  want: %s...\n", text, RUN_C);
        failures++;
    } else {
        printf("generate: %s\n", text);
    }

    /* A short buffer reports the size needed; a missing file and a freed handle are errors, not crashes. */
    char small[8];
    size_t needed = 0;
    if (hpc_lm_generate(lm, "Once upon a time", 40, NULL, small, sizeof small, &needed) != HPC_ERR_BUFFER_TOO_SMALL ||
        needed != length) {
        fprintf(stderr, "FAIL short buffer: needed %zu, expected %zu (%s)\n", needed, length, hpc_last_error());
        failures++;
    }
    hpc_lm* missing = NULL;
    if (hpc_lm_load("/nonexistent/model.bin", tokenizer, &missing) != HPC_ERR_IO || missing != NULL ||
        strstr(hpc_last_error(), "model.bin") == NULL) {
        fprintf(stderr, "FAIL missing file: %s\n", hpc_last_error());
        failures++;
    }
    if (hpc_lm_free(lm) != HPC_OK || hpc_lm_free(lm) != HPC_ERR_INVALID_HANDLE) {
        fprintf(stderr, "FAIL double free: %s\n", hpc_last_error());
        failures++;
    }
    if (failures == 0) printf("hpccore LM C test: all checks passed\n");
    return failures ? 1 : 0;
}
