// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Native;

using System.Runtime.InteropServices;
using System.Text;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Lm.Sampling;

/// <summary>
/// The LM decoder: load a model (llama2.c checkpoint or HF safetensors) with its tokenizer, generate (sampling and a KV
/// policy), and read what the KV cache holds.
/// </summary>
internal static unsafe class LmExports
{
    /// <summary>hpc_sampler_default_params: greedy (all zero).</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_sampler_default_params")]
    public static SamplerParams DefaultParams() => default;

    /// <summary>hpc_lm_generate_default_params: greedy, the full cache (kv_policy: the policy defaults with kind full).</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_lm_generate_default_params")]
    public static LmGenerateParams DefaultGenerateParams() => LmGenerateParams.Default;

    /// <summary>hpc_lm_load: loads the model and tokenizer files onto the CPU backend.</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_lm_load")]
    public static int Load(byte* modelPath, byte* tokenizerPath, nint* result)
    {
        const string Fn = "hpc_lm_load";
        try
        {
            Arg.NotNull(Fn, "out", result);
            *result = 0;
            Arg.NotNull(Fn, "model_path", modelPath);
            Arg.NotNull(Fn, "tokenizer_path", tokenizerPath);
            string model = Marshal.PtrToStringUTF8((nint)modelPath)!, tokenizer = Marshal.PtrToStringUTF8((nint)tokenizerPath)!;
            Arg.Publish(result, NativeLm.Load(model, tokenizer));
            return NativeError.Ok();
        }
        catch (Exception e)
        {
            return NativeError.From(e, Fn);
        }
    }

    /// <summary>hpc_lm_free: frees a model; NULL is a no-op.</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_lm_free")]
    public static int Free(nint lm) => Arg.Free<NativeLm>(lm, "hpc_lm_free", "lm", "model");

    /// <summary>hpc_lm_get_kv_stats: what the KV cache of the model's last generation holds.</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_lm_get_kv_stats")]
    public static int KvStats(nint lm, LmKvStats* stats)
    {
        const string Fn = "hpc_lm_get_kv_stats";
        try
        {
            Arg.NotNull(Fn, "stats", stats);
            *stats = default;
            *stats = Arg.Handle<NativeLm>(Fn, "lm", lm, "model").KvStats();
            return NativeError.Ok();
        }
        catch (Exception e)
        {
            return NativeError.From(e, Fn);
        }
    }

    /// <summary>
    /// hpc_lm_generate: the prompt and up to max_new_tokens generated tokens as NUL-terminated UTF-8 into text;
    /// *length receives the byte count without the NUL (also when text is too short: HPC_ERR_BUFFER_TOO_SMALL).
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_lm_generate")]
    public static int Generate(nint lm, byte* prompt, int maxNewTokens, LmGenerateParams* parameters, byte* text, nuint capacity, nuint* length)
    {
        const string Fn = "hpc_lm_generate";
        try
        {
            Arg.NotNull(Fn, "prompt", prompt);
            Arg.NotNull(Fn, "length", length);
            *length = 0;
            if (capacity > 0) Arg.NotNull(Fn, "text", text);
            var model = Handles.Get<NativeLm>(lm) ?? throw (lm == 0
                ? new NativeException(HpcStatus.NullPointer, $"{Fn}: lm is NULL.")
                : Arg.Invalid(Fn, "lm", "model"));
            var p = parameters == null ? LmGenerateParams.Default : *parameters;
            Arg.Require(p.Sampler.Reserved == 0, Fn, $"params.sampler.reserved is {p.Sampler.Reserved}; it must be 0.");
            if (maxNewTokens < 0) throw new NativeException(HpcStatus.OutOfRange, $"{Fn}: max_new_tokens is {maxNewTokens}; it must be at least 0.");
            var sampling = new SamplerOptions(p.Sampler.Temperature, p.Sampler.TopK, p.Sampler.TopP, p.Sampler.Seed);
            string output = model.Generate(Marshal.PtrToStringUTF8((nint)prompt)!, maxNewTokens, sampling, p.KvPolicy);
            int bytes = Encoding.UTF8.GetByteCount(output);
            *length = (nuint)bytes;
            if (capacity < (nuint)bytes + 1)
                throw new NativeException(HpcStatus.BufferTooSmall, $"{Fn}: capacity is {capacity} bytes but the text needs {bytes + 1} (with its NUL).");
            Encoding.UTF8.GetBytes(output, new Span<byte>(text, bytes));
            text[bytes] = 0;
            return NativeError.Ok();
        }
        catch (Exception e)
        {
            return NativeError.From(e, Fn);
        }
    }
}

