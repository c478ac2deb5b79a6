using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using UserDataApi.Hosting;

namespace UserDataApi.Intents.Transports;

/// <summary>The cleartext gRPC listener (configuration section <c>Grpc</c>, SPEC §4.1).</summary>
public sealed class GrpcListenerOptions
{
    public const string Section = "Grpc";

    /// <summary>An http:// address on which HTTP/2 alone is spoken (cleartext HTTP/2 needs a port of its own); unset: none.</summary>
    public string? Url { get; set; }
}

internal sealed class GrpcListenerOptionsValidator : IValidateOptions<GrpcListenerOptions>
{
    private static bool IsCleartextAddress(string url)
    {
        try
        {
            var address = BindingAddress.Parse(url);
            return address.Scheme.Equals("http", StringComparison.OrdinalIgnoreCase) && address.Port >= 0 && address.PathBase.Length == 0;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    public ValidateOptionsResult Validate(string? name, GrpcListenerOptions options) => SettingRules.Result(
    [
        string.IsNullOrWhiteSpace(options.Url) || IsCleartextAddress(options.Url)
            ? null
            : $"{GrpcListenerOptions.Section}:Url must be an http:// address such as http://0.0.0.0:8081 (cleartext HTTP/2; gRPC over TLS uses the HTTPS port), not '{options.Url}'.",
    ]);
}

/// <summary>
/// gRPC over cleartext HTTP/2 on a listener of its own. (On HTTPS, gRPC needs nothing here: Kestrel offers HTTP/2
/// by ALPN on every TLS endpoint.)
/// </summary>
public static class GrpcListener
{
    /// <summary>Where Kestrel listens when nothing says otherwise.</summary>
    private const string DefaultUrl = "http://localhost:5000";

    public static WebApplicationBuilder AddCleartextGrpcListener(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<GrpcListenerOptions>().Bind(builder.Configuration.GetSection(GrpcListenerOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<GrpcListenerOptions>, GrpcListenerOptionsValidator>();
        var grpcUrl = builder.Configuration[$"{GrpcListenerOptions.Section}:Url"];
        if (string.IsNullOrWhiteSpace(grpcUrl))
        {
            return builder;
        }
        // Kestrel binds either the configured addresses or endpoints set in code, not both: with the gRPC listener
        // set in code, the main addresses are set here too, as ASPNETCORE_URLS (or --urls, or ASPNETCORE_HTTP_PORTS) gave them.
        var mainUrls = MainUrls(builder);
        builder.WebHost.UseUrls();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            foreach (var url in mainUrls)
            {
                Listen(kestrel, url, HttpProtocols.Http1AndHttp2);
            }
            Listen(kestrel, grpcUrl, HttpProtocols.Http2);
        });
        return builder;
    }

    private static List<string> MainUrls(WebApplicationBuilder builder)
    {
        var urls = builder.WebHost.GetSetting(WebHostDefaults.ServerUrlsKey);
        if (!string.IsNullOrWhiteSpace(urls))
        {
            return [.. urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        }
        var ports = Ports(builder.WebHost.GetSetting("HTTP_PORTS"), "http").Concat(Ports(builder.WebHost.GetSetting("HTTPS_PORTS"), "https")).ToList();
        return ports.Count > 0 ? ports : [DefaultUrl];
    }

    private static IEnumerable<string> Ports(string? ports, string scheme) =>
        (ports ?? "").Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(port => $"{scheme}://*:{port}");

    private static void Listen(KestrelServerOptions kestrel, string url, HttpProtocols protocols)
    {
        var address = BindingAddress.Parse(url);
        void Configure(ListenOptions listen)
        {
            listen.Protocols = protocols;
            if (address.Scheme.Equals("https", StringComparison.OrdinalIgnoreCase))
            {
                listen.UseHttps();
            }
        }
        if (address.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(address.Port, Configure);
        }
        else if (IPAddress.TryParse(address.Host.Trim('[', ']'), out var ip))
        {
            kestrel.Listen(ip, address.Port, Configure);
        }
        else
        {
            kestrel.ListenAnyIP(address.Port, Configure);
        }
    }
}
