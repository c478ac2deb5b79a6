using System.Text;
using System.Text.Json;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>
/// A Dockerfile read the way <c>docker build</c> reads it: comment lines dropped, continued lines joined,
/// instructions grouped by the stage each FROM opens.
/// </summary>
public sealed class Dockerfile
{
    private Dockerfile(IReadOnlyList<DockerStage> stages) => Stages = stages;

    public IReadOnlyList<DockerStage> Stages { get; }

    /// <summary>The stage that becomes the image.</summary>
    public DockerStage Final => Stages[^1];

    public DockerStage Stage(string name) => Stages.Single(stage => stage.Name == name);

    public static Dockerfile Load(string path)
    {
        var stages = new List<DockerStage>();
        foreach (var instruction in Instructions(File.ReadLines(path)))
        {
            if (instruction.Keyword == "FROM")
            {
                var operands = instruction.Operands;
                var name = operands is [_, var keyword, var alias] && keyword.Equals("AS", StringComparison.OrdinalIgnoreCase) ? alias : null;
                stages.Add(new DockerStage(operands[0], name));
            }
            else if (stages.Count == 0)
            {
                throw new InvalidDataException($"{path}: {instruction.Keyword} before the first FROM");
            }
            else
            {
                stages[^1].Instructions.Add(instruction);
            }
        }
        return new Dockerfile(stages);
    }

    private static IEnumerable<DockerInstruction> Instructions(IEnumerable<string> lines)
    {
        var pending = new StringBuilder();
        foreach (var line in lines.Select(line => line.Trim()))
        {
            // Comment lines end nothing, not even inside a continued instruction; neither do blank lines.
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            if (line.EndsWith('\\'))
            {
                pending.Append(line[..^1]).Append(' ');
                continue;
            }
            yield return DockerInstruction.Parse(pending.Append(line).ToString());
            pending.Clear();
        }
    }
}

/// <summary>One FROM and the instructions after it, up to the next FROM.</summary>
public sealed class DockerStage(string image, string? name)
{
    public string Image { get; } = image;

    /// <summary>The name given with <c>AS</c>, by which later stages copy from this one.</summary>
    public string? Name { get; } = name;

    public List<DockerInstruction> Instructions { get; } = [];

    public IEnumerable<DockerInstruction> All(string keyword) => Instructions.Where(i => i.Keyword == keyword);

    public DockerInstruction Last(string keyword) => All(keyword).Last();

    /// <summary>The working directory an instruction runs in: the WORKDIRs before it, each relative to the one before.</summary>
    public string WorkdirAt(DockerInstruction instruction) =>
        Instructions.TakeWhile(i => !ReferenceEquals(i, instruction)).Where(i => i.Keyword == "WORKDIR").Aggregate("/", (directory, workdir) => Path.GetFullPath(workdir.Arguments, directory));

    /// <summary>A variable set with <c>ENV NAME=value</c>, or null.</summary>
    public string? Variable(string name) =>
        All("ENV").SelectMany(env => env.Words).Select(word => word.Split('=', 2)).LastOrDefault(pair => pair[0] == name)?[1];
}

/// <summary>An instruction with its continued lines joined.</summary>
public sealed record DockerInstruction(string Keyword, string Arguments)
{
    public static DockerInstruction Parse(string text)
    {
        var parts = text.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new DockerInstruction(parts[0].ToUpperInvariant(), parts.Length > 1 ? parts[1] : "");
    }

    /// <summary>The arguments: the exec form's JSON array as written, the shell form split at white space.</summary>
    public IReadOnlyList<string> Words =>
        Arguments.StartsWith('[') ? JsonSerializer.Deserialize<string[]>(Arguments)! : Arguments.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The words after the leading <c>--name=value</c> options.</summary>
    public IReadOnlyList<string> Operands => Words.SkipWhile(IsOption).ToList();

    /// <summary>The value of a leading <c>--name=value</c> option, or null.</summary>
    public string? Option(string name) =>
        Words.TakeWhile(IsOption).Select(word => word[2..].Split('=', 2)).LastOrDefault(pair => pair[0] == name) is { } option
            ? option.ElementAtOrDefault(1) ?? ""
            : null;

    /// <summary>HEALTHCHECK's probe: the command after its options and CMD, in either form.</summary>
    public IReadOnlyList<string> HealthcheckCommand =>
        Parse(string.Join(' ', Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).SkipWhile(IsOption))).Words;

    private static bool IsOption(string word) => word.StartsWith("--", StringComparison.Ordinal);
}
