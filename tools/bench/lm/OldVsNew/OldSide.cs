// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// The old main's HpcCore.dll + HpcCore.Models.dll in their own load context, driven by reflection. Calls that take
// spans (which reflection cannot pass) go through small DynamicMethod bridges, so a timed call is one direct call.
using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;

namespace HpcCore.Tools.OldVsNew;

/// <summary>
/// Loads assemblies from the old build folder before the default context: HpcCore and HpcCore.Models (whose names
/// the new side also uses) and their package dependencies (System.Numerics.Tensors, Microsoft.ML.Tokenizers, ...).
/// Framework assemblies are not in that folder and come from the default context, so both sides share Span, IDisposable.
/// </summary>
internal sealed class OldLoadContext(string folder) : AssemblyLoadContext("old-main", isCollectible: false)
{
    protected override Assembly? Load(AssemblyName assemblyName)
    {
        var path = Path.Combine(folder, assemblyName.Name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }
}

/// <summary>Old <c>PagedAttention.Forward(CpuWorkerPool, PagedKvCache, layer, q, output, rows, heads, firstPosition, scratch)</c>.</summary>
internal delegate void OldForward(object pool, object cache, int layer, float[] q, float[] output, int rows, int heads, int firstPosition, float[] scratch);

/// <summary>Old <c>VitSession.Forward(pixels)</c>, its logits dropped.</summary>
internal delegate void OldVitForward(object session, float[] pixels);

/// <summary>Old <c>KvHeadCache.Append(key, value, position)</c>.</summary>
internal delegate void OldAppend(object head, float[] key, float[] value, int position);

/// <summary>The old assemblies and the members the harness calls.</summary>
internal sealed class OldApi
{
    private readonly Assembly _core;
    private readonly Assembly _models;

    public OldApi(string folder)
    {
        folder = Path.GetFullPath(folder);
        foreach (var name in new[] { "HpcCore.dll", "HpcCore.Models.dll" })
            if (!File.Exists(Path.Combine(folder, name)))
                throw new FileNotFoundException($"old build folder {folder} has no {name}");
        var context = new OldLoadContext(folder);
        _core = context.LoadFromAssemblyPath(Path.Combine(folder, "HpcCore.dll"));
        _models = context.LoadFromAssemblyPath(Path.Combine(folder, "HpcCore.Models.dll"));
        if (_core == typeof(HpcCore.Cpu.CpuBackend).Assembly)
            throw new InvalidOperationException("the old HpcCore resolved to the new assembly");
        Folder = folder;
    }

    /// <summary>The old build folder.</summary>
    public string Folder { get; }

    /// <summary>The old HpcCore.dll's informational version and location, for the log.</summary>
    public string Describe() => $"{_core.Location} ({_core.GetName().Version})";

    public Type CoreType(string name) => _core.GetType(name, throwOnError: true)!;
    public Type ModelsType(string name) => _models.GetType(name, throwOnError: true)!;

    /// <summary>Old <c>new CpuBackend(threads)</c>.</summary>
    public IDisposable NewCpuBackend(int threads) =>
        (IDisposable)Activator.CreateInstance(CoreType("HpcCore.Cpu.CpuBackend"), threads)!;

    private Func<float[], int[], object, object>? _newTensor;

    /// <summary>Old <c>Tensor.From&lt;float&gt;(data, new Shape(dims), backend)</c>.</summary>
    public object NewTensor(float[] data, int[] dims, object backend)
    {
        _newTensor ??= NewTensorBridge(CoreType("HpcCore.Tensors.Tensor"), CoreType("HpcCore.Tensors.Shape"), CoreType("HpcCore.Devices.IBackend"));
        return _newTensor(data, dims, backend);
    }

