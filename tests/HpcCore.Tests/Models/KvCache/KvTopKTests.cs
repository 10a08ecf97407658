// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.KvCache;

using HpcCore.Models.KvCache;
using HpcCore.Testing;
using Xunit;

/// <summary>KvTopK against a sort-based reference (ties: lower index), on odd sizes and heavy ties.</summary>
public sealed class KvTopKTests
{
    internal static int[] Reference(float[] s, int lo, int hi, int k) =>
        Enumerable.Range(lo, Math.Max(0, hi - lo)).OrderByDescending(i => s[i]).ThenBy(i => i).Take(Math.Max(0, k)).Order().ToArray();

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 3)]
    [InlineData(31, 31)]
    [InlineData(33, 40)]
    [InlineData(127, 10)]
    [InlineData(129, 64)]
    [InlineData(197, 0)]
    public void MatchesReference(int n, int k)
    {
        foreach (bool ties in new[] { false, true })
        {
            var s = TestData.Uniform(n, n + k);
            if (ties) for (int i = 0; i < n; i++) s[i] = MathF.Round(s[i] * 2);
            var dst = new int[n];
            int lo = n / 5, hi = n - n / 7;
            int m = KvTopK.Select(s, lo, hi, k, dst);
            Assert.Equal(Reference(s, lo, hi, k), dst[..m]);
        }
    }
}
