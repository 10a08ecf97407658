// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Fuzz;

/// <summary>One target's counts for the report.</summary>
internal sealed class FuzzStats
{
    public required string Target { get; init; }

    public long Inputs { get; set; }

    /// <summary>Inputs the parser accepted.</summary>
    public long Accepted { get; set; }

    /// <summary>Inputs refused with a documented exception.</summary>
    public long Rejected { get; set; }

    /// <summary>Undocumented exceptions (the process kept running).</summary>
    public long Crashes { get; set; }

    /// <summary>Inputs over the per-input CPU time limit twice in a row, but finished within the hang limit.</summary>
    public long Slow { get; set; }

    /// <summary>Inputs still running at the hang limit.</summary>
    public long Hangs { get; set; }

    /// <summary>Inputs over the per-input allocation limit.</summary>
    public long OverAllocation { get; set; }

    /// <summary>Distinct seeds the target accepted.</summary>
    public long SeedsAccepted { get; set; }

    /// <summary>The target accepted none of its seeds: a failure (see <see cref="FuzzRunner.Run"/>).</summary>
    public bool NoSeedAccepted { get; set; }

    /// <summary>Inputs over the CPU time limit once but not when run again.</summary>
    public long Retimed { get; set; }

    public long PeakAllocatedBytes { get; set; }

    /// <summary>Most CPU time one input used (the worker thread's).</summary>
    public double MaxMilliseconds { get; set; }

    /// <summary>Most wall time one input took (includes waiting for a core on a shared machine).</summary>
    public double MaxWallMilliseconds { get; set; }

    public double Seconds { get; set; }

    public long PeakWorkingSetBytes { get; set; }

    /// <summary>Memory mappings (/proc/self/maps lines) before and after the target, after a full GC.</summary>
    public long MapsBefore { get; set; }

    public long MapsAfter { get; set; }

    public SortedDictionary<string, long> Exceptions { get; } = new(StringComparer.Ordinal);

    public List<string> Failures { get; } = [];

    public long FailureCount => (NoSeedAccepted ? 1 : 0) + Crashes + Slow + Hangs + OverAllocation;
}