    // (data, dims, backend) => Tensor.From<float>(data, new Shape(dims), backend): both spans made from the arrays.
    private static Func<float[], int[], object, object> NewTensorBridge(Type tensorType, Type shapeType, Type backendType)
    {
        var from = tensorType.GetMethods().Single(m => m.Name == "From" && m.IsGenericMethodDefinition).MakeGenericMethod(typeof(float));
        var dm = new DynamicMethod("old_From", typeof(object), [typeof(float[]), typeof(int[]), typeof(object)], typeof(OldApi).Module, skipVisibility: true);
        var il = dm.GetILGenerator();
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Newobj, typeof(ReadOnlySpan<float>).GetConstructor([typeof(float[])])!);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Newobj, typeof(ReadOnlySpan<int>).GetConstructor([typeof(int[])])!);
        il.Emit(OpCodes.Newobj, shapeType.GetConstructor([typeof(ReadOnlySpan<int>)])!);
        il.Emit(OpCodes.Ldarg_2);
        il.Emit(OpCodes.Castclass, backendType);
        il.Emit(OpCodes.Call, from);
        il.Emit(OpCodes.Ret);
        return (Func<float[], int[], object, object>)dm.CreateDelegate(typeof(Func<float[], int[], object, object>));
    }

    /// <summary>Old <c>backend.Pool</c> (a CpuWorkerPool).</summary>
    public static object PoolOf(object backend) => backend.GetType().GetProperty("Pool")!.GetValue(backend)!;

    /// <summary>
    /// A <typeparamref name="TDelegate"/> that calls <paramref name="method"/> (the instance, if any, first): object
    /// arguments are cast to the old types, float[] arguments become (ReadOnly)Span&lt;float&gt; over the whole array,
    /// trailing parameters the delegate lacks must be <c>in</c> parameters, which get a default value, and a value the
    /// method returns is dropped.
    /// </summary>
    public static TDelegate Bridge<TDelegate>(MethodInfo method) where TDelegate : Delegate
    {
        var invoke = typeof(TDelegate).GetMethod("Invoke")!;
        var outer = invoke.GetParameters().Select(p => p.ParameterType).ToArray();
        var targets = new List<Type>();
        if (!method.IsStatic) targets.Add(method.DeclaringType!);
        targets.AddRange(method.GetParameters().Select(p => p.ParameterType));
        if (outer.Length > targets.Count) throw new ArgumentException($"{typeof(TDelegate).Name} has more parameters than {method}");
        if (invoke.ReturnType != typeof(void))
            throw new ArgumentException($"bridges return nothing ({typeof(TDelegate).Name})");
        var dm = new DynamicMethod("old_" + method.Name, typeof(void), outer, typeof(OldApi).Module, skipVisibility: true);
        var il = dm.GetILGenerator();
        for (int i = 0; i < targets.Count; i++)
        {
            var target = targets[i];
            if (i >= outer.Length)
            {
                if (!target.IsByRef) throw new ArgumentException($"{method}: parameter {i} is not an in parameter and the delegate omits it");
                il.Emit(OpCodes.Ldloca, il.DeclareLocal(target.GetElementType()!)); // zero-initialised: default(T)
                continue;
            }
            il.Emit(OpCodes.Ldarg, (short)i);
            if (target == typeof(Span<float>) || target == typeof(ReadOnlySpan<float>))
            {
                if (outer[i] != typeof(float[])) throw new ArgumentException($"{method}: parameter {i} wants float[] in the delegate");
                il.Emit(OpCodes.Newobj, target.GetConstructor([typeof(float[])])!);
            }
            else if (outer[i] == typeof(object) && target != typeof(object))
            {
                il.Emit(target.IsValueType ? OpCodes.Unbox_Any : OpCodes.Castclass, target);
            }
            else if (outer[i] != target)
            {
                throw new ArgumentException($"{method}: parameter {i} is {target}, the delegate passes {outer[i]}");
            }
        }
        il.Emit(OpCodes.Call, method);
        if (method.ReturnType != typeof(void)) il.Emit(OpCodes.Pop);
        il.Emit(OpCodes.Ret);
        return (TDelegate)dm.CreateDelegate(typeof(TDelegate));
    }
}

/// <summary>Old decoder: <c>LmModelFiles.Load</c>, <c>new LmDecoder(config, weights, backend)</c>, <c>LmGenerator.Generate</c>.</summary>
internal sealed class OldLm : IDisposable
{
    private readonly IDisposable _backend;
    private readonly IDisposable _weights;
    private readonly IDisposable _decoder;
    private readonly object _tokenizer;
    private readonly MethodInfo _generate;
    private readonly object _sampling;

