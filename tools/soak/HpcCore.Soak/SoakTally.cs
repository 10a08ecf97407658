// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Soak;

using System.Collections.Concurrent;

/// <summary>Outcome counts per call kind: good calls must succeed with the expected result, bad calls must fail with their documented exception or status.</summary>
internal sealed class SoakTally
{
    private readonly ConcurrentDictionary<string, long[]> _counts = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _failures = new();

    /// <summary>[good ok, good failed, bad documented, bad undocumented].</summary>
    public IReadOnlyDictionary<string, long[]> Counts => _counts;

    public IEnumerable<string> Failures => _failures.Take(20);

    public long FailureCount => _counts.Values.Sum(c => Interlocked.Read(ref c[1]) + Interlocked.Read(ref c[3]));

    private long[] Of(string kind) => _counts.GetOrAdd(kind, _ => new long[4]);

    /// <summary>A call that must succeed; <paramref name="check"/> returns null when the result is right, else why not.</summary>
    public void Good(string kind, Func<string?> check)
    {
        string? why;
        try
        {
            why = check();
        }
        catch (Exception e)
        {
            why = $"{e.GetType().Name}: {e.Message}";
        }
        if (why is null) Interlocked.Increment(ref Of(kind)[0]);
        else
        {
            Interlocked.Increment(ref Of(kind)[1]);
            _failures.Enqueue($"good {kind}: {why}");
        }
    }

    /// <summary>A call that must throw <typeparamref name="T"/> (or a subclass).</summary>
    public void Bad<T>(string kind, Action call) where T : Exception
    {
        try
        {
            call();
            Interlocked.Increment(ref Of(kind)[3]);
            _failures.Enqueue($"bad {kind}: succeeded; {typeof(T).Name} expected");
        }
        catch (T)
        {
            Interlocked.Increment(ref Of(kind)[2]);
        }
        catch (Exception e)
        {
            Interlocked.Increment(ref Of(kind)[3]);
            _failures.Enqueue($"bad {kind}: {e.GetType().Name} ({e.Message}); {typeof(T).Name} expected");
        }
    }

    /// <summary>A C ABI call that must return <paramref name="expected"/>.</summary>
    public void BadStatus(string kind, int expected, Func<int> call)
    {
        int got = call();
        if (got == expected) Interlocked.Increment(ref Of(kind)[2]);
        else
        {
            Interlocked.Increment(ref Of(kind)[3]);
            _failures.Enqueue($"bad {kind}: status {got}; {expected} expected");
        }
    }
}
