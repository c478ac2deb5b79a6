using System.IO.Pipelines;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Http.Features;
using UserDataApi.Hosting;

namespace UserDataApi.Intents.Transports;

/// <summary>
/// gRPC and gRPC-Web requests held to the rules of every transport (SPEC §4.1, §7) before Grpc.AspNetCore reads
/// them: one uncompressed message of at most 1 MiB that parses as the method's request. Left to the framework, a
/// malformed message would end as "Unknown" with a logged stack trace, and an oversized one as "resource exhausted".
/// A request that breaks the rules reaches the service with an empty message and its refusal noted
/// (<see cref="RefusalOf"/>), so that the refusal leaves the way the framework writes every status: in trailers, or
/// in gRPC-Web's trailer frame.
/// </summary>
public static class GrpcRequests
{
    /// <summary>A gRPC message's frame: a compressed flag and a four-byte big-endian length.</summary>
    private const int FrameHeader = 5;

    private static readonly object RefusalItem = new();
    private static readonly byte[] EmptyMessage = new byte[FrameHeader];

    /// <summary>After <c>UseGrpcWeb</c>, which has decoded gRPC-Web's text format by then.</summary>
    public static WebApplication UseGrpcRequestChecks(this WebApplication app)
    {
        // Every other call passes straight on, without a state machine of its own.
        app.Use(next => http => http.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>() is { } grpc
            && UserServiceMethods.ByName.TryGetValue(grpc.Method.Name, out var method)
                ? CheckedAsync(http, method, next)
                : next(http));
        return app;
    }

    private static async Task CheckedAsync(HttpContext http, UnaryMethod method, RequestDelegate next)
    {
        var (body, refusal) = await ReadAsync(http.Request, method.RequestType);
        if (refusal is not null)
        {
            http.Items[RefusalItem] = refusal;
        }
        // Both views of the body: gRPC-Web puts a pipe of its own in front of the request's.
        var read = new MemoryStream(body ?? EmptyMessage, writable: false);
        http.Request.Body = read;
        http.Features.Set<IRequestBodyPipeFeature>(new ReadBody(PipeReader.Create(read)));
        await next(http);
    }

    private sealed class ReadBody(PipeReader reader) : IRequestBodyPipeFeature
    {
        public PipeReader Reader => reader;
    }

    /// <summary>Why the request's message was refused, or null when it was not.</summary>
    public static IntentError? RefusalOf(HttpContext http) => http.Items[RefusalItem] as IntentError;

    private static async Task<(byte[]? Body, IntentError? Refusal)> ReadAsync(HttpRequest request, MessageDescriptor type)
    {
        var shape = $"one gRPC message ({type.FullName})";
        // Through the body's pipe: gRPC-Web's text format is decoded there, not in the request's stream.
        var body = await JsonRequestBody.ReadBytesAsync(request, request.HttpContext.RequestAborted, FrameHeader + JsonRequestBody.MaxBytes,
            request.BodyReader.AsStream(leaveOpen: true));
        if (body is null || body.Length < FrameHeader)
        {
            return (null, IntentFailures.InvalidBody(shape));
        }
        if (body[0] == 1)
        {
            // Decompressing would let a small body grow without bound; no client of this service compresses.
            return (null, IntentFailures.Unimplemented("compressed messages are not accepted"));
        }
        var length = body[0] == 0 ? ((long)body[1] << 24 | (long)body[2] << 16 | (long)body[3] << 8 | body[4]) : -1;
        if (length != body.Length - FrameHeader)
        {
            return (null, IntentFailures.InvalidBody(shape));
        }
        try
        {
            type.Parser.ParseFrom(body.AsSpan(FrameHeader));
            return (body, null);
        }
        catch (InvalidProtocolBufferException)
        {
            return (null, IntentFailures.InvalidBody(shape));
        }
    }
}
