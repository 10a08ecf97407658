// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Options;

using System.CommandLine;
using System.Globalization;
using System.Numerics;

/// <summary>
/// Range checks on numeric options, run by the parser: a value out of range is a parse error (exit code 2, before
/// any file is opened) whose message gives the option, the value and the valid range, e.g. "--top-p 2 is outside [0, 1]".
/// </summary>
internal static class OptionRanges
{
    /// <summary>Accepts <paramref name="min"/> &lt;= value &lt;= <paramref name="max"/> (NaN never).</summary>
    public static Option<T> InRange<T>(this Option<T> option, T min, T max) where T : INumber<T> =>
        option.Check(v => v >= min && v <= max, $"[{Text(min)}, {Text(max)}]");

    /// <summary>Accepts <paramref name="min"/> &lt; value &lt;= <paramref name="max"/>.</summary>
    public static Option<T> AboveUpTo<T>(this Option<T> option, T min, T max) where T : INumber<T> =>
        option.Check(v => v > min && v <= max, $"({Text(min)}, {Text(max)}]");

    /// <summary>Accepts value &gt;= <paramref name="min"/> (finite for floating-point options).</summary>
    public static Option<T> AtLeast<T>(this Option<T> option, T min) where T : INumber<T> =>
        option.Check(v => v >= min && T.IsFinite(v), $"[{Text(min)}, ...)");

    private static Option<T> Check<T>(this Option<T> option, Func<T, bool> valid, string range) where T : INumber<T>
    {
        option.Validators.Add(result =>
        {
            T value = result.GetValueOrDefault<T>();
            if (!valid(value)) result.AddError($"{option.Name} {Text(value)} is outside {range}");
        });
        return option;
    }

    private static string Text<T>(T value) where T : INumber<T> => value.ToString(null, CultureInfo.InvariantCulture);
}
