// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading;

using System.Buffers.Binary;
using System.Text;

/// <summary>
/// llama2.c's tokenizer (tokenizer.bin / tok512.bin): int32 max_token_length, then per token a float32 merge score, an
/// int32 byte length and the bytes. Encoding follows run.c exactly: a dummy-prefix space, UTF-8 code points looked up
/// whole (bytes + 3 as fallback), then greedy merges of the adjacent pair whose merged piece has the highest score
/// (the leftmost pair on ties), with a heap instead of run.c's rescan after every merge. The file is untrusted: lengths are bounds-checked before each allocation.
/// </summary>
public sealed class LlamaCTokenizer : ITextTokenizer
{
    private const int MaxPieceLength = 1 << 16;
    private readonly byte[][] _pieces;
    private readonly float[] _scores;
    private readonly Dictionary<string, int> _lookup = new(StringComparer.Ordinal);

    private LlamaCTokenizer(byte[][] pieces, float[] scores, int maxTokenLength, int bosId = 1, int eosId = 2)
    {
        _pieces = pieces;
        _scores = scores;
        BosId = bosId;
        EosId = eosId;
        MaxTokenBytes = Math.Max(maxTokenLength, 1);
        for (int i = 0; i < pieces.Length; i++)
            _lookup.TryAdd(Encoding.Latin1.GetString(pieces[i]), i);
    }

    /// <inheritdoc />
    public int VocabSize => _pieces.Length;

    /// <inheritdoc />
    public int BosId { get; }

    /// <inheritdoc />
    public int EosId { get; }

    /// <inheritdoc />
    public int MaxTokenBytes { get; }

    /// <summary>Reads <paramref name="vocabSize"/> entries (the model's vocab_size; the file does not store it).</summary>
    public static LlamaCTokenizer Load(string path, int vocabSize) => Parse(File.ReadAllBytes(path), vocabSize, Path.GetFileName(path));

    /// <summary>Parses tokenizer bytes; throws <see cref="LmFormatException"/> on any out-of-range field.</summary>
    public static LlamaCTokenizer Parse(ReadOnlySpan<byte> data, int vocabSize, string name = "tokenizer")
    {
        if (vocabSize < 3 || vocabSize > 1 << 22)
            throw new LmFormatException($"llama2.c {name}: vocab size {vocabSize} is outside 3..{1 << 22}.");
        if (data.Length < 4)
            throw new LmFormatException($"llama2.c {name}: {data.Length} bytes is shorter than the 4-byte header.");
        int maxLen = BinaryPrimitives.ReadInt32LittleEndian(data);
        if (maxLen <= 0 || maxLen > MaxPieceLength)
            throw new LmFormatException($"llama2.c {name}: max_token_length = {maxLen} is outside 1..{MaxPieceLength}.");
        // Each entry needs at least 8 bytes: check before allocating vocab-sized arrays.
        if ((long)vocabSize * 8 > data.Length - 4)
            throw new LmFormatException($"llama2.c {name}: {data.Length} bytes cannot hold {vocabSize} entries.");
        var pieces = new byte[vocabSize][];
        var scores = new float[vocabSize];
        int at = 4;
        for (int i = 0; i < vocabSize; i++)
        {
            if (data.Length - at < 8)
                throw new LmFormatException($"llama2.c {name}: file ends inside entry {i} of {vocabSize}.");
            scores[i] = BinaryPrimitives.ReadSingleLittleEndian(data[at..]);
            int len = BinaryPrimitives.ReadInt32LittleEndian(data[(at + 4)..]);
            at += 8;
            if (len < 0 || len > maxLen || len > data.Length - at)
                throw new LmFormatException($"llama2.c {name}: entry {i} has length {len} (max_token_length {maxLen}, " +
                                            $"{data.Length - at} bytes left).");
            pieces[i] = data.Slice(at, len).ToArray();
            at += len;
        }
        return new LlamaCTokenizer(pieces, scores, maxLen);
    }

