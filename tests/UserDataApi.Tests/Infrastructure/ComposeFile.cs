using YamlDotNet.RepresentationModel;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>A docker compose file parsed as YAML, read through the parts of the compose format the tests check.</summary>
public sealed class ComposeFile
{
    private readonly YamlMappingNode _document;

    private ComposeFile(string directory, YamlMappingNode document)
    {
        Directory = directory;
        _document = document;
    }

    /// <summary>The folder relative paths in the file (build contexts, bind mounts) start from.</summary>
    public string Directory { get; }

    /// <summary>The named volumes the top-level <c>volumes</c> declares.</summary>
    public IReadOnlyList<string> VolumeNames =>
        _document.Children.TryGetValue("volumes", out var volumes) && volumes is YamlMappingNode named
            ? named.Children.Keys.Select(name => ((YamlScalarNode)name).Value ?? "").ToList()
            : [];

    public static ComposeFile Load(string path)
    {
        var yaml = new YamlStream();
        using (var reader = File.OpenText(path))
        {
            yaml.Load(reader);
        }
        return new ComposeFile(Path.GetDirectoryName(Path.GetFullPath(path))!, (YamlMappingNode)yaml.Documents.Single().RootNode);
    }

    public ComposeService Service(string name)
    {
        var services = (YamlMappingNode)_document["services"];
        Assert.True(services.Children.ContainsKey(name), $"The compose file has no service {name}");
        return new ComposeService((YamlMappingNode)services[name]);
    }
}

/// <summary>One entry of <c>services</c>, each setting read in whichever of compose's forms it is written.</summary>
public sealed class ComposeService(YamlMappingNode service)
{
    public string? Image => Text(service, "image");

    /// <summary><c>build</c>'s context: the value itself, or its <c>context</c> key.</summary>
    public string? BuildContext => Setting("build") switch
    {
        YamlMappingNode build => Text(build, "context"),
        var build => (build as YamlScalarNode)?.Value,
    };

    /// <summary><c>command</c>: a list, or a string split at white space.</summary>
    public IReadOnlyList<string> Command => Words(Setting("command"));

    /// <summary><c>environment</c>: a mapping, or a list of <c>NAME=value</c>.</summary>
    public IReadOnlyDictionary<string, string> Environment => Setting("environment") switch
    {
        YamlMappingNode variables => variables.Children.ToDictionary(v => Value(v.Key), v => Value(v.Value)),
        YamlSequenceNode variables => variables.Children.Select(v => Value(v).Split('=', 2)).ToDictionary(v => v[0], v => v.ElementAtOrDefault(1) ?? ""),
        _ => new Dictionary<string, string>(),
    };

    /// <summary><c>depends_on</c>: each service waited for, with its condition (a plain list means <c>service_started</c>).</summary>
    public IReadOnlyDictionary<string, string> DependsOn => Setting("depends_on") switch
    {
        YamlMappingNode services => services.Children.ToDictionary(s => Value(s.Key), s => Text((YamlMappingNode)s.Value, "condition") ?? "service_started"),
        YamlSequenceNode services => services.Children.ToDictionary(Value, _ => "service_started"),
        _ => new Dictionary<string, string>(),
    };

    /// <summary><c>volumes</c>: each mount's source (a volume name or a host path) and its path in the container.</summary>
    public IReadOnlyList<(string Source, string Target)> Volumes => Entries("volumes").Select(volume => volume switch
    {
        YamlMappingNode mount => (Text(mount, "source") ?? "", Text(mount, "target") ?? ""),
        var mount => Value(mount).Split(':') is [var source, var target, ..] ? (source, target) : ("", Value(mount)),
    }).ToList();

    /// <summary><c>ports</c>: the container side of each published port.</summary>
    public IReadOnlyList<string> ContainerPorts => Entries("ports").Select(port => port switch
    {
        YamlMappingNode mapping => Text(mapping, "target") ?? "",
        var mapping => Value(mapping).Split(':')[^1].Split('/')[0],
    }).ToList();

    /// <summary><c>healthcheck</c>'s <c>test</c>, as a list (<c>CMD</c> or <c>CMD-SHELL</c> first), empty when there is none.</summary>
    public IReadOnlyList<string> HealthcheckTest => Setting("healthcheck") is YamlMappingNode healthcheck && healthcheck.Children.TryGetValue("test", out var test)
        ? test is YamlScalarNode shell ? ["CMD-SHELL", Value(shell)] : Words(test)
        : [];

    private YamlNode? Setting(string key) => service.Children.TryGetValue(key, out var value) ? value : null;

    private IEnumerable<YamlNode> Entries(string key) => (Setting(key) as YamlSequenceNode)?.Children ?? [];

    private static IReadOnlyList<string> Words(YamlNode? node) => node switch
    {
        YamlSequenceNode list => list.Children.Select(Value).ToList(),
        YamlScalarNode text => Value(text).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries),
        _ => [],
    };

    private static string? Text(YamlMappingNode mapping, string key) => mapping.Children.TryGetValue(key, out var value) ? Value(value) : null;

    private static string Value(YamlNode node) => ((YamlScalarNode)node).Value ?? "";
}
