// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Vit;

/// <summary>Builds the <see cref="IVitTokenReducer"/> a <see cref="VitMethodSpec"/> names (null for the baseline).</summary>
public static class VitReducers
{
    /// <summary>Method names this build knows.</summary>
    public static IReadOnlyList<string> Known { get; } = ["baseline"];

    /// <summary>The reducer for <paramref name="spec"/> on a model of shape <paramref name="config"/>.</summary>
    /// <exception cref="ArgumentException">Unknown method or bad argument.</exception>
    public static IVitTokenReducer? Create(VitMethodSpec spec, VitConfig config)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(config);
        return spec.Name switch
        {
            "baseline" or "none" => null,
            _ => throw new ArgumentException(
                $"VitReducers.Create: unknown method '{spec.Text}' (known: {string.Join(", ", Known)})", nameof(spec)),
        };
    }
}
