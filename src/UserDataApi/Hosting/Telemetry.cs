using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace UserDataApi.Hosting;

/// <summary>
/// OpenTelemetry traces and metrics for ASP.NET Core, HttpClient and Npgsql, plus the meters the API families
/// add (<c>ConfigureOpenTelemetryMeterProvider</c>), exported with logs over OTLP, when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the other standard <c>OTEL_*</c> variables apply too).
/// </summary>
public static class Telemetry
{
    public const string DefaultServiceName = "userdataapi";

    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        // Without a collector to send to, recording spans and aggregating metrics would only cost
        // time on every request; the instruments stay readable by dotnet-counters either way.
        if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            return builder;
        }
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Configuration["OTEL_SERVICE_NAME"] ?? DefaultServiceName))
            .WithTracing(tracing => tracing
                // Probes hit the health endpoints every few seconds; their traces would drown the rest.
                .AddAspNetCoreInstrumentation(aspNetCore => aspNetCore.Filter = http => !http.Request.Path.StartsWithSegments(HealthEndpoints.BasePath))
                .AddHttpClientInstrumentation()
                .AddNpgsql())
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddNpgsqlInstrumentation())
            .WithLogging()
            .UseOtlpExporter();
        return builder;
    }
}
