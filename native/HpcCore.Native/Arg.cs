// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Native;

using HpcCore.Tensors;
using HpcCore.TokenReduction;

/// <summary>
/// Checks of what C passes in: pointers, handles and lengths. Messages name the function and the argument, like the
/// managed ops' messages do; the managed ops then check shapes and dtypes themselves.
/// </summary>
internal static unsafe class Arg
{
    /// <summary>Throws HPC_ERR_NULL_POINTER when <paramref name="pointer"/> is NULL.</summary>
    public static void NotNull(string fn, string name, void* pointer)
    {
        if (pointer == null) throw new NativeException(HpcStatus.NullPointer, $"{fn}: {name} is NULL.");
    }

    /// <summary>The live tensor behind a required handle.</summary>
    public static Tensor Tensor(string fn, string name, nint handle)
    {
        if (handle == 0) throw new NativeException(HpcStatus.NullPointer, $"{fn}: {name} is NULL.");
        return OptionalTensor(fn, name, handle)!;
    }

    /// <summary>The live tensor behind an optional handle; null for NULL.</summary>
    public static Tensor? OptionalTensor(string fn, string name, nint handle)
    {
        if (handle == 0) return null;
        return Handles.Get<Tensor>(handle) ?? throw Invalid(fn, name, "tensor");
    }

    /// <summary>The plan behind a required handle.</summary>
    public static MergePlan Plan(string fn, string name, nint handle) => Handle<MergePlan>(fn, name, handle, "merge plan");

    /// <summary>The object of type <typeparamref name="T"/> (called <paramref name="kind"/> in messages) behind a required handle.</summary>
    public static T Handle<T>(string fn, string name, nint handle, string kind) where T : class
    {
        if (handle == 0) throw new NativeException(HpcStatus.NullPointer, $"{fn}: {name} is NULL.");
        return Handles.Get<T>(handle) ?? throw Invalid(fn, name, kind);
    }

    /// <summary>A required NUL-terminated UTF-8 string.</summary>
    public static string Utf8(string fn, string name, byte* text)
    {
        NotNull(fn, name, text);
        return System.Runtime.InteropServices.Marshal.PtrToStringUTF8((nint)text)!;
    }

    /// <summary>
    /// The live F32 tensor of rank <paramref name="rank"/> behind a required handle (<paramref name="layout"/>, e.g.
    /// "[B, T, Hkv, D]", names the dims in the message). For entry points whose managed code reads raw spans.
    /// </summary>
    public static Tensor F32(string fn, string name, nint handle, int rank, string layout)
    {
        var t = Tensor(fn, name, handle);
        if (t.DType != DType.F32 || t.Rank != rank)
            throw new NativeException(HpcStatus.InvalidArgument, $"{fn}: {name} is {t.DType} {t.Shape}; F32 {layout} expected.");
        return t;
    }

    /// <summary>Throws HPC_ERR_INVALID_ARGUMENT naming <paramref name="fn"/> unless <paramref name="condition"/> holds.</summary>
    public static void Require(bool condition, string fn, string message)
    {
        if (!condition) throw new NativeException(HpcStatus.InvalidArgument, $"{fn}: {message}");
    }

    /// <summary>The error for a handle that is not (or no longer) an object of <paramref name="kind"/>.</summary>
    public static NativeException Invalid(string fn, string name, string kind)
        => new(HpcStatus.InvalidHandle, $"{fn}: {name} is not a live {kind} handle (freed, or never returned by hpccore).");

    /// <summary>
    /// The whole of every *_free entry point: NULL is a no-op, a live handle of type <typeparamref name="T"/> is
    /// removed from the table and disposed, anything else is HPC_ERR_INVALID_HANDLE (a double free is reported).
    /// </summary>
    public static int Free<T>(nint handle, string fn, string name, string kind) where T : class
    {
        try
        {
            if (handle == 0) return NativeError.Ok();
            var value = Handles.Remove<T>(handle) ?? throw Invalid(fn, name, kind);
            (value as IDisposable)?.Dispose();
            return NativeError.Ok();
        }
        catch (Exception e)
        {
            return NativeError.From(e, fn);
        }
    }

    /// <summary>Registers a result and stores its handle into the caller's out pointer (checked before any work).</summary>
    public static void Publish(nint* destination, object value) => *destination = Handles.Add(value);
}
