using UserDataApi.Auth;
using UserDataApi.Tests.Infrastructure;
using UserDataApi.UserData;

namespace UserDataApi.Tests.Auth;

public sealed class ValidatedTokenCacheTests
{
    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static readonly Caller Alice = new("alice", "app-1", ScopeSet.Parse("email"));

    [Fact]
    public void A_cached_token_is_served_until_its_expiry_and_not_after()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var cache = new ValidatedTokenCache(clock);
        cache.Add("token-a", Alice, clock.Now.AddMinutes(1));

        Assert.True(cache.TryGet("token-a", out var caller));
        Assert.Same(Alice, caller);
        Assert.False(cache.TryGet("token-b", out _));

        clock.Now = clock.Now.AddMinutes(1);
        Assert.False(cache.TryGet("token-a", out _));
    }

    [Fact]
    public void A_full_cache_drops_expired_entries_first_and_stays_bounded()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var cache = new ValidatedTokenCache(clock);
        for (var i = 0; i < ValidatedTokenCache.Capacity; i++)
        {
            cache.Add($"old-{i}", Alice, clock.Now.AddSeconds(i < ValidatedTokenCache.Capacity / 2 ? 1 : 600));
        }
        clock.Now = clock.Now.AddSeconds(2);

        cache.Add("new", Alice, clock.Now.AddMinutes(5));

        Assert.True(cache.TryGet("new", out _));
        Assert.True(cache.TryGet($"old-{ValidatedTokenCache.Capacity - 1}", out _));
        Assert.False(cache.TryGet("old-0", out _));
    }

    [Fact]
    public async Task A_token_answered_from_the_cache_still_expires_on_time()
    {
        await using var authority = await TestAuthority.StartAsync();
        await using var api = await new ApiFactory(authority, await TestPostgres.CreateDatabaseAsync(),
            new Dictionary<string, string?> { ["Auth:ClockSkewSeconds"] = "0" }).StartedAsync();
        var client = new UserDataClient(api.CreateClient());
        // Seconds of life, so that a loaded machine's first calls still come before the expiry; the last call waits for it.
        var expires = DateTime.UtcNow.AddSeconds(6);
        var token = authority.CreateToken(UserDataFixture.NewUser(), expires: expires);
        var body = new { identity_provider = "telegram", value_keys = new[] { "k" } };

        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, (await client.PostAsync("get", body, token)).Result());
        Assert.Equal((int)ByIdpResultCode.SuccessNotFound, (await client.PostAsync("get", body, token)).Result());
        await Task.Delay(TimeSpan.FromTicks(Math.Max(0, (expires.AddSeconds(1.5) - DateTime.UtcNow).Ticks)));

        Assert.Equal((int)ByIdpResultCode.TokenExpired, (await client.PostAsync("get", body, token)).Result());
    }
}
