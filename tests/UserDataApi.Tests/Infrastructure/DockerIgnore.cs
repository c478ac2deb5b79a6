using System.Text;
using System.Text.RegularExpressions;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>A build context's .dockerignore: which of its paths <c>docker build</c> leaves out.</summary>
public sealed class DockerIgnore
{
    private readonly List<(Regex Pattern, bool LeavesOut)> _rules;

    private DockerIgnore(List<(Regex, bool)> rules) => _rules = rules;

    public static DockerIgnore Load(string contextDirectory)
    {
        var file = Path.Combine(contextDirectory, ".dockerignore");
        var lines = File.Exists(file) ? File.ReadAllLines(file) : [];
        return new DockerIgnore(lines.Select(line => line.Trim()).Where(line => line.Length > 0 && !line.StartsWith('#')).Select(Rule).ToList());
    }

    /// <summary>
    /// Whether a path relative to the context ('/'-separated) is left out: as in Docker, the last rule that
    /// matches the path or a folder above it decides, and a rule starting with '!' lets the path back in.
    /// </summary>
    public bool LeavesOut(string relativePath)
    {
        var segments = relativePath.Split('/');
        var pathAndFolders = Enumerable.Range(1, segments.Length).Select(count => string.Join('/', segments[..count])).ToList();
        var leftOut = false;
        foreach (var (pattern, leavesOut) in _rules)
        {
            if (pathAndFolders.Exists(pattern.IsMatch))
            {
                leftOut = leavesOut;
            }
        }
        return leftOut;
    }

    /// <summary>A pattern in Go's filepath.Match syntax plus '**' (any number of folders), as a regular expression.</summary>
    private static (Regex, bool) Rule(string line)
    {
        var pattern = line.TrimStart('!').Trim().Trim('/');
        var regex = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i..].StartsWith("**", StringComparison.Ordinal))
            {
                var folders = pattern[i..].StartsWith("**/", StringComparison.Ordinal);
                regex.Append(folders ? "(.*/)?" : ".*");
                i += folders ? 2 : 1;
            }
            else
            {
                regex.Append(pattern[i] switch { '*' => "[^/]*", '?' => "[^/]", var other => Regex.Escape(other.ToString()) });
            }
        }
        return (new Regex(regex.Append('$').ToString()), !line.StartsWith('!'));
    }
}
