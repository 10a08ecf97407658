// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading;

using System.Text.Json;
using HpcCore.Devices;
using HpcCore.Models.Weights;
using HpcCore.Ops;
using HpcCore.Tensors;

/// <summary>
/// The tensors of a Hugging Face checkpoint: one <c>model.safetensors</c>, or the shards a
/// <c>model.safetensors.index.json</c> names (its <c>weight_map</c>: tensor name -> shard file). Every shard is
/// opened and its header validated (bounds included) before any tensor loads, and every weight_map entry must be in
/// its shard. <see cref="Load"/> checks the shape it is asked for and converts F16/BF16 to F32, the dtype the
/// decoder's ops take; <see cref="LoadLinear"/> does the same for a linear weight, or stores it in BF16 when
/// <see cref="LinearWeights"/> asks (a BF16 checkpoint's weight then stays as it is). Tensors handed out are tracked until <see cref="Release"/>, so a failed load frees them all.
/// </summary>
public sealed class HfTensorFiles : IDisposable
{
    private readonly SafetensorsReader[] _readers;
    private readonly Dictionary<string, SafetensorsReader> _byName;
    private readonly List<Tensor> _issued = [];

    private HfTensorFiles(string source, SafetensorsReader[] readers, Dictionary<string, SafetensorsReader> byName)
    {
        Source = source;
        _readers = readers;
        _byName = byName;
    }

    /// <summary>The file or folder the tensors come from (for messages).</summary>
    public string Source { get; }

    /// <summary>Tensors converted from F16 or BF16 to F32 so far (not those stored in BF16 by <see cref="LoadLinear"/>).</summary>
    public int ConvertedCount { get; private set; }

    /// <summary>The dtype <see cref="LoadLinear"/> stores linear weights in: F32 (the default) or BF16.</summary>
    public DType LinearWeights
    {
        get;
        set => field = value is DType.F32 or DType.BF16 ? value
            : throw new ArgumentException($"HfTensorFiles.LinearWeights: {value}; expected F32 or BF16.", nameof(value));
    } = DType.F32;

    /// <summary>Number of files read (1, or the number of shards).</summary>
    public int FileCount => _readers.Length;

    /// <summary>Opens the checkpoint in <paramref name="folder"/>: model.safetensors, else the shard index.</summary>
    public static HfTensorFiles OpenFolder(string folder)
    {
        string single = Path.Combine(folder, "model.safetensors"), index = Path.Combine(folder, "model.safetensors.index.json");
        if (File.Exists(single)) return Wrap(SafetensorsReader.Open(single));
        if (File.Exists(index)) return OpenSharded(index);
        throw new FileNotFoundException($"HfFolder.Load: '{folder}' has neither model.safetensors nor model.safetensors.index.json.", single);
    }

    /// <summary>One file's tensors (the reader is owned from here on).</summary>
    public static HfTensorFiles Wrap(SafetensorsReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return new HfTensorFiles(reader.Source, [reader], reader.Entries.ToDictionary(e => e.Name, _ => reader, StringComparer.Ordinal));
    }

