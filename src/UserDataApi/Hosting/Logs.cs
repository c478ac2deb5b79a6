using Microsoft.Extensions.Logging.Console;

namespace UserDataApi.Hosting;

/// <summary>
/// Console logs that carry the request id and trace id on every line logged for a request: JSON in
/// containers (the official .NET images set <c>DOTNET_RUNNING_IN_CONTAINER</c>), one plain line each
/// elsewhere, unless <c>Logging:Console:FormatterName</c> chooses (<c>json</c> or <c>simple</c>).
/// </summary>
/// <remarks>
/// What must never reach a log (tokens, secrets, stored values) is kept out by what the code logs,
/// not by filtering here: no request bodies, no headers, no configuration values, no SQL parameters.
/// </remarks>
public static class Logs
{
    public static WebApplicationBuilder AddStructuredLogs(this WebApplicationBuilder builder)
    {
        builder.Logging.Configure(logging => logging.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        builder.Services.Configure<JsonConsoleFormatterOptions>(json =>
        {
            json.IncludeScopes = true;
            json.UseUtcTimestamp = true;
            json.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
        });
        builder.Services.Configure<SimpleConsoleFormatterOptions>(simple =>
        {
            simple.IncludeScopes = true;
            simple.SingleLine = true;
        });
        if (builder.Configuration["Logging:Console:FormatterName"] is null && builder.Configuration.GetValue<bool>("DOTNET_RUNNING_IN_CONTAINER"))
        {
            builder.Logging.AddJsonConsole();
        }
        return builder;
    }
}
