using System.Text.Json;
using System.Text.RegularExpressions;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>
/// The REST gateway's error body of SPEC §4.1: <c>{ code, message: "&lt;text&gt; (&lt;id&gt;)", details: [ErrorDetail] }</c>,
/// one <c>zitadel.v1.ErrorDetail</c> naming the error id the message ends with.
/// </summary>
public static partial class GatewayErrorShape
{
    public const string ErrorDetailType = "type.googleapis.com/zitadel.v1.ErrorDetail";

    [GeneratedRegex(@"^[A-Z]+-[A-Za-z0-9]+$")]
    private static partial Regex ErrorId();

    /// <summary>Why <paramref name="error"/> is not the gateway's error shape, or null when it is.</summary>
    public static string? Problem(JsonElement error)
    {
        if (error.ValueKind != JsonValueKind.Object || !error.TryGetProperty("code", out var code) || code.ValueKind != JsonValueKind.Number
            || !error.TryGetProperty("message", out var message) || string.IsNullOrWhiteSpace(message.GetString()))
        {
            return "no code or message";
        }
        if (!error.TryGetProperty("details", out var details) || details.ValueKind != JsonValueKind.Array || details.GetArrayLength() != 1)
        {
            return "details is not one ErrorDetail";
        }
        var detail = details[0];
        var id = detail.TryGetProperty("id", out var value) ? value.GetString() ?? "" : "";
        if (detail.TryGetProperty("@type", out var type) is false || type.GetString() != ErrorDetailType || !ErrorId().IsMatch(id)
            || !detail.TryGetProperty("message", out var key) || string.IsNullOrEmpty(key.GetString()))
        {
            return "the ErrorDetail lacks its @type, id or message";
        }
        return message.GetString()!.EndsWith($" ({id})", StringComparison.Ordinal) ? null : "the message does not end with the error id";
    }

    /// <summary>Asserts the shape and returns the error id.</summary>
    public static string AssertIdOf(JsonElement error)
    {
        Assert.True(Problem(error) is null, $"{Problem(error)}: {error}");
        return error.GetProperty("details")[0].GetProperty("id").GetString()!;
    }
}
