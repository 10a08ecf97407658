// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Lm;

using Xunit;

/// <summary>A fact that runs only when the stories260K files are found, and otherwise is skipped with the reason.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class Stories260KFactAttribute : FactAttribute
{
    public Stories260KFactAttribute()
    {
        if (LmTestModels.Stories260KFolder() is null) Skip = LmTestModels.Stories260KMissing;
    }
}

/// <summary>The theory twin of <see cref="Stories260KFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class Stories260KTheoryAttribute : TheoryAttribute
{
    public Stories260KTheoryAttribute()
    {
        if (LmTestModels.Stories260KFolder() is null) Skip = LmTestModels.Stories260KMissing;
    }
}
