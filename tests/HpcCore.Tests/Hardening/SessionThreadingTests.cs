// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// Issue #21: a session (VitSession, LmDecoder) serves one call at a time. A second thread entering while a call runs
// gets InvalidOperationException naming the call, instead of silently mixing the two calls' activations. The first
// call is held open inside the session (a reducer or policy that waits), so the overlap is certain, not a race.
namespace HpcCore.Tests.Hardening;

using HpcCore.Cpu;
using HpcCore.Models.Encoder;
using HpcCore.Models.Encoder.Reduction;
using HpcCore.Models.KvCache;
using HpcCore.Models.Lm;
using HpcCore.Models.Vit;
using HpcCore.Testing;
using HpcCore.Tests.Models.Encoder;
using HpcCore.Tests.Models.Lm;
using HpcCore.Tests.Models.Vit;
using Xunit;

public sealed class SessionThreadingTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task VitSession_UsedFromTwoThreadsAtOnce_Throws_AndStaysUsable()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = VitSessionTests.Small(6, 2, 1, 12, 2, 3, 20, 4);
        using var w = VitSessionTests.ScaledRandom(config, cpu, seed: 5);
        using var inside = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        using var reducer = new TruncatingReducer([10, 6]);
        using var session = new VitSession(w, 1, reducer);
        var pixels = TestData.Uniform(36, seed: 2);
        float[] alone = session.Forward(pixels).ToArray<float>();

        reducer.OnReduce = () =>
        {
            inside.Set();
            release.Wait(Wait);
        };
        var first = Task.Run(() => session.Forward(pixels).ToArray<float>());
        Assert.True(inside.Wait(Wait), "the first call did not reach the reducer");
        var e = Assert.Throws<InvalidOperationException>(() => session.Forward(pixels));
        Assert.Contains("VitSession.Forward", e.Message, StringComparison.Ordinal);
        Assert.Contains("another thread", e.Message, StringComparison.Ordinal);
        release.Set();
        Assert.Equal(alone, await first);

        // The flag is released after a call (and after a failed one): the session serves the next call normally.
        reducer.OnReduce = null;
        Assert.Throws<ArgumentException>(() => session.Forward(new float[3]));
        Assert.Equal(alone, session.Forward(pixels).ToArray<float>());
    }

    [Fact]
    public async Task LmDecoder_UsedFromTwoThreadsAtOnce_Throws()
    {
        using var cpu = new CpuBackend(threads: 1);
        var config = LmTestModels.Llama(seq: 64);
        using var weights = LmTestModels.Random(config, cpu, seed: 3);
        var policy = new BlockingPolicy();
        using var decoder = new LmDecoder(config, weights, cpu, new LmDecoderOptions(Policy: policy));
        decoder.Reset();
        policy.Block = true;
        var first = Task.Run(() => decoder.Prefill([1, 2, 3]).ToArray());
        Assert.True(policy.Inside.Wait(Wait), "the first call did not reach the policy");
        Assert.Contains("LmDecoder.Decode", Assert.Throws<InvalidOperationException>(() => decoder.Decode(4)).Message, StringComparison.Ordinal);
        Assert.Contains("LmDecoder.Prefill", Assert.Throws<InvalidOperationException>(() => decoder.Prefill([4])).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(decoder.Reset);
        policy.Block = false;
        policy.Release.Set();
        Assert.Equal(config.VocabSize, (await first).Length);
        Assert.Equal(config.VocabSize, decoder.Decode(4).Length);
    }

    [Fact]
    public async Task EncoderSession_UsedFromTwoThreadsAtOnce_Throws()
    {
        var dir = Directory.CreateTempSubdirectory("hpccore-threading-").FullName;
        try
        {
            var config = EncoderTestModels.Small();
            EncoderTestModels.WriteFolder(dir, config, seed: 5);
            using var cpu = new CpuBackend(threads: 1);
            using var model = EncoderModel.Load(dir, cpu);
            var reducer = new BlockingEncoderReducer();
            using var session = new EncoderSession(model.Weights, maxBatch: 2, maxTokens: 16, reducer);
            int[] ids = TestData.Ints(9, 4, config.VocabSize), lengths = [9];
            var alone = new float[config.Hidden];
            session.Encode(ids, lengths, alone);

            reducer.Block = true;
            var first = Task.Run(() =>
            {
                var e = new float[config.Hidden];
                session.Encode(ids, lengths, e);
                return e;
            });
            Assert.True(reducer.Inside.Wait(Wait), "the first call did not reach the reducer");
            var error = Assert.Throws<InvalidOperationException>(() => session.Encode(ids, lengths, new float[config.Hidden]));
            Assert.Contains("EncoderSession.Encode", error.Message, StringComparison.Ordinal);
            reducer.Block = false;
            reducer.Release.Set();
            Assert.Equal(alone, await first);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // Keeps every token; holds the first call open inside the session when asked to.
    private sealed class BlockingEncoderReducer : EncoderTokenReducer
    {
        public ManualResetEventSlim Inside { get; } = new();
        public ManualResetEventSlim Release { get; } = new();
        public bool Block { get; set; }

        public override string Name => "blocking";

        public override EncoderReductionExports Exports(int layer) => EncoderReductionExports.None;

        public override bool Plan(int layer, EncoderReductionState state)
        {
            if (Block && layer == 0)
            {
                Inside.Set();
                Release.Wait(Wait);
            }
            return false;
        }
    }

    private sealed class BlockingPolicy : KvPolicy
    {
        public ManualResetEventSlim Inside { get; } = new();
        public ManualResetEventSlim Release { get; } = new();
        public bool Block { get; set; }

        public override string Name => "blocking";

        public override void AfterPrefill(KvSequenceView cache, int promptLength, KvDecisions decisions)
        {
            if (!Block) return;
            Inside.Set();
            Release.Wait(Wait);
        }
    }
}
