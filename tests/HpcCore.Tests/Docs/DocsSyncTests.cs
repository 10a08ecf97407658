// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Every docs/*.md code block marked `<!-- doctest: NAME -->` must be, line for line, the region NAME of
// DocsExamples.cs (which the test run compiles and executes) or, for C blocks, of native/c/sample.c (which CTest
// compiles and runs), and every region must appear in some page: the documentation cannot drift from the API. The
// files are embedded resources of this assembly (see the csproj).
namespace HpcCore.Tests.Docs;

using System.Reflection;
using System.Text.RegularExpressions;
using Xunit;

public sealed partial class DocsSyncTests
{
    [Fact]
    public void MarkedDocBlocks_AreTheCompiledExamples()
    {
        var regions = Regions(Resource("DocsSource/DocsExamples.cs"), SourceRegion())
            .Concat(Regions(Resource("DocsSource/sample.c"), CSourceRegion()))
            .ToDictionary();
        var blocks = new Dictionary<string, (string Page, string Code)>();
        foreach (var name in Assembly.GetExecutingAssembly().GetManifestResourceNames().Where(n => n.StartsWith("DocsPages/", StringComparison.Ordinal)))
        {
            foreach (Match m in DocBlock().Matches(Resource(name)))
                Assert.True(blocks.TryAdd(m.Groups[1].Value, (name, Normalise(m.Groups[2].Value))), $"doctest '{m.Groups[1].Value}' appears twice");
        }
        Assert.NotEmpty(blocks);
        foreach (var (name, (page, code)) in blocks)
        {
            Assert.True(regions.TryGetValue(name, out var region), $"{page}: doctest '{name}' has no region in DocsExamples.cs or sample.c");
            Assert.True(code == region, $"{page}: doctest '{name}' differs from its region:\n--- page\n{code}\n--- test\n{region}");
        }
        foreach (var name in regions.Keys) Assert.True(blocks.ContainsKey(name), $"region '{name}' is in no docs page");
    }

    private static Dictionary<string, string> Regions(string source, Regex region)
        => region.Matches(source).ToDictionary(m => m.Groups[1].Value, m => Normalise(m.Groups[2].Value));

    // Removes the common indentation and trailing blanks, so that the test's nesting does not matter.
    private static string Normalise(string code)
    {
        var lines = code.Replace("\r\n", "\n", StringComparison.Ordinal).Trim('\n').Split('\n').Select(l => l.TrimEnd()).ToArray();
        int indent = lines.Where(l => l.Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
        return string.Join('\n', lines.Select(l => l.Length >= indent ? l[indent..] : l));
    }

    internal static string Resource(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded resource {name} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"<!-- doctest: ([\w-]+) -->\s*```(?:csharp|c)\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex DocBlock();

    [GeneratedRegex(@"// doctest: ([\w-]+)\n(.*?)\n[ \t]*// end doctest", RegexOptions.Singleline)]
    private static partial Regex SourceRegion();

    [GeneratedRegex(@"/\* doctest: ([\w-]+) \*/\n(.*?)\n[ \t]*/\* end doctest \*/", RegexOptions.Singleline)]
    private static partial Regex CSourceRegion();
}
