using System.Net;
using System.Text;
using System.Text.Json;
using Npgsql;
using UserDataApi.Intents;
using UserDataApi.Tests.Infrastructure;
using static UserDataApi.Tests.Infrastructure.MalformedCorpus;

namespace UserDataApi.Tests.Intents;

/// <summary>SPEC §7 for the intent API: a generated corpus of malformed requests, each refused in the gateway's shape, none stored.</summary>
public sealed class IntentMalformedInputTests(IntentFixture fixture) : IClassFixture<IntentFixture>
{
    private static readonly string[] NotAnObject = ["\"x\"", "1", "[]", "true"];
    private static readonly string[] NotAUrl = [.. NotARequiredString, "\"\"", "\"/relative\"", "\"javascript:alert(1)\"", "\"https://evil.example/\"", "\"https://login.example/a\\u0000b\""];
    /// <summary>PostgreSQL can neither store nor compare NUL in text.</summary>
    private const string HoldsNul = "\"a\\u0000b\"";

    /// <summary>Each call with a body: its path, a valid body (every field present), and its fields.</summary>
    private static readonly (string Path, string ValidJson, CorpusField[] Fields, bool EmptyBodyIsValid)[] Requests =
    [
        ("/v2/idp_intents",
            $$$"""{"idpId":"{{{IntentFixture.OidcProvider}}}","urls":{"successUrl":"{{{IntentFixture.SuccessUrl}}}","failureUrl":"{{{IntentFixture.FailureUrl}}}"}}""",
            [new("idpId", NotARequiredString), new("urls", [.. NotAnObject, "null"]), new("urls.successUrl", NotAUrl), new("urls.failureUrl", NotAUrl)], false),
        ("/v2/idp_intents/123456789", """{"idpIntentToken":"token"}""", [new("idpIntentToken", NotAString, Required: false)], false),
        ("/v2/users/corpus-user/links", """{"idpLink":{"idpId":"test-oauth","userId":"ext-user","userName":"name"}}""",
            [new("idpLink", [.. NotAnObject, "null"]), new("idpLink.idpId", [.. NotARequiredString, HoldsNul]), new("idpLink.userId", [.. NotARequiredString, HoldsNul]),
             new("idpLink.userName", [.. NotAString, HoldsNul], Required: false)], false),
        ("/v2/users/corpus-user/links/_search", """{"query":{"offset":"0","limit":10,"asc":true}}""",
            [new("query", NotAnObject, Required: false),
             new("query.offset", ["true", "[]", "{}", "\"x\"", "-1", "\"-1\"", "1.5", "18446744073709551616", "1e400"], Required: false),
             new("query.limit", ["true", "[]", "{}", "\"x\"", "-1", "1001", "2147483648", "1.5"], Required: false),
             new("query.asc", ["\"true\"", "1", "[]", "{}"], Required: false)], true),
    ];

    private sealed record Case(string Path, MalformedBody Body, string? Authorization, HttpStatusCode Status, StatusCode Code)
    {
        public override string ToString() => $"{Path} / {Body}";
    }

    [Fact]
    public async Task Every_malformed_request_answers_400_or_401_in_the_gateway_shape_stores_nothing_and_leaves_the_server_healthy()
    {
        // The links are the caller's own, so that the corpus reaches their validation.
        var token = fixture.Authority.CreateToken(userId: "corpus-user", scopes: "idp-intents");
        var cases = Requests
            .SelectMany(r => Generate(r.ValidJson, r.Fields, r.EmptyBodyIsValid).Select(body => new Case(r.Path, body, "Bearer " + token, HttpStatusCode.BadRequest, StatusCode.InvalidArgument)))
            .Concat(Requests.SelectMany(r => Authorizations(token).Select(authorization => new Case(
                r.Path, new MalformedBody($"Authorization: {authorization?[..Math.Min(authorization.Length, 40)]}", Encoding.UTF8.GetBytes(r.ValidJson)),
                authorization, HttpStatusCode.Unauthorized, StatusCode.Unauthenticated))))
            .ToList();
        Assert.True(cases.Count >= 500, $"only {cases.Count} malformed requests");
        var before = await CountRowsAsync();
        using var client = fixture.First.CreateClient();

        var failures = await FailuresAsync(cases, async @case =>
        {
            using var response = await client.SendAsync(@case.Body.ToRequest(@case.Path, @case.Authorization));
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != @case.Status || response.Content.Headers.ContentType?.MediaType != "application/json")
            {
                return $"{(int)response.StatusCode} {body}";
            }
            var error = JsonDocument.Parse(body).RootElement;
            return GatewayErrorShape.Problem(error) is null && (StatusCode)error.GetProperty("code").GetInt32() == @case.Code ? null : body;
        });

        Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count} answered otherwise:\n" + string.Join('\n', failures.Take(30)));
        Assert.Equal(before, await CountRowsAsync());
        using var healthy = await fixture.ClientFor(fixture.First).PostAsync(Requests[0].Path, new StringContent(Requests[0].ValidJson, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
    }

    private async Task<(long Intents, long Links)> CountRowsAsync()
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT (SELECT count(*) FROM idp_intents), (SELECT count(*) FROM idp_links)", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
