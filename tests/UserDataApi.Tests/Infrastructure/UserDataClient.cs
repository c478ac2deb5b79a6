using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>
/// Calls the user-data endpoints with raw JSON and checks what every answer must be: HTTP 200, JSON, UTF-8, its length. An
/// endpoint is named with its sub-family ("by-user-id/get"), or alone for by-idp's ("get").
/// </summary>
public sealed class UserDataClient(HttpClient http)
{
    public Task<JsonElement> PostAsync(string endpoint, object body, string? token) =>
        PostRawAsync(endpoint, JsonSerializer.Serialize(body), token);

    public async Task<JsonElement> PostRawAsync(string endpoint, string body, string? token, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, PathOf(endpoint))
        {
            Content = new StringContent(body, Encoding.UTF8),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return await SendAsync(request);
    }

    public static string PathOf(string endpoint) => "/user-data/" + (endpoint.Contains('/') ? endpoint : "by-idp/" + endpoint);

    public async Task<JsonElement> SendAsync(HttpRequestMessage request)
    {
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        var text = Encoding.UTF8.GetString(body);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"HTTP {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet, ignoreCase: true);
        // Sent with its length, not chunked (the header as the server sent it, not one HttpClient computed).
        Assert.True(response.Content.Headers.NonValidated.TryGetValues("Content-Length", out var length), $"no Content-Length: {text}");
        Assert.Equal(body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), length.ToString());
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}

public static class AnswerExtensions
{
    public static int Result(this JsonElement answer) => answer.GetProperty("result").GetInt32();

    public static string[] Strings(this JsonElement answer, string property) =>
        answer.GetProperty(property).EnumerateArray().Select(e => e.GetString()!).ToArray();
}
