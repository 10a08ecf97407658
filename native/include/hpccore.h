/*
 * hpccore.h - the C ABI of HpcCore (MIT license). Written by hand; the implementation is
 * native/HpcCore.Native (C# compiled ahead of time by NativeAOT into libhpccore.so / libhpccore.dll).
 *
 * Scope: the CPU backend only (SIMD kernels, worker threads). The ILGPU (CUDA/OpenCL) backend compiles its kernels
 * from .NET IL at run time, which NativeAOT cannot host, so it is not reachable through this ABI: use the HpcCore.Gpu
 * NuGet package from .NET for GPUs.
 *
 * Conventions
 *   - Every function returns an hpc_status (except the *_default_params(), hpc_version and hpc_last_error helpers).
 *     On failure, hpc_last_error() returns a message naming the function, the argument and the shapes; it is
 *     thread-local, owned by the library, valid until the calling thread's next hpccore call, and "" after a success.
 *   - No exception or longjmp ever crosses the boundary; every pointer, handle and length is checked. A handle that
 *     was freed (or never returned by hpccore) gives HPC_ERR_INVALID_HANDLE, not a crash.
 *   - Handles (hpc_tensor*, hpc_merge_plan*) are opaque. Each hpc_tensor** / hpc_merge_plan** output receives a new
 *     handle the caller owns and frees with hpc_tensor_free / hpc_merge_plan_free; outputs are set to NULL first, so
 *     on failure there is nothing to free. Inputs are never modified or taken over.
 *   - Tensors are row-major; shapes are written [B, T, H, D] (batch, tokens, heads, head dim). Layouts per function.
 *   - Parameter structs: start from the matching *_default_params() (not from a zeroed struct: e.g. windows use -1
 *     for "unbounded"); passing NULL for a params pointer means the defaults.
 *   - Thread safety: calls may come from any thread; do not free a handle while another thread uses it.
 */
#ifndef HPCCORE_H
#define HPCCORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define HPC_API __declspec(dllimport)
#else
#define HPC_API
#endif

/* ---- status, errors, version ------------------------------------------------------------------------------------ */

typedef enum hpc_status {
    HPC_OK = 0,
    HPC_ERR_NULL_POINTER = 1,     /* a required pointer or handle is NULL */
    HPC_ERR_INVALID_ARGUMENT = 2, /* wrong dtype, rank, shape, layout or value */
    HPC_ERR_OUT_OF_RANGE = 3,     /* a count or index outside its range (e.g. k > N) */
    HPC_ERR_INVALID_HANDLE = 4,   /* a handle that is freed, of the wrong kind, or not from hpccore */
    HPC_ERR_BUFFER_TOO_SMALL = 5, /* a caller buffer shorter than needed */
    HPC_ERR_UNSUPPORTED = 6,      /* the operation is not available (e.g. an op with no CPU kernel) */
    HPC_ERR_OUT_OF_MEMORY = 7,
    HPC_ERR_INTERNAL = 8,         /* a bug: please report it with hpc_last_error() */
    HPC_ERR_IO = 9                /* a file is missing, unreadable or malformed */
} hpc_status;

/* The calling thread's last error message ("" after a success). Never NULL. */
HPC_API const char* hpc_last_error(void);
/* The library version, e.g. "0.1.0". */
HPC_API const char* hpc_version(void);

/* ---- tensors ---------------------------------------------------------------------------------------------------- */

typedef enum hpc_dtype {
    HPC_F32 = 0,
    HPC_F16 = 1,  /* IEEE binary16 */
    HPC_BF16 = 2, /* upper 16 bits of a binary32 */
    HPC_I32 = 3,
    HPC_I64 = 4,
    HPC_U8 = 5,
    HPC_BOOL = 6  /* one byte, 0 or 1 */
} hpc_dtype;

typedef struct hpc_tensor hpc_tensor;

/* A contiguous tensor of `rank` (0..8) dims copied from `data` (data_bytes must equal the element count times the
 * dtype size). data == NULL with data_bytes == 0 makes a zero-filled tensor. */
HPC_API hpc_status hpc_tensor_create(hpc_dtype dtype, const int64_t* shape, int32_t rank, const void* data,
                                     size_t data_bytes, hpc_tensor** out);
