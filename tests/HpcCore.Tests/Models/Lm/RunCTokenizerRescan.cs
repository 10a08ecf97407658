// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Lm;

using System.Buffers.Binary;
using System.Text;

/// <summary>
/// The slow twin of <c>LlamaCTokenizer.Encode</c>: run.c's encode as it is written, rescanning every adjacent pair
/// after each merge (O(n^2)), on its own reading of a trusted tokenizer file. The library's heap-based merge must
/// give the same ids (LlamaCTokenizerMergeTests).
/// </summary>
internal sealed class RunCTokenizerRescan
{
    private readonly string[] _pieces;
    private readonly float[] _scores;
    private readonly Dictionary<string, int> _lookup = new(StringComparer.Ordinal);

    public RunCTokenizerRescan(byte[] file, int vocabSize)
    {
        _pieces = new string[vocabSize];
        _scores = new float[vocabSize];
        int at = 4;
        for (int i = 0; i < vocabSize; i++)
        {
            _scores[i] = BinaryPrimitives.ReadSingleLittleEndian(file.AsSpan(at));
            int len = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(at + 4));
            _pieces[i] = Encoding.Latin1.GetString(file, at + 8, len);
            _lookup.TryAdd(_pieces[i], i);
            at += 8 + len;
        }
    }

    public int[] Encode(string text, bool addBos)
    {
        var tokens = new List<int>();
        if (addBos) tokens.Add(1);
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length > 0 && _lookup.TryGetValue(" ", out int space)) tokens.Add(space);
        for (int start = 0; start < bytes.Length;)
        {
            int end = start + 1;
            while (end < bytes.Length && (bytes[end] & 0xC0) == 0x80 && end - start < 4) end++;
            if (_lookup.TryGetValue(Encoding.Latin1.GetString(bytes, start, end - start), out int id)) tokens.Add(id);
            else
                for (int i = start; i < end; i++) tokens.Add(bytes[i] + 3);
            start = end;
        }
        while (true)
        {
            float best = -1e10f;
            int bestId = -1, bestAt = -1;
            for (int i = 0; i + 1 < tokens.Count; i++)
            {
                if (_lookup.TryGetValue(_pieces[tokens[i]] + _pieces[tokens[i + 1]], out int id) && _scores[id] > best)
                {
                    best = _scores[id];
                    bestId = id;
                    bestAt = i;
                }
            }
            if (bestAt < 0) break;
            tokens[bestAt] = bestId;
            tokens.RemoveAt(bestAt + 1);
        }
        return [.. tokens];
    }
}
