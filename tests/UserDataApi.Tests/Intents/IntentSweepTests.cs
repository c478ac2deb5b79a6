using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using UserDataApi.Tests.Infrastructure;

namespace UserDataApi.Tests.Intents;

/// <summary>
/// SPEC §4.2: intents do not outlive <c>Intents:LifetimeSeconds</c>. Expired ones, succeeded or not, are
/// removed with everything they hold, by every instance's sweep at once; start URLs are bounded.
/// </summary>
public sealed class IntentSweepTests(IntentFixture fixture) : IClassFixture<IntentFixture>
{
    private static readonly Dictionary<string, string?> Sweeping = new() { ["Intents:SweepSeconds"] = "1" };

    [Fact]
    public async Task Expired_intents_pending_succeeded_and_retrieved_are_removed_with_their_secrets_by_two_instances_sweeping_at_once()
    {
        var logs = new LogCapture();
        await using var one = await fixture.StartInstanceAsync(Sweeping, logs);
        await using var two = await fixture.StartInstanceAsync(Sweeping, logs);
        var (pendingState, _) = await fixture.StartIntentAsync(one);
        var (_, authUrl) = await fixture.StartIntentAsync(two);
        var landing = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(
            (await fixture.DeliverCallbackAsync(one, await fixture.SignInAtProviderAsync(authUrl, TestIdentityProvider.Alice))).Query);
        var (_, retrievedUrl) = await fixture.StartIntentAsync(one);
        var retrievedLanding = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(
            (await fixture.DeliverCallbackAsync(two, await fixture.SignInAtProviderAsync(retrievedUrl, TestIdentityProvider.Bob))).Query);
        using var retrieved = await fixture.RetrieveAsync(one, retrievedLanding["id"]!, retrievedLanding["token"]);
        Assert.Equal(HttpStatusCode.OK, retrieved.StatusCode);
        string[] ids = [await fixture.IntentIdOfStateAsync(pendingState), landing["id"]!, retrievedLanding["id"]!];
        Assert.Equal(3, await CountAsync("SELECT count(*) FROM idp_intents WHERE id = ANY($1)", ids));

        // Their lifetime ends now; and many more expired rows than one sweep statement removes, as a flood of starts would leave.
        await TestSql.ExecuteAsync(fixture.ConnectionString, "UPDATE idp_intents SET expires_at = now() - interval '1 second' WHERE id = ANY($1)", (object)ids);
        await TestSql.ExecuteAsync(fixture.ConnectionString, """
            INSERT INTO idp_intents (id, idp_id, resource_owner, client_app_id, state, sequence, state_hash, protected_verifier,
                                     nonce, success_url, failure_url, created_at, changed_at, expires_at)
            SELECT 'flood-' || n, 'test-oidc', 'org-test', 'app-1', 0, 1, sha256(('flood-' || n)::bytea), '\x00', 'nonce',
                   'https://login.example/ok', 'https://login.example/no', now() - interval '2 hours', now() - interval '2 hours', now() - interval '1 hour'
              FROM generate_series(1, 2500) AS n
            """);

        var gone = await WaitUntilAsync(async () =>
            await CountAsync("SELECT count(*) FROM idp_intents WHERE id = ANY($1) OR id LIKE 'flood-%'", ids) == 0, TimeSpan.FromSeconds(20));
        // A sweep says what it removed once its last statement is done, a moment after the rows are gone.
        var said = await WaitUntilAsync(() => Task.FromResult(
            logs.Lines.Any(line => line.Category.EndsWith("IntentSweeper") && line.Message.StartsWith("Removed "))), TimeSpan.FromSeconds(10));

        Assert.True(gone, "expired intents are still stored");
        Assert.DoesNotContain(logs.Lines, line => line.Category.EndsWith("IntentSweeper") && line.Level >= LogLevel.Warning);
        Assert.True(said, "no sweep logged what it removed");
        // Gone: answered as any id that does not exist (SPEC §4.2).
        using var afterwards = await fixture.RetrieveAsync(one, landing["id"]!, landing["token"]);
        Assert.Equal(HttpStatusCode.Forbidden, afterwards.StatusCode);
    }

    [Fact]
    public async Task A_succeeded_intent_lives_its_lifetime_again_from_its_success()
    {
        var (state, authUrl) = await fixture.StartIntentAsync(fixture.First);
        var id = await fixture.IntentIdOfStateAsync(state);
        // Started long ago: a few seconds of its lifetime are left when the user comes back from the provider.
        await TestSql.ExecuteAsync(fixture.ConnectionString, "UPDATE idp_intents SET expires_at = now() + interval '5 seconds' WHERE id = $1", id);

        await fixture.DeliverCallbackAsync(fixture.First, await fixture.SignInAtProviderAsync(authUrl, TestIdentityProvider.Alice));

        var left = await TestSql.ScalarAsync<double>(fixture.ConnectionString, "SELECT extract(epoch FROM expires_at - now())::float8 FROM idp_intents WHERE id = $1", id);
        Assert.InRange(left, 3500, 3600);
    }

    [Fact]
    public async Task Intents_within_their_lifetime_are_kept()
    {
        await using var sweeping = await fixture.StartInstanceAsync(new Dictionary<string, string?> { ["Intents:SweepSeconds"] = "1" });
        var (state, _) = await fixture.StartIntentAsync(sweeping);

        await Task.Delay(TimeSpan.FromSeconds(2.5));

        Assert.Equal(1, await CountAsync("SELECT count(*) FROM idp_intents WHERE id = ANY($1)", [await fixture.IntentIdOfStateAsync(state)]));
    }

    [Fact]
    public async Task Success_and_failure_urls_are_limited_to_2048_characters()
    {
        string UrlOf(int length) => IntentFixture.AllowedOrigin + "/" + new string('a', length - IntentFixture.AllowedOrigin.Length - 1);
        using var client = fixture.ClientFor(fixture.First);

        using var longest = await client.PostAsJsonAsync("/v2/idp_intents",
            new { idpId = IntentFixture.OidcProvider, urls = new { successUrl = UrlOf(2048), failureUrl = UrlOf(2048) } });
        using var tooLongSuccess = await client.PostAsJsonAsync("/v2/idp_intents",
            new { idpId = IntentFixture.OidcProvider, urls = new { successUrl = UrlOf(2049), failureUrl = IntentFixture.FailureUrl } });
        using var tooLongFailure = await client.PostAsJsonAsync("/v2/idp_intents",
            new { idpId = IntentFixture.OidcProvider, urls = new { successUrl = IntentFixture.SuccessUrl, failureUrl = UrlOf(64 * 1024) } });

        Assert.Equal(HttpStatusCode.OK, longest.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, tooLongSuccess.StatusCode);
        Assert.Contains("2048", await tooLongSuccess.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, tooLongFailure.StatusCode);
    }

    private static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }
            await Task.Delay(250);
        }
        return await condition();
    }

    private Task<long> CountAsync(string sql, string[] ids) => TestSql.ScalarAsync<long>(fixture.ConnectionString, sql, (object)ids);
}
