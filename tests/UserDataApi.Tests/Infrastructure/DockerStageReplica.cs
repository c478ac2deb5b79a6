using System.Collections.Concurrent;
using System.Diagnostics;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>
/// A Dockerfile build stage carried out without Docker: a scratch folder stands for the image's file system,
/// COPY takes from the build context what .dockerignore lets through, and each RUN starts its dotnet command
/// there, with absolute paths moved into the scratch folder.
/// </summary>
public sealed class DockerStageReplica : IDisposable
{
    // A RUN with any of these needs a shell, which the replica does not offer: it runs one command as written.
    private static readonly char[] ShellSyntax = ['"', '\'', '`', '$', '&', '|', ';', '<', '>', '*', '?', '\\'];

    private readonly string _context;
    private readonly DockerIgnore _ignore;
    private readonly List<DockerRun> _runs = [];
    private string _workdir = "/";

    private DockerStageReplica(string context)
    {
        _context = context;
        _ignore = DockerIgnore.Load(context);
    }

    /// <summary>The folder that stands for the image's root.</summary>
    public string Root { get; } = Directory.CreateTempSubdirectory("userdataapi-docker-stage-").FullName;

    /// <summary>The RUN commands carried out, up to and including the first that failed.</summary>
    public IReadOnlyList<DockerRun> Runs => _runs;

    /// <summary>Where a path of the image (absolute) lies in the replica.</summary>
    public string PathOf(string imagePath) => Path.Join(Root, imagePath);

    /// <summary>Carries out the stage's instructions in order, stopping at the first RUN that fails, as Docker does.</summary>
    public static async Task<DockerStageReplica> RunAsync(DockerStage stage, string contextDirectory, TimeSpan timeoutPerRun)
    {
        var replica = new DockerStageReplica(contextDirectory);
        try
        {
            foreach (var instruction in stage.Instructions)
            {
                switch (instruction.Keyword)
                {
                    case "WORKDIR":
                        replica._workdir = Path.GetFullPath(instruction.Arguments, replica._workdir);
                        Directory.CreateDirectory(replica.PathOf(replica._workdir));
                        break;
                    case "COPY":
                        replica.Copy(instruction);
                        break;
                    case "RUN" when await replica.RunAsync(instruction, timeoutPerRun) is { ExitCode: not 0 }:
                        return replica;
                    case "RUN":
                        break;
                    default:
                        throw new NotSupportedException($"The replica of a build stage does not carry out {instruction.Keyword}; teach it before the Dockerfile's build stage uses it.");
                }
            }
            return replica;
        }
        catch
        {
            replica.Dispose();
            throw;
        }
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);

    private void Copy(DockerInstruction copy)
    {
        if (copy.Option("from") is { } from)
        {
            throw new NotSupportedException($"COPY --from={from}: the replica copies from the build context only.");
        }
        var operands = copy.Operands;
        var sources = operands.SkipLast(1).ToList();
        var destination = PathOf(Path.GetFullPath(operands[^1], _workdir));
        var intoFolder = operands[^1].EndsWith('/') || sources.Count > 1;
        foreach (var source in sources)
        {
            var path = Path.GetFullPath(source, _context);
            var relative = Path.GetRelativePath(_context, path);
            if (relative.StartsWith("..", StringComparison.Ordinal) || _ignore.LeavesOut(relative) || !Path.Exists(path))
            {
                throw new FileNotFoundException($"COPY {copy.Arguments}: {source} is not in the build context (absent, outside it, or left out by .dockerignore).");
            }
            if (Directory.Exists(path))
            {
                // A folder's contents, not the folder itself, go to the destination.
                var files = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Where(file => !_ignore.LeavesOut(Path.GetRelativePath(_context, file)));
                foreach (var file in files)
                {
                    CopyFile(file, Path.Join(destination, Path.GetRelativePath(path, file)));
                }
            }
            else
            {
                CopyFile(path, intoFolder ? Path.Join(destination, Path.GetFileName(path)) : destination);
            }
        }
    }

    private static void CopyFile(string from, string to)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        File.Copy(from, to, overwrite: true);
    }

    private async Task<DockerRun> RunAsync(DockerInstruction run, TimeSpan timeout)
    {
        var words = run.Words;
        if (words[0] != "dotnet" || words.Any(word => word.IndexOfAny(ShellSyntax) >= 0))
        {
            throw new NotSupportedException($"RUN {run.Arguments}: the replica carries out single dotnet commands, without a shell.");
        }
        var arguments = words.Skip(1).Select(word => word.StartsWith('/') ? PathOf(word) : word);
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            WorkingDirectory = PathOf(_workdir),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }.WithoutTestRunMsBuild();
        // No MSBuild nodes or build server left waiting for further builds once the command is done.
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";

        var output = new ConcurrentQueue<string>();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) => output.Enqueue(line.Data ?? "");
        process.ErrorDataReceived += (_, line) => output.Enqueue(line.Data ?? "");
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            output.Enqueue($"(stopped after {timeout})");
        }
        var result = new DockerRun(run.Arguments, process.ExitCode, string.Join('\n', output));
        _runs.Add(result);
        return result;
    }
}

/// <summary>A RUN the replica carried out: its command as the Dockerfile writes it, exit code and output.</summary>
public sealed record DockerRun(string Command, int ExitCode, string Output);
