using Google.Protobuf;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.Net.Http.Headers;
using UserDataApi.Hosting;

namespace UserDataApi.Intents.Transports;

/// <summary>
/// The Connect protocol's unary calls (POST <c>/zitadel.user.v2.UserService/{Method}</c>, a JSON or binary protobuf
/// body, errors as Connect error JSON), written here since no Connect server library is on NuGet. It shares its paths
/// with gRPC and gRPC-Web; <see cref="ConnectOrGrpcPolicy"/> tells them apart by content type.
/// </summary>
public static class ConnectProtocol
{
    private const string JsonType = "application/json";
    private const string ProtoType = "application/proto";

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapPost($"/{UserServiceMethods.ServiceName}/{{method}}", HandleAsync)
            .WithMetadata(ConnectEndpoint.Instance)
            .AllowBrowserCallers()
            .WithErrorAnswer(new ConnectErrorAnswer())
            .ExcludeFromDescription();

    private static async Task<IResult> HandleAsync(string method, HttpContext http, IntentGate gate, UserServiceMethods methods)
    {
        var binary = CodecOf(http.Request.ContentType);
        if (binary is null)
        {
            http.Response.Headers["Accept-Post"] = $"{JsonType}, {ProtoType}";
            return Results.StatusCode(StatusCodes.Status415UnsupportedMediaType);
        }
        if (http.Request.Headers.ContentEncoding is { Count: > 0 } encoding && encoding.ToString() != "identity")
        {
            return IntentFailures.Unimplemented($"the body's encoding '{encoding}' is not supported").ToConnect(http);
        }
        if (!UserServiceMethods.ByName.TryGetValue(method, out var call))
        {
            return IntentFailures.Unimplemented($"{UserServiceMethods.ServiceName} has no method '{method}' here").ToConnect(http);
        }
        var (caller, refusal) = await gate.CheckAsync(http);
        if (refusal is not null)
        {
            return refusal.ToConnect(http);
        }
        if (await ReadAsync(http.Request, call.RequestType, binary.Value) is not { } request)
        {
            return IntentFailures.InvalidBody(binary.Value ? $"one binary {call.RequestType.FullName} message" : "a JSON object").ToConnect(http);
        }
        var outcome = await call.InvokeAsync(methods, caller!, request, http);
        if (outcome.Error is { } error)
        {
            return error.ToConnect(http);
        }
        return binary.Value
            ? Results.Bytes(outcome.Value!.ToByteArray(), ProtoType)
            : Results.Text(ProtoJson.Format(outcome.Value!), JsonType, System.Text.Encoding.UTF8);
    }

    /// <summary>True for binary protobuf, false for JSON, null for any other content type.</summary>
    private static bool? CodecOf(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var type)
            ? type.MediaType.Equals(ProtoType, StringComparison.OrdinalIgnoreCase) ? true
            : type.MediaType.Equals(JsonType, StringComparison.OrdinalIgnoreCase) ? false
            : null
            : null;

    private static async Task<IMessage?> ReadAsync(HttpRequest request, Google.Protobuf.Reflection.MessageDescriptor type, bool binary)
    {
        if (!binary)
        {
            return await JsonRequestBody.ReadObjectAsync(request, request.HttpContext.RequestAborted, emptyIsObject: true) is { } json
                ? ProtoJson.Parse(json, type)
                : null;
        }
        if (await JsonRequestBody.ReadBytesAsync(request, request.HttpContext.RequestAborted) is not { } bytes)
        {
            return null;
        }
        try
        {
            return type.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }

    /// <summary>Marks the Connect endpoint for <see cref="ConnectOrGrpcPolicy"/>.</summary>
    public sealed class ConnectEndpoint
    {
        public static readonly ConnectEndpoint Instance = new();
    }

    private sealed class ConnectErrorAnswer : IErrorAnswer
    {
        public Task WriteAsync(HttpContext context) => IntentFailures.Unavailable().ToConnect(context).ExecuteAsync(context);
    }
}

/// <summary>
/// Connect and gRPC (gRPC-Web included) call the same paths. A gRPC content type (<c>application/grpc…</c>) goes to
/// the gRPC endpoints, any other to Connect's: without this, routing would prefer the gRPC route for both.
/// </summary>
public sealed class ConnectOrGrpcPolicy : MatcherPolicy, IEndpointSelectorPolicy
{
    public override int Order => 0;

    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) =>
        endpoints.Any(endpoint => endpoint.Metadata.GetMetadata<ConnectProtocol.ConnectEndpoint>() is not null);

    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        var grpc = httpContext.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;
        for (var i = 0; i < candidates.Count; i++)
        {
            var metadata = candidates[i].Endpoint.Metadata;
            var isConnect = metadata.GetMetadata<ConnectProtocol.ConnectEndpoint>() is not null;
            var isGrpc = metadata.GetMetadata<GrpcMethodMetadata>() is not null;
            if ((grpc && isConnect) || (!grpc && isGrpc))
            {
                candidates.SetValidity(i, false);
            }
        }
        return Task.CompletedTask;
    }
}
