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
    /// <summary>A builder for such an app; slim unless the app needs the full set of defaults.</summary>
    public static WebApplicationBuilder CreateBuilder(bool slim = true)
    {
        var builder = slim ? WebApplication.CreateSlimBuilder() : WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        return builder;
    }

    /// <summary>Starts the app and returns the address it listens on (<c>http://127.0.0.1:PORT</c>).</summary>
    public static async Task<string> StartAsync(WebApplication app)
    {
        await app.StartAsync();
        return app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
    }
}
