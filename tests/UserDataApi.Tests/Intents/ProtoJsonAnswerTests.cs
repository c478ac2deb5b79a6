using System.Text;
using Google.Protobuf.WellKnownTypes;
using Microsoft.AspNetCore.Http;
using UserDataApi.Intents.Transports;

namespace UserDataApi.Tests.Intents;

/// <summary>The REST gateway's answers are written from pooled builders, chunk by chunk: they must still be the message's protojson exactly, sent with their length.</summary>
public sealed class ProtoJsonAnswerTests
{
    private static async Task<(string ContentType, byte[] Body)> AnswerAsync(Google.Protobuf.IMessage message)
    {
        var http = new DefaultHttpContext();
        using var body = new MemoryStream();
        http.Response.Body = body;
        await ProtoJson.Ok(message).ExecuteAsync(http);
        // Written at once, with its length, not chunked.
        Assert.Equal(body.Length, http.Response.ContentLength);
        return (http.Response.ContentType!, body.ToArray());
    }

    private static Struct Claims(string text) => new() { Fields = { ["name"] = Value.ForString(text), ["verified"] = Value.ForBool(true) } };

    [Fact]
    public async Task An_answer_longer_than_a_builder_chunk_is_the_same_utf8_protojson_with_every_character_intact()
    {
        // Far beyond the builders' first 16 KiB, with surrogate pairs at every other position, so some fall across chunks.
        var text = string.Concat(Enumerable.Repeat("a\U0001F600é", 40_000));
        var large = Claims(text);

        var (type, body) = await AnswerAsync(large);

        Assert.Equal("application/json; charset=utf-8", type);
        Assert.Equal(Encoding.UTF8.GetBytes(ProtoJson.Format(large)), body);
        using var json = System.Text.Json.JsonDocument.Parse(body);
        Assert.Equal(text, json.RootElement.GetProperty("name").GetString());
    }

    [Fact]
    public async Task A_builder_back_from_a_large_answer_leaves_nothing_of_it_in_the_next()
    {
        await AnswerAsync(Claims(new string('x', 50_000)));

        var small = Claims("Ada");
        var (_, body) = await AnswerAsync(small);

        Assert.Equal("""{ "name": "Ada", "verified": true }""", Encoding.UTF8.GetString(body));
    }
}
