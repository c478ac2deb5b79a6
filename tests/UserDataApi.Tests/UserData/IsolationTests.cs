using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using UserDataApi.Persistence;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;

namespace UserDataApi.Tests.UserData;

/// <summary>
/// Isolation, model-based: random calls of every endpoint of the three sub-families by every combination of user,
/// client app, token scopes and client-app claim, each answer compared with a reference model of SPEC §3 and §3.4,
/// and the stored rows compared with the model at the end. Nobody reads, lists, overwrites or deletes what is not
/// theirs to, and no family reaches another's records.
/// </summary>
public sealed class IsolationTests(UserDataFixture fixture) : IClassFixture<UserDataFixture>
{
    private const string ReadScopes = "email user-data-get";
    private const string WriteScopes = "email user-data-set";
    private static readonly string[] Apps = ["app-a", "app-b", "app-c"];
    /// <summary>Where a call files its records: a family, and by-idp's identity provider ("Telegram" is not in the catalog).</summary>
    private static readonly Place[] Places =
    [
        new("by-idp", "telegram"), new("by-idp", "google"), new("by-idp", "Telegram"), new("by-user-id", ""), new("by-email", ""),
    ];
    private static readonly string[] Keys = ["k0", "k1", "k2", "k3"];
    private static readonly string[] Endpoints = ["set", "get", "list-get", "shared-list-get", "delete"];

    private sealed record Stored(string Value, int Scope, string App);

    private sealed record Caller(string User, string App);

    private sealed record Place(string Family, string Idp)
    {
        public bool ByIdp => Family == "by-idp";
        public bool Known => Idp != "Telegram";
        public int KeyAccessDenied => ByIdp ? (int)ByIdpResultCode.KeyAccessDenied : (int)ByUserIdResultCode.KeyAccessDenied;
        public short FamilyNumber => Family switch { "by-idp" => 0, "by-user-id" => 1, _ => 2 };
    }

    private readonly Dictionary<(string User, Place Place, string Key), Stored> _model = [];
    private readonly Dictionary<(Caller Caller, Place Place), string> _cursors = [];
    private Random _random = null!;
    private int _step;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task No_caller_reads_lists_overwrites_or_deletes_what_is_not_theirs(int seed)
    {
        _random = new Random(seed);
        var users = Enumerable.Range(0, 3).Select(_ => UserDataFixture.NewUser()).ToArray();
        var callers = users.SelectMany(user => Apps.Select(app => new Caller(user, app))).ToArray();

        for (var round = 0; round < 6; round++)
        {
            foreach (var caller in callers)
            {
                foreach (var endpoint in Endpoints.OrderBy(_ => _random.Next()))
                {
                    _step++;
                    await CallAndCheckAsync(caller, endpoint);
                }
            }
        }

        // by-email files under the token's email, which the test authority makes {user}@mail.test.
        var owners = users.Concat(users.Select(EmailOf)).ToArray();
        await using var services = fixture.Api.Services.CreateAsyncScope();
        var rows = await services.ServiceProvider.GetRequiredService<UserDataDbContext>().Records.AsNoTracking()
            .Where(r => owners.Contains(r.UserId))
            .ToDictionaryAsync(r => $"{r.UserId}|{(short)r.Family}|{r.IdentityProvider}|{r.Key}", r => new Stored(r.Value, (int)r.AccessScope, r.ClientAppId));
        var expected = _model.ToDictionary(
            e => $"{(e.Key.Place.ByIdp || e.Key.Place.Family == "by-user-id" ? e.Key.User : EmailOf(e.Key.User))}|{e.Key.Place.FamilyNumber}|{e.Key.Place.Idp}|{e.Key.Key}",
            e => e.Value);
        Assert.Equal(expected.OrderBy(e => e.Key), rows.OrderBy(e => e.Key));
    }

