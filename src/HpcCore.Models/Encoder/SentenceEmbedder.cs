// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Encoder;

/// <summary>
/// Texts to embeddings with a loaded <see cref="EncoderModel"/>: tokenizes, orders texts by token count so that each
/// batch pads little, runs them through one <see cref="EncoderSession"/> and returns the vectors in input order.
/// </summary>
public sealed class SentenceEmbedder : IDisposable
{
    private readonly EncoderModel _model;
    private readonly EncoderSession _session;
    private readonly int _maxTokens;

    /// <summary>
    /// An embedder of batches of up to <paramref name="batch"/> texts truncated to <paramref name="maxTokens"/> tokens,
    /// optionally with token reduction.
    /// </summary>
    public SentenceEmbedder(EncoderModel model, int maxTokens = 256, int batch = 32, Reduction.EncoderTokenReducer? reducer = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 2);
        _model = model;
        _maxTokens = maxTokens;
        _session = new EncoderSession(model.Weights, batch, maxTokens, reducer);
    }

    /// <summary>Embedding width.</summary>
    public int Dim => _model.Weights.Config.Hidden;

    /// <summary>Block FLOPs of every batch since the last <see cref="Embed(int[][])"/> began (see <see cref="EncoderSession.LastBlockFlops"/>).</summary>
    public double Flops { get; private set; }

    /// <summary>The session (for its last hidden state).</summary>
    public EncoderSession Session => _session;

    /// <summary>Token ids of each text ([CLS] ... [SEP], truncated).</summary>
    public int[][] Tokenize(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var ids = new int[texts.Count][];
        for (int i = 0; i < ids.Length; i++) ids[i] = _model.Tokenizer.Encode(texts[i], _maxTokens);
        return ids;
    }

    /// <summary>L2-normalised embeddings of <paramref name="texts"/>, one row per text, in input order.</summary>
    public float[][] Embed(IReadOnlyList<string> texts) => Embed(Tokenize(texts));

    /// <summary>L2-normalised embeddings of pre-tokenized texts, in input order.</summary>
    public float[][] Embed(int[][] tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var order = Enumerable.Range(0, tokens.Length).OrderBy(i => tokens[i].Length).ToArray();
        var result = new float[tokens.Length][];
        int d = Dim;
        Flops = 0;
        for (int start = 0; start < order.Length; start += _session.MaxBatch)
        {
            var part = order.AsSpan(start, Math.Min(_session.MaxBatch, order.Length - start)).ToArray();
            var ids = part.SelectMany(i => tokens[i]).ToArray();
            var lengths = part.Select(i => tokens[i].Length).ToArray();
            var output = new float[part.Length * d];
            _session.Encode(ids, lengths, output);
            Flops += _session.LastBlockFlops;
            for (int k = 0; k < part.Length; k++) result[part[k]] = output.AsSpan(k * d, d).ToArray();
        }
        return result;
    }

    /// <summary>Releases the session (not the model).</summary>
    public void Dispose() => _session.Dispose();
}
