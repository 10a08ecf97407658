// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Native;

using System.Runtime.InteropServices;
using HpcCore.Tensors;

/// <summary>The ViT classifier: load a timm-named safetensors model, preprocess 8-bit images, forward (optionally ToMe-reduced).</summary>
internal static unsafe class VitExports
{
    /// <summary>hpc_vit_default_params: the plain model (tome_r 0, method NULL).</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_vit_default_params")]
    public static VitParams DefaultParams() => default;

    /// <summary>hpc_vit_load: loads a safetensors ViT (timm names) onto the CPU backend.</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_vit_load")]
    public static int Load(byte* path, nint* result)
    {
        const string Fn = "hpc_vit_load";
        try
        {
            Arg.NotNull(Fn, "out", result);
            *result = 0;
            Arg.Publish(result, NativeVit.Load(Arg.Utf8(Fn, "path", path)));
            return NativeError.Ok();
        }
        catch (Exception e)
        {
            return NativeError.From(e, Fn);
        }
    }

    /// <summary>hpc_vit_free: frees a model; NULL is a no-op.</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_vit_free")]
    public static int Free(nint vit) => Arg.Free<NativeVit>(vit, "hpc_vit_free", "vit", "ViT");

    /// <summary>hpc_vit_get_info: the model's shape.</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_vit_get_info")]
    public static int Info(nint vit, VitInfo* info)
    {
        const string Fn = "hpc_vit_get_info";
        try
        {
            Arg.NotNull(Fn, "info", info);
            var c = Arg.Handle<NativeVit>(Fn, "vit", vit, "ViT").Weights.Config;
            *info = new VitInfo
            {
                ImageSize = c.ImageSize, PatchSize = c.PatchSize, Channels = c.Channels, Classes = c.Classes,
                Dim = c.Dim, Depth = c.Depth, Heads = c.Heads, Tokens = c.Tokens,
            };
            return NativeError.Ok();
        }
        catch (Exception e)
        {
            return NativeError.From(e, Fn);
        }
    }

    /// <summary>
    /// hpc_vit_preprocess: 8-bit images [count, H, W, C] (interleaved, C the model's channels) to the model's input F32
    /// [count, C, S, S]: resized, scaled to [0, 1] and normalised with the model's mean and std.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_vit_preprocess")]
    public static int Preprocess(nint vit, byte* pixels, nuint pixelBytes, int count, int height, int width, nint* result)
    {
        const string Fn = "hpc_vit_preprocess";
        try
        {
            Arg.NotNull(Fn, "out", result);
            *result = 0;
            var model = Arg.Handle<NativeVit>(Fn, "vit", vit, "ViT");
            var c = model.Weights.Config;
            if (count < 1 || height < 1 || width < 1)
                throw new NativeException(HpcStatus.OutOfRange, $"{Fn}: count {count}, height {height} and width {width} must each be at least 1.");
            Arg.NotNull(Fn, "pixels", pixels);
            double total = (double)count * height * width * c.Channels;
            if (total > int.MaxValue)
                throw new NativeException(HpcStatus.OutOfRange, $"{Fn}: [count={count}, H={height}, W={width}, C={c.Channels}] is {total:0} bytes; one call takes at most {int.MaxValue}.");
            long need = (long)total;
            Arg.Require(pixelBytes == (nuint)need, Fn, $"pixel_bytes is {pixelBytes} but [count={count}, H={height}, W={width}, C={c.Channels}] needs {need}.");
            var input = model.Preprocess(new ReadOnlySpan<byte>(pixels, (int)need), count, height, width);
            Arg.Publish(result, Tensor.From<float>(input, new Shape(count, c.Channels, c.ImageSize, c.ImageSize), NativeRuntime.Backend));
            return NativeError.Ok();
        }
        catch (Exception e)
        {
            return NativeError.From(e, Fn);
        }
    }

    /// <summary>hpc_vit_forward: logits F32 [B, classes] of pixels F32 [B, C, S, S]; params NULL means the plain model.</summary>
    [UnmanagedCallersOnly(EntryPoint = "hpc_vit_forward")]
    public static int Forward(nint vit, nint pixels, VitParams* parameters, nint* logits)
    {
        const string Fn = "hpc_vit_forward";
        try
        {
            Arg.NotNull(Fn, "logits", logits);
            *logits = 0;
            var model = Arg.Handle<NativeVit>(Fn, "vit", vit, "ViT");
            var c = model.Weights.Config;
            var p = parameters == null ? default : *parameters;
            Arg.Require(p.Reserved == 0, Fn, $"params.reserved is {p.Reserved}; it must be 0.");
            string method = NativeVit.MethodSpec(Fn, p.TomeR, p.Method == null ? null : Marshal.PtrToStringUTF8((nint)p.Method));
            var x = Arg.F32(Fn, "pixels", pixels, 4, $"[B, C={c.Channels}, S={c.ImageSize}, S={c.ImageSize}]");
            int batch = x.Shape[0];
            Arg.Require(batch >= 1 && x.Shape[1] == c.Channels && x.Shape[2] == c.ImageSize && x.Shape[3] == c.ImageSize, Fn,
                $"pixels is {x.Shape}; the model takes [B >= 1, C={c.Channels}, S={c.ImageSize}, S={c.ImageSize}] (see hpc_vit_preprocess).");
            var result = model.Forward(x.ToArray<float>(), batch, method);
            Arg.Publish(logits, Tensor.From<float>(result, new Shape(batch, c.Classes), NativeRuntime.Backend));
            return NativeError.Ok();
        }
        catch (Exception e)
        {
            return NativeError.From(e, Fn);
        }
    }
}

/// <summary>hpc_vit_params (hpccore.h): ToMe's r per block, or a method spec as on `hpccore vit eval --methods`.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VitParams
{
    public int TomeR;
    public int Reserved;
    public byte* Method;
}

/// <summary>hpc_vit_info (hpccore.h): the model's shape.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct VitInfo
{
    public int ImageSize;
    public int PatchSize;
    public int Channels;
    public int Classes;
    public int Dim;
    public int Depth;
    public int Heads;
    public int Tokens;
}
