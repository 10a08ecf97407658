// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Encoder;

using System.Text;
using System.Text.RegularExpressions;
using HpcCore.Cpu;
using HpcCore.Models.Encoder;
using HpcCore.Models.Onnx;
using Xunit;

/// <summary>
/// The encoder's untrusted inputs: config.json, the pooling config and tokenizer.json refuse bad values by name and
/// survive seeded mutations with <see cref="EncoderFormatException"/> only; assembly resources are bounds-checked.
/// </summary>
public sealed class EncoderFilesFuzzTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hpccore-encoder-files-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("hidden_size", "0", "hidden_size = 0 is outside")]
    [InlineData("hidden_size", "385", "not a multiple of num_attention_heads 12")]
    [InlineData("num_hidden_layers", "1e9", "num_hidden_layers is not a 32-bit integer")]
    [InlineData("vocab_size", "2147483647", "vocab_size = 2147483647 is outside")]
    [InlineData("hidden_act", "\"relu\"", "hidden_act 'relu' is not supported")]
    [InlineData("model_type", "\"roberta\"", "model_type 'roberta' is not supported")]
    [InlineData("layer_norm_eps", "-1", "layer_norm_eps -1 is outside")]
    [InlineData("intermediate_size", null, "intermediate_size is missing")]
    public void Config_BadValues_AreNamed(string key, string? value, string message)
    {
        string good = new EncoderConfig(384, 6, 12, 1536, 30522, 512).ToJson();
        string pattern = $"\"{key}\": [^,\n]*";
        Assert.Matches(pattern, good);
        string bad = value is null ? Regex.Replace(good, pattern + ",", "") : Regex.Replace(good, pattern, $"\"{key}\": {value}");
        var e = Assert.Throws<EncoderFormatException>(() => EncoderConfig.FromJson(Encoding.UTF8.GetBytes(bad)));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    // Found by ./build.sh fuzz: a lone surrogate escape in a key the reader never asks for still broke TryGetProperty
    // (System.Text.Json decodes names while it searches) with InvalidOperationException.
    [Theory]
    [InlineData("\"\\ud922x\": 2,")]
    [InlineData("\"note\": \"\\udc00\",")]
    public void Config_BadUnicodeEscapes_AreFormatErrors(string entry)
    {
        string good = new EncoderConfig(384, 6, 12, 1536, 30522, 512).ToJson();
        string bad = good.Replace("\"hidden_size\"", entry + " \"hidden_size\"", StringComparison.Ordinal);
        Assert.NotEqual(good, bad);
        var e = Assert.Throws<EncoderFormatException>(() => EncoderConfig.FromJson(Encoding.UTF8.GetBytes(bad)));
        Assert.Contains("not valid Unicode", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Config_RoundTrips()
    {
        var c = new EncoderConfig(384, 6, 12, 1536, 30522, 512, TanhGelu: true, Pooling: EncoderPooling.Cls);
        Assert.Equal(c, EncoderConfig.FromJson(Encoding.UTF8.GetBytes(c.ToJson()), EncoderPooling.Cls));
    }

    [Fact]
    public void Fuzz_MutatedConfigs_ParseOrThrowEncoderFormatException()
    {
        var clean = Encoding.UTF8.GetBytes(new EncoderConfig(384, 6, 12, 1536, 30522, 512).ToJson());
        int parsed = 0, refused = 0;
        for (int seed = 0; seed < 2000; seed++)
        {
            try
            {
                EncoderConfig.FromJson(OnnxImportTests.Mutate(clean, seed)).Validate();
                parsed++;
            }
            catch (EncoderFormatException)
            {
                refused++;
            }
        }
        Assert.True(parsed > 0 && refused > 0, $"parsed {parsed}, refused {refused}");
    }

    [Theory]
    [InlineData("{\"pooling_mode_cls_token\": true, \"pooling_mode_mean_tokens\": true}", "exactly one of")]
    [InlineData("{\"pooling_mode_max_tokens\": true}", "pooling_mode_max_tokens is not supported")]
    [InlineData("{\"pooling_mode_cls_token\": 1}", "pooling_mode_cls_token is not true or false")]
    [InlineData("[1]", "not a JSON object")]
    [InlineData("{", "not valid JSON")]
    public void PoolingConfig_BadValues_AreNamed(string json, string message)
    {
        string path = Path.Combine(_dir, "pooling.json");
        File.WriteAllText(path, json);
        var e = Assert.Throws<EncoderFormatException>(() => EncoderModel.ReadPooling(path));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TokenizerJson_MatchesVocabTxt_AndRefusesRepeatedIds()
    {
        var pieces = EncoderTestModels.Vocab().TrimEnd('\n').Split('\n');
        string Json(IEnumerable<string> entries) => "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {" + string.Join(", ", entries) + "}}}";
        string path = Path.Combine(_dir, "tokenizer.json");
        File.WriteAllText(path, Json(pieces.Select((p, i) => $"\"{p}\": {i}")));
        string vocab = Path.Combine(_dir, "vocab.txt");
        File.WriteAllText(vocab, EncoderTestModels.Vocab());
        var a = EncoderTokenizer.FromTokenizerJson(path, lowerCase: true);
        var b = EncoderTokenizer.FromVocab(vocab, lowerCase: true);
        Assert.Equal(b.Encode("The big red dogs ran", 32), a.Encode("The big red dogs ran", 32));
        Assert.Equal(pieces.Length, a.VocabSize);

        File.WriteAllText(path, Json(pieces.Select((p, i) => $"\"{p}\": {(i == 3 ? 2 : i)}")));
        var e = Assert.Throws<EncoderFormatException>(() => EncoderTokenizer.FromTokenizerJson(path, true));
        Assert.Contains("ids must be 0..", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_WeightShapeDisagreeingWithConfig_IsNamed()
    {
        var c = EncoderTestModels.Small();
        EncoderTestModels.WriteFolder(_dir, c, 1);
        File.WriteAllText(Path.Combine(_dir, "config.json"), (c with { Intermediate = 32 }).ToJson());
        using var cpu = new CpuBackend(1);
        var e = Assert.Throws<EncoderFormatException>(() => EncoderModel.Load(_dir, cpu));
        Assert.Contains("'encoder.layer.0.intermediate.dense.weight'", e.Message, StringComparison.Ordinal);
        Assert.Contains("[24, 16]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AssemblyResources_ReadsAResource_AndMutantsReadOrThrowOnnxFormatException()
    {
        // This test assembly embeds docs/*.md (DocsSyncTests); the resource comes back byte for byte.
        string assembly = typeof(EncoderFilesFuzzTests).Assembly.Location;
        const string Name = "DocsPages/ARCHITECTURE.md";
        using (var s = typeof(EncoderFilesFuzzTests).Assembly.GetManifestResourceStream(Name)!)
        using (var m = new MemoryStream())
        {
            s.CopyTo(m);
            Assert.Equal(m.ToArray(), AssemblyResources.Read(assembly, Name));
        }
        Assert.Throws<OnnxFormatException>(() => AssemblyResources.Read(assembly, "no.such.resource"));
        var clean = File.ReadAllBytes(assembly);
        for (int seed = 0; seed < 300; seed++)
        {
            // Mutations in the first 4 KB: the PE/CLI headers and the start of the metadata.
            var rng = new Random(seed);
            var bytes = (byte[])clean.Clone();
            for (int e = 0; e < 1 + rng.Next(4); e++) bytes[rng.Next(4096)] = (byte)rng.Next(256);
            try
            {
                AssemblyResources.Read(new MemoryStream(bytes), Name, $"mutant {seed}");
            }
            catch (OnnxFormatException)
            {
            }
        }
    }
}
