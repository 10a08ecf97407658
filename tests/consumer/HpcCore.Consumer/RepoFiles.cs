// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Consumer;

/// <summary>Committed assets of the repository this consumer sits in (found by walking up from the app's folder).</summary>
internal static class RepoFiles
{
    public static string Find(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"{relative} not found above {AppContext.BaseDirectory}");
    }
}