    /// <summary>
    /// A tokenizer over pieces and scores read elsewhere (a GGUF file's embedded SentencePiece vocabulary, with its
    /// spaces already restored from U+2581); byte-fallback ids stay at byte + 3, as in Llama's vocabulary.
    /// </summary>
    public static LlamaCTokenizer FromPieces(byte[][] pieces, float[] scores, int bosId, int eosId)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        ArgumentNullException.ThrowIfNull(scores);
        if (pieces.Length != scores.Length || pieces.Length < 3)
            throw new ArgumentException($"LlamaCTokenizer.FromPieces: {pieces.Length} pieces and {scores.Length} scores (need equal counts, at least 3).", nameof(scores));
        return new LlamaCTokenizer(pieces, scores, pieces.Max(p => p.Length), bosId, eosId);
    }

    /// <summary>The merge score of token <paramref name="id"/>.</summary>
    public float Score(int id) => _scores[id];

    /// <summary>The raw bytes of token <paramref name="id"/>.</summary>
    public ReadOnlySpan<byte> Piece(int id) => _pieces[id];

    /// <inheritdoc />
    public int[] Encode(string text, bool addBos)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new List<int>(text.Length + 2);
        if (addBos) tokens.Add(BosId);
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length > 0 && _lookup.TryGetValue(" ", out int space)) tokens.Add(space);
        int start = 0;
        while (start < bytes.Length)
        {
            int end = start + 1;
            while (end < bytes.Length && (bytes[end] & 0xC0) == 0x80 && end - start < 4) end++;
            if (_lookup.TryGetValue(Encoding.Latin1.GetString(bytes, start, end - start), out int id)) tokens.Add(id);
            else
                for (int i = start; i < end; i++)
                {
                    // run.c's byte fallback: ids 3..258 are the 256 bytes.
                    if (bytes[i] + 3 >= VocabSize)
                        throw new ArgumentException($"LlamaCTokenizer.Encode: byte 0x{bytes[i]:X2} has no piece and no byte-fallback id in a {VocabSize}-token vocabulary.", nameof(text));
                    tokens.Add(bytes[i] + 3);
                }
            start = end;
        }
        return Merge(tokens);
    }

    /// <summary>
    /// run.c's merge loop (repeatedly merge the adjacent pair whose merged piece scores highest, the leftmost on ties,
    /// ignoring scores at or below -1e10) in O(n log n) instead of its O(n^2): the candidate pairs sit in a heap
    /// ordered by (score descending, position ascending) over a linked list of symbols, as SentencePiece's BPE does.
    /// A merge changes its symbol's version, so heap entries of pairs that no longer exist are skipped when popped.
    /// Positions are the symbols' original indices, which keep the list's order, so "leftmost" is the same as run.c's.
    /// </summary>
    private int[] Merge(List<int> symbols)
    {
        int n = symbols.Count;
        int[] token = [.. symbols], next = new int[n], prev = new int[n], version = new int[n];
        for (int i = 0; i < n; i++)
        {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        var alive = new bool[n];
        Array.Fill(alive, true);
        var heap = new PriorityQueue<Candidate, (float NegScore, int Left)>(n);
        for (int i = 0; i + 1 < n; i++) Push(i, i + 1);
        int count = n;
        while (heap.TryDequeue(out var c, out _))
        {
            if (!alive[c.Left] || !alive[c.Right] || version[c.Left] != c.LeftVersion || version[c.Right] != c.RightVersion) continue;
            token[c.Left] = c.Merged;
            version[c.Left]++;
            alive[c.Right] = false;
            count--;
            next[c.Left] = next[c.Right];
            if (next[c.Left] >= 0) prev[next[c.Left]] = c.Left;
            if (prev[c.Left] >= 0) Push(prev[c.Left], c.Left);
            if (next[c.Left] >= 0) Push(c.Left, next[c.Left]);
        }
        var result = new int[count];
        for (int i = 0, k = 0; i >= 0 && k < count; i = next[i]) result[k++] = token[i];
        return result;

        void Push(int left, int right)
        {
            string merged = Encoding.Latin1.GetString(_pieces[token[left]]) + Encoding.Latin1.GetString(_pieces[token[right]]);
            // run.c starts its best score at -1e10 and takes only a strictly higher one (never NaN).
            if (_lookup.TryGetValue(merged, out int id) && _scores[id] > -1e10f)
                heap.Enqueue(new Candidate(left, right, version[left], version[right], id), (-_scores[id], left));
        }
    }

    private readonly record struct Candidate(int Left, int Right, int LeftVersion, int RightVersion, int Merged);

    /// <inheritdoc />
    public int DecodeBytes(int previous, int token, Span<byte> output)
    {
        ReadOnlySpan<byte> piece = _pieces[token];
        // run.c strips the leading space of the first piece after BOS (SentencePiece's dummy prefix).
        if (previous == BosId && piece.Length > 0 && piece[0] == (byte)' ') piece = piece[1..];
        // Byte-fallback pieces are spelled "<0xAB>".
        if (piece.Length == 6 && piece[0] == '<' && piece[1] == '0' && piece[2] == 'x' && piece[5] == '>'
            && IsHex(piece[3]) && IsHex(piece[4]))
        {
            output[0] = (byte)(Hex(piece[3]) * 16 + Hex(piece[4]));
            return 1;
        }
        piece.CopyTo(output);
        return piece.Length;
    }

    private static bool IsHex(byte c) => c is >= (byte)'0' and <= (byte)'9' or >= (byte)'A' and <= (byte)'F' or >= (byte)'a' and <= (byte)'f';

    private static int Hex(byte c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
