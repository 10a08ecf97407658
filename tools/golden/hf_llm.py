#!/usr/bin/env python3
"""Tiny Hugging Face decoder folders and their PyTorch golden outputs, for HpcCore's HF loader tests.

Run with Debian's interpreter (`apt-get install python3-torch python3-regex`; transformers is not needed):

    /usr/bin/python3 tools/golden/hf_llm.py tests/HpcCore.Tests/Golden/hf

It writes three folders in the layout transformers saves (config.json, generation_config.json, tokenizer.json,
safetensors weights), each with a golden.safetensors beside it:

- llama3-tiny: LlamaForCausalLM, GQA (4 query heads, 2 kv heads), rope_theta 500000 with Llama 3.1's rope_scaling
  (rope_type llama3; original_max_position_embeddings 64 puts one frequency in each of the three bands), BF16
  weights in two shards (model.safetensors.index.json), untied lm_head, a byte-level BPE tokenizer.json with the
  Llama 3 pre-tokenizer regex and a TemplateProcessing BOS, generation_config.json with two eos ids.
- qwen2-tiny: Qwen2ForCausalLM, GQA with q/k/v biases, tied embeddings, rope_theta 1e6, one F32 file.
- gpt2-tiny: GPT2LMHeadModel (Conv1D [in, out] weights, learned positions, gelu_new), F16 weights.

The reference forward is written here in plain torch, following transformers' modeling_llama.py / modeling_qwen2.py
/ modeling_gpt2.py (RMSNorm in float32 then times the weight, rotate_half RoPE with cos/sin from float32 angles,
repeat_kv: query head h reads kv head h // (H / Hkv), causal softmax attention, SwiGLU), in float64 on the weights
as stored (BF16/F16 rounded). golden.safetensors holds: prompt (I32, BOS first), sequence (prompt + 32 greedy
tokens), logits (F32 [33, V]: after the prompt and after each greedy token), encode_text (UTF-8 bytes of a text)
and encode_ids (its ids, by a BPE encoder written here from the merges, no BOS).
"""
import json
import math
import os
import struct
import sys

import regex
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_writer  # noqa: E402

GENERATOR = "tools/golden/hf_llm.py"
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
CORPUS = ("Once upon a time there was a little girl named Lily. She loved to play outside in the sun. "
          "One day she saw a big dog in the park and they played together all day. The end. "
          "Tom and Sam went to the sea; they found 123 shells and 45 stones! It's a happy day, isn't it?\n")
ENCODE_TEXT = "Once upon a time, Lily's dog found 2024 shells in the sea.\n  The end!"
PROMPT = "Once upon a time"
STEPS = 32
SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"]


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character table (encoder.py)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_CHARS = bytes_to_unicode()


def pieces_of(text, pattern):
    return ["".join(BYTE_CHARS[b] for b in p.encode("utf-8")) for p in regex.findall(pattern, text)]


def train_bpe(text, pattern, merges_wanted):
    """Plain BPE training: the most frequent adjacent pair (ties: the first seen) is merged, repeatedly."""
    words = [list(p) for p in pieces_of(text, pattern)]
    merges = []
    for _ in range(merges_wanted):
        counts = {}
        for w in words:
            for a, b in zip(w, w[1:]):
                counts[(a, b)] = counts.get((a, b), 0) + 1
        if not counts:
            break
        best = max(counts.items(), key=lambda kv: kv[1])[0]
        merges.append(best)
        for w in words:
            i = 0
            while i < len(w) - 1:
                if (w[i], w[i + 1]) == best:
                    w[i:i + 2] = [w[i] + w[i + 1]]
                i += 1
    return merges


def bpe_encode(text, pattern, vocab, ranks):
    """HF BPE (tokenizers' Word::merge_all): repeatedly merge the lowest-ranked adjacent pair, leftmost first."""
    ids = []
    for piece in pieces_of(text, pattern):
        w = list(piece)
        while len(w) > 1:
            pairs = [(ranks.get((a, b), math.inf), i) for i, (a, b) in enumerate(zip(w, w[1:]))]
            rank, i = min(pairs)
            if rank == math.inf:
                break
            w[i:i + 2] = [w[i] + w[i + 1]]
        ids.extend(vocab[t] for t in w)
    return ids


