// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>Keeps every token: the baseline every other policy is measured against.</summary>
public sealed class FullKvPolicy : KvPolicy
{
    /// <inheritdoc />
    public override string Name => "full";
}
