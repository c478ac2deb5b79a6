using System.Text.Json;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;

namespace UserDataApi.Tests.Hosting;

/// <summary>OpenTelemetry over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, and JSON logs in containers.</summary>
public sealed class TelemetryTests
{
    [Fact]
    public async Task With_an_otlp_endpoint_traces_metrics_and_logs_of_aspnetcore_httpclient_and_npgsql_are_exported()
    {
        await using var collector = await OtlpReceiver.StartAsync();
        await using var authority = await TestAuthority.StartAsync();
        await using var api = await new ApiFactory(authority, await TestPostgres.CreateDatabaseAsync(), new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "userdataapi-under-test",
            // Export every few hundred milliseconds rather than every 5 s (traces, logs) and 60 s (metrics).
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "300",
        }).StartedAsync();
        var client = new UserDataClient(api.CreateClient());
        string[] spanSources = ["userdataapi-under-test", "Microsoft.AspNetCore", "System.Net.Http", "Npgsql"];
        string[] instruments = [UserDataMetrics.AnswersInstrument, "http.server.request.duration", "http.client.request.duration", "Npgsql"];

        var answer = await client.PostAsync("get", new { identity_provider = "telegram", value_keys = new[] { "k" } }, authority.CreateToken());
        var traces = await collector.WaitForAsync("traces", spanSources, TimeSpan.FromSeconds(30));
        var metrics = await collector.WaitForAsync("metrics", instruments, TimeSpan.FromSeconds(30));
        var logs = await collector.WaitForAsync("logs", ["userdataapi-under-test"], TimeSpan.FromSeconds(30));

        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, answer.Result());
        Assert.All(spanSources, source => Assert.Contains(source, traces));
        Assert.All(instruments, instrument => Assert.Contains(instrument, metrics));
        Assert.Contains("userdataapi-under-test", logs);
    }

    [Fact]
    public async Task In_a_container_every_log_line_is_json_and_request_lines_carry_request_id_and_trace_id()
    {
        await using var server = ServerProcess.StartBuilt(
            ("DOTNET_RUNNING_IN_CONTAINER", "true"),
            ("ConnectionStrings__UserData", await TestPostgres.CreateDatabaseAsync()),
            ("Database__MigrateOnStartup", "true"),
            ("IdentityProviders__File", "identity-providers.json"),
            ("Logging__LogLevel__Microsoft.AspNetCore.Hosting", "Information"));
        var address = await server.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));

        using var http = new HttpClient { BaseAddress = address };
        (await http.GetAsync("/health/ready")).EnsureSuccessStatusCode();
        var requestLine = await server.WaitForOutputAsync(line => line.Contains("Request finished") && line.Contains("/health/ready"), TimeSpan.FromSeconds(10));

        Assert.All(server.OutputLines, line => JsonDocument.Parse(line));
        var scopes = JsonDocument.Parse(requestLine).RootElement.GetProperty("Scopes").EnumerateArray().ToList();
        Assert.Contains(scopes, scope => scope.TryGetProperty("RequestId", out var id) && id.GetString()!.Length > 0);
        Assert.Contains(scopes, scope => scope.TryGetProperty("TraceId", out var id) && id.GetString()!.Length > 0);
    }
}
