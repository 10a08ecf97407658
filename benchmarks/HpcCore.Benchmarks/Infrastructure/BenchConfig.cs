// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// BenchmarkDotNet configuration: a `ci` job that runs every benchmark once in minutes (proves they all work) and a
// full job for real numbers. Both add the GFLOP/s column.
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;

namespace HpcCore.Benchmarks.Infrastructure;

/// <summary>Builds the BenchmarkDotNet config from the command line.</summary>
public static class BenchConfig
{
    /// <summary>Our own switch: selects the short CI job.</summary>
    public const string CiSwitch = "--ci";

    /// <summary>The config: <c>--ci</c> gives a dry/short job (one launch, few iterations), otherwise the full job.</summary>
    public static IConfig Create(string[] args)
    {
        bool ci = args.Contains(CiSwitch);
        var job = ci
            ? Job.Dry.WithId("ci").WithWarmupCount(1).WithIterationCount(3)
            : Job.Default.WithId("full");
        return DefaultConfig.Instance
            .AddJob(job.AsDefault())
            .AddColumn(new GflopsColumn())
            .WithOptions(ConfigOptions.JoinSummary);
    }

    /// <summary>The arguments without the switches BenchmarkDotNet does not know.</summary>
    public static string[] StripOwnArgs(string[] args) => args.Where(a => a != CiSwitch).ToArray();
}
