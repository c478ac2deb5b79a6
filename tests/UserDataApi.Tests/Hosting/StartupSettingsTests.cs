using System.Diagnostics;

namespace UserDataApi.Tests.Hosting;

/// <summary>Runs the published entry point as a process, as an operator would, with bad settings.</summary>
public sealed class StartupSettingsTests
{
    private static async Task<(int ExitCode, string[] ErrorLines)> RunServerAsync(params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "UserDataApi.dll"), "--urls", "http://127.0.0.1:0"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var errors = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, (await errors).Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Missing_connection_string_stops_start_up_with_one_line_naming_it()
    {
        var (exitCode, errors) = await RunServerAsync();

        Assert.NotEqual(0, exitCode);
        var line = Assert.Single(errors);
        Assert.Contains("ConnectionStrings:UserData", line);
    }

    [Theory]
    [InlineData("Auth__Authority", "not a url", "Auth:Authority")]
    [InlineData("Auth__ClockSkewSeconds", "-3", "Auth:ClockSkewSeconds")]
    [InlineData("Auth__KeyRefreshSeconds", "0", "Auth:KeyRefreshSeconds")]
    [InlineData("UserData__MaxKeysPerRequest", "many", "UserData:MaxKeysPerRequest")]
    [InlineData("Database__MigrateOnStartup", "maybe", "Database:MigrateOnStartup")]
    public async Task Invalid_setting_stops_start_up_with_one_line_naming_it(string variable, string value, string key)
    {
        var (exitCode, errors) = await RunServerAsync(("ConnectionStrings__UserData", "Host=127.0.0.1;Port=1"), (variable, value));

        Assert.NotEqual(0, exitCode);
        Assert.Contains(key, Assert.Single(errors));
    }
}
