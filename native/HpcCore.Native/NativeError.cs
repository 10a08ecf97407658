// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Native;

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using HpcCore.Models.Encoder;
using HpcCore.Models.KvCache;
using HpcCore.Models.Lm.Loading;

/// <summary>
/// The thread-local last-error message (hpc_last_error) and the one place exceptions turn into status codes: every
/// entry point catches everything, so no managed exception ever unwinds into C (which would abort
/// the process under NativeAOT).
/// Each entry point is <c>try { ...; return Ok(); } catch (Exception e) { return From(e, Fn); }</c>.
/// </summary>
internal static unsafe class NativeError
{
    // A pinned managed array, not native memory: a thread's message buffer is then collected with the thread (a
    // NativeMemory buffer held by a [ThreadStatic] leaked its bytes for every exited thread; issue #21). The pinned
    // object heap never moves it, so the pointer handed to C stays valid until the thread's next call.
    [ThreadStatic] private static byte[]? _message;

    /// <summary>The message of the calling thread's last failure, or an empty string; owned by the library.</summary>
    public static byte* Message
    {
        get
        {
            if (_message == null) Store(string.Empty);
            return (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_message!));
        }
    }

    /// <summary>Clears the message and returns HPC_OK (the success exit of every entry point).</summary>
    public static int Ok()
    {
        Store(string.Empty);
        return (int)HpcStatus.Ok;
    }

    /// <summary>
    /// Records <paramref name="e"/>'s message, prefixed by <paramref name="fn"/> unless it already names it, and returns
    /// its status (the catch of every entry point): no message reaches C without the function's name (issue #21: a bare
    /// "Attempted to divide by zero." did).
    /// </summary>
    public static int From(Exception e, string fn)
    {
        string message = e.Message.StartsWith(fn, StringComparison.Ordinal) ? e.Message : $"{fn}: {e.Message}";
        return Fail(Classify(e), message);
    }

    /// <summary>Records <paramref name="message"/> and returns <paramref name="status"/> (argument checks of the ABI layer).</summary>
    public static int Fail(HpcStatus status, string message)
    {
        try
        {
            Store(message);
        }
        catch (OutOfMemoryException)
        {
            // Keep the status even when the message cannot be stored.
        }
        return (int)status;
    }

    /// <summary>
    /// The status of an exception; every documented library exception has its own line (docs/C_ABI.md, hpccore.h).
    /// Only an exception the library never documents (a bug: NullReferenceException, IndexOutOfRangeException,
    /// DivideByZeroException, ...) is HPC_ERR_INTERNAL.
    /// </summary>
    internal static HpcStatus Classify(Exception e) => e switch
    {
        NativeException n => n.Status,
        ArgumentNullException => HpcStatus.NullPointer,
        ArgumentOutOfRangeException => HpcStatus.OutOfRange,
        // A checked size computation overflowed: a count or shape too large for the library (e.g. > 2^31 bytes).
        OverflowException => HpcStatus.OutOfRange,
        ArgumentException => HpcStatus.InvalidArgument,
        ObjectDisposedException => HpcStatus.InvalidHandle,
        // A prompt longer than the context, a cache without room: a count outside what the object can hold.
        KvCapacityException => HpcStatus.OutOfRange,
        // Model files and their metadata: malformed input is HPC_ERR_IO, like a missing file.
        LmFormatException or EncoderFormatException or InvalidDataException => HpcStatus.Io,
        // A session used from two threads at once, or a call the object's state does not allow.
        InvalidOperationException => HpcStatus.InvalidState,
        NotSupportedException or NotImplementedException or PlatformNotSupportedException => HpcStatus.Unsupported,
        OutOfMemoryException or InsufficientExecutionStackException => HpcStatus.OutOfMemory,
        IOException or UnauthorizedAccessException or FormatException => HpcStatus.Io,
        _ => HpcStatus.Internal,
    };

    private static void Store(string message)
    {
        int need = Encoding.UTF8.GetByteCount(message) + 1;
        if (_message == null || need > _message.Length)
            _message = GC.AllocateUninitializedArray<byte>(Math.Max(need, 64), pinned: true);
        int written = Encoding.UTF8.GetBytes(message, _message);
        _message[written] = 0;
    }
}
