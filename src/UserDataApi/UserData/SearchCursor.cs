using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using UserDataApi.Auth;
using UserDataApi.Persistence;

namespace UserDataApi.UserData;

/// <summary>
/// The opaque <c>search_id</c> of shared-list-get: the last key of a page, signed with a key that all
/// instances share and bound to the caller and the filing (family, user, identity provider), so that a forged, altered or
/// borrowed cursor is told apart from a real one.
/// </summary>
public sealed class SearchCursor(ServerKeys keys)
{
    private const string KeyName = "shared-list-cursor";
    private const byte Version = 1;
    private const int MacLength = 16;

    /// <summary>Whether creating and reading cursors needs no database: the signing key is cached.</summary>
    public bool IsKeyCached => keys.IsCached(KeyName);

    public async ValueTask<string> CreateAsync(Caller caller, Filing filing, string lastKey, CancellationToken cancellationToken)
    {
        var key = Encoding.UTF8.GetBytes(lastKey);
        var cursor = new byte[1 + MacLength + key.Length];
        cursor[0] = Version;
        Sign(await keys.GetAsync(KeyName, cancellationToken), caller, filing, key).CopyTo(cursor, 1);
        key.CopyTo(cursor, 1 + MacLength);
        return Base64Url.EncodeToString(cursor);
    }

    /// <summary>The last key the cursor stands for, or null when this server did not issue it for this caller.</summary>
    public async ValueTask<string?> ReadAsync(string searchId, Caller caller, Filing filing, CancellationToken cancellationToken)
    {
        var secret = await keys.GetAsync(KeyName, cancellationToken);
        byte[] cursor;
        try
        {
            cursor = Base64Url.DecodeFromChars(searchId);
        }
        catch (FormatException)
        {
            return null;
        }
        if (cursor.Length <= 1 + MacLength || cursor[0] != Version)
        {
            return null;
        }
        return Check(secret, cursor, caller, filing);
    }

    private static string? Check(byte[] secret, byte[] cursor, Caller caller, Filing filing)
    {
        var key = cursor.AsSpan(1 + MacLength);
        var expected = Sign(secret, caller, filing, key);
        return CryptographicOperations.FixedTimeEquals(expected, cursor.AsSpan(1, MacLength)) ? Encoding.UTF8.GetString(key) : null;
    }

    private static byte[] Sign(byte[] secret, Caller caller, Filing filing, ReadOnlySpan<byte> lastKey)
    {
        // by-idp's context is what it was before the other families existed, so that cursors handed out then still
        // page; the others (whose identity provider is always empty) add their family.
        var family = filing.Family == UserDataFamily.ByIdentityProvider ? "" : $"{(int)filing.Family}\0";
        var context = Encoding.UTF8.GetBytes($"{filing.UserId}\0{caller.ClientAppId}\0{filing.IdentityProvider}\0{family}");
        var message = new byte[context.Length + lastKey.Length];
        context.CopyTo(message, 0);
        lastKey.CopyTo(message.AsSpan(context.Length));
        return HMACSHA256.HashData(secret, message)[..MacLength];
    }
}