/* Frees a tensor; NULL is a no-op. */
HPC_API hpc_status hpc_tensor_free(hpc_tensor* tensor);
/* dtype, rank and dims (shape needs `capacity` >= rank entries); any output may be NULL. */
HPC_API hpc_status hpc_tensor_info(const hpc_tensor* tensor, hpc_dtype* dtype, int32_t* rank, int64_t* shape,
                                   int32_t capacity);
/* Copies the elements, row-major, into dst (dst_bytes >= element count times dtype size). */
HPC_API hpc_status hpc_tensor_copy_to(const hpc_tensor* tensor, void* dst, size_t dst_bytes);

/* ---- attention -------------------------------------------------------------------------------------------------- */

typedef struct hpc_attention_params {
    float scale;                /* logit scale; 0 means 1/sqrt(D) */
    int32_t causal;             /* nonzero: query t sees keys <= t + (Tk - Tq) (bottom-right aligned, flash-attn) */
    int32_t window_left;        /* sliding window: keys at most this far left of the diagonal; -1 unbounded */
    int32_t window_right;       /* ... at most this far right; -1 unbounded */
    float soft_cap;             /* logit soft-capping cap * tanh(s / cap) (Gemma 2); 0 disables it */
    int32_t reserved;           /* must be 0 */
    const hpc_tensor* key_bias;         /* NULL or F32 [B, Tk] / [B, Hkv, Tk] added to logits (ToMe's log size) */
    const hpc_tensor* key_padding_mask; /* NULL or U8/BOOL [B, Tk]: nonzero keeps the key */
    const hpc_tensor* key_lengths;      /* NULL or I32 [B]: keys at positions >= key_lengths[b] are dropped */
    hpc_tensor* key_totals;             /* NULL or output F32 [B, H, Tk]: attention received by each key, summed over
                                           queries (EViT/attention-score pruning), written in place */
} hpc_attention_params;

/* scale 0 (1/sqrt(D)), not causal, windows -1, no soft cap, no tensors. */
HPC_API hpc_attention_params hpc_attention_default_params(void);

/* out = softmax(scale * Q K^T + bias, masked) V for q [B, Tq, H, D] and k, v [B, Tk, Hkv, D] (F32, F16 or BF16; H a
 * multiple of Hkv: query head h reads kv head h / (H / Hkv), grouped-query attention). Fused: no [Tq, Tk] matrix is
 * materialised. out is [B, Tq, H, D] in q's dtype. params NULL means the defaults. */
HPC_API hpc_status hpc_attention_forward(const hpc_tensor* q, const hpc_tensor* k, const hpc_tensor* v,
                                         const hpc_attention_params* params, hpc_tensor** out);

/* ---- top-k and pruning ------------------------------------------------------------------------------------------ */

/* The k largest of each row of scores F32 [..., N]: values F32 [..., k] (values may be NULL: not computed) and
 * indices I32 [..., k], by score descending; ties go to the lower index; NaN ranks below every number. */
HPC_API hpc_status hpc_topk(const hpc_tensor* scores, int32_t k, hpc_tensor** values, hpc_tensor** indices);

typedef struct hpc_prune_params {
    int32_t keep_order; /* nonzero (default): kept tokens stay in their original order, not in score order */
} hpc_prune_params;

HPC_API hpc_prune_params hpc_prune_default_params(void);

/* Keeps the k tokens of x F32 [B, N, C] with the highest scores F32 [B, N] (e.g. [CLS] attention from
 * key_totals): kept F32 [B, k, C] and, unless kept_indices is NULL, their positions I32 [B, k]. */
HPC_API hpc_status hpc_prune_topk(const hpc_tensor* x, const hpc_tensor* scores, int32_t k,
                                  const hpc_prune_params* params, hpc_tensor** kept, hpc_tensor** kept_indices);

/* ---- ToMe token merging (Bolya et al., ICLR 2023) --------------------------------------------------------------- */

typedef struct hpc_merge_plan hpc_merge_plan;

