using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace UserDataApi.Intents.Transports;

/// <summary>
/// Tells the readers of the OpenAPI description, which shows the REST gateway, where the same UserService is
/// served to RPC clients (SPEC §4.1): OpenAPI has no words for gRPC or Connect, so they are described on the tags.
/// </summary>
internal sealed class RpcTransportsDocument : IDocumentFilter
{
    public const string IntentsTag = "Identity-provider intents";
    public const string LinksTag = "Identity-provider links";

    private const string Transports =
        $"The same methods are `{UserServiceMethods.ServiceName}` for ZITADEL's own clients (`@zitadel/client`, `@connectrpc/connect-*`): "
        + $"gRPC over HTTP/2 on the HTTPS port and, when `{GrpcListenerOptions.Section}:Url` is set, in cleartext there; gRPC-Web and Connect (unary, JSON or binary) "
        + $"on this port at `POST /{UserServiceMethods.ServiceName}/{{Method}}`. Every transport checks the same token, scopes, limits and input rules "
        + "and answers the same outcomes: REST as below, Connect with its error JSON, gRPC with status and trailers; the ZITADEL error id is in each error's details.";

    public void Apply(OpenApiDocument document, DocumentFilterContext context)
    {
        Describe(document, IntentsTag, "Start an intent at a configured provider (SPEC §4.2), let the user sign in there, and retrieve what it returned. ");
        Describe(document, LinksTag, "A user's links to provider accounts. ");
    }

    private static void Describe(OpenApiDocument document, string name, string description)
    {
        document.Tags ??= new HashSet<OpenApiTag>();
        var tag = document.Tags.FirstOrDefault(tag => tag.Name == name);
        if (tag is null)
        {
            tag = new OpenApiTag { Name = name };
            document.Tags.Add(tag);
        }
        tag.Description = description + Transports;
    }
}
