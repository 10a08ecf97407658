// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// A committed golden safetensors file written by a script in tools/golden with Debian's PyTorch (an implementation
// nobody here wrote): opened from the test output folder, its tensors loaded onto a backend and disposed with it, and
// every failure message says how to regenerate the file.
namespace HpcCore.Tests.Golden;

using HpcCore.Devices;
using HpcCore.Models.Weights;
using HpcCore.Tensors;
using Xunit;

/// <summary>One golden file, e.g. <c>new GoldenFile("tome.safetensors", "tools/golden/tome.py", backend)</c>.</summary>
public sealed class GoldenFile : IDisposable
{
    private readonly SafetensorsReader _file;
    private readonly IBackend _backend;
    private readonly List<Tensor> _owned = [];
    private readonly string _hint;

    public GoldenFile(string fileName, string script, IBackend backend)
    {
        _backend = backend;
        Script = script;
        _hint = $"regenerate with: /usr/bin/python3 {script} tests/HpcCore.Tests/Golden/{fileName}";
        string path = Path.Combine(AppContext.BaseDirectory, "Golden", fileName);
        Assert.True(File.Exists(path), $"missing golden file {path}; {_hint}");
        _file = SafetensorsReader.Open(path);
    }

    /// <summary>The script that must have written the file (checked against its "generator" metadata).</summary>
    public string Script { get; }

    /// <summary>The "generator" metadata entry.</summary>
    public string Generator => _file.Metadata["generator"];

    /// <summary>Loads a tensor (owned by this object).</summary>
    public Tensor T(string name)
    {
        Assert.True(_file.Contains(name), $"golden file lacks '{name}'; {_hint}");
        var t = _file.Load(name, _backend);
        _owned.Add(t);
        return t;
    }

    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
        _file.Dispose();
    }
}
