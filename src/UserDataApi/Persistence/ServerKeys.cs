using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;

namespace UserDataApi.Persistence;

/// <summary>Named 256-bit keys shared by all instances through PostgreSQL; created on first use, then cached.</summary>
public sealed class ServerKeys(IServiceScopeFactory scopes)
{
    private readonly ConcurrentDictionary<string, byte[]> _cache = new(StringComparer.Ordinal);

    /// <summary>Whether <see cref="GetAsync"/> answers <paramref name="name"/> from the cache, without the database.</summary>
    public bool IsCached(string name) => _cache.ContainsKey(name);

    public async ValueTask<byte[]> GetAsync(string name, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(name, out var cached))
        {
            return cached;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<UserDataDbContext>();
        var candidate = RandomNumberGenerator.GetBytes(32);
        // Whichever instance inserts first wins; every instance then reads the same row.
        await db.Database.ExecuteSqlAsync(
            $"INSERT INTO server_keys (name, material, created_at) VALUES ({name}, {candidate}, now()) ON CONFLICT (name) DO NOTHING",
            cancellationToken);
        var material = await db.ServerKeys.AsNoTracking().Where(k => k.Name == name).Select(k => k.Material).SingleAsync(cancellationToken);
        return _cache.GetOrAdd(name, material);
    }
}