/// <summary>hpc_sampler_params: the C twin of <see cref="SamplerOptions"/> (all zero: greedy).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct SamplerParams
{
    public float Temperature;
    public int TopK;
    public float TopP;
    public int Reserved;
    public ulong Seed;
}

/// <summary>hpc_lm_generate_params: sampling and the KV policy of the generation (hpccore.h; same layout).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct LmGenerateParams
{
    public SamplerParams Sampler;
    public KvPolicyParams KvPolicy;

    /// <summary>Greedy, and the policy defaults with kind full (the decoder's default cache).</summary>
    public static LmGenerateParams Default => new() { KvPolicy = KvPolicyParams.Default with { Kind = (int)KvPolicyKind.Full } };
}

/// <summary>hpc_lm_kv_stats (hpccore.h; same layout).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct LmKvStats
{
    public long BytesHeld;
    public long PeakBytesHeld;
    public long TokensHeld;
    public int MaxHeadTokens;
    public int Position;
}

/// <summary>
/// A loaded model behind an hpc_lm handle: weights, tokenizer and a decoder for the KV policy of the last generation
/// (a policy is fixed when a decoder is built, so a different policy builds a new decoder; one generation at a time).
/// </summary>
internal sealed class NativeLm : IDisposable
{
    private readonly LmConfig _config;
    private readonly LmWeights _weights;
    private readonly ITextTokenizer _tokenizer;
    private readonly Lock _gate = new();
    private LmDecoder? _decoder;
    private KvPolicyParams _policy;
    private bool[,]? _retrievalHeads;

    private NativeLm(LmConfig config, LmWeights weights, ITextTokenizer tokenizer)
    {
        _config = config;
        _weights = weights;
        _tokenizer = tokenizer;
    }

    public static NativeLm Load(string modelPath, string tokenizerPath)
    {
        var (config, weights, tokenizer) = LmModelFiles.Load(modelPath, tokenizerPath, NativeRuntime.Backend);
        try
        {
            var lm = new NativeLm(config, weights, tokenizer);
            lm.Decoder(LmGenerateParams.Default.KvPolicy); // validates the model once, at load
            return lm;
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>Serialised: the decoder's KV cache and workspace serve one generation at a time.</summary>
    public string Generate(string prompt, int maxNewTokens, in SamplerOptions sampling, in KvPolicyParams policy)
    {
        lock (_gate)
        {
            return LmGenerator.Generate(Decoder(policy), _tokenizer, prompt, maxNewTokens, sampling).Text;
        }
    }

    /// <summary>What the cache holds after the last generation (bytes of the pages in use, the peak since the decoder was built).</summary>
    public LmKvStats KvStats()
    {
        lock (_gate)
        {
            var cache = _decoder!.Cache;
            int most = 0;
            for (int l = 0; l < cache.Layers; l++)
            for (int h = 0; h < cache.KvHeads; h++) most = Math.Max(most, cache.Head(l, h).Count);
            return new LmKvStats
            {
                BytesHeld = cache.BytesHeld, PeakBytesHeld = cache.Pool.PeakBytesHeld, TokensHeld = cache.TokensHeld(),
                MaxHeadTokens = most, Position = _decoder.Position,
            };
        }
    }

    // The decoder for `policy`: the current one while the parameters are the same, else a new one (the policy's state
    // and buffers are sized by the decoder's cache). RazorAttention's retrieval heads are probed once per model.
    private LmDecoder Decoder(in KvPolicyParams policy)
    {
        if (_decoder is not null && _policy.Equals(policy)) return _decoder;
        var managed = NativeKvPolicy.Build(policy, "hpc_lm_generate", () => _retrievalHeads ??=
            LmRetrievalHeads.Detect(_config, _weights, NativeRuntime.Backend, period: Math.Max(2, _config.MaxSeqLen / 4)));
        var decoder = new LmDecoder(_config, _weights, NativeRuntime.Backend, new LmDecoderOptions(Policy: managed));
        _decoder?.Dispose();
        _decoder = decoder;
        _policy = policy;
        return decoder;
    }

    public void Dispose()
    {
        _decoder?.Dispose();
        _weights.Dispose();
    }
}
