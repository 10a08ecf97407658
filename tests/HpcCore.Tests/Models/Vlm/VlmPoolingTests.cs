// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The vision pooling per mode: the committed model's metadata (all 196 patches in base mode, 2 x 2 windows of the
// views in high-resolution mode), the pooled features against a double-accumulating reference over the unpooled ones,
// and the errors for a bad vision_pool key, an lm_config number that is not an int, or a pool that does not divide the
// patch grid.
namespace HpcCore.Tests.Models.Vlm;

using System.Text.Json;
using HpcCore.Models.Vlm;
using HpcCore.Models.Weights;
using HpcCore.Tensors;
using HpcCore.Tests.Models.Vit;
using Xunit;

public sealed class VlmPoolingTests(VlmFixture f) : IClassFixture<VlmFixture>
{
    [Fact]
    public void CommittedModel_TokensPerMode_MatchTraining()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(VitGoldenTests.RepoFile("assets/vlm/golden.json")));
        var tokens = doc.RootElement.GetProperty("visual_tokens");
        Assert.Equal(tokens.GetProperty("base").GetInt32(), f.Base.VisualTokens);
        Assert.Equal(tokens.GetProperty("high_res").GetInt32(), f.HighRes.VisualTokens);
        Assert.Equal(1, f.Weights.BasePool);
        Assert.Equal(2, f.Weights.HighResPool);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(14)]
    public void PooledFeatures_AreWindowMeans_OfUnpooledOnes(int pool)
    {
        var views = VlmScene.Views(VlmEvalSet.Scene(f.Set.HighRes[1].Cells, f.Images), highRes: true);
        using var whole = new VlmVisionEncoder(f.Vit, VlmScene.ViewCount(true), 1);
        using var pooled = new VlmVisionEncoder(f.Vit, VlmScene.ViewCount(true), pool);
        var a = whole.Encode(views);
        var b = pooled.Encode(views);
        int grid = f.Vit.Config.Grid, g = grid / pool, d = a.Dim;
        Assert.Equal((grid, g, a.Views * g * g), (a.Grid, b.Grid, b.Tokens));
        for (int v = 0; v < a.Views; v++)
            for (int i = 0; i < g; i++)
                for (int j = 0; j < g; j++)
                {
                    int token = (v * g + i) * g + j;
                    for (int e = 0; e < d; e++)
                    {
                        double sum = 0;
                        for (int di = 0; di < pool; di++)
                            for (int dj = 0; dj < pool; dj++)
                                sum += a.Features[(v * grid * grid + (pool * i + di) * grid + pool * j + dj) * d + e];
                        Assert.True(Math.Abs(sum / (pool * pool) - b.Features[token * d + e]) <= 1e-5,
                            $"pool {pool} view {v} token ({i}, {j}) feature {e}: {b.Features[token * d + e]} vs {sum / (pool * pool)}");
                    }
                    // Attention statistics are window sums (the attention mass the window receives).
                    double received = 0;
                    for (int di = 0; di < pool; di++)
                        for (int dj = 0; dj < pool; dj++)
                            received += a.Received[^1][v * grid * grid + (pool * i + di) * grid + pool * j + dj];
                    Assert.True(Math.Abs(received - b.Received[^1][token]) <= 1e-4 * Math.Max(1, Math.Abs(received)));
                }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(28)]
    public void PoolNotDividingTheGrid_Throws(int pool)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new VlmVisionEncoder(f.Vit, 1, pool));
        Assert.Contains("14 x 14", e.Message);
    }

    [Theory]
    [InlineData(null, 2, 2)]
    [InlineData("{\"base\": 1, \"high_res\": 2}", 1, 2)]
    [InlineData("{\"base\": 0, \"high_res\": 2}", 0, 0)]
    [InlineData("{\"base\": 1}", 0, 0)]
    [InlineData("{\"base\": \"one\", \"high_res\": 2}", 0, 0)]
    [InlineData("[1, 2]", 0, 0)]
    [InlineData("not json", 0, 0)]
    public void VisionPoolMetadata_IsReadOrRejected(string? json, int basePool, int highResPool)
    {
        if (basePool == 0)
        {
            var e = Assert.Throws<InvalidDataException>(() => LoadWithMetadata("vision_pool", json));
            Assert.Contains("vision_pool", e.Message);
            return;
        }
        using var w = LoadWithMetadata("vision_pool", json);
        Assert.Equal((basePool, highResPool), (w.PoolFor(false), w.PoolFor(true)));
    }

    [Theory]
    [InlineData("1e999")]
    [InlineData("2.5")]
    [InlineData("-3000000000")]
    public void LmConfigNumberNotAnInt_IsAFormatError(string ctx)
    {
        // Found by ./build.sh fuzz (target safetensors-vlm): such a number escaped as a FormatException.
        var e = Assert.Throws<InvalidDataException>(() => LoadWithMetadata("lm_config",
            $"{{\"dim\": 64, \"hidden\": 128, \"layers\": 3, \"heads\": 4, \"kv_heads\": 2, \"vocab\": 32, \"ctx\": {ctx}}}"));
        Assert.Contains("lm_config", e.Message);
    }

    // VlmWeights.Load of the committed model's tensors and metadata with one metadata key replaced (null: removed),
    // written to a temporary file that is deleted afterwards.
    private VlmWeights LoadWithMetadata(string key, string? value)
    {
        string path = Path.Combine(Path.GetTempPath(), $"vlm-metadata-{Guid.NewGuid():N}.safetensors");
        try
        {
            using (var r = SafetensorsReader.Open(VitGoldenTests.RepoFile("assets/vlm/vlm-grid.safetensors")))
            {
                var metadata = r.Metadata.Where(kv => kv.Key != key).ToDictionary(kv => kv.Key, kv => kv.Value);
                if (value is not null) metadata[key] = value;
                var tensors = r.Entries.Select(e => new KeyValuePair<string, Tensor>(e.Name, r.Load(e.Name, f.Cpu))).ToList();
                try
                {
                    SafetensorsWriter.Write(path, tensors, metadata);
                }
                finally
                {
                    foreach (var t in tensors) t.Value.Dispose();
                }
            }
            return VlmWeights.Load(path, f.Cpu);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
