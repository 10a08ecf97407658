// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Native;

using System.Globalization;
using HpcCore.Models.Images;
using HpcCore.Models.Vit;

/// <summary>
/// A ViT classifier behind an hpc_vit handle: the weights and the last <see cref="VitSession"/> (preallocated for one
/// batch size and one reduction method; rebuilt when either changes, so repeated calls of one shape allocate only
/// their output). Forward calls on one model are serialised (a session is single-threaded).
/// </summary>
internal sealed class NativeVit : IDisposable
{
    private readonly Lock _gate = new();
    private VitSession? _session;
    private IVitTokenReducer? _reducer;
    private string _method = "";

    private NativeVit(VitWeights weights) => Weights = weights;

    /// <summary>The model.</summary>
    public VitWeights Weights { get; }

    /// <summary>Loads a timm-named safetensors ViT onto the C ABI's CPU backend.</summary>
    public static NativeVit Load(string path) => new(VitWeightsLoader.Load(path, NativeRuntime.Backend));

    /// <summary>The method spec <paramref name="tomeR"/> / <paramref name="method"/> describe ("baseline" for neither).</summary>
    public static string MethodSpec(string fn, int tomeR, string? method)
    {
        if (tomeR < 0) throw new NativeException(HpcStatus.OutOfRange, $"{fn}: params.tome_r is {tomeR}; it must be at least 0.");
        if (method is not null)
        {
            Arg.Require(tomeR == 0, fn, $"params.method is '{method}' and params.tome_r is {tomeR}; set one of them.");
            Arg.Require(!string.IsNullOrWhiteSpace(method), fn, "params.method is empty; use NULL for the plain model.");
            return method.Trim();
        }
        return tomeR > 0 ? string.Create(CultureInfo.InvariantCulture, $"tome:r={tomeR}") : "baseline";
    }

    /// <summary>Logits F32 [B, classes] of normalised pixels [B, C, S, S] under <paramref name="method"/>.</summary>
    public float[] Forward(ReadOnlySpan<float> pixels, int batch, string method)
    {
        lock (_gate)
        {
            if (_session is null || _session.Batch != batch || _method != method)
            {
                DropSession();
                IVitTokenReducer? reducer;
                try
                {
                    reducer = VitReducers.Create(VitMethodSpec.Parse(method), Weights.Config);
                }
                catch (Exception e) when (e is FormatException or ArgumentException)
                {
                    // Not a malformed file (what FormatException means elsewhere in the ABI): a malformed argument.
                    // The spec parser reports a bad value as ArgumentException, an unreadable one as FormatException.
                    throw new NativeException(HpcStatus.InvalidArgument, $"hpc_vit_forward: params.method '{method}': {e.Message}");
                }
                try
                {
                    _session = new VitSession(Weights, batch, reducer);
                }
                catch
                {
                    reducer?.Dispose();
                    throw;
                }
                _reducer = reducer;
                _method = method;
            }
            return _session.Forward(pixels).ToArray<float>();
        }
    }

    /// <summary>8-bit images [count, H, W, C] to the model's input [count, C, S, S] (<see cref="ImageTensor"/>).</summary>
    public float[] Preprocess(ReadOnlySpan<byte> pixels, int count, int height, int width)
    {
        var c = Weights.Config;
        int inSize = height * width * c.Channels, outSize = c.Channels * c.ImageSize * c.ImageSize;
        var result = new float[(long)count * outSize];
        for (int i = 0; i < count; i++)
            ImageTensor.Write(pixels.Slice(i * inSize, inSize), height, width, c, result.AsSpan(i * outSize, outSize));
        return result;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            DropSession();
            Weights.Dispose();
        }
    }

    private void DropSession()
    {
        _session?.Dispose();
        _reducer?.Dispose();
        _session = null;
        _reducer = null;
        _method = "";
    }
}