    private async Task CallAndCheckAsync(Caller caller, string endpoint)
    {
        var scopes = Pick("email user-data-get user-data-set", "email user-data-get user-data-set", "email user-data-get user-data-set", ReadScopes, WriteScopes);
        var writes = endpoint is "set" or "delete";
        var allowed = scopes.Contains(writes ? "user-data-set" : "user-data-get");
        // The client app is azp, else client_id: both must name the same caller.
        var viaClientId = _random.Next(2) == 0;
        var token = fixture.Authority.CreateToken(caller.User, viaClientId ? null : caller.App, scopes,
            tweak: viaClientId ? d => d.Claims["client_id"] = caller.App : null);
        var place = Pick(Places);
        var known = place.Known;

        switch (endpoint)
        {
            case "set":
            {
                var key = Pick(Keys);
                var value = $"value-{_step}";
                var scope = _random.Next(2);
                var answer = await CallAsync(place, "set", new { value_key = key, value_data = value, access_scope = scope }, token);
                var owner = _model.GetValueOrDefault((caller.User, place, key));
                var expected = !allowed ? (int)ByIdpResultCode.AccessDenied : !known ? (int)ByIdpResultCode.IdentityProviderNotFound
                    : owner is not null && owner.App != caller.App ? place.KeyAccessDenied : (int)ByIdpResultCode.Success;
                Expect(expected, answer, caller, place, endpoint);
                if (expected == (int)ByIdpResultCode.Success)
                {
                    _model[(caller.User, place, key)] = new Stored(value, scope, caller.App);
                }
                break;
            }
            case "get":
            {
                var keys = Enumerable.Range(0, _random.Next(1, 6)).Select(_ => Pick(Keys)).ToArray();
                var answer = await CallAsync(place, "get", new { value_keys = keys }, token);
                var visible = keys.Distinct()
                    .Where(_ => allowed && known)
                    .Select(k => (Key: k, Record: _model.GetValueOrDefault((caller.User, place, k))))
                    .Where(v => v.Record is not null && (v.Record.App == caller.App || v.Record.Scope == 1))
                    .Select(v => $"{v.Key}={v.Record!.Value}")
                    .ToArray();
                Expect(!allowed ? ByIdpResultCode.AccessDenied : !known ? ByIdpResultCode.IdentityProviderNotFound
                    : visible.Length > 0 ? ByIdpResultCode.Success : ByIdpResultCode.SuccessNotFound, answer, caller, place, endpoint);
                Assert.Equal(visible, answer.GetProperty("values").EnumerateArray()
                    .Select(v => $"{v.GetProperty("value_key").GetString()}={v.GetProperty("value_data").GetString()}"));
                break;
            }
            case "list-get":
            {
                var answer = await CallAsync(place, "list-get", new { }, token);
                var answered = allowed && known;
                var own = Owned(caller, place, r => answered && r.App == caller.App);
                Expect(!allowed ? ByIdpResultCode.AccessDenied : !known ? ByIdpResultCode.IdentityProviderNotFound
                    : own.Length > 0 ? ByIdpResultCode.Success : ByIdpResultCode.SuccessNotFound, answer, caller, place, endpoint);
                Assert.Equal(Owned(caller, place, r => answered && r.App == caller.App && r.Scope == 0), answer.Strings("keys_private"));
                Assert.Equal(Owned(caller, place, r => answered && r.App == caller.App && r.Scope == 1), answer.Strings("keys_public"));
                break;
            }
            case "shared-list-get":
                await PageThroughSharedAsync(caller, place, token, allowed, known);
                break;
            case "delete":
            {
                var keys = Enumerable.Range(0, _random.Next(1, 4)).Select(_ => Pick(Keys)).Distinct().ToArray();
                var answer = await CallAsync(place, "delete", new { value_keys = keys }, token);
                var own = keys.Where(k => _model.GetValueOrDefault((caller.User, place, k)) is { } r && r.App == caller.App).ToArray();
                var foreign = keys.Any(k => _model.GetValueOrDefault((caller.User, place, k)) is { } r && r.App != caller.App);
                // by-idp removes all or nothing (-7 for another app's key); the others remove the caller's own and leave the rest.
                var removes = allowed && known && (!place.ByIdp || !foreign);
                var expected = !allowed ? (int)ByIdpResultCode.AccessDenied : !known ? (int)ByIdpResultCode.IdentityProviderNotFound
                    : place.ByIdp && foreign ? (int)ByIdpResultCode.KeyAccessDenied
                    : place.ByIdp ? (keys.Any(k => _model.ContainsKey((caller.User, place, k))) ? 0 : 1)
                    : own.Length > 0 ? 0 : 1;
                Expect(expected, answer, caller, place, endpoint);
                if (place.Family == "by-user-id" && allowed)
                {
                    Assert.Equal(keys.Select(k => $"{k}={own.Contains(k)}"), answer.GetProperty("keys_delete_results").EnumerateArray()
                        .Select(r => $"{r.GetProperty("value_key").GetString()}={r.GetProperty("is_deleted").GetBoolean()}"));
                }
                if (removes)
                {
                    foreach (var key in own)
                    {
                        _model.Remove((caller.User, place, key));
                    }
                }
                break;
            }
        }
    }

