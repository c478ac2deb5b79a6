using System.Text.Json;
using System.Text.Json.Serialization;

namespace UserDataApi.Intents;

// The wire contract of the intents is ZITADEL's UserService, declared once in Protos/ (messages, field names and
// numbers) and written as protojson on the REST gateway and on Connect. What is declared here is only what has no
// proto message: the error bodies of the REST gateway and of Connect (SPEC §4.1), and the provider callback's query.

/// <summary>The REST gateway's error body: the gRPC status code, the message with its error id, and the error detail.</summary>
public sealed record GatewayError(int Code, string Message, IReadOnlyList<GatewayErrorDetail> Details);

/// <summary>A <c>zitadel.v1.ErrorDetail</c> as the REST gateway writes an Any: its type URL, the error id and the message key.</summary>
public sealed record GatewayErrorDetail([property: JsonPropertyName("@type")] string Type, string Id, string Message);

/// <summary>The Connect protocol's error body (its code by name, e.g. <c>failed_precondition</c>).</summary>
public sealed record ConnectError(string Code, string Message, IReadOnlyList<ConnectErrorDetail> Details);

/// <summary>A Connect error detail: the message's full name and its binary encoding, base64 without padding.</summary>
public sealed record ConnectErrorDetail(string Type, string Value);

/// <summary>What the provider sends back to <c>/idps/callback</c>, by query (GET) or form (POST).</summary>
public sealed record CallbackParameters(string? State, string? Code, string? Error, string? ErrorDescription);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GatewayError))]
[JsonSerializable(typeof(ConnectError))]
internal sealed partial class IntentJsonContext : JsonSerializerContext;
