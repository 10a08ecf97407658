// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Fuzz;

using System.Security.Cryptography;
using HpcCore.Cpu;
using SharpFuzz;

/// <summary>
/// The coverage-guided mode's entry points (<c>./build.sh fuzz --coverage</c>, driven by tools/fuzz/coverage.sh):
/// SharpFuzz instruments a copy of the HpcCore assemblies and AFL++ drives one target at a time through
/// <see cref="Afl"/>, starting from the same seeds as the mutation fuzzer. The targets, their consumers and their
/// documented exceptions are <see cref="Targets"/>' (one definition for both modes); crashes and hangs that AFL++ saves
/// are replayed afterwards through <see cref="FuzzRunner.Replay"/> for the same classification and reason as the
/// mutation fuzzer's.
/// </summary>
internal static class Coverage
{
    // AFL++ refuses inputs over 1 MiB (its MAX_FILE): larger seeds (the committed ViT, ONNX and austen.bin) stay with
    // the mutation fuzzer.
    private const int AflMaxFile = 1 << 20;

    // SharpFuzz's coverage map (64 KiB, AFL's default).
    private const int MapSize = 1 << 16;

    /// <summary>True when <paramref name="args"/> names a coverage mode, whose exit code is then in <paramref name="exit"/>.</summary>
    public static bool TryRun(string[] args, out int exit)
    {
        exit = 0;
        if (args.Length == 0) return false;
        switch (args[0])
        {
            case "--targets" when args.Length == 1:
                using (var cpu = new CpuBackend(threads: 1))
                    foreach (var t in WithTargets(cpu, ts => ts)) Console.WriteLine(t.Name);
                return true;
            case "--instrument" when args.Length == 2:
                Instrument(args[1]);
                return true;
            case "--seeds" when args.Length == 3:
                WriteSeeds(args[1], args[2]);
                return true;
            case "--afl" when args.Length == 3:
                Afl(args[1], args[2]);
                return true;
            case "--replay" when args.Length >= 3:
                exit = Replay(args[1], args[2], args[3..]);
                return true;
            case "--targets" or "--instrument" or "--seeds" or "--afl" or "--replay":
                throw new ArgumentException("usage: --targets | --instrument DIR | --seeds TARGET DIR | --afl TARGET SCRATCH | --replay TARGET OUT FILE...");
            default:
                return false;
        }
    }

    // Every type of the HpcCore assemblies in DIR (a copy of the build output), and of the two third-party parsers
    // HpcCore hands untrusted bytes to: StbImageSharp (the PNG/JPEG/BMP targets) and Microsoft.ML.Tokenizers (vocab.txt
    // and tokenizer.json go to its BertTokenizer: without it those targets saw ~20-80 edges). The harness itself is
    // not instrumented.
    private static void Instrument(string dir)
    {
        var names = Directory.GetFiles(dir, "HpcCore*.dll").Where(p => Path.GetFileName(p) != "HpcCore.Fuzz.dll")
            .Append(Path.Combine(dir, "StbImageSharp.dll")).Append(Path.Combine(dir, "Microsoft.ML.Tokenizers.dll"))
            .Order(StringComparer.Ordinal).ToList();
        foreach (var path in names)
        {
            int types = Fuzzer.Instrument(path, _ => true, Options.Value).Count();
            Console.WriteLine($"instrumented {Path.GetFileName(path)}: {types} types");
        }
    }

    // The target's distinct seeds that AFL++ accepts, as DIR/seed-NN.
    private static void WriteSeeds(string name, string dir)
    {
        Directory.CreateDirectory(dir);
        using var cpu = new CpuBackend(threads: 1);
        var target = WithTargets(cpu, ts => Find(ts, name));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int written = 0, skipped = 0;
        foreach (var seed in target.Seeds)
        {
            if (!seen.Add(Convert.ToHexString(SHA256.HashData(seed)))) continue;
            if (seed.Length > AflMaxFile) { skipped++; continue; }
            File.WriteAllBytes(Path.Combine(dir, $"seed-{written++:D2}"), seed);
        }
        if (written == 0) throw new InvalidOperationException($"{name}: every seed is over AFL++'s {AflMaxFile}-byte limit");
        Console.WriteLine($"{name}: {written} seeds{(skipped > 0 ? $" ({skipped} over {AflMaxFile} bytes left out)" : "")}");
    }

    // Under afl-fuzz: SharpFuzz's out-of-process server restarts the child process after a hang (AFL++ kills it) or a
    // fatal crash, so one timeout does not end the run. The target is built in the child on the first input, and the
    // coverage of that setup is cleared so that it is not counted as the input's.
    private static unsafe void Afl(string name, string scratch)
    {
        CpuBackend? cpu = null;
        FuzzTarget? target = null;
        Fuzzer.OutOfProcess.Run(stream =>
        {
            if (target is null)
            {
                cpu = new CpuBackend(threads: 1);
                target = Find(Targets.All(cpu, Path.Combine(scratch, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture))), name);
                new Span<byte>(SharpFuzz.Common.Trace.SharedMem, MapSize).Clear();
                SharpFuzz.Common.Trace.PrevLocation = 0;
            }
            var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            byte[] input = buffer.ToArray();
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                target.Consume(input);
            }
            catch (Exception e) when (target.IsDocumented(e))
            {
                // Refused as documented: not a finding. Anything else escapes, and SharpFuzz reports a crash.
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated > FuzzOptions.DefaultAllocationLimit)
                throw new InsufficientMemoryException($"allocated {allocated} bytes (limit {FuzzOptions.DefaultAllocationLimit})");
        });
    }

    // AFL++'s crashes and hangs, run again with the mutation fuzzer's limits and classification; failures and their
    // reasons go to OUT/<target>/.
    private static int Replay(string name, string output, string[] files)
    {
        using var cpu = new CpuBackend(threads: 1);
        return WithTargets(cpu, ts =>
        {
            var target = Find(ts, name);
            var runner = new FuzzRunner(FuzzOptions.Defaults(output));
            var s = runner.Replay(target, files.Select(File.ReadAllBytes));
            Console.WriteLine($"{name}: replayed {s.Inputs}: {s.Accepted} accepted, {s.Rejected} rejected as documented, {s.Crashes} crash, {s.Slow} slow, {s.Hangs} hang, {s.OverAllocation} alloc" +
                              (s.Exceptions.Count > 0 ? $"; {string.Join(", ", s.Exceptions.Select(e => $"{e.Key} {e.Value}"))}" : ""));
            foreach (var f in s.Failures) Console.WriteLine($"    {f}");
            return s.FailureCount == 0 ? 0 : 1;
        });
    }

    private static FuzzTarget Find(IReadOnlyList<FuzzTarget> targets, string name) =>
        targets.FirstOrDefault(t => t.Name == name) ?? throw new ArgumentException($"no target named {name} (--targets lists them)");

    // Targets built in a scratch folder of this process, deleted afterwards.
    private static T WithTargets<T>(CpuBackend cpu, Func<IReadOnlyList<FuzzTarget>, T> use)
    {
        string scratch = Path.Combine(Path.GetTempPath(), $"hpccore-fuzz-{Environment.ProcessId}");
        try
        {
            return use(Targets.All(cpu, scratch));
        }
        finally
        {
            if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
        }
    }
}