    /// <summary>Pages through shared-list-get; now and then sends a cursor issued to another caller, which must be refused.</summary>
    private async Task PageThroughSharedAsync(Caller caller, Place place, string token, bool allowed, bool known)
    {
        var pageSize = _random.Next(1, 4);
        // Another caller's cursor, or this caller's from another family or identity provider.
        var borrowed = _cursors.Where(c => c.Key != (caller, place)).Select(c => c.Value).OrderBy(_ => _random.Next()).FirstOrDefault();
        if (borrowed is not null && _random.Next(3) == 0)
        {
            var refused = await CallAsync(place, "shared-list-get", new { page_size = pageSize, search_id = borrowed }, token);
            Expect(!allowed ? ByIdpResultCode.AccessDenied : !known ? ByIdpResultCode.IdentityProviderNotFound : ByIdpResultCode.InvalidParameters, refused, caller, place, "shared-list-get");
            return;
        }

        var expected = Owned(caller, place, r => r.App != caller.App && r.Scope == 1);
        var listed = new List<string>();
        var searchId = "";
        for (var page = 0; ; page++)
        {
            var answer = await CallAsync(place, "shared-list-get", new { page_size = pageSize, search_id = searchId }, token);
            if (!allowed || !known)
            {
                Expect(!allowed ? ByIdpResultCode.AccessDenied : ByIdpResultCode.IdentityProviderNotFound, answer, caller, place, "shared-list-get");
                return;
            }
            Expect(page == 0 && expected.Length == 0 ? ByIdpResultCode.SuccessNotFound : ByIdpResultCode.Success, answer, caller, place, "shared-list-get");
            listed.AddRange(answer.Strings("keys_shared"));
            searchId = answer.GetProperty("next_search_id").GetString()!;
            if (searchId == "")
            {
                break;
            }
            _cursors[(caller, place)] = searchId;
        }
        Assert.Equal(expected, listed);
    }

    private string[] Owned(Caller caller, Place place, Func<Stored, bool> filter) =>
        _model.Where(e => e.Key.User == caller.User && e.Key.Place == place && filter(e.Value))
            .Select(e => e.Key.Key)
            .Order(StringComparer.Ordinal)
            .ToArray();

    private Task<JsonElement> CallAsync(Place place, string endpoint, object fields, string token)
    {
        var body = JsonSerializer.SerializeToNode(fields)!.AsObject();
        if (place.ByIdp)
        {
            body["identity_provider"] = place.Idp;
        }
        return fixture.Client.PostAsync($"{place.Family}/{endpoint}", body, token);
    }

    private static string EmailOf(string user) => $"{user}@mail.test";

    // The codes before storage (1, 0, -1 … -5) are one number in every family's table; by-idp's names them here.
    private void Expect(ByIdpResultCode expected, JsonElement answer, Caller caller, Place place, string endpoint) =>
        Expect((int)expected, answer, caller, place, endpoint);

    private void Expect(int expected, JsonElement answer, Caller caller, Place place, string endpoint) =>
        Assert.True(answer.Result() == expected, $"step {_step}: {caller} {place} {endpoint} expected {expected}, got {answer}");

    private T Pick<T>(params T[] choices) => choices[_random.Next(choices.Length)];
}
