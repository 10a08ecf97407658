// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading;

using HpcCore.Models.Lm.Sampling;

/// <summary>
/// A Hugging Face <c>generation_config.json</c>: the sampling defaults the model's authors chose and its stop
/// tokens. Absent keys stay null. As in transformers' GenerationConfig, the model samples only with
/// <c>do_sample: true</c> (then temperature defaults to 1 and top_k to 50); otherwise it decodes greedily whatever
/// temperature the file gives.
/// </summary>
/// <param name="Temperature">Softmax temperature, or null.</param>
/// <param name="TopK">Top-k, or null.</param>
/// <param name="TopP">Nucleus mass, or null.</param>
/// <param name="DoSample">Whether to sample (false: greedy), or null.</param>
/// <param name="BosId">Beginning-of-sequence id, or null.</param>
/// <param name="EosIds">End-of-sequence ids (one or several); empty when not given.</param>
public sealed record HfGenerationConfig(float? Temperature, int? TopK, float? TopP, bool? DoSample, int? BosId, int[] EosIds)
{
    /// <summary>No defaults at all (a folder without generation_config.json).</summary>
    public static HfGenerationConfig None { get; } = new(null, null, null, null, null, []);

    /// <summary>Reads <c>generation_config.json</c> in <paramref name="folder"/>, or <see cref="None"/> when there is none.</summary>
    public static HfGenerationConfig Read(string folder)
    {
        string path = Path.Combine(folder, "generation_config.json");
        if (!File.Exists(path)) return None;
        var j = HfJson.Open(path, 1 << 20, out var document);
        using (document)
        {
            int? topK = j.Has("top_k") ? (int)j.OptionalNumber("top_k", 0, int.MaxValue)!.Value : null;
            int[] bos = j.OptionalIds("bos_token_id");
            return new HfGenerationConfig((float?)j.OptionalNumber("temperature", 0, 100), topK, (float?)j.OptionalNumber("top_p", 0, 1),
                j.OptionalBool("do_sample"), bos.Length > 0 ? bos[0] : null, j.OptionalIds("eos_token_id"));
        }
    }

    /// <summary>
    /// The sampler these defaults give, each value overridden by the caller's where given
    /// (<paramref name="temperature"/> and the rest null: not given on the command line).
    /// </summary>
    public SamplerOptions Sampler(float? temperature, int? topK, float? topP, ulong seed)
    {
        bool sample = DoSample == true;
        float t = temperature ?? (sample ? Temperature ?? 1f : 0f);
        return new SamplerOptions(t, topK ?? TopK ?? (sample ? 50 : 0), topP ?? TopP ?? 0f, seed);
    }
}
