// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Benchmarks.Quick;

/// <summary>How far two outputs of the same work are apart, checked before a quick bench times them.</summary>
internal static class Agreement
{
    /// <summary>max |ours - reference| over max |reference| (in double).</summary>
    public static double MaxRelative(float[] ours, float[] reference)
    {
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs((double)ours[i] - reference[i]));
            maxRef = Math.Max(maxRef, Math.Abs((double)reference[i]));
        }
        return maxDiff / Math.Max(maxRef, double.Epsilon);
    }
}
