// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Soak;

using System.Runtime.InteropServices;

/// <summary>The few C ABI entry points the soak calls (native/include/hpccore.h), bound from a built libhpccore.</summary>
internal sealed unsafe class NativeAbi
{
    /// <summary>Where `./build.sh native` puts the library, per platform.</summary>
    public static readonly string[] DefaultPaths = ["artifacts/native/libhpccore.so", "artifacts/native/libhpccore.dylib", "artifacts/native/hpccore.dll"];

    public const int Ok = 0, NullPointer = 1, InvalidArgument = 2, OutOfRange = 3, BufferTooSmall = 5, Io = 9;

    private readonly delegate* unmanaged<int, long*, int, void*, nuint, nint*, int> _create;
    private readonly delegate* unmanaged<nint, int> _free;
    private readonly delegate* unmanaged<nint, void*, nuint, int> _copyTo;
    private readonly delegate* unmanaged<nint, int, nint*, nint*, int> _topk;
    private readonly delegate* unmanaged<byte*, nint*, int> _vitLoad;
    private readonly delegate* unmanaged<nint, int> _vitFree;

    public NativeAbi(string path)
    {
        var lib = NativeLibrary.Load(path);
        _create = (delegate* unmanaged<int, long*, int, void*, nuint, nint*, int>)NativeLibrary.GetExport(lib, "hpc_tensor_create");
        _free = (delegate* unmanaged<nint, int>)NativeLibrary.GetExport(lib, "hpc_tensor_free");
        _copyTo = (delegate* unmanaged<nint, void*, nuint, int>)NativeLibrary.GetExport(lib, "hpc_tensor_copy_to");
        _topk = (delegate* unmanaged<nint, int, nint*, nint*, int>)NativeLibrary.GetExport(lib, "hpc_topk");
        _vitLoad = (delegate* unmanaged<byte*, nint*, int>)NativeLibrary.GetExport(lib, "hpc_vit_load");
        _vitFree = (delegate* unmanaged<nint, int>)NativeLibrary.GetExport(lib, "hpc_vit_free");
    }

    public int Create(float[] data, long[] shape, out nint tensor)
    {
        nint t = 0;
        int s;
        fixed (float* d = data)
        fixed (long* sh = shape)
            s = _create(0, sh, shape.Length, d, (nuint)(data.Length * 4), &t);
        tensor = t;
        return s;
    }

    public int CreateRaw(long[] shape, int rank, nuint bytes, out nint tensor)
    {
        nint t = 0;
        int s;
        fixed (long* sh = shape) s = _create(0, sh, rank, null, bytes, &t);
        tensor = t;
        return s;
    }

    public int Free(nint t) => _free(t);

    public int CopyTo(nint t, Span<byte> dst)
    {
        fixed (byte* p = dst) return _copyTo(t, p, (nuint)dst.Length);
    }

    public int TopK(nint scores, int k, out nint values, out nint indices)
    {
        nint v = 0, i = 0;
        int s = _topk(scores, k, &v, &i);
        values = v;
        indices = i;
        return s;
    }

    public int VitLoad(string path, out nint vit)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        nint h = 0;
        int s;
        fixed (byte* p = bytes) s = _vitLoad(p, &h);
        vit = h;
        return s;
    }

    public int VitFree(nint vit) => _vitFree(vit);
}
