using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using UserDataApi.Persistence;

namespace UserDataApi.Intents;

/// <summary>
/// Seals anew, with Data Protection, the secrets of intents sealed before it (AES-GCM under a key kept in
/// <c>server_keys</c>, beside the data), then deletes that key: once this has run, a dump of the database
/// holds no key that opens anything. Runs at start-up on every instance; each row is sealed anew once.
/// </summary>
public sealed class LegacySeals(IServiceScopeFactory scopes, IntentSecrets secrets, ILogger<LegacySeals> logger) : BackgroundService
{
    /// <summary>The <c>server_keys</c> row the earlier sealing used.</summary>
    internal const string LegacyKeyName = "intent-encryption";

    private static readonly TimeSpan RetryAfter = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                await ResealAsync(stoppingToken);
                return;
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Sealing earlier intents anew failed ({Reason}); retrying in {Seconds} s", exception.Message, RetryAfter.TotalSeconds);
            }
            await Task.Delay(RetryAfter, stoppingToken);
        }
    }

    internal async Task ResealAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<UserDataDbContext>();
        var key = await db.ServerKeys.AsNoTracking().Where(k => k.Name == LegacyKeyName).Select(k => k.Material).SingleOrDefaultAsync(cancellationToken);
        if (key is null)
        {
            return;
        }

        var rows = await db.Intents.AsNoTracking().Where(i => i.LegacySealed).ToListAsync(cancellationToken);
        var resealed = 0;
        foreach (var row in rows)
        {
            try
            {
                var verifier = secrets.Seal(row.Id, SealedField.Verifier, IntentSecrets.OpenLegacy(key, row.ProtectedVerifier));
                var accessToken = Reseal(key, row.Id, SealedField.AccessToken, row.ProtectedAccessToken);
                var idToken = Reseal(key, row.Id, SealedField.IdToken, row.ProtectedIdToken);
                resealed += await db.Intents.Where(i => i.Id == row.Id && i.LegacySealed).ExecuteUpdateAsync(set => set
                    .SetProperty(i => i.ProtectedVerifier, verifier)
                    .SetProperty(i => i.ProtectedAccessToken, accessToken)
                    .SetProperty(i => i.ProtectedIdToken, idToken)
                    .SetProperty(i => i.LegacySealed, false), cancellationToken);
            }
            catch (CryptographicException)
            {
                // Not sealed with that key (damaged): it could never be opened, so it goes.
                logger.LogWarning("Intent {IntentId} does not open with the earlier key; removing it", row.Id);
                await db.Intents.Where(i => i.Id == row.Id && i.LegacySealed).ExecuteDeleteAsync(cancellationToken);
            }
        }

        if (!await db.Intents.AnyAsync(i => i.LegacySealed, cancellationToken))
        {
            await db.ServerKeys.Where(k => k.Name == LegacyKeyName).ExecuteDeleteAsync(cancellationToken);
            logger.LogInformation("Sealed {Count} earlier intents anew with Data Protection; the key kept beside them is deleted", resealed);
        }
    }

    private byte[]? Reseal(byte[] key, string intentId, SealedField field, byte[]? sealedBytes) =>
        sealedBytes is null ? null : secrets.Seal(intentId, field, IntentSecrets.OpenLegacy(key, sealedBytes));
}
