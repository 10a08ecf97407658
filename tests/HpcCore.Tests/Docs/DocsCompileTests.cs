// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// GETTING_STARTED's first C# example, compiled the way a reader uses it: its `using` block and its code block pasted
// into a console app's Program.cs (top-level statements) that references HpcCore. DocsExamples runs the same code,
// but inside a test file whose own usings would hide a missing one on the page.
namespace HpcCore.Tests.Docs;

using System.Text.RegularExpressions;
using HpcCore.Tensors;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

public sealed class DocsCompileTests
{
    [Fact]
    public void GettingStarted_CompilesAsPasted()
    {
        string page = DocsSyncTests.Resource("DocsPages/GETTING_STARTED.md");
        string usings = Block(page, "usings: getting-started"), code = Block(page, "doctest: getting-started");
        var errors = Errors(usings + "\n" + code);
        Assert.True(errors.Length == 0, string.Join("\n", errors));
        // The using block is what makes it compile: without it the same code fails (so this test can fail).
        Assert.Contains(Errors(code), e => e.Contains("CS0246", StringComparison.Ordinal) || e.Contains("CS0103", StringComparison.Ordinal));
    }

    private static string Block(string page, string marker)
    {
        var m = Regex.Match(page, $@"<!-- {Regex.Escape(marker)} -->\s*```csharp\n(.*?)```", RegexOptions.Singleline);
        Assert.True(m.Success, $"GETTING_STARTED.md has no block marked '{marker}'");
        return m.Groups[1].Value;
    }

    // Errors of a console program made of `source`, against the framework and HpcCore only (no implicit usings).
    private static string[] Errors(string source)
    {
        var framework = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll");
        var references = framework.Append(typeof(Tensor).Assembly.Location).Select(p => MetadataReference.CreateFromFile(p));
        var compilation = CSharpCompilation.Create("Pasted",
            [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest))], references,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        return [.. compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString())];
    }
}
