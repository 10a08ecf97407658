// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Native;

using System.Runtime.InteropServices;
using System.Text;
using HpcCore.Models.Lm;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Lm.Sampling;

/// <summary>The LM decoder: load a model (llama2.c checkpoint or HF safetensors) with its tokenizer, and generate.</summary>
internal static unsafe class LmExports
{
    /// <summary>hpc_sampler_default_params: greedy (all zero).</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_sampler_default_params")]
    public static SamplerParams DefaultParams() => default;

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
            return NativeError.From(e);
        }
    }

    /// <summary>hpc_lm_free: frees a model; NULL is a no-op.</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_lm_free")]
    public static int Free(nint lm) => Arg.Free<NativeLm>(lm, "hpc_lm_free", "lm", "model");

    /// <summary>
    /// hpc_lm_generate: the prompt and up to max_new_tokens generated tokens as NUL-terminated UTF-8 into text;
    /// *length receives the byte count without the NUL (also when text is too short: HPC_ERR_BUFFER_TOO_SMALL).
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_lm_generate")]
    public static int Generate(nint lm, byte* prompt, int maxNewTokens, SamplerParams* parameters, byte* text, nuint capacity, nuint* length)
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
            var p = parameters == null ? default : *parameters;
            var sampling = new SamplerOptions(p.Temperature, p.TopK, p.TopP, p.Seed);
            string output = model.Generate(Marshal.PtrToStringUTF8((nint)prompt)!, maxNewTokens, sampling);
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
            return NativeError.From(e);
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

/// <summary>A loaded model behind an hpc_lm handle: weights, tokenizer and a decoder (one generation at a time).</summary>
internal sealed class NativeLm : IDisposable
{
    private readonly LmWeights _weights;
    private readonly LmDecoder _decoder;
    private readonly ITextTokenizer _tokenizer;
    private readonly Lock _gate = new();

    private NativeLm(LmWeights weights, LmDecoder decoder, ITextTokenizer tokenizer)
    {
        _weights = weights;
        _decoder = decoder;
        _tokenizer = tokenizer;
    }

    public static NativeLm Load(string modelPath, string tokenizerPath)
    {
        var (config, weights, tokenizer) = LmModelFiles.Load(modelPath, tokenizerPath, NativeRuntime.Backend);
        try
        {
            return new NativeLm(weights, new LmDecoder(config, weights, NativeRuntime.Backend), tokenizer);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>Serialised: the decoder's KV cache and workspace serve one generation at a time.</summary>
    public string Generate(string prompt, int maxNewTokens, in SamplerOptions sampling)
    {
        lock (_gate)
        {
            return LmGenerator.Generate(_decoder, _tokenizer, prompt, maxNewTokens, sampling).Text;
        }
    }

    public void Dispose()
    {
        _decoder.Dispose();
        _weights.Dispose();
    }
}
