// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// `./build.sh soak [minutes] [--native libhpccore.so] [--threads N]`: several threads, each with its own ViT session,
// LM decoder (evicting KV policy) or C ABI handles, good and bad calls mixed; then checks every outcome and that
// resources stayed flat between the first and the last window (docs/HARDENING.md). Exit code 0 when all held.
using System.Globalization;
using HpcCore.Cpu;
using HpcCore.Models.Images;
using HpcCore.Models.Lm.Loading;
using HpcCore.Models.Vit;
using HpcCore.Soak;

double minutes = 5;
string? native = null;
int perKind = 2;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--native": native = args[++i]; break;
        case "--threads": perKind = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        default: minutes = double.Parse(args[i], CultureInfo.InvariantCulture); break;
    }
}
string root = AppContext.BaseDirectory;
while (!File.Exists(Path.Combine(root, "HpcCore.sln"))) root = Path.GetDirectoryName(root) ?? throw new DirectoryNotFoundException("run from inside the repository");
native ??= NativeAbi.DefaultPaths.Select(p => Path.Combine(root, p)).FirstOrDefault(File.Exists);
string scratch = Directory.CreateTempSubdirectory("hpccore-soak-").FullName;
using var cpu = new CpuBackend(threads: 1);
var tally = new SoakTally();
var workers = new Workers(cpu, tally, root, scratch);
using var vit = VitWeightsLoader.Load(Path.Combine(root, "assets/vit/vit-fmnist.safetensors"), cpu);
var images = ImageSet.LoadIdx(Path.Combine(root, "assets/data/fashion-mnist"));
var (lmConfig, lmWeights, tokenizer) = LmModelFiles.Load(Path.Combine(root, "tools/train/lm/austen.bin"), Path.Combine(root, "tools/train/lm/bytes259.bin"), cpu);
using var lmOwner = lmWeights;
NativeAbi? abi = native is null ? null : new NativeAbi(native);
Console.WriteLine($"soak: {minutes} min; {perKind} ViT + {perKind} LM{(abi is null ? "" : $" + {perKind} C ABI")} threads" +
                  (abi is null ? " (no native library: build it with ./build.sh native)" : $"; native: {Path.GetFileName(native)}"));

using var stop = new CancellationTokenSource();
var threads = new List<Thread>();
void Start(string name, Action<CancellationToken> body) => threads.Add(new Thread(() => body(stop.Token)) { Name = name, IsBackground = true });
for (int t = 0; t < perKind; t++)
{
    int id = t;
    Start($"vit-{id}", s => workers.Vit(vit, images, id, s));
    Start($"lm-{id}", s => workers.Lm(lmConfig, lmWeights, tokenizer, id, s));
    if (abi is not null) Start($"c-{id}", s => workers.Native(abi, id, s));
}
// Windows: ten per run, at least 20 s each. The first is warm-up; flatness compares the second with the last.
double window = Math.Max(20, minutes * 60 / 10);
var samples = new List<ProcessGauges>();
var clock = System.Diagnostics.Stopwatch.StartNew();
threads.ForEach(t => t.Start());
Console.WriteLine($"{"min",6} {"calls",9} {"RSS MB",8} {"managed MB",10} {"maps",6} {"fds",5} {"pool live",9} {"pool MB",8}");
while (clock.Elapsed.TotalMinutes < minutes)
{
    Thread.Sleep(TimeSpan.FromSeconds(Math.Min(window, Math.Max(1, minutes * 60 - clock.Elapsed.TotalSeconds))));
    var g = ProcessGauges.Take(clock.Elapsed.TotalMinutes, cpu, Interlocked.Read(ref workers.Calls));
    samples.Add(g);
    Console.WriteLine($"{g.Minute,6:F1} {g.Calls,9} {g.RssBytes / 1048576.0,8:F1} {g.ManagedBytes / 1048576.0,10:F1} {g.Mappings,6} {g.Descriptors,5} {g.PoolLiveBuffers,9} {g.PoolRetainedBytes / 1048576.0,8:F1}");
}
stop.Cancel();
threads.ForEach(t => t.Join());
Directory.Delete(scratch, recursive: true);

Console.WriteLine($"{"calls",-44} {"good ok",8} {"good bad",8} {"bad doc",8} {"bad undoc",9}");
foreach (var (kind, c) in tally.Counts.OrderBy(k => k.Key, StringComparer.Ordinal))
    Console.WriteLine($"{kind,-44} {c[0],8} {c[1],8} {c[2],8} {c[3],9}");
foreach (var f in tally.Failures) Console.WriteLine($"  FAIL {f}");
var problems = new List<string>();
if (tally.FailureCount > 0) problems.Add($"{tally.FailureCount} calls did not behave as documented");
if (samples.Count >= 3)
{
    var (a, z) = (samples[1], samples[^1]);
    // Tolerances: RSS may drift by allocator and JIT noise (32 MB or 10%); mappings and descriptors by a few (thread
    // stacks, GC regions); pooled buffers by none once warm.
    if (z.RssBytes - a.RssBytes > Math.Max(32L << 20, a.RssBytes / 10)) problems.Add($"RSS grew {a.RssBytes >> 20} -> {z.RssBytes >> 20} MB");
    if (z.Mappings - a.Mappings > 16) problems.Add($"mappings grew {a.Mappings} -> {z.Mappings}");
    if (z.Descriptors - a.Descriptors > 4) problems.Add($"descriptors grew {a.Descriptors} -> {z.Descriptors}");
    if (z.PoolLiveBuffers - a.PoolLiveBuffers > 8) problems.Add($"pooled buffers in use grew {a.PoolLiveBuffers} -> {z.PoolLiveBuffers}");
}
else problems.Add("too short for a flatness check (fewer than 3 windows)");
Console.WriteLine(problems.Count == 0 ? "soak: PASS" : "soak: FAIL: " + string.Join("; ", problems));
return problems.Count == 0 ? 0 : 1;
