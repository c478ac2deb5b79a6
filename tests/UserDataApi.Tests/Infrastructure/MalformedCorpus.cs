using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>One malformed request body (or a valid body under a wrong content type), and what makes it malformed.</summary>
public sealed record MalformedBody(string Description, byte[] Body, string? ContentType = "application/json", bool Chunked = false)
{
    /// <summary>A POST of this body, sent as it is (no header validation), with the given Authorization header if any.</summary>
    public HttpRequestMessage ToRequest(string path, string? authorization)
    {
        var content = new ByteArrayContent(Body);
        if (ContentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
        }
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.TransferEncodingChunked = Chunked;
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }
        return request;
    }

    public override string ToString() => Description;
}

/// <summary>A field of a valid request, by dotted path, with JSON values of the wrong type or out of range for it.</summary>
public sealed record CorpusField(string Path, IReadOnlyList<string> WrongValues, bool Required = true);

/// <summary>
/// Generates malformed requests from one valid request: every strict prefix, broken syntax, invalid
/// UTF-8, NUL bytes, 10,000-deep nesting, numbers out of range, wrong types, duplicate properties,
/// non-object bodies, wrong content types and bodies over 1 MiB. Every one must be refused.
/// </summary>
public static class MalformedCorpus
{
    public const int MaxBodyBytes = UserDataApi.Hosting.JsonRequestBody.MaxBytes;

    public static readonly string[] NotAString = ["1", "-1.5", "true", "false", "[]", """["x"]""", "{}", """{"a":"b"}"""];
    public static readonly string[] NotARequiredString = [.. NotAString, "null"];
    public static readonly string[] NotAStringArray = ["null", "[]", "\"k\"", "1", "true", "{}", "[1]", "[null]", "[true]", "[[]]", "[{}]", """["k",1]""", """["k",null]"""];
    public static readonly string[] NotAnInt64 = ["\"1\"", "\"\"", "true", "[]", "{}", "1.5", "9223372036854775808", "-9223372036854775809", "1e19", "1e400", "-1e400"];

    private const string Marker = "\u0001corpus-marker\u0001";
    private static readonly string MarkerJson = JsonValue.Create(Marker).ToJsonString();

    private static readonly string Deep = new string('[', 10_000) + new string(']', 10_000);
    private static readonly string DeepObject = string.Concat(Enumerable.Repeat("{\"a\":", 10_000)) + "1" + new string('}', 10_000);

    /// <summary>Values that are not JSON at all, put in place of a field's value.</summary>
    private static readonly (string Name, byte[] Raw)[] BrokenValues =
    [
        ("single quotes", "'x'"u8.ToArray()), ("NaN", "NaN"u8.ToArray()), ("Infinity", "Infinity"u8.ToArray()),
        ("-Infinity", "-Infinity"u8.ToArray()), ("hex number", "0x10"u8.ToArray()), ("leading zero", "01"u8.ToArray()),
        ("plus sign", "+1"u8.ToArray()), ("bare fraction", ".5"u8.ToArray()), ("bare point", "1."u8.ToArray()),
        ("bare exponent", "1e"u8.ToArray()), ("bare minus", "-"u8.ToArray()), ("truncated true", "tru"u8.ToArray()),
        ("truncated null", "nul"u8.ToArray()), ("undefined", "undefined"u8.ToArray()), ("unterminated string", "\"abc"u8.ToArray()),
        ("bad escape", "\"a\\xb\""u8.ToArray()), ("short unicode escape", "\"\\u12\""u8.ToArray()), ("upper unicode escape", "\"\\U0041\""u8.ToArray()),
        ("raw tab in string", "\"a\tb\""u8.ToArray()), ("raw newline in string", "\"a\nb\""u8.ToArray()),
        ("raw control byte in string", "\"a\u0001b\""u8.ToArray()), ("raw NUL byte in string", "\"a\0b\""u8.ToArray()),
        ("raw NUL byte as value", "\0"u8.ToArray()), ("trailing comma in array", "[1,]"u8.ToArray()),
        ("trailing comma in object", "{\"a\":1,}"u8.ToArray()), ("open array", "["u8.ToArray()), ("open object", "{"u8.ToArray()),
        ("nothing", ""u8.ToArray()), ("comma", ","u8.ToArray()), ("a property", "\"a\":\"b\""u8.ToArray()),
        ("block comment", "/*c*/1"u8.ToArray()), ("line comment", "// c\n1"u8.ToArray()),
        ("lone surrogate escape", "\"a\\ud800b\""u8.ToArray()), ("lone low surrogate escape", "\"\\udc00\""u8.ToArray()),
        ("10,000-deep arrays", Encoding.UTF8.GetBytes(Deep)), ("10,000-deep objects", Encoding.UTF8.GetBytes(DeepObject)),
    ];

