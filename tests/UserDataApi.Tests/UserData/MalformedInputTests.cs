using System.Text;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;
using static UserDataApi.Tests.Infrastructure.MalformedCorpus;

namespace UserDataApi.Tests.UserData;

/// <summary>SPEC §7: a generated corpus of malformed requests to every sub-family, each answered as documented, none changing stored data.</summary>
public sealed class MalformedInputTests(UserDataFixture fixture) : IClassFixture<UserDataFixture>
{
    private static readonly CorpusField RequestId = new("request_id", NotAnInt64, Required: false);
    private static readonly CorpusField IdentityProvider = new("identity_provider", NotARequiredString);
    private static readonly string[] NotAStorableKeyList = [.. NotAStringArray, "[\"a\\u0000b\"]"];

    /// <summary>Each endpoint's valid request (every field present) and its fields, in one sub-family ("by-idp/set", …).</summary>
    private static (string Endpoint, string ValidJson, CorpusField[] Fields, bool EmptyIsValid)[] RequestsOf(string family)
    {
        var byIdp = family == "by-idp";
        // by-idp's requests name the identity provider; the others' do not (and ignore one that is sent).
        string Json(string fields) => "{\"request_id\":7" + (byIdp ? ",\"identity_provider\":\"telegram\"" : "") + fields + "}";
        CorpusField[] Common(params CorpusField[] fields) => byIdp ? [RequestId, IdentityProvider, .. fields] : [RequestId, .. fields];
        return
        [
            ($"{family}/set", Json(",\"value_key\":\"k\",\"value_data\":\"v\",\"access_scope\":0"), Common(
                new("value_key", NotARequiredString),
                new("value_data", [.. NotARequiredString, "\"a\\u0000b\"", $"\"{new string('x', 65537)}\""]),
                new("access_scope", ["\"1\"", "true", "[]", "{}", "0.5", "2", "-1", "2147483648", "1e400"], Required: false)), false),
            ($"{family}/get", Json(",\"value_keys\":[\"k\"]"), Common(new CorpusField("value_keys", NotAStorableKeyList)), false),
            // Only by-idp's list-get needs a body: the others' stands for an empty request when left out.
            ($"{family}/list-get", Json(""), Common(), !byIdp),
            ($"{family}/shared-list-get", Json(",\"search_id\":\"\",\"page_size\":10"), Common(
                new("search_id", [.. NotAString, "\"!not base64!\"", "\"AAAA\"", "\"AQIDBAUGBwgJCgsMDQ4PEBES\"", "\"\\u0000\""], Required: false),
                new("page_size", ["\"1\"", "true", "-1", "0", "1001", "4294967296", "1.5", "1e400", "[]", "{}"], Required: false)), false),
            ($"{family}/delete", Json(",\"value_keys\":[\"k\"]"), Common(
                new CorpusField("value_keys", [.. NotAStorableKeyList, $"[{string.Join(',', Enumerable.Range(0, 101).Select(i => $"\"k{i}\""))}]"])), false),
        ];
    }

    private static readonly (string Endpoint, string ValidJson, CorpusField[] Fields, bool EmptyIsValid)[] Requests =
        [.. EndpointCases.Families.SelectMany(RequestsOf)];

    private sealed record Case(string Endpoint, MalformedBody Body, string? Authorization, ByIdpResultCode Expected)
    {
        public override string ToString() => $"{Endpoint} / {Body}";
    }

    [Fact]
    public async Task Every_malformed_request_answers_minus_5_or_minus_1_stores_nothing_and_leaves_the_server_healthy()
    {
        var user = UserDataFixture.NewUser();
        var token = fixture.Authority.CreateToken(user);
        var cases = Requests
            .SelectMany(r => Generate(r.ValidJson, r.Fields, r.EmptyIsValid).Select(body => new Case(r.Endpoint, body, "Bearer " + token, ByIdpResultCode.InvalidParameters)))
            .Concat(Requests.SelectMany(r => Authorizations(token).Select(authorization => new Case(
                r.Endpoint, new MalformedBody($"Authorization: {authorization?[..Math.Min(authorization.Length, 40)]}", Encoding.UTF8.GetBytes(r.ValidJson)),
                authorization, ByIdpResultCode.TokenInvalid))))
            .ToList();
        Assert.True(cases.Count >= 1500, $"only {cases.Count} malformed requests");

        var failures = await FailuresAsync(cases, async @case =>
        {
            var answer = await fixture.Client.SendAsync(@case.Body.ToRequest($"/user-data/{@case.Endpoint}", @case.Authorization));
            return answer.Result() == (int)@case.Expected ? null : answer.ToString();
        });

        Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count} answered otherwise:\n" + string.Join('\n', failures.Take(30)));
        Assert.Equal(0, await fixture.CountRecordsAsync(user));
        Assert.Equal(0, await fixture.CountRecordsAsync($"{user}@mail.test"));
        Assert.Equal(0, (await fixture.Client.PostAsync("set", new { identity_provider = "telegram", value_key = "k", value_data = "still fine" }, token)).Result());
        var get = await fixture.Client.PostAsync("get", new { identity_provider = "telegram", value_keys = new[] { "k" } }, token);
        Assert.Equal("still fine", get.GetProperty("values")[0].GetProperty("value_data").GetString());
    }
}
