// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Where the stories260K checkpoint (llama2.c's 260K-parameter TinyStories model, never committed) and the repository's
// own assets are, for every test project; and facts/theories that skip with the reason when the model is absent.
namespace HpcCore.Testing;

using Xunit;

/// <summary>Locates the stories260K files and the repository root.</summary>
public static class Stories260K
{
    /// <summary>Why a stories260K test was skipped.</summary>
    public const string Missing =
        "stories260K not found: set HPCCORE_STORIES260K to the folder holding stories260K.bin and tok512.bin, " +
        "or place it at ../shared/models/stories260K relative to the repository.";

    /// <summary>
    /// Folder holding stories260K.bin and tok512.bin: $HPCCORE_STORIES260K, else ../shared/models/stories260K above
    /// the repository (found by walking up from the test binary); null when absent.
    /// </summary>
    public static string? Folder()
    {
        var env = Environment.GetEnvironmentVariable("HPCCORE_STORIES260K");
        if (!string.IsNullOrEmpty(env)) return File.Exists(Path.Combine(env, "stories260K.bin")) ? env : null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "..", "shared", "models", "stories260K");
            if (File.Exists(Path.Combine(candidate, "stories260K.bin")) && File.Exists(Path.Combine(candidate, "tok512.bin")))
                return Path.GetFullPath(candidate);
        }
        return null;
    }

    /// <summary>The repository root (the folder holding HpcCore.sln above the test binary).</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "HpcCore.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("HpcCore.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A fact that runs only when the stories260K files are found, and otherwise is skipped with the reason.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class Stories260KFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when the model is absent.</summary>
    public Stories260KFactAttribute()
    {
        if (Stories260K.Folder() is null) Skip = Stories260K.Missing;
    }
}

/// <summary>A theory that runs only when the stories260K files are found, and otherwise is skipped with the reason.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class Stories260KTheoryAttribute : TheoryAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when the model is absent.</summary>
    public Stories260KTheoryAttribute()
    {
        if (Stories260K.Folder() is null) Skip = Stories260K.Missing;
    }
}
