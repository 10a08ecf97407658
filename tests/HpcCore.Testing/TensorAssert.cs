// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Comparison of kernel outputs with reference values. Non-finite expected values (masked entries) are compared
// for NaN/inf parity and sign, not by value (llm.c, ggml). Failures print the first few mismatches.
using System.Globalization;
using System.Text;
using Xunit.Sdk;

namespace HpcCore.Testing;

/// <summary>Assertions for float arrays against double references.</summary>
public static class TensorAssert
{
    /// <summary>Asserts every element is within <paramref name="tolerance"/> and the NMSE gate holds.</summary>
    public static void Close(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, Tolerance tolerance, string what = "")
    {
        if (expected.Length != actual.Length)
            throw new XunitException($"{what}: length {actual.Length}, expected {expected.Length}.");
        var report = new StringBuilder();
        int failures = 0;
        double err2 = 0, ref2 = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            bool ok;
            if (!double.IsFinite(e)) ok = double.IsNaN(e) ? double.IsNaN(a) : a == e;
            else if (!double.IsFinite(a)) ok = false;
            else
            {
                ok = Math.Abs(a - e) <= tolerance.Atol + tolerance.Rtol * Math.Abs(e);
                err2 += (a - e) * (a - e);
                ref2 += e * e;
            }
            if (!ok && failures++ < 8)
                report.AppendLine(CultureInfo.InvariantCulture, $"  [{i}] actual {a:G9}, expected {e:G9}, diff {Math.Abs(a - e):G3}");
        }
        double nmse = ref2 > 0 ? err2 / ref2 : err2;
        if (failures > 0 || nmse > tolerance.MaxNmse)
            throw new XunitException(
                $"{what}: {failures} of {expected.Length} elements outside {tolerance} (NMSE {nmse:G3}).\n{report}");
    }

    /// <summary>Float-to-float version of <see cref="Close(ReadOnlySpan{double}, ReadOnlySpan{float}, Tolerance, string)"/>.</summary>
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, Tolerance tolerance, string what = "")
    {
        var e = new double[expected.Length];
        for (int i = 0; i < e.Length; i++) e[i] = expected[i];
        Close(e, actual, tolerance, what);
    }

    /// <summary>Asserts two index arrays are identical, printing the first differences.</summary>
    public static void Equal(ReadOnlySpan<int> expected, ReadOnlySpan<int> actual, string what = "")
    {
        if (expected.Length != actual.Length)
            throw new XunitException($"{what}: length {actual.Length}, expected {expected.Length}.");
        var report = new StringBuilder();
        int failures = 0;
        for (int i = 0; i < expected.Length; i++)
            if (expected[i] != actual[i] && failures++ < 8)
                report.AppendLine(CultureInfo.InvariantCulture, $"  [{i}] actual {actual[i]}, expected {expected[i]}");
        if (failures > 0) throw new XunitException($"{what}: {failures} of {expected.Length} indices differ.\n{report}");
    }
}
