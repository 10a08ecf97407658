// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The adaptive serial-or-pooled choice on synthetic times: it must settle on the faster way, keep trying the other,
// follow the machine when the faster way changes, and keep sizes apart.
namespace HpcCore.Tests.Cpu;

using HpcCore.Cpu;
using Xunit;

public sealed class SplitChooserTests
{
    // Runs `units` choices for one size class; each unit "takes" serialTime or pooledTime. Returns how many ran serial.
    private static int Drive(SplitChooser chooser, int sizeClass, int units, double serialTime, double pooledTime)
    {
        int serial = 0;
        for (int i = 0; i < units; i++)
        {
            bool s = chooser.ChooseSerial(sizeClass);
            if (s) serial++;
            chooser.Record(sizeClass, s, s ? serialTime : pooledTime);
        }
        return serial;
    }

    [Theory]
    [InlineData(1.0, 1.05, true)]
    [InlineData(1.05, 1.0, false)]
    public void SettlesOnTheFasterWay_AndTriesTheOtherEvery32_WhileItComesClose(double serialTime, double pooledTime, bool serialFaster)
    {
        var chooser = new SplitChooser();
        Drive(chooser, 10, 2 + 2 * SplitChooser.Window, serialTime, pooledTime); // cold units and warm-up
        int serial = Drive(chooser, 10, 10 * SplitChooser.ExploreEvery, serialTime, pooledTime);
        int slower = serialFaster ? 10 * SplitChooser.ExploreEvery - serial : serial;
        Assert.Equal(10, slower); // within ClearLoss of the faster way: exactly one try in ExploreEvery
    }

    [Theory]
    [InlineData(1.0, 2.0, true)]
    [InlineData(2.0, 1.0, false)]
    public void SpacesOutTheTries_WhileTheOtherWayLosesClearly(double serialTime, double pooledTime, bool serialFaster)
    {
        var chooser = new SplitChooser();
        Drive(chooser, 10, 2 + 2 * SplitChooser.Window, serialTime, pooledTime);
        var tries = new List<int>();
        for (int unit = 1; unit <= 3000; unit++)
        {
            bool s = chooser.ChooseSerial(10);
            if (s != serialFaster) tries.Add(unit);
            chooser.Record(10, s, s ? serialTime : pooledTime);
        }
        var gaps = tries.Zip(tries.Skip(1), (a, b) => b - a).ToArray();
        Assert.Equal(SplitChooser.FirstTryAfter, tries[0]); // the first try soon after the warm-up
        Assert.Equal([8, 16, 32, 64, 128, 128, 128], gaps[..7]); // doubling up to MaxExploreEvery, then steady
        Assert.All(gaps, g => Assert.InRange(g, 8, SplitChooser.MaxExploreEvery));
    }

    // Within PooledMustWinBy of each other the calling thread alone is chosen: no second core for a noise-level gain.
    [Theory]
    [InlineData(0.99, true)]
    [InlineData(0.95, false)]
    public void ThePoolMustWinByAMargin(double pooledTime, bool serialChosen)
    {
        var chooser = new SplitChooser();
        Drive(chooser, 10, 2 + 2 * SplitChooser.Window, serialTime: 1.0, pooledTime);
        int serial = Drive(chooser, 10, 10 * SplitChooser.ExploreEvery, serialTime: 1.0, pooledTime);
        Assert.Equal(serialChosen ? 10 * SplitChooser.ExploreEvery - 10 : 10, serial); // one try in ExploreEvery either way
    }

