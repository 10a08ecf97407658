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
    public static MergePlan Plan(string fn, string name, nint handle)
    {
        if (handle == 0) throw new NativeException(HpcStatus.NullPointer, $"{fn}: {name} is NULL.");
        return Handles.Get<MergePlan>(handle) ?? throw Invalid(fn, name, "merge plan");
    }

    /// <summary>The error for a handle that is not (or no longer) an object of <paramref name="kind"/>.</summary>
    public static NativeException Invalid(string fn, string name, string kind)
        => new(HpcStatus.InvalidHandle, $"{fn}: {name} is not a live {kind} handle (freed, or never returned by hpccore).");

    /// <summary>Registers a result and stores its handle into the caller's out pointer (checked before any work).</summary>
    public static void Publish(nint* destination, object value) => *destination = Handles.Add(value);
}