    public OldLm(OldApi api, string modelPath, string tokenizerPath, int threads, string policy = "full", int budget = 64)
    {
        _backend = api.NewCpuBackend(threads);
        var load = api.ModelsType("HpcCore.Models.Lm.Loading.LmModelFiles").GetMethod("Load")!;
        var loaded = (ITuple)load.Invoke(null, [modelPath, tokenizerPath, _backend])!;
        object config = loaded[0]!;
        _weights = (IDisposable)loaded[1]!;
        _tokenizer = loaded[2]!;
        var decoderType = api.ModelsType("HpcCore.Models.Lm.LmDecoder");
        var ctor = decoderType.GetConstructors().Single(c => c.GetParameters().Length == 4);
        var optionsType = ctor.GetParameters()[3].ParameterType.GetElementType()!;
        // Old KvPolicies.Create(name, budget, retrievalHeads, contextHint): the old CLI's defaults for the same budget.
        var create = api.ModelsType("HpcCore.Models.KvCache.KvPolicies").GetMethod("Create")!;
        object kv = create.Invoke(null, [policy, budget, null, 0])!;
        var options = Activator.CreateInstance(optionsType, [0, 0, 0, kv])!;
        _decoder = (IDisposable)ctor.Invoke([config, _weights, _backend, options]);
        _generate = api.ModelsType("HpcCore.Models.Lm.LmGenerator").GetMethod("Generate")!;
        if (_generate.GetParameters().Length != 6) throw new MissingMethodException($"old LmGenerator.Generate is {_generate}");
        _sampling = Activator.CreateInstance(_generate.GetParameters()[4].ParameterType.GetElementType()!)!;
    }

    /// <summary>One greedy generation: its text, generated tokens and decode tokens/s (as LmGeneration reports them).</summary>
    public (string Text, int Tokens, double TokensPerSecond) Generate(string prompt, int maxNewTokens)
    {
        var g = _generate.Invoke(null, [_decoder, _tokenizer, prompt, maxNewTokens, _sampling, null])!;
        var type = g.GetType();
        var text = (string)type.GetProperty("Text")!.GetValue(g)!;
        var tokens = ((int[])type.GetProperty("GeneratedTokens")!.GetValue(g)!).Length;
        var rate = (double)type.GetProperty("DecodeTokensPerSecond")!.GetValue(g)!;
        return (text, tokens, rate);
    }

    public void Dispose()
    {
        _decoder.Dispose();
        _weights.Dispose();
        _backend.Dispose();
    }
}

/// <summary>Old paged decode attention over a one-layer cache filled with the given keys and values.</summary>
internal sealed class OldAttention : IDisposable
{
    private readonly IDisposable _backend;
    private readonly object _pool;
    private readonly object _cache;
    private readonly float[] _scratch;
    private readonly OldForward _forward;
    private readonly int _heads;
    private readonly int _context;

    /// <summary>
    /// <paramref name="keys"/> and <paramref name="values"/> are [context * kvHeads, d] (token-major, as the new
    /// <c>PagedKvCache.Append</c> takes them); token t of kv head h goes to <c>Head(0, h)</c> at position t.
    /// </summary>
    public OldAttention(OldApi api, int threads, int heads, int kvHeads, int d, int context, int pageTokens, float[] keys, float[] values)
    {
        _heads = heads;
        _context = context;
        _backend = api.NewCpuBackend(threads);
        _pool = OldApi.PoolOf(_backend);
        var cacheType = api.ModelsType("HpcCore.Models.KvCache.PagedKvCache");
        _cache = Activator.CreateInstance(cacheType, 1, kvHeads, d, context + 1, pageTokens, 0)!;
        var head = cacheType.GetMethod("Head")!;
        var append = OldApi.Bridge<OldAppend>(api.ModelsType("HpcCore.Models.KvCache.KvHeadCache").GetMethod("Append")!);
        var k = new float[d];
        var v = new float[d];
        for (int h = 0; h < kvHeads; h++)
        {
            var headCache = head.Invoke(_cache, [0, h])!;
            for (int t = 0; t < context; t++)
            {
                keys.AsSpan((t * kvHeads + h) * d, d).CopyTo(k);
                values.AsSpan((t * kvHeads + h) * d, d).CopyTo(v);
                append(headCache, k, v, t);
            }
        }
        var attention = api.ModelsType("HpcCore.Models.KvCache.PagedAttention");
        _scratch = new float[(int)attention.GetMethod("ScratchLength")!.Invoke(null, [heads, context + 1])!];
        var forward = attention.GetMethods().Single(m => m.Name == "Forward" && m.GetParameters()[0].ParameterType.Name == "CpuWorkerPool");
        _forward = OldApi.Bridge<OldForward>(forward);
    }

    /// <summary>One decode step: q [1, H, D] at position context - 1 over every cached token into <paramref name="output"/>.</summary>
    public void Run(float[] q, float[] output) => _forward(_pool, _cache, 0, q, output, 1, _heads, _context - 1, _scratch);