typedef struct hpc_tome_params {
    int32_t class_token;        /* token 0 is [CLS]: never merged */
    int32_t distillation_token; /* token 1 is a distillation token (DeiT): never a merge destination */
    int32_t preserve_order;     /* outputs in input-position order instead of ToMe's [unmerged A..., B...] */
} hpc_tome_params;

/* All zero: nothing protected, ToMe's order. */
HPC_API hpc_tome_params hpc_tome_default_params(void);

/* ToMe's metric: keys F32 [B, T, Hkv, D] averaged over kv heads, out F32 [B, T, D]. */
HPC_API hpc_status hpc_tome_key_metric(const hpc_tensor* keys, hpc_tensor** out);
/* Bipartite soft matching on metric F32 [B, N, d]: A = even, B = odd positions; the r A tokens with the most similar
 * (cosine) B partner merge into it. r is clamped to what the token count allows (see hpc_merge_plan_info). */
HPC_API hpc_status hpc_tome_plan(const hpc_tensor* metric, int32_t r, const hpc_tome_params* params,
                                 hpc_merge_plan** out);
/* The r applied, and the token counts before and after; any output may be NULL. */
HPC_API hpc_status hpc_merge_plan_info(const hpc_merge_plan* plan, int32_t* r, int32_t* input_tokens,
                                       int32_t* output_tokens);
/* Frees a plan; NULL is a no-op. */
HPC_API hpc_status hpc_merge_plan_free(hpc_merge_plan* plan);
/* Size-weighted average merge: x F32 [B, N, C], size F32 [B, N] or NULL (all ones) -> merged F32 [B, N - r, C] and,
 * unless merged_size is NULL, the merged sizes F32 [B, N - r] (a merged token's size counts the patches it holds). */
HPC_API hpc_status hpc_tome_merge(const hpc_merge_plan* plan, const hpc_tensor* x, const hpc_tensor* size,
                                  hpc_tensor** merged, hpc_tensor** merged_size);
/* Copies each merged token F32 [B, N - r, C] back to every position it absorbed: out F32 [B, N, C]. */
HPC_API hpc_status hpc_tome_unmerge(const hpc_merge_plan* plan, const hpc_tensor* merged, hpc_tensor** out);
/* log(size): the key_bias of proportional attention for later blocks. */
HPC_API hpc_status hpc_tome_log_size(const hpc_tensor* size, hpc_tensor** out);

/* ---- LM decoder (llama2.c checkpoints, HF Llama/GPT-2 safetensors) --------------------------------------------- */

typedef struct hpc_lm hpc_lm;

typedef struct hpc_sampler_params {
    float temperature; /* 0: greedy */
    int32_t top_k;     /* keep the k most likely tokens; 0 off */
    float top_p;       /* nucleus mass; 0 or >= 1 off */
    int32_t reserved;  /* must be 0 */
    uint64_t seed;     /* same seed, model and params: same tokens */
} hpc_sampler_params;

/* All zero: greedy. */
HPC_API hpc_sampler_params hpc_sampler_default_params(void);

/* Loads a model (a llama2.c .bin checkpoint, or HF .safetensors) and its llama2.c tokenizer file (UTF-8 paths).
 * A missing or malformed file gives HPC_ERR_IO. */
HPC_API hpc_status hpc_lm_load(const char* model_path, const char* tokenizer_path, hpc_lm** out);
/* Frees a model; NULL is a no-op. */
HPC_API hpc_status hpc_lm_free(hpc_lm* lm);
/* Generates up to max_new_tokens after the UTF-8 prompt (BOS + prompt, stops at BOS/EOS, like llama2.c's run.c) and
 * writes the prompt and the continuation, NUL-terminated UTF-8, into text. *length receives the byte count without
 * the NUL, also when capacity is too small (HPC_ERR_BUFFER_TOO_SMALL: call again with length + 1). One generation at a
 * time per model (calls on one hpc_lm are serialised). params NULL means greedy. */
HPC_API hpc_status hpc_lm_generate(hpc_lm* lm, const char* prompt, int32_t max_new_tokens,
                                   const hpc_sampler_params* params, char* text, size_t capacity, size_t* length);

#ifdef __cplusplus
}
#endif

#endif /* HPCCORE_H */
