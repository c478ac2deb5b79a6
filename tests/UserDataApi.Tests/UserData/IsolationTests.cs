using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using UserDataApi.Persistence;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;

namespace UserDataApi.Tests.UserData;

/// <summary>
/// Isolation, model-based: random calls of every endpoint by every combination of user, client app, token
/// scopes and client-app claim, each answer compared with a reference model of SPEC §3, and the stored rows
/// compared with the model at the end. Nobody reads, lists, overwrites or deletes what is not theirs to.
/// </summary>
public sealed class IsolationTests(UserDataFixture fixture) : IClassFixture<UserDataFixture>
{
    private const string ReadScopes = "email user-data-get";
    private const string WriteScopes = "email user-data-set";
    private static readonly string[] Apps = ["app-a", "app-b", "app-c"];
    private static readonly string[] IdentityProviders = ["telegram", "google"];
    private static readonly string[] Keys = ["k0", "k1", "k2", "k3"];
    private static readonly string[] Endpoints = ["set", "get", "list-get", "shared-list-get", "delete"];

    private sealed record Stored(string Value, int Scope, string App);

    private sealed record Caller(string User, string App);

    private readonly Dictionary<(string User, string Idp, string Key), Stored> _model = [];
    private readonly Dictionary<(Caller Caller, string Idp), string> _cursors = [];
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

        await using var services = fixture.Api.Services.CreateAsyncScope();
        var rows = await services.ServiceProvider.GetRequiredService<UserDataDbContext>().Records.AsNoTracking()
            .Where(r => users.Contains(r.UserId))
            .ToDictionaryAsync(r => (r.UserId, r.IdentityProvider, r.Key), r => new Stored(r.Value, (int)r.AccessScope, r.ClientAppId));
        Assert.Equal(_model.OrderBy(e => e.Key), rows.OrderBy(e => e.Key));
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
        var idp = _random.Next(10) == 0 ? "Telegram" : Pick(IdentityProviders);
        var known = idp != "Telegram";