    [Fact]
    public void ATryThatComesClose_BringsTheSpacingBack()
    {
        var chooser = new SplitChooser();
        Drive(chooser, 10, 2 + 2 * SplitChooser.Window + 1000, serialTime: 1.0, pooledTime: 3.0); // spacing at its widest
        // The other core frees up a little: pooled now takes 1.05x serial (close, not a clear loss). The first try sees
        // it (within the widest spacing) and the tries come every ExploreEvery units again.
        var tries = new List<int>();
        for (int unit = 0; unit < 4 * SplitChooser.MaxExploreEvery; unit++)
        {
            bool s = chooser.ChooseSerial(10);
            if (!s) tries.Add(unit);
            chooser.Record(10, s, s ? 1.0 : 1.05);
        }
        Assert.InRange(tries[0], 0, SplitChooser.MaxExploreEvery - 1);
        Assert.All(tries.Zip(tries.Skip(1), (a, b) => b - a), g => Assert.Equal(SplitChooser.ExploreEvery, g));
    }

    [Fact]
    public void FollowsTheMachine_WhenTheFasterWayChanges()
    {
        var chooser = new SplitChooser();
        Drive(chooser, 20, 200, serialTime: 1.0, pooledTime: 2.0);
        Assert.True(chooser.ChooseSerial(20) || chooser.ChooseSerial(20));
        // The other core becomes free: pooled is now twice as fast. Exploring units refill pooled's window, and after
        // a majority of it (3 of 5 samples) the choice flips.
        Drive(chooser, 20, 4 * SplitChooser.ExploreEvery, serialTime: 1.0, pooledTime: 0.5);
        int serial = Drive(chooser, 20, 2 * SplitChooser.ExploreEvery, serialTime: 1.0, pooledTime: 0.5);
        Assert.True(serial <= 2, $"{serial} of {2 * SplitChooser.ExploreEvery} units still ran serial");
    }

    // A noisy start leaves the pool's window slow (a neighbour held the other core), so one core is chosen; the first
    // try after the machine frees up wins clearly and the pool takes over at once, not after three tries (96+ units).
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ATryThatWinsClearly_TakesOverAtOnce(bool poolWasSlow)
    {
        var chooser = new SplitChooser();
        (double serialTime, double pooledTime) = poolWasSlow ? (1.0, 2.0) : (2.0, 1.0);
        Drive(chooser, 10, 2 + 2 * SplitChooser.Window, serialTime, pooledTime);
        Assert.Equal(poolWasSlow, chooser.ChooseSerial(10));
        (serialTime, pooledTime) = (pooledTime * 0.3, serialTime * 0.3); // the other way is now far faster
        var ways = new List<bool>();
        for (int unit = 0; unit < 3 * SplitChooser.ExploreEvery; unit++)
        {
            bool s = chooser.ChooseSerial(10);
            ways.Add(s);
            chooser.Record(10, s, s ? serialTime : pooledTime);
        }
        int firstTry = ways.IndexOf(!poolWasSlow);
        Assert.InRange(firstTry, 0, SplitChooser.ExploreEvery);
        // From the try on, every unit but the periodic tries of the now-slower way runs the faster way.
        int slower = ways.Skip(firstTry + 1).Count(s => s == poolWasSlow);
        Assert.InRange(slower, 0, 2);
    }

    // A try that wins by less than ClearLoss does not take over at once: the majority of the window decides, as before.
    [Fact]
    public void ATryThatWinsNarrowly_DoesNotTakeOverAtOnce()
    {
        var chooser = new SplitChooser();
        Drive(chooser, 10, 2 + 2 * SplitChooser.Window, serialTime: 1.0, pooledTime: 2.0);
        var ways = new List<bool>();
        for (int unit = 0; unit < 2 * SplitChooser.ExploreEvery; unit++)
        {
            bool s = chooser.ChooseSerial(10);
            ways.Add(s);
            chooser.Record(10, s, s ? 1.0 : 0.95);
        }
        int firstTry = ways.IndexOf(false);
        Assert.InRange(firstTry, 0, SplitChooser.ExploreEvery);
        Assert.All(ways.Skip(firstTry + 1).Take(SplitChooser.ExploreEvery - 1), Assert.True); // still one core until the next try
    }

