using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>How a <see cref="ProviderAnswer"/> ends.</summary>
public enum AnswerKind
{
    /// <summary>Status, headers and the whole body.</summary>
    Complete,
    /// <summary>Status, headers and the start of the body, then nothing more.</summary>
    StallsMidBody,
    /// <summary>Nothing at all, until the caller gives up.</summary>
    Hangs,
    /// <summary>The connection is closed without an answer.</summary>
    Drops,
    /// <summary>Nobody listens: the endpoint's port is closed.</summary>
    Refuses,
}

/// <summary>What one endpoint of a <see cref="MisbehavingProvider"/> answers.</summary>
public sealed record ProviderAnswer(AnswerKind Kind, int Status = StatusCodes.Status200OK, string ContentType = "application/json", string Body = "")
{
    public static readonly ProviderAnswer Hang = new(AnswerKind.Hangs);
    public static readonly ProviderAnswer Drop = new(AnswerKind.Drops);
    public static readonly ProviderAnswer ConnectionRefused = new(AnswerKind.Refuses);

    public static ProviderAnswer Json(string body) => new(AnswerKind.Complete, Body: body);

    public static ProviderAnswer Text(int status, string contentType, string body) => new(AnswerKind.Complete, status, contentType, body);

    public static ProviderAnswer StallingAfter(string start) => new(AnswerKind.StallsMidBody, Body: start);
}

/// <summary>
/// An identity provider on 127.0.0.1 that answers whatever a test registered: each
/// <see cref="ProviderAnswer"/> gets an endpoint URL of its own (requests below it get the same
/// answer), and an <see cref="OidcIssuer"/> serves a discovery document naming such endpoints. It
/// counts, per endpoint, the requests that arrived and the ones their caller abandoned.
/// </summary>
public sealed class MisbehavingProvider : IAsyncDisposable
{
    /// <summary>A port nothing listens on (binding it needs root), as in the tests' unreachable databases.</summary>
    private const string ClosedPortUrl = "http://127.0.0.1:1";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, ProviderAnswer> _answers = new();
    private readonly ConcurrentDictionary<string, JsonObject> _discovery = new();
    private readonly ConcurrentDictionary<string, int> _arrived = new();
    private readonly ConcurrentDictionary<string, int> _abandoned = new();
    private int _registered;

    private MisbehavingProvider(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    public static async Task<MisbehavingProvider> StartAsync()
    {
        var app = LoopbackApp.CreateBuilder().Build();
        var provider = new MisbehavingProvider(app);
        app.Map("/answers/{id}/{**rest}", (string id, HttpContext context) => provider.AnswerAsync(id, context));
        app.MapGet("/issuers/{id}/.well-known/openid-configuration", (string id) =>
            provider._discovery.TryGetValue(id, out var document) ? Results.Json(document) : Results.NotFound());
        app.MapGet("/jwks", () => Results.Json(new { keys = Array.Empty<object>() }));
        provider.BaseUrl = await LoopbackApp.StartAsync(app);
        return provider;
    }

    /// <summary>A URL that answers <paramref name="answer"/>.</summary>
    public string Endpoint(ProviderAnswer answer)
    {
        var id = Interlocked.Increment(ref _registered).ToString();
        if (answer.Kind == AnswerKind.Refuses)
        {
            return $"{ClosedPortUrl}/answers/{id}";
        }
        _answers[id] = answer;
        return $"{BaseUrl}/answers/{id}";
    }

    /// <summary>An OpenID Connect issuer whose token endpoint answers <paramref name="token"/>, with an empty key set unless told otherwise.</summary>
    public string OidcIssuer(ProviderAnswer token, ProviderAnswer? keySet = null)
    {
        var id = Interlocked.Increment(ref _registered).ToString();
        var issuer = $"{BaseUrl}/issuers/{id}";
        _discovery[id] = new JsonObject
        {
            ["issuer"] = issuer,
            ["authorization_endpoint"] = $"{BaseUrl}/authorize",
            ["token_endpoint"] = Endpoint(token),
            ["jwks_uri"] = keySet is null ? $"{BaseUrl}/jwks" : Endpoint(keySet),
            ["response_types_supported"] = new JsonArray("code"),
            ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
        };
        return issuer;
    }

    /// <summary>The token endpoint an <see cref="OidcIssuer"/>'s discovery document names.</summary>
    public string TokenEndpointOf(string issuer) => _discovery[IdOf(issuer)]["token_endpoint"]!.GetValue<string>();

    /// <summary>From now on, the endpoint at <paramref name="url"/> answers <paramref name="answer"/>.</summary>
    public void ChangeAnswer(string url, ProviderAnswer answer) => _answers[IdOf(url)] = answer;

    /// <summary>How many requests reached the endpoint at <paramref name="url"/>.</summary>
    public int ArrivedAt(string url) => _arrived.GetValueOrDefault(IdOf(url));

    /// <summary>How many requests to the endpoint at <paramref name="url"/> were abandoned by their caller while it hung.</summary>
    public int AbandonedAt(string url) => _abandoned.GetValueOrDefault(IdOf(url));

    private static string IdOf(string url) => new Uri(url).Segments[2].TrimEnd('/');

    private async Task AnswerAsync(string id, HttpContext context)
    {
        _arrived.AddOrUpdate(id, 1, (_, count) => count + 1);
        if (!_answers.TryGetValue(id, out var answer))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        switch (answer.Kind)
        {
            case AnswerKind.Drops:
                context.Abort();
                return;
            case AnswerKind.Hangs:
                await HangAsync(id, context);
                return;
        }
        context.Response.StatusCode = answer.Status;
        context.Response.ContentType = answer.ContentType;
        await context.Response.WriteAsync(answer.Body);
        if (answer.Kind == AnswerKind.StallsMidBody)
        {
            await context.Response.Body.FlushAsync();
            await HangAsync(id, context);
        }
    }

    private async Task HangAsync(string id, HttpContext context)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            _abandoned.AddOrUpdate(id, 1, (_, count) => count + 1);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // A request still hanging would otherwise hold a graceful stop for its whole 30 s.
        using var quickly = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        await _app.StopAsync(quickly.Token);
        await _app.DisposeAsync();
    }
}
