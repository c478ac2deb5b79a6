using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>The small web apps tests stand up beside the server: on 127.0.0.1, a free port, no logs.</summary>
public static class LoopbackApp
{
    /// <summary>A builder for such an app; slim unless the app needs the full set of defaults; over https with <paramref name="https"/>.</summary>
    public static WebApplicationBuilder CreateBuilder(bool slim = true, X509Certificate2? https = null)
    {
        var builder = slim ? WebApplication.CreateSlimBuilder() : WebApplication.CreateBuilder();
        if (https is null)
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
        }
        else
        {
            builder.WebHost.UseKestrelHttpsConfiguration();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0, listen => listen.UseHttps(https)));
        }
        builder.Logging.ClearProviders();
        return builder;
    }

    /// <summary>
    /// An HTTP client handler that trusts <paramref name="certificate"/> as well as the system's roots, as a server's
    /// clients would once an operator installed that certificate's CA.
    /// </summary>
    public static SocketsHttpHandler Trusting(X509Certificate2 certificate) => new()
    {
        SslOptions =
        {
            RemoteCertificateValidationCallback = (_, presented, _, errors) =>
                errors == System.Net.Security.SslPolicyErrors.None || presented?.GetCertHashString() == certificate.GetCertHashString(),
        },
    };

    /// <summary>Starts the app and returns the address it listens on (<c>http://127.0.0.1:PORT</c>, or https).</summary>
    public static async Task<string> StartAsync(WebApplication app)
    {
        await app.StartAsync();
        return app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
    }
}
