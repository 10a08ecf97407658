// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// `./build.sh fuzz [seconds] [options]`: mutation fuzzing of every parser and loader (docs/HARDENING.md).
// `./build.sh fuzz --coverage [seconds] [target...]`: coverage-guided, AFL++ and SharpFuzz (tools/fuzz/coverage.sh,
// whose steps are the --targets, --instrument, --seeds, --afl and --replay modes in Coverage.cs).
//   seconds            budget per target (default 10)
//   --inputs N         stop a target after N inputs (0: only the time budget)
//   --only a,b         run only these targets
//   --time-limit-ms T  per-input CPU time limit (default 1000); over it twice in a row is a failure ("slow")
//   --hang-s S         an input still running after S seconds (wall clock) is a hang (default 10)
//   --alloc-mb M       per-input managed allocation limit (default 512)
//   --rss-mb M         working-set limit (default 3072)
//   --out DIR          failing inputs and report.json (default artifacts/fuzz)
//   --seed N           random seed (default 1)
// Exit code 0 when every target had no crash, slow input, hang or allocation failure; 1 otherwise.
using System.Globalization;
using System.Text.Json;
using HpcCore.Cpu;
using HpcCore.Fuzz;

if (Coverage.TryRun(args, out int coverageExit)) return coverageExit;

double seconds = 10;
long inputs = 0;
string[]? only = null;
double timeLimitMs = FuzzOptions.DefaultTimeLimitMs, hangS = FuzzOptions.DefaultHangSeconds;
long allocMb = FuzzOptions.DefaultAllocationMb, rssMb = FuzzOptions.DefaultWorkingSetMb;
int seed = 1;
string output = Path.Combine(Seeds.RepoRoot, "artifacts", "fuzz");
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--inputs": inputs = long.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--only": only = Next().Split(','); break;
        case "--time-limit-ms": timeLimitMs = double.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--hang-s": hangS = double.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--alloc-mb": allocMb = long.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--rss-mb": rssMb = long.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--out": output = Next(); break;
        case "--seed": seed = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        default: seconds = double.Parse(args[i], CultureInfo.InvariantCulture); break;
    }
}

string scratch = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"hpccore-fuzz-{Environment.ProcessId}");
using var cpu = new CpuBackend(threads: 1);
var options = new FuzzOptions(seconds, inputs, TimeSpan.FromMilliseconds(timeLimitMs), TimeSpan.FromSeconds(Math.Max(hangS, timeLimitMs / 1000 * 2)),
    allocMb << 20, rssMb << 20, output);
var results = new List<FuzzStats>();
try
{
    var targets = Targets.All(cpu, scratch).Where(t => only is null || only.Contains(t.Name)).ToList();
    if (targets.Count == 0) throw new ArgumentException($"no target named {string.Join(",", only!)}");
    Console.WriteLine($"fuzz: {targets.Count} targets, {seconds} s{(inputs > 0 ? $" or {inputs} inputs" : "")} each; limits {timeLimitMs} ms, {allocMb} MB per input, {rssMb} MB working set");
    Console.WriteLine($"{"target",-22} {"inputs",9} {"accepted",9} {"rejected",9} {"crash",5} {"slow",4} {"hang",4} {"alloc",5} {"cpu ms",8} {"peak alloc",10} {"maps",9}  exceptions");
    var runner = new FuzzRunner(options);
    using var onInt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c => { c.Cancel = true; runner.Stop(); });
    using var onTerm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; runner.Stop(); });
    foreach (var t in targets)
    {
        if (runner.Stopping) break;
        var s = runner.Run(t, seed);
        results.Add(s);
        Console.WriteLine($"{s.Target,-22} {s.Inputs,9} {s.Accepted,9} {s.Rejected,9} {s.Crashes,5} {s.Slow,4} {s.Hangs,4} {s.OverAllocation,5} {s.MaxMilliseconds,8:F1} {s.PeakAllocatedBytes / 1048576.0,8:F1}MB {s.MapsBefore,4}>{s.MapsAfter,-4}  " +
                          string.Join(", ", s.Exceptions.Select(e => $"{e.Key} {e.Value}")));
        foreach (var f in s.Failures) Console.WriteLine($"    {f}");
    }
}
finally
{
    if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
}
Directory.CreateDirectory(output);
File.WriteAllText(Path.Combine(output, "report.json"), JsonSerializer.Serialize(new
{
    options = new { seconds, inputs, timeLimitMs, hangS, allocMb, rssMb, seed },
    targets = results,
}, new JsonSerializerOptions { WriteIndented = true }));
long failures = results.Sum(r => r.FailureCount);
Console.WriteLine($"fuzz: {results.Sum(r => r.Inputs)} inputs, {failures} failures; report: {Path.Combine(output, "report.json")}");
return failures == 0 ? 0 : 1;