    /// <summary>Byte sequences that are not UTF-8.</summary>
    private static readonly (string Name, byte[] Bytes)[] InvalidUtf8 =
    [
        ("0xFF", [0xFF]), ("0xFE", [0xFE]), ("lone continuation byte", [0x80]), ("overlong '/'", [0xC0, 0xAF]),
        ("UTF-8 encoded surrogate", [0xED, 0xA0, 0x80]), ("truncated sequence", [0xE2, 0x82]),
        ("five-byte sequence", [0xF8, 0x88, 0x80, 0x80, 0x80]), ("beyond U+10FFFF", [0xF4, 0x90, 0x80, 0x80]),
    ];

    private static readonly string[] NotObjects = ["[]", "\"text\"", "1", "null", "true", "[{}]"];

    private static readonly string[] WrongContentTypes =
    [
        "text/plain", "text/json", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
        "application/octet-stream", "application/jsonx", "image/png", "not a media type",
    ];

    /// <summary>Authorization headers that carry no valid bearer token, built around a valid one.</summary>
    public static IReadOnlyList<string?> Authorizations(string validToken) =>
    [
        null, "Bearer", "Bearer ", "Basic dXNlcjpwYXNzd29yZA==", "Bearer a.b.c", "Bearer " + new string('A', 16 * 1024),
        "Token " + validToken, "Bearer " + validToken[..^2], "Bearer " + validToken + " " + validToken, "Bearer " + validToken.Split('.')[0],
    ];

