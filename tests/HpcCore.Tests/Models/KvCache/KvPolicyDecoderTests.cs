// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.KvCache;

using HpcCore.Cpu;
using HpcCore.Models.KvCache;
using HpcCore.Models.Lm;
using HpcCore.Testing;
using HpcCore.Testing.Reference;
using HpcCore.Tests.Models.Lm;
using Xunit;

/// <summary>Policies inside the decoder: against the reference forward with the policy's mask, memory, and allocation.</summary>
[Collection(SteadyStateGroup.Name)]
public sealed class KvPolicyDecoderTests
{
    private static KvPolicy Policy(string name, int budget, bool[,]? retrieval = null, int context = 0) =>
        KvPolicyRegistry.Create(name, new KvPolicySettings { Budget = budget, RetrievalHeads = retrieval, ContextHint = context });

    [Theory]
    [InlineData(12, 8, 2)]
    [InlineData(20, 6, 1)]
    public void StreamingLlm_MatchesReferenceWithSinkAndWindowMask(int prompt, int budget, int sinks)
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama();
        using var weights = LmTestModels.Random(config, cpu, seed: prompt);
        int length = prompt + 9;
        int[] tokens = TestData.Ints(length, 3, config.VocabSize);
        var expected = ReferenceLm.Forward(LmTestModels.Reference(config, weights), tokens,
            (l, kvh, t, j) => t < prompt || j < sinks || j >= t - (budget - sinks));
        using var decoder = new LmDecoder(config, weights, cpu,
            new LmDecoderOptions(PrefillChunk: 5, PageTokens: 3, Policy: new StreamingLlmKvPolicy(budget, sinks)));
        LmDecoderTests.AssertRow(expected, prompt - 1, decoder.Prefill(tokens.AsSpan(0, prompt)));
        for (int t = prompt; t < length; t++)
        {
            LmDecoderTests.AssertRow(expected, t, decoder.Decode(tokens[t]));
            Assert.Equal(budget, decoder.Cache.Head(1, 1).Count);
            Assert.Equal(t - budget + sinks + 1, decoder.Cache.Head(0, 0).Position(sinks)); // original positions kept
        }
    }

    [Theory]
    [InlineData("tokenselect")]
    [InlineData("recycled")]
    public void SelectingPolicies_WithBudgetCoveringEverything_EqualFull(string name)
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama();
        using var weights = LmTestModels.Random(config, cpu, seed: 4);
        int[] tokens = TestData.Ints(30, 5, config.VocabSize);
        var expected = ReferenceLm.Forward(LmTestModels.Reference(config, weights), tokens);
        using var decoder = new LmDecoder(config, weights, cpu, new LmDecoderOptions(Policy: Policy(name, 64)));
        decoder.Prefill(tokens.AsSpan(0, 10));
        for (int t = 10; t < 30; t++) LmDecoderTests.AssertRow(expected, t, decoder.Decode(tokens[t]));
    }

    [Fact]
    public void TokenSelect_AttendsToSinksVotedAndLocal_AsReferenceMask()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama(layers: 1);
        using var weights = LmTestModels.Random(config, cpu, seed: 6);
        int[] tokens = TestData.Ints(40, 7, config.VocabSize);
        var policy = new TokenSelectKvPolicy(budget: 5, sinks: 2, local: 4, positions: KvPositionMode.Original) { ForceRescore = true };
        using var decoder = new LmDecoder(config, weights, cpu, new LmDecoderOptions(Policy: policy));
        decoder.Prefill(tokens.AsSpan(0, 39));
        var logits = decoder.Decode(tokens[39]).ToArray();
        // Rebuilding the vote from the reference's own rotated keys and queries is heavy; instead check the selection
        // the policy made is sinks + 5 voted + local, and that the logits equal the reference restricted to it.
        var last = policy.LastSelection(0).ToArray();
        Assert.Equal(2 + 5 + 4, last.Length);
        Assert.Equal([0, 1], last[..2]);
        Assert.Equal([36, 37, 38, 39], last[^4..]);
        var chosen = new HashSet<int>(last);
        var expected = ReferenceLm.Forward(LmTestModels.Reference(config, weights), tokens, (l, kvh, t, j) => t < 39 || chosen.Contains(j));
        LmDecoderTests.AssertRow(expected, 39, logits);
    }

    [Theory]
    [InlineData("h2o")]
    [InlineData("snapkv")]
    [InlineData("ems")]
    [InlineData("streaming")]
    public void EvictingPolicies_HoldFewerBytes_AndKeepPositionsAscending(string name)
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama();
        using var weights = LmTestModels.Random(config, cpu, seed: 7);
        int[] tokens = TestData.Ints(120, 8, config.VocabSize);
        using var full = new LmDecoder(config, weights, cpu, new LmDecoderOptions(PageTokens: 8));
        using var pruned = new LmDecoder(config, weights, cpu, new LmDecoderOptions(PageTokens: 8, Policy: Policy(name, 24)));
        full.Prefill(tokens.AsSpan(0, 100));
        var logits = pruned.Prefill(tokens.AsSpan(0, 100));
        for (int t = 100; t < 120; t++)
        {
            full.Decode(tokens[t]);
            logits = pruned.Decode(tokens[t]);
        }
        Assert.True(pruned.Cache.BytesHeld * 2 < full.Cache.BytesHeld, $"{name}: {pruned.Cache.BytesHeld} vs full {full.Cache.BytesHeld}");
        Assert.All(logits.ToArray(), x => Assert.True(float.IsFinite(x)));
        for (int l = 0; l < config.Layers; l++)
        for (int h = 0; h < config.KvHeads; h++)
        {
            var head = pruned.Cache.Head(l, h);
            for (int i = 1; i < head.Count; i++) Assert.True(head.Position(i) > head.Position(i - 1));
            Assert.Equal(119, head.Position(head.Count - 1));
        }
    }

    [Fact]
    public void Razor_RetrievalHeadsKeepEverything_OthersCompress()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama();
        using var weights = LmTestModels.Random(config, cpu, seed: 9);
        var retrieval = LmRetrievalHeads.Detect(config, weights, cpu, period: 16, repeats: 3, seed: 1);
        Assert.Contains(true, retrieval.Cast<bool>());
        int[] tokens = TestData.Ints(100, 10, config.VocabSize);
        using var decoder = new LmDecoder(config, weights, cpu, new LmDecoderOptions(Policy: new RazorAttentionKvPolicy(retrieval, ratio: 5f, bufferFloor: 8, sinks: 2)));
        decoder.Prefill(tokens);
        for (int l = 0; l < config.Layers; l++)
        for (int h = 0; h < config.KvHeads; h++)
        {
            var head = decoder.Cache.Head(l, h);
            if (retrieval[l, h]) Assert.Equal(100, head.Count);
            else
            {
                Assert.Equal(2 + 20, head.Count);
                Assert.Equal(78, head.CompensationCount);
            }
        }
    }

    [Theory]
    [InlineData("full")]
    [InlineData("streaming")]
    [InlineData("h2o")]
    [InlineData("tokenselect")]
    [InlineData("recycled")]
    [InlineData("snapkv")]
    [InlineData("ems")]
    [InlineData("razor")]
    public void DecodeSteps_AllocateNothing_OnceWarm(string name)
    {
        var config = LmTestModels.Llama();
        var retrieval = new bool[config.Layers, config.KvHeads];
        retrieval[0, 1] = true;
        AssertDecodeAllocatesNothing(config, Policy(name, 32, retrieval, 64));
    }

    [Fact]
    public void TokenSelect_VotingEveryStep_AllocatesNothing()
    {
        // Whether the Selection Cache re-votes inside a window depends on the CPU's summation order (the cosine is
        // near the threshold), so voting is forced here: a vote must allocate nothing either.
        var policy = (TokenSelectKvPolicy)Policy("tokenselect", 32);
        policy.ForceRescore = true;
        AssertDecodeAllocatesNothing(LmTestModels.Llama(), policy);
    }

    private static void AssertDecodeAllocatesNothing(LmConfig config, KvPolicy policy)
    {
        using var cpu = new CpuBackend(threads: 1);
        using var weights = LmTestModels.Random(config, cpu, seed: 11);
        int[] tokens = TestData.Ints(200, 12, config.VocabSize);
        using var decoder = new LmDecoder(config, weights, cpu, new LmDecoderOptions(Policy: policy));
        void Start(int decoded)
        {
            decoder.Reset();
            decoder.Prefill(tokens.AsSpan(0, 64));
            for (int t = 64; t < 64 + decoded; t++) decoder.Decode(tokens[t]);
        }
        Start(120); // creates every page and JITs the hot paths
        Start(120);
        // Windows of 80 decode steps, positions 100-179.
        int next = 0;
        SteadyState.AssertAllocatesNothing(cpu, () => decoder.Decode(tokens[next++]), warmup: 0, steps: 80, prepare: () =>
        {
            Start(36);
            next = 100;
        });
    }

    [Theory]
    [InlineData("streaming")]
    [InlineData("tokenselect")]
    public void RenumberedPositions_WithoutEviction_EqualTheReference(string name)
    {
        // Nothing evicted or selected: renumbering by index gives every key its true position, so RoPE at read must
        // reproduce the rotated-cache forward.
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama();
        using var weights = LmTestModels.Random(config, cpu, seed: 13);
        int[] tokens = TestData.Ints(30, 14, config.VocabSize);
        var expected = ReferenceLm.Forward(LmTestModels.Reference(config, weights), tokens);
        var policy = Policy(name, 64);
        policy.Positions = KvPositionMode.Renumbered;
        using var decoder = new LmDecoder(config, weights, cpu, new LmDecoderOptions(PrefillChunk: 7, Policy: policy));
        Assert.Equal(KvPositionMode.Renumbered, decoder.PositionMode);
        LmDecoderTests.AssertRow(expected, 11, decoder.Prefill(tokens.AsSpan(0, 12)));
        for (int t = 12; t < 30; t++) LmDecoderTests.AssertRow(expected, t, decoder.Decode(tokens[t]));
    }

    [Fact]
    public void OriginalPositions_PastTheTrainedContext_AreRefusedNamingTheOption()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama() with { MaxSeqLen = 24 };
        using var weights = LmTestModels.Random(config, cpu, seed: 15);
        using var decoder = new LmDecoder(config, weights, cpu, new LmDecoderOptions(Policy: new StreamingLlmKvPolicy(12, 2)));
        decoder.Prefill(TestData.Ints(20, 16, config.VocabSize));
        for (int t = 20; t < 24; t++) decoder.Decode(3);
        var e = Assert.Throws<KvCapacityException>(() => decoder.Decode(3));
        Assert.Contains("renumbered", e.Message, StringComparison.Ordinal);
        Assert.Contains("24 trained positions", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StreamingRenumbered_DecodesFarPastTheTrainedContext_WithinItsBudget()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama() with { MaxSeqLen = 24 };
        using var weights = LmTestModels.Random(config, cpu, seed: 17);
        var policy = new StreamingLlmKvPolicy(16, 2) { Positions = KvPositionMode.Renumbered };
        using var decoder = new LmDecoder(config, weights, cpu, new LmDecoderOptions(Policy: policy));
        var logits = decoder.Prefill(TestData.Ints(10, 18, config.VocabSize));
        for (int t = 10; t < 4 * 24; t++) logits = decoder.Decode(t % config.VocabSize);
        Assert.Equal(4 * 24, decoder.Position);
        Assert.Equal(16, decoder.Cache.Head(0, 0).Count);
        Assert.All(logits.ToArray(), x => Assert.True(float.IsFinite(x)));
        // full cannot: its cache is the trained context.
        using var full = new LmDecoder(config, weights, cpu, new LmDecoderOptions(Positions: KvPositionMode.Renumbered));
        full.Prefill(TestData.Ints(24, 19, config.VocabSize));
        Assert.Throws<KvCapacityException>(() => full.Decode(1));
    }

    [Fact]
    public void RenumberedPositions_AreRefusedForLearnedPositionModels()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Gpt2();
        using var weights = LmTestModels.Random(config, cpu, seed: 20);
        var e = Assert.Throws<ArgumentException>(() => new LmDecoder(config, weights, cpu, new LmDecoderOptions(Positions: KvPositionMode.Renumbered)));
        Assert.Contains("renumbered", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SharedCache_TwoSequences_DecodeAsIfAlone()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama();
        using var weights = LmTestModels.Random(config, cpu, seed: 21);
        int[] a = TestData.Ints(25, 22, config.VocabSize), b = TestData.Ints(25, 23, config.VocabSize);
        using var shared = new PagedKvCache(cpu, new KvCacheLayout(config.Layers, config.KvHeads, config.HeadDim, 64, PageTokens: 4, Sequences: 2));
        using var da = new LmDecoder(config, weights, cpu, new LmDecoderOptions(Cache: shared, Sequence: 0, Policy: new H2OKvPolicy(12)));
        using var db = new LmDecoder(config, weights, cpu, new LmDecoderOptions(Cache: shared, Sequence: 1, Policy: new H2OKvPolicy(12)));
        using var alone = new LmDecoder(config, weights, cpu, new LmDecoderOptions(MaxTokens: 64, PageTokens: 4, Policy: new H2OKvPolicy(12)));
        da.Prefill(a.AsSpan(0, 10));
        db.Prefill(b.AsSpan(0, 10));
        var expected = alone.Prefill(b.AsSpan(0, 10)).ToArray();
        for (int t = 10; t < 25; t++)
        {
            da.Decode(a[t]);
            Assert.Equal(expected, db.Logits.ToArray());
            expected = alone.Decode(b[t]).ToArray();
            db.Decode(b[t]);
        }
        Assert.Equal(expected, db.Logits.ToArray());
    }

    [Theory]
    [InlineData(HpcCore.Tensors.DType.F16, 2e-2)]
    [InlineData(HpcCore.Tensors.DType.BF16, 1e-1)]
    public void HalfPrecisionCache_StaysCloseToF32_AtHalfTheBytes(HpcCore.Tensors.DType dtype, double tolerance)
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama();
        using var weights = LmTestModels.Random(config, cpu, seed: 24);
        int[] tokens = TestData.Ints(40, 25, config.VocabSize);
        using var f32 = new LmDecoder(config, weights, cpu);
        using var half = new LmDecoder(config, weights, cpu, new LmDecoderOptions(CacheDType: dtype));
        f32.Prefill(tokens.AsSpan(0, 20));
        half.Prefill(tokens.AsSpan(0, 20));
        for (int t = 20; t < 40; t++)
        {
            var x = f32.Decode(tokens[t]).ToArray();
            var y = half.Decode(tokens[t]).ToArray();
            for (int i = 0; i < x.Length; i++) Assert.True(Math.Abs(x[i] - y[i]) <= tolerance * (1 + Math.Abs(x[i])), $"{dtype} logit {i}: {y[i]} vs {x[i]}");
        }
        Assert.Equal(f32.Cache.BytesHeld / 2, half.Cache.BytesHeld);
    }

    [Fact]
    public void RecycledQueryTrigger_AtThresholdOne_RunsEveryStepFull_AndAtMinusOne_OnlyTheFirst()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama();
        using var weights = LmTestModels.Random(config, cpu, seed: 26);
        int[] tokens = TestData.Ints(40, 27, config.VocabSize);
        var expected = ReferenceLm.Forward(LmTestModels.Reference(config, weights), tokens);
        // cos < 1 for any other query: every step is a full step, so the output is full attention's.
        var always = new RecycledKvPolicy(budget: 3, trigger: RecycleTrigger.Query, threshold: 1f);
        using (var decoder = new LmDecoder(config, weights, cpu, new LmDecoderOptions(Policy: always)))
        {
            decoder.Prefill(tokens.AsSpan(0, 20));
            for (int t = 20; t < 40; t++) LmDecoderTests.AssertRow(expected, t, decoder.Decode(tokens[t]));
        }
        Assert.Equal((20L * config.Layers, 0L), always.Stats);
        // cos >= -1 always: after each layer's first full step every step recycles.
        var never = new RecycledKvPolicy(budget: 3, trigger: RecycleTrigger.Query, threshold: -1f);
        using (var decoder = new LmDecoder(config, weights, cpu, new LmDecoderOptions(Policy: never)))
        {
            decoder.Prefill(tokens.AsSpan(0, 20));
            for (int t = 20; t < 40; t++) decoder.Decode(tokens[t]);
        }
        Assert.Equal(((long)config.Layers, 19L * config.Layers), never.Stats);
    }

    [Fact]
    public void TokenSelectReleased_SelectsOncePerPrefillChunk_AndAttendsTheChunkWhole()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama(layers: 1);
        using var weights = LmTestModels.Random(config, cpu, seed: 28);
        int[] tokens = TestData.Ints(64, 29, config.VocabSize);
        var policy = new TokenSelectKvPolicy(budget: 4, sinks: 2, local: 3, selectionChunk: 16);
        using var decoder = new LmDecoder(config, weights, cpu, new LmDecoderOptions(Policy: policy));
        Assert.Equal(KvPositionMode.Renumbered, decoder.PositionMode);
        var logits = decoder.Prefill(tokens);
        Assert.All(logits.ToArray(), x => Assert.True(float.IsFinite(x)));
        // Chunks of 16: the first attends in full (nothing before it), the next three vote once each.
        Assert.Equal((3L, 0L), policy.Stats);
        var last = policy.LastSelection(0).ToArray();
        Assert.Equal(2 + 4 + 3 + 16, last.Length);
        Assert.Equal([0, 1], last[..2]);
        Assert.Equal(Enumerable.Range(45, 19), last[^19..]);
    }

    [Theory]
    [InlineData("tome:r=8", "unknown policy")]
    [InlineData("snapkv:pool=mean", "pool")]
    [InlineData("h2o:window=4", "has no setting 'window'")]
    [InlineData("streaming:sinks=-1", "sinks")]
    [InlineData("recycled:trigger=sometimes", "trigger")]
    [InlineData("tokenselect:positions=shifted", "positions")]
    [InlineData("streaming:sinks", "key=value")]
    public void RegistrySpecs_RefuseBadKeysAndValues_ByName(string spec, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => KvPolicyRegistry.Parse(spec, new KvPolicySettings { Budget = 16 }));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RegistrySpecs_SetTheirSettings_OverTheDefaults()
    {
        var (entry, s) = KvPolicyRegistry.Parse("snapkv:pool=max;window=7;kernel=3;positions=renumbered", new KvPolicySettings { Budget = 40 });
        var snap = Assert.IsType<SnapKvPolicy>(KvPolicyRegistry.Create(entry.Name, s));
        Assert.Equal((SnapKvPooling.Max, 7, 3, 40, KvPositionMode.Renumbered), (snap.Pooling, snap.Window, snap.Kernel, snap.Budget, snap.Positions));
        var defaults = Assert.IsType<SnapKvPolicy>(KvPolicyRegistry.Create("snapkv", new KvPolicySettings { Budget = 40 }));
        Assert.Equal((SnapKvPooling.Average, 20, 5), (defaults.Pooling, defaults.Window, defaults.Kernel));
        var ts = Assert.IsType<TokenSelectKvPolicy>(KvPolicyRegistry.Create("tokenselect", new KvPolicySettings { Budget = 64 }));
        Assert.Equal((KvPositionMode.Renumbered, 4, 16), (ts.Positions, ts.Sinks, ts.Local));
        Assert.Equal(KvPolicyRegistry.Entries.Select(e => e.Name), KvPolicyRegistry.Names.Split(", "));
    }
}
