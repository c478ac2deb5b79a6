using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using UserDataApi.Intents;
using UserDataApi.Persistence;
using UserDataApi.Tests.Infrastructure;
using static UserDataApi.Tests.Infrastructure.Waits;

namespace UserDataApi.Tests.Intents;

/// <summary>
/// Concurrent retrieves share one read (<see cref="RetrieveBatcher"/>): the reads that wait while a batch is in the
/// database go out together, and each still gets exactly its own intent, as EF Core stored it, and its own link.
/// </summary>
public sealed class RetrieveBatcherTests(UserDataFixture fixture) : IClassFixture<UserDataFixture>
{
    [Fact]
    public async Task Reads_that_wait_for_a_batch_go_out_together_and_each_gets_its_own_intent_and_link()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var intents = Enumerable.Range(0, 6).Select(i => Intent(run, i)).ToList();
        var linked = intents.Where((_, i) => i % 2 == 0).ToDictionary(i => i.Id, i => $"zitadel-user-{i.Id}");
        using (var scope = fixture.Api.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<UserDataDbContext>();
            db.Intents.AddRange(intents);
            db.Links.AddRange(intents.Where(i => linked.ContainsKey(i.Id)).Select(i => new IdpLink
            {
                IdpId = i.IdpId, LinkedUserId = i.IdpUserId!, LinkedUserName = i.IdpUserName!, UserId = linked[i.Id], ResourceOwner = "org-1",
            }));
            // A link of the same provider user under another provider is not theirs.
            db.Links.Add(new IdpLink { IdpId = "other-idp", LinkedUserId = intents[1].IdpUserId!, LinkedUserName = "x", UserId = "not-theirs", ResourceOwner = "org-1" });
            await db.SaveChangesAsync();
        }
        await using var batcher = new RetrieveBatcher(fixture.Api.Services.GetRequiredService<NpgsqlDataSource>(), maxBatchesInFlight: 1);

        // Hold the first batch in the database while the other reads queue up.
        await using var locked = await RecordsLock.HoldAsync(ConnectionString, "idp_intents");
        var first = batcher.FindAsync(intents[0].Id, CancellationToken.None);
        await UntilAsync(() => batcher.Sent.Batches == 1);
        string[] asked = [.. intents.Skip(1).Select(i => i.Id), $"{run}-missing", intents[3].Id];
        var rest = asked.Select(id => batcher.FindAsync(id, CancellationToken.None)).ToList();
        await Task.Delay(200);
        Assert.False(first.IsCompleted);
        Assert.Equal((1, 1), batcher.Sent);
        await locked.ReleaseAsync();

        var answers = await Task.WhenAll(rest.Prepend(first)).WaitAsync(Patience);

        Assert.Equal((2, asked.Length + 1), batcher.Sent);
        string[] ids = [intents[0].Id, .. asked];
        for (var i = 0; i < ids.Length; i++)
        {
            var stored = intents.SingleOrDefault(intent => intent.Id == ids[i]);
            if (stored is null)
            {
                Assert.Null(answers[i]);
                continue;
            }
            Assert.NotNull(answers[i]);
            Assert.Equal(JsonSerializer.Serialize(stored), JsonSerializer.Serialize(answers[i]!.Intent));
            Assert.Equal(linked.GetValueOrDefault(stored.Id), answers[i]!.LinkedUserId);
        }
    }

    private string ConnectionString =>
        fixture.Api.Services.GetRequiredService<IConfiguration>().GetConnectionString(PersistenceExtensions.ConnectionStringName)!;

    /// <summary>
    /// Intent <paramref name="n"/> of a run: succeeded with tokens (OAuth), with directory attributes (LDAP), or still
    /// started with nothing from a provider yet (every other <paramref name="n"/> of 5); every field set apart.
    /// </summary>
    private static IdpIntent Intent(string run, int n)
    {
        // Far ahead, so that the server's sweep of expired intents never takes them.
        var at = new DateTime(2200, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(n).AddTicks(n * 10);
        var started = n == 5;
        byte[] Bytes(int seed) => [.. Enumerable.Range(0, 32).Select(b => (byte)(b * seed + n))];
        return new IdpIntent
        {
            Id = $"{run}-intent-{n}",
            IdpId = n % 2 == 0 ? "test-oauth" : "test-ldap",
            ResourceOwner = $"org-{n}",
            ClientAppId = $"app-{n}",
            State = started ? IntentState.Started : IntentState.Succeeded,
            Sequence = 10 + n,
            StateHash = Bytes(3),
            ProtectedVerifier = Bytes(5),
            Nonce = $"nonce-{n}",
            SuccessUrl = $"https://login.example/ok/{n}",
            FailureUrl = $"https://login.example/failed/{n}",
            TokenHash = started ? null : Bytes(7),
            IdpUserId = started ? null : $"{run}-provider-user-{n}",
            IdpUserName = started ? null : $"name-{n}",
            // As jsonb gives it back: keys shortest first, ", " and ": " between.
            RawInformation = started ? null : $$"""{"n": {{n}}, "sub": "{{run}}-provider-user-{{n}}"}""",
            ProtectedAccessToken = started || n % 2 == 1 ? null : Bytes(11),
            ProtectedIdToken = n == 0 ? Bytes(13) : null,
            ProtectedLdapAttributes = !started && n % 2 == 1 ? Bytes(17) : null,
            FailureReason = null,
            CreatedAt = at,
            ChangedAt = at.AddMinutes(1),
            ExpiresAt = at.AddHours(1),
        };
    }
}