    public void Dispose() => _backend.Dispose();
}

/// <summary>Old ViT: <c>VitWeightsLoader.Random(config, backend, seed)</c> and <c>new VitSession(weights, batch)</c>.</summary>
internal sealed class OldVit : IDisposable
{
    private readonly IDisposable _backend;
    private readonly IDisposable _weights;
    private readonly IDisposable _session;
    private readonly OldVitForward _forward;

    private readonly IDisposable? _reducer;

    /// <param name="preset">A <c>VitConfig</c> preset property name ("Base").</param>
    /// <param name="method">A <c>VitMethodSpec</c> ("tome:r=16"), or null for the plain model.</param>
    public OldVit(OldApi api, string preset, int batch, int threads, int seed, string? method = null)
    {
        _backend = api.NewCpuBackend(threads);
        var configType = api.ModelsType("HpcCore.Models.Vit.VitConfig");
        object config = configType.GetProperty(preset)!.GetValue(null)!;
        var random = api.ModelsType("HpcCore.Models.Vit.VitWeightsLoader").GetMethod("Random")!;
        _weights = (IDisposable)random.Invoke(null, [config, _backend, seed])!;
        var sessionType = api.ModelsType("HpcCore.Models.Vit.VitSession");
        var ctor = sessionType.GetConstructors().Single(c => c.GetParameters().Length >= 2 && c.GetParameters()[1].ParameterType == typeof(int));
        var args = new object?[ctor.GetParameters().Length];
        args[0] = _weights;
        args[1] = batch;
        for (int i = 2; i < args.Length; i++) args[i] = ctor.GetParameters()[i].DefaultValue;
        if (method is not null)
        {
            object spec = api.ModelsType("HpcCore.Models.Vit.VitMethodSpec").GetMethod("Parse", [typeof(string)])!.Invoke(null, [method])!;
            object reducer = api.ModelsType("HpcCore.Models.Vit.VitReducers").GetMethod("Create")!.Invoke(null, [spec, config])!;
            _reducer = reducer as IDisposable;
            args[2] = reducer;
        }
        _session = (IDisposable)ctor.Invoke(args);
        _forward = OldApi.Bridge<OldVitForward>(sessionType.GetMethod("Forward")!);
    }

    /// <summary>One forward pass over <paramref name="pixels"/> [B, C, H, W].</summary>
    public void Forward(float[] pixels) => _forward(_session, pixels);

    /// <summary>The old session's logits after the last forward (its private <c>_logits</c> tensor), copied out.</summary>
    public float[] Logits()
    {
        var field = _session.GetType().GetField("_logits", BindingFlags.NonPublic | BindingFlags.Instance)
                    ?? throw new MissingFieldException("old VitSession has no _logits field");
        object logits = field.GetValue(_session)!;
        var toArray = logits.GetType().GetMethod("ToArray")!.MakeGenericMethod(typeof(float));
        return (float[])toArray.Invoke(logits, null)!;
    }

    public void Dispose()
    {
        _session.Dispose();
        _reducer?.Dispose();
        _weights.Dispose();
        _backend.Dispose();
    }
}

/// <summary>
/// Old <c>Attention.Forward(q, k, v, o, new AttentionOptions(Causal: causal))</c> on [B, T, H, D] F32 tensors made by the
/// old <c>Tensor.From&lt;float&gt;</c>: the fused prefill attention kernel of the old main.
/// </summary>
internal sealed class OldPrefill : IDisposable
{
    private readonly IDisposable _backend;
    private readonly IDisposable[] _tensors;
    private readonly Action<object, object, object, object, object> _forward;
    private readonly object _options;

    public OldPrefill(OldApi api, int threads, int[] dims, bool causal, float[] q, float[] k, float[] v)
    {
        _backend = api.NewCpuBackend(threads);
        var tensorType = api.CoreType("HpcCore.Tensors.Tensor");
        _tensors = [.. new[] { q, k, v, new float[q.Length] }.Select(data => (IDisposable)api.NewTensor(data, dims, _backend))];
        var optionsType = api.CoreType("HpcCore.Ops.AttentionOptions");
        var ctor = optionsType.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
        _options = ctor.Invoke([.. ctor.GetParameters().Select(p => p.Name == "Causal" ? causal : p.DefaultValue)]);
        var forward = api.CoreType("HpcCore.Ops.Attention").GetMethods()
            .Single(m => m.Name == "Forward" && m.GetParameters().Length == 5 && m.GetParameters()[0].ParameterType == tensorType);
        _forward = ForwardBridge(forward, tensorType, optionsType);
    }

