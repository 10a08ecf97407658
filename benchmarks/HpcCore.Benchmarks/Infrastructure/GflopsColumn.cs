// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// GFLOP/s = FLOPs per invocation / mean time, with the FLOP count taken from the benchmark class (IFlopCount).
using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace HpcCore.Benchmarks.Infrastructure;

/// <summary>A summary column with GFLOP/s for benchmarks whose class implements <see cref="IFlopCount"/>.</summary>
public sealed class GflopsColumn : IColumn
{
    /// <inheritdoc/>
    public string Id => nameof(GflopsColumn);

    /// <inheritdoc/>
    public string ColumnName => "GFLOP/s";

    /// <inheritdoc/>
    public bool AlwaysShow => true;

    /// <inheritdoc/>
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc/>
    public int PriorityInCategory => 0;

    /// <inheritdoc/>
    public bool IsNumeric => true;

    /// <inheritdoc/>
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc/>
    public string Legend => "Floating-point work per invocation divided by the mean time, in 1e9 FLOP/s";

    /// <inheritdoc/>
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    /// <inheritdoc/>
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        double? flops = FlopsOf(benchmarkCase);
        if (stats is null || flops is null || stats.Mean <= 0) return "-";
        return (flops.Value / stats.Mean).ToString("F1", CultureInfo.InvariantCulture); // FLOP per ns = GFLOP/s
    }

    private static double? FlopsOf(BenchmarkCase benchmarkCase)
    {
        var type = benchmarkCase.Descriptor.Type;
        if (!typeof(IFlopCount).IsAssignableFrom(type)) return null;
        var instance = (IFlopCount)Activator.CreateInstance(type)!;
        foreach (var p in benchmarkCase.Parameters.Items)
        {
            const BindingFlags flags = BindingFlags.Public | BindingFlags.Instance;
            if (type.GetProperty(p.Name, flags) is { CanWrite: true } prop) prop.SetValue(instance, p.Value);
            else type.GetField(p.Name, flags)?.SetValue(instance, p.Value);
        }
        return instance.Flops(benchmarkCase.Descriptor.WorkloadMethod.Name);
    }
}
