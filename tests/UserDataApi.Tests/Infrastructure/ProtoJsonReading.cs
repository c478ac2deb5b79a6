using System.Text.Json;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>Reading answers written as protojson, which leaves out every field holding its zero value (SPEC §4.1).</summary>
public static class ProtoJsonReading
{
    /// <summary>The items of a repeated field: none when the field is absent, as an empty one is.</summary>
    public static IEnumerable<JsonElement> Repeated(JsonElement message, string name) =>
        message.TryGetProperty(name, out var items) ? items.EnumerateArray() : [];
}