    /// <summary>Opens the shards <paramref name="indexPath"/> names; on any failure every opened shard is closed again.</summary>
    public static HfTensorFiles OpenSharded(string indexPath)
    {
        var json = HfJson.Open(indexPath, 64 << 20, out var document);
        using var _ = document;
        if (!json.Has("weight_map") || json.Root.GetProperty("weight_map") is not { ValueKind: JsonValueKind.Object } map)
            throw json.Missing("weight_map", "a shard index maps every tensor name to its shard file");
        string folder = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
        var shards = new Dictionary<string, SafetensorsReader>(StringComparer.Ordinal);
        var byName = new Dictionary<string, SafetensorsReader>(StringComparer.Ordinal);
        try
        {
            foreach (var entry in map.EnumerateObject())
            {
                string file = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()! : throw json.Bad("weight_map", $"maps {entry.Name} to a non-string");
                // Shards live beside the index: a name with a directory part could point anywhere on the disk.
                if (file.Length == 0 || file != Path.GetFileName(file) || file is "." or "..")
                    throw new LmFormatException($"HfFolder.Load: '{indexPath}': weight_map maps {entry.Name} to \"{file}\", which is not a file name beside the index.");
                if (!shards.TryGetValue(file, out var reader))
                {
                    string path = Path.Combine(folder, file);
                    if (!File.Exists(path))
                        throw new FileNotFoundException($"HfFolder.Load: '{indexPath}' names shard '{file}' (for {entry.Name}), which does not exist.", path);
                    reader = SafetensorsReader.Open(path);
                    shards[file] = reader;
                }
                if (!reader.Contains(entry.Name))
                    throw new LmFormatException($"HfFolder.Load: '{indexPath}' puts {entry.Name} in '{file}', which has no such tensor.");
                if (!byName.TryAdd(entry.Name, reader))
                    throw new LmFormatException($"HfFolder.Load: '{indexPath}' names {entry.Name} twice.");
            }
            if (shards.Count == 0) throw json.Bad("weight_map", "is empty");
            return new HfTensorFiles(indexPath, [.. shards.Values], byName);
        }
        catch
        {
            foreach (var reader in shards.Values) reader.Dispose();
            throw;
        }
    }

    /// <summary>True when the checkpoint has a tensor <paramref name="name"/>.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The shape of <paramref name="name"/>; a missing tensor is a format error naming it.</summary>
    public Shape ShapeOf(string name) => Entry(name).Shape;

    private SafetensorsEntry Entry(string name) =>
        _byName.TryGetValue(name, out var reader) ? reader.GetEntry(name)
            : throw new LmFormatException($"HfFolder.Load: {Source} has no tensor {name}, which the model config needs.");

    /// <summary>
    /// Tensor <paramref name="name"/> as F32 on <paramref name="backend"/>, checked to have <paramref name="shape"/>
    /// (when given). F16 and BF16 are converted at load (exact: both widen to F32 without rounding).
    /// </summary>
    public Tensor Load(string name, IBackend backend, Shape? shape = null) => LoadAs(name, backend, shape, DType.F32);

    /// <summary>
    /// A linear weight: as <see cref="Load"/>, stored in <see cref="LinearWeights"/> (BF16: rounded to nearest even
    /// from F32 or F16; a BF16 tensor is kept as it is).
    /// </summary>
    public Tensor LoadLinear(string name, IBackend backend, Shape shape) => LoadAs(name, backend, shape, LinearWeights);

    private Tensor LoadAs(string name, IBackend backend, Shape? shape, DType target)
    {
        var entry = Entry(name);
        if (shape is { } expected && entry.Shape != expected)
            throw new LmFormatException($"HfFolder.Load: {Source}: tensor {name} has shape {entry.Shape}; the model config needs {expected}.");
        if (entry.DType is not (DType.F32 or DType.F16 or DType.BF16))
            throw new LmFormatException($"HfFolder.Load: {Source}: tensor {name} has dtype {entry.DType}; only F32, F16 and BF16 weights load.");
        var loaded = _byName[name].Load(name, backend);
        if (entry.DType != target)
        {
            using var stored = loaded;
            loaded = Cast.To(stored, target);
            if (target == DType.F32) ConvertedCount++;
        }
        return Track(loaded);
    }

    /// <summary>Registers a tensor derived during loading, so that <see cref="Release"/> frees it on failure.</summary>
    public Tensor Track(Tensor tensor)
    {
        _issued.Add(tensor);
        return tensor;
    }

    /// <summary>Disposes every tensor handed out (after a failed load).</summary>
    public void Release()
    {
        foreach (var t in _issued) t.Dispose();
        _issued.Clear();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var r in _readers) r.Dispose();
    }
}