        switch (endpoint)
        {
            case "set":
            {
                var key = Pick(Keys);
                var value = $"value-{_step}";
                var scope = _random.Next(2);
                var answer = await CallAsync("set", new { identity_provider = idp, value_key = key, value_data = value, access_scope = scope }, token);
                var owner = _model.GetValueOrDefault((caller.User, idp, key));
                var expected = !allowed ? ResultCode.AccessDenied : !known ? ResultCode.IdentityProviderNotFound
                    : owner is not null && owner.App != caller.App ? ResultCode.KeyAccessDenied : ResultCode.Success;
                Expect(expected, answer, caller, endpoint);
                if (expected == ResultCode.Success)
                {
                    _model[(caller.User, idp, key)] = new Stored(value, scope, caller.App);
                }
                break;
            }
            case "get":
            {
                var keys = Enumerable.Range(0, _random.Next(1, 6)).Select(_ => Pick(Keys)).ToArray();
                var answer = await CallAsync("get", new { identity_provider = idp, value_keys = keys }, token);
                var visible = keys.Distinct()
                    .Where(_ => allowed && known)
                    .Select(k => (Key: k, Record: _model.GetValueOrDefault((caller.User, idp, k))))
                    .Where(v => v.Record is not null && (v.Record.App == caller.App || v.Record.Scope == 1))
                    .Select(v => $"{v.Key}={v.Record!.Value}")
                    .ToArray();
                Expect(!allowed ? ResultCode.AccessDenied : !known ? ResultCode.IdentityProviderNotFound
                    : visible.Length > 0 ? ResultCode.Success : ResultCode.SuccessNotFound, answer, caller, endpoint);
                Assert.Equal(visible, answer.GetProperty("values").EnumerateArray()
                    .Select(v => $"{v.GetProperty("value_key").GetString()}={v.GetProperty("value_data").GetString()}"));
                break;
            }
            case "list-get":
            {
                var answer = await CallAsync("list-get", new { identity_provider = idp }, token);
                var answered = allowed && known;
                var own = Owned(caller, idp, r => answered && r.App == caller.App);
                Expect(!allowed ? ResultCode.AccessDenied : !known ? ResultCode.IdentityProviderNotFound
                    : own.Length > 0 ? ResultCode.Success : ResultCode.SuccessNotFound, answer, caller, endpoint);
                Assert.Equal(Owned(caller, idp, r => answered && r.App == caller.App && r.Scope == 0), answer.Strings("keys_private"));
                Assert.Equal(Owned(caller, idp, r => answered && r.App == caller.App && r.Scope == 1), answer.Strings("keys_public"));
                break;
            }
            case "shared-list-get":
                await PageThroughSharedAsync(caller, idp, token, allowed, known);
                break;
            case "delete":
            {
                var keys = Enumerable.Range(0, _random.Next(1, 4)).Select(_ => Pick(Keys)).Distinct().ToArray();
                var answer = await CallAsync("delete", new { identity_provider = idp, value_keys = keys }, token);
                var existing = keys.Select(k => _model.GetValueOrDefault((caller.User, idp, k))).Where(r => r is not null).ToArray();
                var expected = !allowed ? ResultCode.AccessDenied : !known ? ResultCode.IdentityProviderNotFound
                    : existing.Any(r => r!.App != caller.App) ? ResultCode.KeyAccessDenied
                    : existing.Length == 0 ? ResultCode.SuccessNotFound : ResultCode.Success;
                Expect(expected, answer, caller, endpoint);
                if (expected == ResultCode.Success)
                {
                    foreach (var key in keys)
                    {
                        _model.Remove((caller.User, idp, key));
                    }
                }
                break;
            }
        }
    }

    /// <summary>Pages through shared-list-get; now and then sends a cursor issued to another caller, which must be refused.</summary>
    private async Task PageThroughSharedAsync(Caller caller, string idp, string token, bool allowed, bool known)
    {
        var pageSize = _random.Next(1, 4);
        var borrowed = _cursors.Where(c => c.Key != (caller, idp)).Select(c => c.Value).FirstOrDefault();
        if (borrowed is not null && _random.Next(3) == 0)
        {
            var refused = await CallAsync("shared-list-get", new { identity_provider = idp, page_size = pageSize, search_id = borrowed }, token);
            Expect(!allowed ? ResultCode.AccessDenied : !known ? ResultCode.IdentityProviderNotFound : ResultCode.InvalidParameters, refused, caller, "shared-list-get");
            return;
        }

        var expected = Owned(caller, idp, r => r.App != caller.App && r.Scope == 1);
        var listed = new List<string>();
        var searchId = "";
        for (var page = 0; ; page++)
        {
            var answer = await CallAsync("shared-list-get", new { identity_provider = idp, page_size = pageSize, search_id = searchId }, token);
            if (!allowed || !known)
            {
                Expect(!allowed ? ResultCode.AccessDenied : ResultCode.IdentityProviderNotFound, answer, caller, "shared-list-get");
                return;
            }
            Expect(page == 0 && expected.Length == 0 ? ResultCode.SuccessNotFound : ResultCode.Success, answer, caller, "shared-list-get");
            listed.AddRange(answer.Strings("keys_shared"));
            searchId = answer.GetProperty("next_search_id").GetString()!;
            if (searchId == "")
            {
                break;
            }
            _cursors[(caller, idp)] = searchId;
        }
        Assert.Equal(expected, listed);
    }

    private string[] Owned(Caller caller, string idp, Func<Stored, bool> filter) =>
        _model.Where(e => e.Key.User == caller.User && e.Key.Idp == idp && filter(e.Value))
            .Select(e => e.Key.Key)
            .Order(StringComparer.Ordinal)
            .ToArray();

    private Task<JsonElement> CallAsync(string endpoint, object body, string token) => fixture.Client.PostAsync(endpoint, body, token);

    private void Expect(ResultCode expected, JsonElement answer, Caller caller, string endpoint) =>
        Assert.True(answer.Result() == (int)expected, $"step {_step}: {caller} {endpoint} expected {(int)expected}, got {answer}");

    private T Pick<T>(params T[] choices) => choices[_random.Next(choices.Length)];
}