def make_tokenizer(pattern, merges_wanted, llama3_style):
    merges = train_bpe(CORPUS, pattern, merges_wanted)
    vocab = {BYTE_CHARS[b]: b for b in range(256)}
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    base = len(vocab)
    specials = SPECIALS if llama3_style else ["<|endoftext|>"]
    added = [{"id": base + i, "content": s, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
              "special": True} for i, s in enumerate(specials)]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": not llama3_style}
    if llama3_style:
        pre = {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated", "invert": False},
            dict(byte_level, use_regex=False)]}
        post = {"type": "Sequence", "processors": [
            dict(byte_level, use_regex=True),
            {"type": "TemplateProcessing",
             "single": [{"SpecialToken": {"id": SPECIALS[0], "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
             "pair": [{"SpecialToken": {"id": SPECIALS[0], "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                      {"SpecialToken": {"id": SPECIALS[0], "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
             "special_tokens": {SPECIALS[0]: {"id": SPECIALS[0], "ids": [base], "tokens": [SPECIALS[0]]}}}]}
        merge_list = [[a, b] for a, b in merges]  # the newer list-of-pairs form
    else:
        pre = byte_level
        post = byte_level
        merge_list = [f"{a} {b}" for a, b in merges]  # the older "a b" form
    tokenizer = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
                 "pre_tokenizer": pre, "post_processor": post, "decoder": byte_level,
                 "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                           "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                           "ignore_merges": llama3_style, "vocab": vocab, "merges": merge_list}}
    ranks = {m: i for i, m in enumerate(merges)}
    return tokenizer, vocab, ranks, [a["id"] for a in added]


# ---------------------------------------------------------------------------------------------------------------
# Reference forwards (float64 on the stored weights).

def rms_norm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def llama3_inv_freq(theta, dim, scaling):
    """transformers' _compute_default_rope_parameters + _compute_llama3_parameters, in float32 as there."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    if scaling is None:
        return inv_freq
    factor, low, high, old = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"], scaling["original_max_position_embeddings"]
    low_freq_wavelen, high_freq_wavelen = old / low, old / high
    wavelen = 2 * math.pi / inv_freq
    inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth_factor = (old / wavelen - low) / (high - low)
    smoothed_inv_freq = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
    is_medium_freq = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
    return torch.where(is_medium_freq, smoothed_inv_freq, inv_freq_llama)


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def attention(q, k, v):
    """q [H, T, D], k/v [Hkv, T, D]: causal softmax attention with repeat_kv."""
    groups = q.shape[0] // k.shape[0]
    k = k.repeat_interleave(groups, dim=0)
    v = v.repeat_interleave(groups, dim=0)
    t = q.shape[1]
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    scores = scores.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def llama_forward(w, cfg, ids):
    d = {k: v.double() for k, v in w.items()}
    heads, kv_heads = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    dim = cfg["hidden_size"]
    hd = dim // heads
    eps = cfg["rms_norm_eps"]
    t = len(ids)
    inv_freq = llama3_inv_freq(cfg["rope_theta"], hd, cfg.get("rope_scaling"))
    angles = inv_freq[None, :].float() * torch.arange(t, dtype=torch.float32)[:, None]  # float32, as transformers
    emb = torch.cat((angles, angles), dim=-1).double()
    cos, sin = emb.cos(), emb.sin()
    x = d["model.embed_tokens.weight"][ids]
    bias = cfg["model_type"] == "qwen2"
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        h = rms_norm(x, d[p + "input_layernorm.weight"], eps)

        def proj(name):
            y = h @ d[p + f"self_attn.{name}.weight"].T
            return y + d[p + f"self_attn.{name}.bias"] if bias else y
        q = proj("q_proj").view(t, heads, hd).transpose(0, 1)
        k = proj("k_proj").view(t, kv_heads, hd).transpose(0, 1)
        v = proj("v_proj").view(t, kv_heads, hd).transpose(0, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        a = attention(q, k, v).transpose(0, 1).reshape(t, dim)
        x = x + a @ d[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, d[p + "post_attention_layernorm.weight"], eps)
        g = h @ d[p + "mlp.gate_proj.weight"].T
        x = x + (torch.nn.functional.silu(g) * (h @ d[p + "mlp.up_proj.weight"].T)) @ d[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, d["model.norm.weight"], eps)
    head = d["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else d["lm_head.weight"]
    return x @ head.T


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def gpt2_forward(w, cfg, ids):
    d = {k: v.double() for k, v in w.items()}
    dim, heads, eps = cfg["n_embd"], cfg["n_head"], cfg["layer_norm_epsilon"]
    hd, t = dim // heads, len(ids)
    ln = torch.nn.functional.layer_norm
    x = d["transformer.wte.weight"][ids] + d["transformer.wpe.weight"][:t]
    for layer in range(cfg["n_layer"]):
        p = f"transformer.h.{layer}."
        h = ln(x, (dim,), d[p + "ln_1.weight"], d[p + "ln_1.bias"], eps)
        qkv = h @ d[p + "attn.c_attn.weight"] + d[p + "attn.c_attn.bias"]  # Conv1D: x @ W, W [in, out]
        q, k, v = (z.view(t, heads, hd).transpose(0, 1) for z in qkv.split(dim, dim=-1))
        a = attention(q, k, v).transpose(0, 1).reshape(t, dim)
        x = x + a @ d[p + "attn.c_proj.weight"] + d[p + "attn.c_proj.bias"]
        h = ln(x, (dim,), d[p + "ln_2.weight"], d[p + "ln_2.bias"], eps)
        x = x + gelu_new(h @ d[p + "mlp.c_fc.weight"] + d[p + "mlp.c_fc.bias"]) @ d[p + "mlp.c_proj.weight"] + d[p + "mlp.c_proj.bias"]
    x = ln(x, (dim,), d["transformer.ln_f.weight"], d["transformer.ln_f.bias"], eps)
    return x @ d["transformer.wte.weight"].T


# ---------------------------------------------------------------------------------------------------------------

def greedy(forward, w, cfg, prompt):
    """32 greedy steps by full recomputation; returns the sequence, the logits rows and the smallest top-2 gap."""
    seq = list(prompt)
    for _ in range(STEPS):
        seq.append(int(forward(w, cfg, seq)[-1].argmax()))
    logits = forward(w, cfg, seq)[len(prompt) - 1:]
    top2 = logits.topk(2, dim=-1).values
    return seq, logits, float((top2[:, 0] - top2[:, 1]).min())


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def write_model(folder, cfg, tok, w, forward, pattern, bos, shards=1, generation=None):
    os.makedirs(folder, exist_ok=True)
    tokenizer, vocab, ranks, specials = tok
    write_json(os.path.join(folder, "config.json"), cfg)
    write_json(os.path.join(folder, "tokenizer.json"), tokenizer)
    if generation is not None:
        write_json(os.path.join(folder, "generation_config.json"), generation)
    names = sorted(w)
    if shards == 1:
        golden_writer.write(os.path.join(folder, "model.safetensors"), w, GENERATOR)
    else:
        per = (len(names) + shards - 1) // shards
        weight_map = {}
        for s in range(shards):
            file = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
            part = {n: w[n] for n in names[s * per:(s + 1) * per]}
            golden_writer.write(os.path.join(folder, file), part, GENERATOR)
            weight_map.update({n: file for n in part})
        total = sum(t.numel() * t.element_size() for t in w.values())
        write_json(os.path.join(folder, "model.safetensors.index.json"), {"metadata": {"total_size": total}, "weight_map": weight_map})
    prompt = ([bos] if bos is not None else []) + bpe_encode(PROMPT, pattern, vocab, ranks)
    seq, logits, gap = greedy(forward, w, cfg, prompt)
    assert not set(seq[len(prompt):]) & set(specials), "a greedy token is a special token: the generator would stop"
    encode_ids = bpe_encode(ENCODE_TEXT, pattern, vocab, ranks)
    golden_writer.write(os.path.join(folder, "golden.safetensors"), {
        "prompt": torch.tensor(prompt, dtype=torch.int32),
        "sequence": torch.tensor(seq, dtype=torch.int32),
        "logits": logits.float(),
        "encode_text": torch.tensor(list(ENCODE_TEXT.encode("utf-8")), dtype=torch.int32),
        "encode_ids": torch.tensor(encode_ids, dtype=torch.int32),
    }, GENERATOR)
    print(f"{folder}: prompt {prompt}, greedy {seq[len(prompt):]}, smallest top-2 logit gap {gap:.4f}")
    assert gap > 1e-3, "greedy choice too close to a tie for a float32 engine to reproduce"


def rand(gen, *shape, scale):
    return torch.randn(*shape, generator=gen, dtype=torch.float64) * scale


def llama_weights(cfg, gen, dtype, bias, mix=1.0):
    """mix scales what the blocks add to the residual (o_proj, down_proj): a tied model needs more of it, or its
    head, reading the residual against the embedding, keeps predicting the last token."""
    dim, hidden, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    kv = cfg["num_key_value_heads"] * dim // cfg["num_attention_heads"]
    w = {"model.embed_tokens.weight": rand(gen, v, dim, scale=1.0),
         "model.norm.weight": 1 + rand(gen, dim, scale=0.1)}
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = rand(gen, v, dim, scale=0.5)
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        w[p + "input_layernorm.weight"] = 1 + rand(gen, dim, scale=0.1)
        w[p + "post_attention_layernorm.weight"] = 1 + rand(gen, dim, scale=0.1)
        w[p + "self_attn.q_proj.weight"] = rand(gen, dim, dim, scale=dim ** -0.5 * 2)
        w[p + "self_attn.k_proj.weight"] = rand(gen, kv, dim, scale=dim ** -0.5 * 2)
        w[p + "self_attn.v_proj.weight"] = rand(gen, kv, dim, scale=dim ** -0.5)
        w[p + "self_attn.o_proj.weight"] = rand(gen, dim, dim, scale=dim ** -0.5 * mix)
        w[p + "mlp.gate_proj.weight"] = rand(gen, hidden, dim, scale=dim ** -0.5)
        w[p + "mlp.up_proj.weight"] = rand(gen, hidden, dim, scale=dim ** -0.5)
        w[p + "mlp.down_proj.weight"] = rand(gen, dim, hidden, scale=hidden ** -0.5 * mix)
        if bias:
            w[p + "self_attn.q_proj.bias"] = rand(gen, dim, scale=0.2)
            w[p + "self_attn.k_proj.bias"] = rand(gen, kv, scale=0.2)
            w[p + "self_attn.v_proj.bias"] = rand(gen, kv, scale=0.2)
    return {k: t.to(dtype) for k, t in w.items()}


def silence_specials(w, name, specials, dtype):
    """Zero logit rows for the special tokens, so that greedy decoding never picks one (each logit is exactly 0)."""
    m = w[name].clone()
    m[specials] = 0
    w[name] = m.to(dtype)


def main(out):
    gen = torch.Generator().manual_seed(20261207)

    tok = make_tokenizer(LLAMA3_PATTERN, 96, llama3_style=True)
    base = len(tok[1])
    llama = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64, "intermediate_size": 160,
             "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
             "max_position_embeddings": 256, "vocab_size": base + 5, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
             "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                              "original_max_position_embeddings": 64},
             "tie_word_embeddings": False, "hidden_act": "silu", "attention_bias": False, "mlp_bias": False,
             "bos_token_id": base, "eos_token_id": [base + 1, base + 2], "torch_dtype": "bfloat16"}
    # The same model quantised (e.g. GGUF Q8_0) must still give these greedy tokens: of a few seeds, keep the one whose
    # smallest top-2 gap along the 32 steps is largest relative to the spread of the logits.
    prompt = [base] + bpe_encode(PROMPT, LLAMA3_PATTERN, tok[1], tok[2])
    best = None
    for seed in range(24):
        candidate = llama_weights(llama, torch.Generator().manual_seed(1000 + seed), torch.bfloat16, bias=False)
        silence_specials(candidate, "lm_head.weight", list(range(base, base + 5)), torch.bfloat16)
        _, logits, gap = greedy(llama_forward, candidate, llama, prompt)
        ratio = gap / float(logits.std())
        if best is None or ratio > best[0]:
            best = (ratio, seed, candidate)
    print(f"llama3-tiny: weight seed {1000 + best[1]}, smallest top-2 gap {best[0]:.3f} x the logits' std")
    w = best[2]
    generation = {"bos_token_id": base, "eos_token_id": [base + 1, base + 2], "do_sample": True, "temperature": 0.6, "top_p": 0.9}
    write_model(os.path.join(out, "llama3-tiny"), llama, tok, w, llama_forward, LLAMA3_PATTERN, bos=base, shards=2, generation=generation)

    qwen = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 48, "intermediate_size": 96,
            "num_hidden_layers": 2, "num_attention_heads": 6, "num_key_value_heads": 2, "max_position_embeddings": 128,
            "vocab_size": base + 3, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "rope_scaling": None,
            "tie_word_embeddings": True, "hidden_act": "silu", "use_sliding_window": False, "sliding_window": 64}
    w = llama_weights(qwen, gen, torch.float32, bias=True, mix=4.0)
    silence_specials(w, "model.embed_tokens.weight", list(range(base, base + 3)), torch.float32)
    write_model(os.path.join(out, "qwen2-tiny"), qwen, tok, w, llama_forward, LLAMA3_PATTERN, bos=base)

    tok2 = make_tokenizer(GPT2_PATTERN, 96, llama3_style=False)
    base2 = len(tok2[1])
    gpt2 = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_embd": 48, "n_head": 4, "n_layer": 2, "n_inner": None,
            "n_positions": 96, "vocab_size": base2 + 1, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new",
            "bos_token_id": base2, "eos_token_id": base2}
    dim, v = gpt2["n_embd"], gpt2["vocab_size"]
    w = {"transformer.wte.weight": rand(gen, v, dim, scale=0.5), "transformer.wpe.weight": rand(gen, 96, dim, scale=0.3),
         "transformer.ln_f.weight": 1 + rand(gen, dim, scale=0.1), "transformer.ln_f.bias": rand(gen, dim, scale=0.1)}
    for layer in range(gpt2["n_layer"]):
        p = f"transformer.h.{layer}."
        for n in ("ln_1", "ln_2"):
            w[p + n + ".weight"] = 1 + rand(gen, dim, scale=0.1)
            w[p + n + ".bias"] = rand(gen, dim, scale=0.1)
        w[p + "attn.c_attn.weight"] = rand(gen, dim, 3 * dim, scale=dim ** -0.5 * 1.5)
        w[p + "attn.c_attn.bias"] = rand(gen, 3 * dim, scale=0.1)
        w[p + "attn.c_proj.weight"] = rand(gen, dim, dim, scale=dim ** -0.5 * 4)
        w[p + "attn.c_proj.bias"] = rand(gen, dim, scale=0.1)
        w[p + "mlp.c_fc.weight"] = rand(gen, dim, 4 * dim, scale=dim ** -0.5)
        w[p + "mlp.c_fc.bias"] = rand(gen, 4 * dim, scale=0.1)
        w[p + "mlp.c_proj.weight"] = rand(gen, 4 * dim, dim, scale=(4 * dim) ** -0.5 * 4)
        w[p + "mlp.c_proj.bias"] = rand(gen, dim, scale=0.1)
    w = {k: t.to(torch.float16) for k, t in w.items()}
    silence_specials(w, "transformer.wte.weight", [base2], torch.float16)
    write_model(os.path.join(out, "gpt2-tiny"), gpt2, tok2, w, gpt2_forward, GPT2_PATTERN, bos=None)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/HpcCore.Tests/Golden/hf")
