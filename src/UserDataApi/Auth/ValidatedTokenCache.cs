using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace UserDataApi.Auth;

/// <summary>
/// Callers of tokens that passed full validation, keyed by the token's SHA-256 and kept until the
/// token expires, so that a client app's repeated calls skip signature checks. Bounded: when full,
/// expired entries go first, and if that is not enough the cache starts over.
/// </summary>
/// <remarks>
/// Not <c>IMemoryCache</c>: its keys are objects, so every lookup on the hottest path (each user-data call) would box
/// this 32-byte key and update the entry's last-access time, and its size limit drops new entries until a compaction
/// runs in the background; a dictionary keyed by the hash, emptied of expired entries when full, needs neither.
/// </remarks>
public sealed class ValidatedTokenCache(TimeProvider time)
{
    public const int Capacity = 100_000;

    private readonly ConcurrentDictionary<TokenHash, Entry> _entries = new();

    public bool TryGet(ReadOnlySpan<char> token, out Caller caller)
    {
        var key = TokenHash.Of(token);
        if (_entries.TryGetValue(key, out var entry))
        {
            if (entry.Expires > time.GetUtcNow())
            {
                caller = entry.Caller;
                return true;
            }
            _entries.TryRemove(key, out _);
        }
        caller = null!;
        return false;
    }

    /// <summary>Remembers a validated token until <paramref name="expires"/> (its <c>exp</c>, clock skew included).</summary>
    public void Add(string token, Caller caller, DateTimeOffset expires)
    {
        if (_entries.Count >= Capacity)
        {
            Evict();
        }
        _entries[TokenHash.Of(token)] = new Entry(caller, expires);
    }

    private void Evict()
    {
        var now = time.GetUtcNow();
        foreach (var (key, entry) in _entries)
        {
            if (entry.Expires <= now)
            {
                _entries.TryRemove(key, out _);
            }
        }
        if (_entries.Count >= Capacity)
        {
            _entries.Clear();
        }
    }

    private sealed record Entry(Caller Caller, DateTimeOffset Expires);

    private readonly record struct TokenHash(ulong A, ulong B, ulong C, ulong D)
    {
        public static TokenHash Of(ReadOnlySpan<char> token)
        {
            Span<byte> hash = stackalloc byte[32];
            var length = Encoding.UTF8.GetMaxByteCount(token.Length);
            var rented = length <= 4096 ? null : System.Buffers.ArrayPool<byte>.Shared.Rent(length);
            Span<byte> utf8 = rented ?? stackalloc byte[4096];
            var written = Encoding.UTF8.GetBytes(token, utf8);
            SHA256.HashData(utf8[..written], hash);
            if (rented is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
            var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(hash);
            return new TokenHash(words[0], words[1], words[2], words[3]);
        }
    }
}
