using Microsoft.AspNetCore.Diagnostics;

namespace UserDataApi.Hosting;

/// <summary>
/// What an API family answers when one of its endpoints fails unexpectedly, in that family's own shape. A family
/// attaches it to its routes as endpoint metadata (<see cref="ErrorAnswers.WithErrorAnswer{TBuilder}"/>).
/// </summary>
public interface IErrorAnswer
{
    Task WriteAsync(HttpContext context);
}

/// <summary>The last line of defence: an unexpected failure still gets a JSON answer of the contract, never a 500 page.</summary>
public static class ErrorAnswers
{
    public static TBuilder WithErrorAnswer<TBuilder>(this TBuilder endpoints, IErrorAnswer answer) where TBuilder : IEndpointConventionBuilder =>
        endpoints.WithMetadata(answer);

    public static WebApplication UseJsonErrorAnswers(this WebApplication app)
    {
        app.UseExceptionHandler(failed => failed.Run(async context =>
        {
            // The handler runs with the endpoint cleared; the feature still names the one that failed.
            var endpoint = context.Features.Get<IExceptionHandlerFeature>()?.Endpoint;
            if (endpoint?.Metadata.GetMetadata<IErrorAnswer>() is { } answer)
            {
                await answer.WriteAsync(context);
                return;
            }
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await context.Response.WriteAsJsonAsync(new ServiceUnavailable("service temporarily unavailable"), HostingJsonContext.Default.ServiceUnavailable);
        }));
        return app;
    }
}

/// <summary>The answer of a failure outside any API family.</summary>
public sealed record ServiceUnavailable(string Error);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(ServiceUnavailable))]
internal sealed partial class HostingJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