    /// <summary>One call: the output tensor gets the old kernel's result.</summary>
    public void Run() => _forward(_tensors[0], _tensors[1], _tensors[2], _tensors[3], _options);

    /// <summary>The output [B, T, H, D] of the last call, copied out.</summary>
    public float[] Output()
    {
        var toArray = _tensors[3].GetType().GetMethod("ToArray")!.MakeGenericMethod(typeof(float));
        return (float[])toArray.Invoke(_tensors[3], null)!;
    }

    public void Dispose()
    {
        foreach (var t in _tensors) t.Dispose();
        _backend.Dispose();
    }

    // (q, k, v, o, boxed options) => Attention.Forward(q, k, v, o, in options): the `in` argument is the box's interior.
    private static Action<object, object, object, object, object> ForwardBridge(MethodInfo forward, Type tensorType, Type optionsType)
    {
        var dm = new DynamicMethod("old_Forward", typeof(void), [typeof(object), typeof(object), typeof(object), typeof(object), typeof(object)],
            typeof(OldApi).Module, skipVisibility: true);
        var il = dm.GetILGenerator();
        for (short i = 0; i < 4; i++)
        {
            il.Emit(OpCodes.Ldarg, i);
            il.Emit(OpCodes.Castclass, tensorType);
        }
        il.Emit(OpCodes.Ldarg_S, (byte)4);
        il.Emit(OpCodes.Unbox, optionsType);
        il.Emit(OpCodes.Call, forward);
        il.Emit(OpCodes.Ret);
        return (Action<object, object, object, object, object>)dm.CreateDelegate(typeof(Action<object, object, object, object, object>));
    }
}

/// <summary>Old <c>Gemm.Multiply(a, b, destination)</c> over a pre-packed B.</summary>
internal delegate void OldGemmMultiply(object a, object b, object destination);

/// <summary>
/// The old main's GEMM over pre-packed weights: <paramref name="weights"/> matrices [N, K] packed by the old
/// <c>Gemm.Pack(w, transposeB: true)</c>, used in turn, times an [M, K] input (a batch-1 layer's tokens).
/// </summary>
internal sealed class OldGemm : IDisposable
{
    private readonly IDisposable _backend;
    private readonly List<IDisposable> _owned = [];
    private readonly object[] _packed;
    private readonly object _x, _y;
    private readonly OldGemmMultiply _multiply;
    private int _next;

    public OldGemm(OldApi api, int threads, int m, int n, int k, float[][] weights, float[] x)
    {
        _backend = api.NewCpuBackend(threads);
        var gemm = api.CoreType("HpcCore.Ops.Gemm");
        var tensorType = api.CoreType("HpcCore.Tensors.Tensor");
        var pack = gemm.GetMethod("Pack")!;
        _packed = [.. weights.Select(w =>
        {
            using var wt = (IDisposable)api.NewTensor(w, [n, k], _backend);
            var packed = pack.Invoke(null, [wt, true])!;
            _owned.Add((IDisposable)packed);
            return packed;
        })];
        _x = api.NewTensor(x, [m, k], _backend);
        _y = api.NewTensor(new float[m * n], [m, n], _backend);
        _owned.Add((IDisposable)_x);
        _owned.Add((IDisposable)_y);
        var multiply = gemm.GetMethods().Single(g => g.Name == "Multiply" && g.GetParameters().Length == 4
            && g.GetParameters()[0].ParameterType == tensorType && g.GetParameters()[1].ParameterType == _packed[0].GetType());
        _multiply = OldApi.Bridge<OldGemmMultiply>(multiply);
    }

    /// <summary>One call, with the next weight matrix.</summary>
    public void Run()
    {
        _multiply(_x, _packed[_next], _y);
        _next = (_next + 1) % _packed.Length;
    }

    /// <summary>The output of the last call.</summary>
    public float[] Output()
    {
        var toArray = _y.GetType().GetMethod("ToArray")!.MakeGenericMethod(typeof(float));
        return (float[])toArray.Invoke(_y, null)!;
    }

    public void Dispose()
    {
        foreach (var d in _owned) d.Dispose();
        _backend.Dispose();
    }
}
