// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>Builds a <see cref="KvPolicy"/> from its command-line name and a per-head token budget.</summary>
public static class KvPolicies
{
    /// <summary>The names <see cref="Create"/> accepts.</summary>
    public const string Names = "full";

    /// <summary>The policy called <paramref name="name"/> keeping about <paramref name="budget"/> tokens per head.</summary>
    public static KvPolicy Create(string name, int budget)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(budget);
        return name.ToLowerInvariant() switch
        {
            "full" => new FullKvPolicy(),
            _ => throw new ArgumentException($"KvPolicies.Create: unknown policy '{name}'; expected one of {Names}.", nameof(name)),
        };
    }
}
