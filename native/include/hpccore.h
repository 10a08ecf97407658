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
 *   - Handles (hpc_tensor*, hpc_merge_plan*, hpc_kv_policy*, hpc_vit*, hpc_lm*) are opaque. Each handle output
 *     receives a new handle the caller owns and frees with the matching *_free; outputs are set to NULL first, so on
 *     failure there is nothing to free. Inputs are never modified or taken over.
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

/* Every failure's message starts with the name of the hpc_* function that failed. */
typedef enum hpc_status {
    HPC_OK = 0,
    HPC_ERR_NULL_POINTER = 1,     /* a required pointer or handle is NULL */
    HPC_ERR_INVALID_ARGUMENT = 2, /* wrong dtype, rank, shape, layout or value; an output that aliases an input */
    HPC_ERR_OUT_OF_RANGE = 3,     /* a count or index outside its range (e.g. k > N); a shape of more than 2^56
                                     elements; a prompt longer than the model's context; a full KV cache */
    HPC_ERR_INVALID_HANDLE = 4,   /* a handle that is freed, of the wrong kind, or not from hpccore */
    HPC_ERR_BUFFER_TOO_SMALL = 5, /* a caller buffer shorter than needed */
    HPC_ERR_UNSUPPORTED = 6,      /* the operation is not available (e.g. an op with no CPU kernel) */
    HPC_ERR_OUT_OF_MEMORY = 7,    /* an allocation failed (e.g. a valid shape too large for this machine) */
    HPC_ERR_INTERNAL = 8,         /* a bug: please report it with hpc_last_error() */
    HPC_ERR_IO = 9,               /* a file is missing, unreadable or malformed (truncated checkpoint, bad header) */
    HPC_ERR_INVALID_STATE = 10    /* the object cannot take the call now (e.g. used by another thread at once) */
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

/* ---- KV-cache policies on caller-provided K/V -------------------------------------------------------------------
 * The decoder's policies (src/HpcCore.Models/KvCache), run on K/V the caller holds: each batch row's tokens are put in
 * a paged cache (token t at position t) and the policy decides through the same code the decoder runs.
 * Conventions (docs/KV_POLICIES.md explains why):
 *   - Kept tokens come back in ascending position order (never in score order): positions were baked into the keys
 *     by RoPE, and causal masks and "recent window" rules read the order.
 *   - Every kv head keeps the same number K of tokens (the budget), but each head chooses its own (H2O, SnapKV, EMS,
 *     Recycled).
 *   - Grouped-query attention: scores come per query head [B, H, T]; kv head g serves query heads h with
 *     h / (H / Hkv) == g (as hpc_attention_forward maps them) and its score is theirs summed. TokenSelect sums the
 *     per-head softmax votes over all H heads, so its selection is shared by every kv head (as the released code).
 *   - A decode query (TokenSelect, Recycled) is the last token's: its own K/V are the last of the T tokens, as the
 *     decoder appends a token before attending.
 *   - State: the policies that decide per decode step keep, per batch row, what the decoder keeps per layer from one
 *     call to the next (TokenSelect: the selection cache; Recycled: the step count and the recycled tokens), while
 *     B, H, Hkv and D stay the same (a change, or T outgrowing the policy's cache, starts over; so does
 *     hpc_kv_policy_reset). The others are stateless: each call decides from its inputs alone. */

typedef struct hpc_kv_policy hpc_kv_policy;

typedef enum hpc_kv_policy_kind {
    HPC_KV_STREAMING_LLM = 0, /* Xiao et al. 2024: the first `sinks` tokens and the newest (budget - sinks) */
    HPC_KV_H2O = 1,           /* Zhang et al. 2023: the newest `recent` tokens and the (budget - recent) heaviest
                                 hitters among the rest, by accumulated attention (scores) */
    HPC_KV_SNAPKV = 2,        /* Li et al. 2024: the last min(window, budget) prompt tokens and the top prefix tokens by
                                 the window queries' votes (scores) max-pooled over `kernel` neighbours */
    HPC_KV_TOKENSELECT = 3,   /* Wu et al. 2024: for one decode query, the first `sinks`, the newest `local` and the
                                 `budget` candidates in between with the highest summed per-head softmax(q.k) votes;
                                 nothing is evicted: the result is what attention reads this step. Stateful: while the
                                 query's cosine to the query that voted stays >= 0.9 the vote is reused (Selection
                                 Cache), as in the decoder */
    HPC_KV_FULL = 4,          /* keep everything (the baseline): K = T */
    HPC_KV_RECYCLED = 5,      /* Xu et al. 2024: every `stride`-th decode step (and the first) reads every token and
                                 records per kv head the `budget` tokens with the most attention from the query (summed
                                 over the head's query heads, the query's own token excluded); the steps in between
                                 read those plus the tokens that arrived since. Stateful (a step per call); nothing is
                                 evicted: the result is what attention reads this step */
    HPC_KV_RAZOR_ATTENTION = 6, /* Tang et al. 2024: retrieval heads keep everything, the others the first `sinks` and
                                 the last max(budget, seen / ratio) tokens plus one compensation token. hpc_lm_generate
                                 only: it needs decoder state (the retrieval heads probed on the model, and the
                                 compensation token its attention reads), so hpc_kv_policy_create gives
                                 HPC_ERR_UNSUPPORTED */
    HPC_KV_EMS = 7            /* evict-then-merge with a global-local score (methods.md 3.15): score = G / max G +
                                 L / max L with G = totals / queries that saw the token (a causal prefill: (T - t) per
                                 query head), L = the window's attention; keeps `sinks`, the newest `recent` and the
                                 top-scored middle tokens; half of the rest, best first, are merged into their most
                                 similar kept middle token (cosine of keys; score-weighted mean of K and V), so the
                                 compacted K/V are not a plain gather */
} hpc_kv_policy_kind;

typedef struct hpc_kv_policy_params {
    int32_t kind;     /* an hpc_kv_policy_kind */
    int32_t budget;   /* tokens kept per kv head (TokenSelect: voted candidates read per step; Recycled: tokens
                         recycled; RazorAttention: the recent buffer's floor); >= 1 */
    int32_t sinks;    /* StreamingLLM, TokenSelect, RazorAttention, EMS: leading tokens always kept (StreamingLLM:
                         < budget) */
    int32_t recent;   /* H2O: newest tokens always kept, <= budget, -1 means budget / 2 (the paper's split); EMS: -1
                         means min(16, budget / 4); EMS needs budget > sinks + recent */
    int32_t window;   /* SnapKV, EMS: observation window, the last prompt queries whose votes are the scores; >= 1 */
    int32_t kernel;   /* SnapKV: pool width over neighbouring votes; odd, >= 1 */
    int32_t local;    /* TokenSelect: newest tokens always read */
    int32_t stride;   /* Recycled: a full step every `stride` decode steps; >= 1 */
    float ratio;      /* RazorAttention: compression ratio of non-retrieval heads; >= 1 */
    int32_t pool;     /* SnapKV: 0 average pooling (the authors' default), 1 max pooling (PyramidKV, AdaKV) */
    int32_t reserved; /* must be 0 */
} hpc_kv_policy_params;

/* StreamingLLM, budget 256, sinks 4, recent -1, window 32, kernel 5, local 32, stride 8, ratio 4, pool 0: the
 * defaults of the one policy registry (KvPolicyRegistry) at budget 256, which hpccore lm uses too. */
HPC_API hpc_kv_policy_params hpc_kv_policy_default_params(void);

/* A policy from its parameters (NULL: the defaults). A value out of its range gives HPC_ERR_OUT_OF_RANGE, an unknown
 * kind or a nonzero reserved HPC_ERR_INVALID_ARGUMENT, RazorAttention HPC_ERR_UNSUPPORTED; the message names the
 * field. */
HPC_API hpc_status hpc_kv_policy_create(const hpc_kv_policy_params* params, hpc_kv_policy** out);
/* Frees a policy; NULL is a no-op. */
HPC_API hpc_status hpc_kv_policy_free(hpc_kv_policy* policy);
/* Forgets the state a policy carries between calls (TokenSelect, Recycled): the next call starts a new sequence. */
HPC_API hpc_status hpc_kv_policy_reset(hpc_kv_policy* policy);
/* Applies the policy to keys and values F32 [B, T, Hkv, D]:
 *   scores F32 [B, H, T], H a multiple of Hkv: required by H2O (attention each key received, summed over queries:
 *     hpc_attention_params.key_totals of the attention calls so far) and SnapKV (the same for the last `window`
 *     queries only); F32 [B, 2, H, T] for EMS ([:, 0] the totals, [:, 1] the last `window` queries'); ignored (may be
 *     NULL) otherwise.
 *   query F32 [B, 1, H, D], H a multiple of Hkv: required by TokenSelect and Recycled (the decode step's query, whose
 *     own K/V are the last token); ignored otherwise.
 * Outputs: kept_indices I32 [B, Hkv, K], the kept positions ascending (required); kept_keys and kept_values F32
 * [B, K, Hkv, D], the compacted K/V in the same order (each may be NULL: not produced). K = min(T, budget) for
 * StreamingLLM, H2O, SnapKV and EMS; T for full; for TokenSelect K = T when T - sinks - local <= budget, else
 * sinks + budget + local; for Recycled K = T at a full step, else min(budget, T0 - 1) + (T - T0 + 1) with T0 the T of
 * the last full step. Calls on one policy are serialised. */
HPC_API hpc_status hpc_kv_policy_apply(hpc_kv_policy* policy, const hpc_tensor* keys, const hpc_tensor* values,
                                       const hpc_tensor* scores, const hpc_tensor* query, hpc_tensor** kept_indices,
                                       hpc_tensor** kept_keys, hpc_tensor** kept_values);

/* ---- ViT classifier (timm-named safetensors, e.g. assets/vit/vit-fmnist.safetensors) ---------------------------- */

typedef struct hpc_vit hpc_vit;

typedef struct hpc_vit_info {
    int32_t image_size; /* S: the model takes [B, C, S, S] */
    int32_t patch_size;
    int32_t channels;   /* C */
    int32_t classes;    /* logits per image */
    int32_t dim;
    int32_t depth;      /* blocks */
    int32_t heads;
    int32_t tokens;     /* patches + [CLS] entering the first block */
} hpc_vit_info;

typedef struct hpc_vit_params {
    int32_t tome_r;     /* ToMe (Bolya et al., ICLR 2023): merge r tokens in every block ([CLS] protected, size-
                           weighted averages, proportional attention with log(size)); 0: the plain model */
    int32_t reserved;   /* must be 0 */
    const char* method; /* NULL, or a method spec as for `hpccore vit eval --methods` (docs/VIT.md), e.g.
                           "tome:r=8", "evit:keep=0.7", "vtc:keep=0.5", "ztp:keep=0.5"; tome_r must be 0 then */
} hpc_vit_params;

/* The plain model: all zero. */
HPC_API hpc_vit_params hpc_vit_default_params(void);

/* Loads a ViT from a safetensors file with timm's tensor names (UTF-8 path); heads, mean and std come from the file's
 * metadata. A missing or malformed file gives HPC_ERR_IO. */
HPC_API hpc_status hpc_vit_load(const char* path, hpc_vit** out);
/* Frees a model; NULL is a no-op. */
HPC_API hpc_status hpc_vit_free(hpc_vit* vit);
HPC_API hpc_status hpc_vit_get_info(const hpc_vit* vit, hpc_vit_info* info);
/* 8-bit images [count, height, width, C] (interleaved channels, C the model's; pixel_bytes = count*height*width*C)
 * to the model's input F32 [count, C, S, S]: bilinear resize of the shorter side to S, centre crop, /255, then
 * (x - mean) / std per channel. */
HPC_API hpc_status hpc_vit_preprocess(const hpc_vit* vit, const uint8_t* pixels, size_t pixel_bytes, int32_t count,
                                      int32_t height, int32_t width, hpc_tensor** out);
/* logits F32 [B, classes] for pixels F32 [B, C, S, S] (already normalised: hpc_vit_preprocess). params NULL means the
 * plain model. The model keeps the buffers of its last (batch size, method), so repeating one shape is cheap; calls
 * on one hpc_vit are serialised. */
HPC_API hpc_status hpc_vit_forward(hpc_vit* vit, const hpc_tensor* pixels, const hpc_vit_params* params,
                                   hpc_tensor** logits);

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

typedef struct hpc_lm_generate_params {
    hpc_sampler_params sampler;     /* how the next token is picked */
    hpc_kv_policy_params kv_policy; /* the decoder's KV policy (any kind; RazorAttention probes the model's retrieval
                                       heads at the first use, once per model) */
} hpc_lm_generate_params;

/* Greedy and the full cache: sampler all zero, kv_policy = hpc_kv_policy_default_params() with kind HPC_KV_FULL (so
 * that setting only kind and budget selects a policy with the papers' other defaults). */
HPC_API hpc_lm_generate_params hpc_lm_generate_default_params(void);

/* Loads a model (a llama2.c .bin checkpoint, or HF .safetensors) and its llama2.c tokenizer file (UTF-8 paths).
 * A missing or malformed file gives HPC_ERR_IO. */
HPC_API hpc_status hpc_lm_load(const char* model_path, const char* tokenizer_path, hpc_lm** out);
/* Frees a model; NULL is a no-op. */
HPC_API hpc_status hpc_lm_free(hpc_lm* lm);
/* Generates up to max_new_tokens after the UTF-8 prompt (BOS + prompt, stops at BOS/EOS, like llama2.c's run.c) and
 * writes the prompt and the continuation, NUL-terminated UTF-8, into text. *length receives the byte count without
 * the NUL, also when capacity is too small (HPC_ERR_BUFFER_TOO_SMALL: call again with length + 1). One generation at a
 * time per model (calls on one hpc_lm are serialised). params NULL means the defaults (greedy, full cache). The KV
 * policy's parameters are checked as hpc_kv_policy_create checks them; a model keeps the decoder of its last policy,
 * so changing the policy between calls builds a new one. */
HPC_API hpc_status hpc_lm_generate(hpc_lm* lm, const char* prompt, int32_t max_new_tokens,
                                   const hpc_lm_generate_params* params, char* text, size_t capacity, size_t* length);

typedef struct hpc_lm_kv_stats {
    int64_t bytes_held;      /* bytes of the KV pages in use after the last generation */
    int64_t peak_bytes_held; /* the most bytes held since the model's decoder for this policy was built */
    int64_t tokens_held;     /* tokens cached, summed over every (layer, kv head) */
    int32_t max_head_tokens; /* the most tokens one (layer, kv head) holds */
    int32_t position;        /* tokens processed in the last generation (the next token's position) */
} hpc_lm_kv_stats;

/* What the KV cache holds after the model's last generation (a bounded policy holds a bounded number of tokens). */
HPC_API hpc_status hpc_lm_get_kv_stats(const hpc_lm* lm, hpc_lm_kv_stats* stats);

#ifdef __cplusplus
}
#endif

#endif /* HPCCORE_H */
