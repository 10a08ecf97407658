// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Native;

using System.Runtime.InteropServices;
using System.Text;

/// <summary>
/// The thread-local last-error message (hpc_last_error) and the one place exceptions turn into status codes: every
/// entry point catches everything, so no managed exception ever unwinds into C (which would abort
/// the process under NativeAOT).
/// Each entry point is <c>try { ...; return Ok(); } catch (Exception e) { return From(e); }</c>.
/// </summary>
internal static unsafe class NativeError
{
    [ThreadStatic] private static byte* _message;
    [ThreadStatic] private static int _capacity;

    /// <summary>The message of the calling thread's last failure, or an empty string; owned by the library.</summary>
    public static byte* Message
    {
        get
        {
            if (_message == null) Store(string.Empty);
            return _message;
        }
    }

    /// <summary>Clears the message and returns HPC_OK (the success exit of every entry point).</summary>
    public static int Ok()
    {
        Store(string.Empty);
        return (int)HpcStatus.Ok;
    }

    /// <summary>Records <paramref name="e"/>'s message and returns its status (the catch of every entry point).</summary>
    public static int From(Exception e) => Fail(Classify(e), e.Message);

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

    private static HpcStatus Classify(Exception e) => e switch
    {
        NativeException n => n.Status,
        ArgumentNullException => HpcStatus.NullPointer,
        ArgumentOutOfRangeException => HpcStatus.OutOfRange,
        // A checked size computation overflowed: a count or shape too large for the library (e.g. > 2^31 bytes).
        OverflowException => HpcStatus.OutOfRange,
        ArgumentException => HpcStatus.InvalidArgument,
        ObjectDisposedException => HpcStatus.InvalidHandle,
        NotSupportedException or NotImplementedException or PlatformNotSupportedException => HpcStatus.Unsupported,
        OutOfMemoryException or InsufficientExecutionStackException => HpcStatus.OutOfMemory,
        IOException or UnauthorizedAccessException or FormatException => HpcStatus.Io,
        _ => HpcStatus.Internal,
    };

    private static void Store(string message)
    {
        int need = Encoding.UTF8.GetByteCount(message) + 1;
        if (need > _capacity)
        {
            NativeMemory.Free(_message);
            _message = null;
            _capacity = 0;
            _message = (byte*)NativeMemory.Alloc((nuint)need);
            _capacity = need;
        }
        int written = Encoding.UTF8.GetBytes(message, new Span<byte>(_message, _capacity));
        _message[written] = 0;
    }
}
