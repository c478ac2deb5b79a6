using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

// allocations PID SECONDS TRACE_FILE: listens to the runtime's allocation ticks (one about every 100 KB a heap
// allocates, with the type and the stack of the allocation that crossed it) for SECONDS, then prints the rate,
// the types that took most, and the stacks behind them. The ticks' amounts add up to what was allocated.
if (args.Length != 3 || !int.TryParse(args[0], out var pid) || !int.TryParse(args[1], out var seconds))
{
    Console.Error.WriteLine("usage: allocations PID SECONDS TRACE_FILE");
    return 2;
}
var traceFile = args[2];
var keywords = ClrTraceEventParser.Keywords.GC | ClrTraceEventParser.Keywords.Stack
               | ClrTraceEventParser.Keywords.Jit | ClrTraceEventParser.Keywords.Loader;
var client = new DiagnosticsClient(pid);
using (var session = client.StartEventPipeSession(
           [new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Verbose, (long)keywords)], requestRundown: true))
{
    await using var file = File.Create(traceFile);
    var copy = session.EventStream.CopyToAsync(file);
    await Task.Delay(TimeSpan.FromSeconds(seconds));
    session.Stop();
    await copy;
}

using var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(traceFile));
long total = 0;
var byType = new Dictionary<string, long>();
var byStack = new Dictionary<string, long>();
foreach (var traced in log.Events)
{
    if (traced is not GCAllocationTickTraceData tick)
    {
        continue;
    }
    total += tick.AllocationAmount64;
    byType[tick.TypeName] = byType.GetValueOrDefault(tick.TypeName) + tick.AllocationAmount64;
    var frames = new List<string>();
    for (var frame = tick.CallStack(); frame is not null && frames.Count < 8; frame = frame.Caller)
    {
        if (frame.CodeAddress.FullMethodName is { Length: > 0 } name && !name.StartsWith("System.Runtime.CompilerServices.", StringComparison.Ordinal))
        {
            frames.Add(name.Length > 140 ? name[..140] : name);
        }
    }
    var stack = tick.TypeName + "\n        " + string.Join("\n        ", frames);
    byStack[stack] = byStack.GetValueOrDefault(stack) + tick.AllocationAmount64;
}

Console.WriteLine($"allocated_mb_per_s {total / 1e6 / seconds:F1}");
Console.WriteLine();
Console.WriteLine("types (share of the bytes allocated):");
foreach (var (type, bytes) in byType.OrderByDescending(entry => entry.Value).Take(30))
{
    Console.WriteLine($"  {100.0 * bytes / Math.Max(1, total),5:F1}%  {type}");
}
Console.WriteLine();
Console.WriteLine("stacks:");
foreach (var (stack, bytes) in byStack.OrderByDescending(entry => entry.Value).Take(25))
{
    Console.WriteLine($"  {100.0 * bytes / Math.Max(1, total),5:F1}%  {stack}");
}
return 0;
