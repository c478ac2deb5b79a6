using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using UserDataApi.Intents.Rpc.User;
using UserDataApi.Tests.Infrastructure;
using static UserDataApi.Tests.Infrastructure.MalformedCorpus;
using ErrorDetail = UserDataApi.Intents.Rpc.Zitadel.ErrorDetail;

namespace UserDataApi.Tests.Intents;

/// <summary>
/// SPEC §4.1 and §7 on the RPC transports of the built server: malformed gRPC and gRPC-Web frames, protobuf that does
/// not parse, Connect bodies in JSON and binary, bodies over 1 MiB. Each is invalid argument (compressed frames
/// unimplemented) with its error id, never Unknown or Internal, nothing is stored, and the server logs no failure.
/// </summary>
[Collection(ZitadelClientFixture.Collection)]
public sealed class RpcMalformedInputTests(ZitadelClientFixture fixture)
{
    private const string Service = "/zitadel.user.v2.UserService/";

    private static readonly byte[] ValidStart = new StartIdentityProviderIntentRequest
    {
        IdpId = IntentFixture.OidcProvider,
        Urls = new RedirectURLs { SuccessUrl = IntentFixture.SuccessUrl, FailureUrl = IntentFixture.FailureUrl },
    }.ToByteArray();

    private static byte[] Frame(byte[] message, byte flag = 0)
    {
        var frame = new byte[5 + message.Length];
        frame[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)message.Length);
        message.CopyTo(frame, 5);
        return frame;
    }

    /// <summary>Protobuf that does not parse, whatever the framing around it.</summary>
    private static readonly (string Name, byte[] Message)[] BrokenMessages =
    [
        ("a truncated varint", [0x08, 0xff]),
        ("a length past the end", [0x0a, 0x10, 0x61]),
        ("an unterminated group", [0x0b, 0x08, 0x01]),
        ("wire type 7", [0x0f, 0x01]),
        ("field number 0", [0x02, 0x00]),
        ("invalid UTF-8 in a string", [0x0a, 0x02, 0xc3, 0x28]),
        ("JSON, not protobuf", "{\"idpId\":\"test-oidc\"}"u8.ToArray()),
        ("the valid request cut short", ValidStart[..^3]),
    ];

    /// <summary>Framed bodies (gRPC and gRPC-Web): the broken messages, then broken frames, then size.</summary>
    private static IEnumerable<(string Name, byte[] Body, string Code)> FramedBodies() =>
        BrokenMessages.Select(m => (m.Name, Frame(m.Message), "invalid_argument"))
            .Concat(
            [
                ("no body", [], "invalid_argument"),
                ("half a frame header", [0, 0, 0], "invalid_argument"),
                ("a frame longer than its body", Frame(ValidStart)[..^1], "invalid_argument"),
                ("a frame shorter than its body", [.. Frame(ValidStart), 0], "invalid_argument"),
                ("two messages", [.. Frame(ValidStart), .. Frame(ValidStart)], "invalid_argument"),
                ("a flag byte of 0x80", Frame(ValidStart, flag: 0x80), "invalid_argument"),
                ("a message over 1 MiB", Frame(new byte[MaxBodyBytes + 1]), "invalid_argument"),
                ("a frame announcing 4 GiB", [0, 0xff, 0xff, 0xff, 0xff, 1, 2, 3], "invalid_argument"),
                ("a compressed message", Frame(ValidStart, flag: 1), "unimplemented"),
            ]);

    private sealed record Case(string Transport, string Name, string ContentType, byte[] Body, string Code, string Method = "StartIdentityProviderIntent")
    {
        public override string ToString() => $"{Transport} {Method} / {Name}";
    }

    private static IEnumerable<Case> Cases()
    {
        foreach (var (name, body, code) in FramedBodies())
        {
            yield return new("grpc", name, "application/grpc", body, code);
            yield return new("grpc-web", name, "application/grpc-web+proto", body, code);
            yield return new("grpc-web-text", name, "application/grpc-web-text", Encoding.ASCII.GetBytes(Convert.ToBase64String(body)), code);
        }
        foreach (var (name, message) in BrokenMessages)
        {
            yield return new("connect-binary", name, "application/proto", message, "invalid_argument");
        }
        yield return new("connect-binary", "a message over 1 MiB", "application/proto", new byte[MaxBodyBytes + 1], "invalid_argument");
        var validJson = $$$"""{"idpId":"{{{IntentFixture.OidcProvider}}}","urls":{"successUrl":"{{{IntentFixture.SuccessUrl}}}","failureUrl":"{{{IntentFixture.FailureUrl}}}"}}""";
        foreach (var body in Generate(validJson, [new("idpId", NotARequiredString), new("urls", ["\"x\"", "1", "[]", "true", "null"]),
                     new("urls.successUrl", NotARequiredString), new("urls.failureUrl", NotARequiredString)]))
        {
            // Connect's content types are application/json and application/proto; any other is 415 (below).
            if (body.ContentType is null || JsonRequestBodyIsJson(body.ContentType))
            {
                yield return new("connect", body.Description, "application/json", body.Body, "invalid_argument");
            }
        }
        yield return new("connect", "a retrieve whose id holds NUL", "application/json", "{\"idpIntentId\":\"a\\u0000b\",\"idpIntentToken\":\"t\"}"u8.ToArray(),
            "permission_denied", "RetrieveIdentityProviderIntent");
    }

    private static bool JsonRequestBodyIsJson(string contentType) => UserDataApi.Hosting.JsonRequestBody.IsJson(contentType);

    [Fact]
    public async Task Every_malformed_rpc_request_is_refused_with_its_status_and_error_id_and_stores_nothing()
    {
        var cases = Cases().ToList();
        Assert.True(cases.Count >= 150, $"only {cases.Count} cases");
        var before = await CountIntentsAsync();
        var token = fixture.Token();

        var failures = await FailuresAsync(cases, async @case =>
        {
            var (code, id, shape) = await SendAsync(@case, token);
            return code == @case.Code && id is not null && shape is null ? null : $"{code} {id} {shape}";
        });

        Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count} answered otherwise:\n" + string.Join('\n', failures.Take(30)));
        Assert.Equal(before, await CountIntentsAsync());
        Assert.DoesNotContain(fixture.Server.OutputLines, line => line.StartsWith("fail:") || line.Contains("Exception was thrown by handler"));
        var healthy = await fixture.CallAsync("grpc", "startIdentityProviderIntent", ZitadelClientFixture.StartRequest(), token);
        Assert.NotNull(healthy.Ok);
    }

    [Theory]
    [InlineData("grpc", "application/grpc")]
    [InlineData("grpc-web", "application/grpc-web+proto")]
    [InlineData("grpc-web-text", "application/grpc-web-text")]
    public async Task A_valid_frame_passes_the_checks_on_every_framing(string transport, string contentType)
    {
        var body = Frame(ValidStart);
        var sent = transport == "grpc-web-text" ? Encoding.ASCII.GetBytes(Convert.ToBase64String(body)) : body;

        var (code, _, shape) = await SendAsync(new Case(transport, "valid", contentType, sent, "ok"), fixture.Token());

        Assert.True(code == "ok", $"{code} {shape}");
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("multipart/form-data; boundary=x")]
    public async Task Connect_refuses_other_content_types_with_415(string contentType)
    {
        using var client = new HttpClient();
        using var content = new ByteArrayContent("{}"u8.ToArray());
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        using var response = await client.PostAsync(new Uri(fixture.MainUrl, Service + "StartIdentityProviderIntent"), content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("application/proto", response.Headers.GetValues("Accept-Post").Single());
    }

    /// <summary>The status code name, the error id of its ErrorDetail, and what is wrong with the error's shape (null: nothing).</summary>
    private async Task<(string? Code, string? Id, string? Shape)> SendAsync(Case @case, string token)
    {
        using var client = new HttpClient();
        var grpc = @case.Transport == "grpc";
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(grpc ? fixture.GrpcUrl : fixture.MainUrl, Service + @case.Method))
        {
            Version = grpc ? HttpVersion.Version20 : HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(@case.Body),
        };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", @case.ContentType);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (grpc)
        {
            request.Headers.TryAddWithoutValidation("TE", "trailers");
        }
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        return @case.Transport.StartsWith("connect", StringComparison.Ordinal) ? ConnectError(response, body) : GrpcStatus(response, body, response.Content.Headers.ContentType?.MediaType == "application/grpc-web-text");
    }

    private static (string?, string?, string?) ConnectError(HttpResponseMessage response, byte[] body)
    {
        if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.InternalServerError || response.Content.Headers.ContentType?.MediaType != "application/json")
        {
            return (null, null, $"HTTP {(int)response.StatusCode} {response.Content.Headers.ContentType}");
        }
        var error = JsonDocument.Parse(body).RootElement;
        var detail = error.GetProperty("details").EnumerateArray().Single();
        var id = detail.GetProperty("type").GetString() == "zitadel.v1.ErrorDetail"
            ? ErrorDetail.Parser.ParseFrom(Base64(detail.GetProperty("value").GetString()!)).Id
            : null;
        var message = error.GetProperty("message").GetString() ?? "";
        return (error.GetProperty("code").GetString(), id, message.EndsWith($"({id})") ? null : "the message lacks the id");
    }

    /// <summary>gRPC's status from the headers or trailers, or (gRPC-Web) from the trailer frame of the body.</summary>
    private static (string?, string?, string?) GrpcStatus(HttpResponseMessage response, byte[] body, bool text)
    {
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return (null, null, $"HTTP {(int)response.StatusCode}");
        }
        var fields = response.Headers.Concat(response.TrailingHeaders)
            .ToDictionary(h => h.Key.ToLowerInvariant(), h => string.Join(",", h.Value));
        if (!fields.ContainsKey("grpc-status"))
        {
            // gRPC-Web's text format may send each frame as base64 of its own, padding and all.
            var frames = text ? Encoding.ASCII.GetString(body).Chunk(4).SelectMany(quantum => Convert.FromBase64String(new string(quantum))).ToArray() : body;
            for (var at = 0; at + 5 <= frames.Length;)
            {
                var length = (int)BinaryPrimitives.ReadUInt32BigEndian(frames.AsSpan(at + 1));
                if ((frames[at] & 0x80) != 0)
                {
                    foreach (var line in Encoding.ASCII.GetString(frames, at + 5, length).Split("\r\n", StringSplitOptions.RemoveEmptyEntries))
                    {
                        var colon = line.IndexOf(':');
                        fields[line[..colon].Trim().ToLowerInvariant()] = line[(colon + 1)..].Trim();
                    }
                }
                at += 5 + length;
            }
        }
        if (fields.GetValueOrDefault("grpc-status") == "0")
        {
            return ("ok", null, null);
        }
        if (!fields.TryGetValue("grpc-status", out var status) || !fields.TryGetValue("grpc-status-details-bin", out var details))
        {
            return (null, null, $"{response.Content.Headers.ContentType} {Convert.ToHexString(body.Take(64).ToArray())}: no grpc-status or grpc-status-details-bin: " + string.Join("; ", fields.Select(f => $"{f.Key}={f.Value}")));
        }
        var rich = Google.Rpc.Status.Parser.ParseFrom(Base64(details));
        var detail = rich.Details.Single().Unpack<ErrorDetail>();
        var name = ((Grpc.Core.StatusCode)int.Parse(status)).ToString();
        var snake = string.Concat(name.Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
        return (snake, detail.Id, rich.Code.ToString() == status ? null : "grpc-status and the rich status differ");
    }

    /// <summary>Connect's error details and gRPC's binary headers are base64 that may leave out its padding.</summary>
    private static byte[] Base64(string text) => Convert.FromBase64String(text.PadRight(text.Length + (4 - text.Length % 4) % 4, '='));

    private async Task<long> CountIntentsAsync() =>
        await TestSql.ScalarAsync<long>(fixture.Intents.ConnectionString, "SELECT count(*) FROM idp_intents");
}