    // While one core is chosen, the workers are woken WakeLead ahead of each try of the pool (at least one unit ahead)
    // so that the try is timed with them awake; never for units too short for the pool, never while it is chosen.
    [Theory]
    [InlineData(10e-3, 1)] // 10 ms units: the unit before the try
    [InlineData(1e-3, 5)] // 1 ms units: five units (WakeLead 5 ms) ahead
    [InlineData(50e-6, 0)] // below MinWakeUnit: no wake-up
    public void WakesTheWorkers_AheadOfEachTryOfThePool(double unitSeconds, int lead)
    {
        const int sizeClass = 20;
        double perCost = unitSeconds / (1.5 * Math.Pow(2, sizeClass)); // the chooser's estimate of a unit's time
        var chooser = new SplitChooser();
        Drive(chooser, sizeClass, 2 + 2 * SplitChooser.Window, serialTime: perCost, pooledTime: 2 * perCost);
        var wakes = new List<int>();
        var tries = new List<int>();
        for (int unit = 0; unit < 4 * SplitChooser.MaxExploreEvery; unit++)
        {
            bool s = chooser.ChooseSerial(sizeClass, out var wakeFor);
            if (wakeFor > TimeSpan.Zero)
            {
                wakes.Add(unit);
                Assert.InRange(wakeFor, SplitChooser.WakeLead, SplitChooser.WakeLead + TimeSpan.FromSeconds(3 * unitSeconds));
            }
            if (!s) tries.Add(unit);
            chooser.Record(sizeClass, s, s ? perCost : 2 * perCost);
        }
        Assert.True(tries.Count >= 4);
        // As far ahead as the spacing allows: the first try comes FirstTryAfter units after the warm-up.
        int[] expected = lead == 0 ? [] : tries.Select((t, i) => t - (i == 0 ? Math.Min(lead, SplitChooser.FirstTryAfter - 1) : lead)).ToArray();
        Assert.Equal(expected, wakes.ToArray());

        // The pool chosen: its workers are busy anyway, and no unit asks for a wake-up.
        chooser = new SplitChooser();
        Drive(chooser, sizeClass, 2 + 2 * SplitChooser.Window, serialTime: 2 * perCost, pooledTime: perCost);
        for (int unit = 0; unit < 2 * SplitChooser.ExploreEvery; unit++)
        {
            bool s = chooser.ChooseSerial(sizeClass, out var wakeFor);
            Assert.Equal(TimeSpan.Zero, wakeFor);
            chooser.Record(sizeClass, s, s ? 2 * perCost : perCost);
        }
    }

    [Fact]
    public void SizesAreKeptApart_AndOutliersDoNotFlipTheChoice()
    {
        var chooser = new SplitChooser();
        Drive(chooser, 5, 100, serialTime: 1.0, pooledTime: 3.0);
        Drive(chooser, 30, 100, serialTime: 3.0, pooledTime: 1.0);
        Assert.Equal(SplitChooser.SizeClass(1.1e6), SplitChooser.SizeClass(1.9e6));
        Assert.NotEqual(SplitChooser.SizeClass(1e6), SplitChooser.SizeClass(1e9));
        // One preempted pooled unit (100x slow) in size 30 does not move the median of five.
        chooser.Record(30, serial: false, 100.0);
        int serial30 = Drive(chooser, 30, SplitChooser.ExploreEvery, serialTime: 3.0, pooledTime: 1.0);
        int serial5 = Drive(chooser, 5, SplitChooser.ExploreEvery, serialTime: 1.0, pooledTime: 3.0);
        Assert.InRange(serial30, 0, 1); // at most the one try of the slower way
        Assert.InRange(serial5, SplitChooser.ExploreEvery - 1, SplitChooser.ExploreEvery);
        chooser.Record(30, serial: true, double.NaN); // ignored, like a negative time
        Assert.Equal(0, SplitChooser.SizeClass(0));
        Assert.InRange(SplitChooser.SizeClass(double.PositiveInfinity), 60, 63);
    }
}
