using System.Diagnostics;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>The environment of a <c>dotnet</c> command (or a script running one) that a test starts.</summary>
public static class NestedDotnet
{
    /// <summary>
    /// Drops the variables <c>dotnet test</c> leaves, which would make a nested <c>dotnet build</c> use the
    /// test run's MSBuild.
    /// </summary>
    public static ProcessStartInfo WithoutTestRunMsBuild(this ProcessStartInfo start)
    {
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }
        return start;
    }
}
