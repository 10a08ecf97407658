// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.KvCache;

/// <summary>
/// A KV selection or eviction policy. Policies plan, the cache applies: a policy owns its statistics (filled from the
/// attention op's exports in <see cref="Observe"/>), chooses per attention call which tokens are read
/// (<see cref="Request"/>, through a <see cref="KvSelection"/>), and decides per kv head which tokens stay by filling
/// <see cref="KvDecisions"/> in <see cref="AfterPrefill"/> / <see cref="AfterDecodeStep"/>; only
/// <see cref="PagedKvCache.Apply"/> changes the cache. Hooks run in this order: <see cref="Begin"/> once per sequence,
/// then per layer and chunk <see cref="Request"/> and <see cref="Observe"/>, then <see cref="AfterPrefill"/> once the
/// prompt is in, then <see cref="AfterDecodeStep"/> after every generated token. Steady-state hooks allocate nothing.
/// A new policy is one file plus one line in <see cref="KvPolicyRegistry"/>.
/// </summary>
public abstract class KvPolicy
{
    /// <summary>Short name used on the command line and in reports.</summary>
    public abstract string Name { get; }

    /// <summary>Positions the keys carry under this policy (see <see cref="KvPositionMode"/>); the decoder's option overrides it.</summary>
    public KvPositionMode Positions { get; set; } = KvPositionMode.Original;

    /// <summary>Prompt rows per forward chunk this policy is defined for (0: the decoder's default).</summary>
    public virtual int PrefillChunk => 0;

    /// <summary>Whether <see cref="Request"/> reads the step's query (copied to the host for it).</summary>
    public virtual bool ReadsQuery => false;

    /// <summary>Starts a sequence: size buffers for <paramref name="heads"/> query heads over <paramref name="cache"/>.</summary>
    public virtual void Begin(KvSequenceView cache, int heads) { }

    /// <summary>What the attention call <paramref name="step"/> should read and export; may fill <paramref name="selection"/>.</summary>
    public virtual KvRequest Request(KvSequenceView cache, in KvStep step, KvSelection selection) => default;

    /// <summary>Reads the exports of the call <see cref="Request"/> asked for (statistics live here, in the policy).</summary>
    public virtual void Observe(KvSequenceView cache, in KvStep step, in KvExports exports) { }

    /// <summary>Once the whole prompt is cached (prefill-time compression: SnapKV, EMS, RazorAttention).</summary>
    public virtual void AfterPrefill(KvSequenceView cache, int promptLength, KvDecisions decisions) { }

    /// <summary>After each decoded token (decode-time eviction: StreamingLLM, H2O).</summary>
    public virtual void AfterDecodeStep(KvSequenceView cache, KvDecisions decisions) { }
}