    /// <summary>Sends every case (eight at a time) and returns a line for each that <paramref name="check"/> found wrong.</summary>
    public static async Task<IReadOnlyList<string>> FailuresAsync<TCase>(IReadOnlyCollection<TCase> cases, Func<TCase, Task<string?>> check)
    {
        var failures = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (@case, _) =>
        {
            try
            {
                if (await check(@case) is { } failure)
                {
                    failures.Add($"{@case}: {failure}");
                }
            }
            catch (Exception exception)
            {
                failures.Add($"{@case}: {exception.Message}");
            }
        });
        return [.. failures];
    }

    public static IReadOnlyList<MalformedBody> Generate(string validJson, IReadOnlyList<CorpusField> fields, bool emptyBodyIsValid = false)
    {
        var corpus = new List<MalformedBody>();
        var valid = Encoding.UTF8.GetBytes(validJson);

        for (var length = emptyBodyIsValid ? 1 : 0; length < valid.Length; length++)
        {
            corpus.Add(new($"the first {length} bytes", valid[..length]));
        }
        corpus.Add(new("trailing garbage", [.. valid, .. " x"u8]));
        corpus.Add(new("two objects", [.. valid, .. valid]));
        corpus.Add(new("raw NUL byte after the object", [.. valid, 0]));
        corpus.Add(new("raw NUL byte before the object", [0, .. valid]));
        foreach (var notObject in NotObjects)
        {
            corpus.Add(new($"body {notObject}", Encoding.UTF8.GetBytes(notObject)));
        }
        foreach (var contentType in WrongContentTypes)
        {
            corpus.Add(new($"content type {contentType}", valid, contentType));
        }
        var oversized = WithUnknownField(validJson, new string('x', MaxBodyBytes));
        corpus.Add(new("a body over 1 MiB", oversized));
        corpus.Add(new("a body over 1 MiB, chunked", oversized, Chunked: true));
        corpus.Add(new("an unknown field 10,000 deep", WithUnknownField(validJson, null, Deep)));
        foreach (var (name, bytes) in InvalidUtf8)
        {
            corpus.Add(new($"{name} in an unknown field", Replace(validJson, "zz_unknown", [.. "\"a"u8, .. bytes, .. "b\""u8])));
            corpus.Add(new($"{name} in a property name", Replace(validJson, "zz_unknown", "1"u8.ToArray(), propertyName: [.. "zz"u8, .. bytes])));
        }

        foreach (var field in fields)
        {
            foreach (var (name, raw) in BrokenValues)
            {
                corpus.Add(new($"{field.Path}: {name}", Replace(validJson, field.Path, raw)));
            }
            foreach (var (name, bytes) in InvalidUtf8)
            {
                corpus.Add(new($"{field.Path}: {name}", Replace(validJson, field.Path, [.. "\"a"u8, .. bytes, .. "b\""u8])));
            }
            foreach (var wrong in field.WrongValues)
            {
                corpus.Add(new($"{field.Path}: {wrong}", Replace(validJson, field.Path, Encoding.UTF8.GetBytes(wrong))));
            }
            if (field.Required)
            {
                corpus.Add(new($"{field.Path} missing", Remove(validJson, field.Path)));
            }
            var value = ValueAt(validJson, field.Path);
            var name2 = field.Path.Split('.')[^1];
            corpus.Add(new($"{field.Path} twice, same value", Replace(validJson, field.Path, Encoding.UTF8.GetBytes($"{value},\"{name2}\":{value}"))));
            corpus.Add(new($"{field.Path} twice, second null", Replace(validJson, field.Path, Encoding.UTF8.GetBytes($"{value},\"{name2}\":null"))));
        }
        return corpus;
    }

    /// <summary>The valid body with the value at <paramref name="path"/> (added when absent) replaced by raw bytes, and optionally its name too.</summary>
    private static byte[] Replace(string validJson, string path, byte[] raw, byte[]? propertyName = null)
    {
        var root = JsonNode.Parse(validJson)!.AsObject();
        var (parent, name) = Locate(root, path);
        parent[name] = Marker;
        var text = root.ToJsonString();
        var at = text.IndexOf(MarkerJson, StringComparison.Ordinal);
        var before = Encoding.UTF8.GetBytes(text[..at]);
        var after = Encoding.UTF8.GetBytes(text[(at + MarkerJson.Length)..]);
        if (propertyName is not null)
        {
            var nameAt = Array.LastIndexOf(before, (byte)'"', before.Length - 3);
            before = [.. before[..(nameAt + 1)], .. propertyName, .. "\":"u8];
        }
        return [.. before, .. raw, .. after];
    }

    private static byte[] WithUnknownField(string validJson, string? stringValue, string? rawValue = null)
    {
        var raw = rawValue is null ? Encoding.UTF8.GetBytes(JsonValue.Create(stringValue)!.ToJsonString()) : Encoding.UTF8.GetBytes(rawValue);
        return Replace(validJson, "zz_unknown", raw);
    }

    private static byte[] Remove(string validJson, string path)
    {
        var root = JsonNode.Parse(validJson)!.AsObject();
        var (parent, name) = Locate(root, path);
        parent.Remove(name);
        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    private static string ValueAt(string validJson, string path)
    {
        var root = JsonNode.Parse(validJson)!.AsObject();
        var (parent, name) = Locate(root, path);
        return parent[name]?.ToJsonString() ?? "null";
    }

    private static (JsonObject Parent, string Name) Locate(JsonObject root, string path)
    {
        var parts = path.Split('.');
        var parent = root;
        foreach (var part in parts[..^1])
        {
            parent = parent[part]!.AsObject();
        }
        return (parent, parts[^1]);
    }
}
