// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// llama.cpp in-process through LLamaSharp (the CPU backend package): the decoder's independent oracle in the tests and
// its peer in `quick decode-llamacpp`. Token ids go in and logits come out, so llama.cpp's own tokenizer is not involved.
using System.Runtime.InteropServices;
using LLama;
using LLama.Common;
using LLama.Native;

namespace HpcCore.Benchmarks.Quick;

/// <summary>One llama.cpp model and context on the CPU with a fixed thread count.</summary>
public sealed class LlamaCppRunner : IDisposable
{
    private static readonly object Gate = new();
    private static bool _configured;
    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;
    private readonly LLamaBatch _batch = new();
    private int _position;

    /// <summary>Loads <paramref name="ggufPath"/> with a context of <paramref name="contextSize"/> tokens on <paramref name="threads"/> threads.</summary>
    public LlamaCppRunner(string ggufPath, int threads, int contextSize)
    {
        Configure();
        var p = new ModelParams(ggufPath)
        {
            ContextSize = (uint)contextSize, GpuLayerCount = 0, Threads = threads, BatchThreads = threads,
            BatchSize = (uint)contextSize, UBatchSize = (uint)contextSize,
        };
        _weights = LLamaWeights.LoadFromFile(p);
        _context = _weights.CreateContext(p);
    }

    /// <summary>
    /// Loads the native library through LLamaSharp's resolver (CPU-feature variant under runtimes/); call it before
    /// any other LLamaSharp entry point, such as <c>LLamaQuantizer</c>, that does not load it itself.
    /// </summary>
    public static void EnsureLoaded() => Configure();

    /// <summary>"llama.cpp-" and the ggml commit the native library was built from (LLamaSharp 0.30.0's pinned llama.cpp).</summary>
    public static string Version
    {
        get
        {
            Configure();
            return "llama.cpp-" + (Commit() ?? "LLamaSharp-0.30.0");
        }
    }

    /// <summary>Empties the KV cache: the next call starts at position 0.</summary>
    public void Reset()
    {
        _context.NativeHandle.MemoryClear(true);
        _position = 0;
    }

    /// <summary>Runs <paramref name="tokens"/> as one batch; returns the logits after the last one.</summary>
    public ReadOnlySpan<float> Prefill(ReadOnlySpan<int> tokens)
    {
        _batch.Clear();
        for (int i = 0; i < tokens.Length; i++) _batch.Add((LLamaToken)tokens[i], _position++, LLamaSeqId.Zero, i == tokens.Length - 1);
        return Run();
    }

    /// <summary>Runs one token; returns the logits for the next.</summary>
    public ReadOnlySpan<float> Decode(int token)
    {
        _batch.Clear();
        _batch.Add((LLamaToken)token, _position++, LLamaSeqId.Zero, true);
        return Run();
    }

    /// <summary>Greedy continuation of <paramref name="prompt"/> for <paramref name="steps"/> tokens (argmax, lower id on ties).</summary>
    public int[] Greedy(int[] prompt, int steps)
    {
        Reset();
        var logits = Prefill(prompt);
        var result = new int[steps];
        for (int s = 0; s < steps; s++)
        {
            result[s] = ArgMax(logits);
            if (s + 1 < steps) logits = Decode(result[s]);
        }
        return result;
    }

    /// <summary>llama.cpp's own tokenization of <paramref name="text"/> with the file's embedded vocabulary (special-token text is not parsed).</summary>
    public int[] Tokenize(string text, bool addBos) => [.. _context.Tokenize(text, addBos, special: false).Select(t => (int)t)];

    /// <summary>Index of the largest value, the lower index on ties.</summary>
    public static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _context.Dispose();
        _weights.Dispose();
    }

    private ReadOnlySpan<float> Run()
    {
        var rc = _context.NativeHandle.Decode(_batch);
        if (rc != DecodeResult.Ok) throw new InvalidOperationException($"llama.cpp decode failed: {rc}");
        return _context.NativeHandle.GetLogitsIth(_batch.TokenCount - 1);
    }

    /// <summary>llama.cpp's own description of the CPU features it was built for and found (llama_print_system_info).</summary>
    public static string SystemInfo
    {
        get
        {
            Configure();
            return Marshal.PtrToStringAnsi(NativeApi.llama_print_system_info())?.Trim() ?? "";
        }
    }

    // llama.cpp logs every load to stderr (progress dots at the "continue" level included); keep errors only. The
    // callback must be set before the first load.
    private static void Configure()
    {
        lock (Gate)
        {
            if (_configured) return;
            NativeLibraryConfig.All.WithLogCallback((level, message) =>
            {
                if (level == LLamaLogLevel.Error) Console.Error.Write("[llama.cpp] " + message);
            });
            NativeApi.llama_empty_call();
            _configured = true;
        }
    }

    // ggml exports its commit; the library is already loaded by LLamaSharp, so dlopen by name finds it.
    private static string? Commit()
    {
        foreach (var name in new[] { "libggml-base.so", "ggml-base.dll", "libggml-base.dylib", "ggml-base" })
            if (NativeLibrary.TryLoad(name, out var handle) && NativeLibrary.TryGetExport(handle, "ggml_commit", out var export))
                unsafe
                {
                    var commit = Marshal.PtrToStringAnsi(((delegate* unmanaged<IntPtr>)export)());
                    return string.IsNullOrEmpty(commit) ? null : commit;
                }
        return null;
    }
}
