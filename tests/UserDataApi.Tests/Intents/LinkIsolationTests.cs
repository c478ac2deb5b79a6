using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using UserDataApi.Tests.Infrastructure;

namespace UserDataApi.Tests.Intents;

/// <summary>
/// Isolation of links, model-based: random add, list and remove calls by users (on their own links and on
/// others'), by a login UI with the admin scope, and by a token without the intents scope, each answer
/// compared with a reference model of SPEC §4.1, and the stored links compared with the model at the end.
/// </summary>
public sealed class LinkIsolationTests(IntentFixture fixture) : IClassFixture<IntentFixture>
{
    private sealed record Caller(string UserId, string Scopes)
    {
        public bool IsAdmin => Scopes.Contains("idp-links-admin");
        public bool HasIntentsScope => Scopes.Contains("idp-intents");
    }

    private sealed record Link(string UserId, string IdpId, string LinkedUserId);

    private readonly HashSet<Link> _model = [];
    private Random _random = null!;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task No_caller_adds_lists_or_removes_links_of_a_user_that_is_not_its_own_without_the_admin_scope(int seed)
    {
        _random = new Random(seed);
        var run = Guid.NewGuid().ToString("N")[..8];
        var users = Enumerable.Range(0, 3).Select(i => $"user-{run}-{i}").ToArray();
        var callers = users.Select(u => new Caller(u, "idp-intents"))
            .Append(new Caller($"login-ui-{run}", IntentFixture.LoginUiScopes))
            .Append(new Caller(users[0], "email user-data-get"))
            .ToArray();
        string[] providers = [IntentFixture.OidcProvider, IntentFixture.OAuthProvider];
        var accounts = Enumerable.Range(0, 4).Select(i => $"ext-{run}-{i}").ToArray();

        for (var step = 0; step < 150; step++)
        {
            var caller = Pick(callers);
            var target = Pick(users);
            var allowed = caller.HasIntentsScope && (caller.UserId == target || caller.IsAdmin);
            // Without the intents scope, or on another user's links without the admin scope: 403 either way.
            const HttpStatusCode expectedDenied = HttpStatusCode.Forbidden;
            using var client = ClientOf(caller);
            var label = $"step {step}: {caller} on {target}";
            switch (_random.Next(3))
            {
                case 0:
                {
                    var link = new Link(target, Pick(providers), Pick(accounts));
                    using var response = await client.PostAsJsonAsync($"/v2/users/{target}/links",
                        new { idpLink = new { idpId = link.IdpId, userId = link.LinkedUserId, userName = "n" } });
                    var taken = _model.Any(l => l.IdpId == link.IdpId && l.LinkedUserId == link.LinkedUserId);
                    var expected = !allowed ? expectedDenied : taken ? HttpStatusCode.Conflict : HttpStatusCode.OK;
                    Assert.True(response.StatusCode == expected, $"{label} add {link}: expected {expected}, got {response.StatusCode}");
                    if (expected == HttpStatusCode.OK)
                    {
                        _model.Add(link);
                    }
                    break;
                }
                case 1:
                {
                    using var response = await client.PostAsJsonAsync($"/v2/users/{target}/links/_search", new { });
                    Assert.True(response.StatusCode == (allowed ? HttpStatusCode.OK : expectedDenied), $"{label} list: {response.StatusCode}");
                    var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                    if (allowed)
                    {
                        var listed = ProtoJsonReading.Repeated(body, "result")
                            .Select(l => new Link(target, l.GetProperty("idpId").GetString()!, l.GetProperty("userId").GetString()!))
                            .Order(Ordering).ToArray();
                        Assert.Equal(_model.Where(l => l.UserId == target).Order(Ordering).ToArray(), listed);
                    }
                    else
                    {
                        Assert.False(body.TryGetProperty("result", out _), $"{label} list leaked {body}");
                    }
                    break;
                }
                default:
                {
                    var link = _random.Next(2) == 0 && _model.Count > 0 ? _model.ElementAt(_random.Next(_model.Count)) : new Link(target, Pick(providers), Pick(accounts));
                    using var response = await client.DeleteAsync($"/v2/users/{link.UserId}/links/{link.IdpId}/{link.LinkedUserId}");
                    var mayRemove = caller.HasIntentsScope && (caller.UserId == link.UserId || caller.IsAdmin);
                    var expected = !mayRemove ? expectedDenied : _model.Contains(link) ? HttpStatusCode.OK : HttpStatusCode.NotFound;
                    Assert.True(response.StatusCode == expected, $"{label} remove {link}: expected {expected}, got {response.StatusCode}");
                    if (expected == HttpStatusCode.OK)
                    {
                        _model.Remove(link);
                    }
                    break;
                }
            }
        }

        Assert.Equal(_model.Order(Ordering).ToArray(), await StoredLinksAsync(users));
    }

    private HttpClient ClientOf(Caller caller)
    {
        var client = fixture.First.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            fixture.Authority.CreateToken(caller.UserId, caller.IsAdmin ? "login-ui" : "demo-app", caller.Scopes));
        return client;
    }

    private static readonly Comparer<Link> Ordering = Comparer<Link>.Create((a, b) => string.CompareOrdinal($"{a}", $"{b}"));

    private async Task<Link[]> StoredLinksAsync(string[] users)
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT user_id, idp_id, linked_user_id FROM idp_links WHERE user_id = ANY($1)", connection);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = users });
        var rows = new List<Link>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(new Link(reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        }
        return rows.Order(Ordering).ToArray();
    }

    private T Pick<T>(T[] choices) => choices[_random.Next(choices.Length)];
}
