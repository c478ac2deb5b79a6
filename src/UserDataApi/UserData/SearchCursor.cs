using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using UserDataApi.Auth;
using UserDataApi.Persistence;

namespace UserDataApi.UserData;

/// <summary>
/// The opaque <c>search_id</c> of shared-list-get: the last key of a page, signed with a key that all
/// instances share and bound to the caller and identity provider, so that a forged, altered or
/// borrowed cursor is told apart from a real one.
/// </summary>
public sealed class SearchCursor(ServerKeys keys)
{
    private const string KeyName = "shared-list-cursor";
    private const byte Version = 1;
    private const int MacLength = 16;

    public async ValueTask<string> CreateAsync(Caller caller, string identityProvider, string lastKey, CancellationToken cancellationToken)
    {
        var key = Encoding.UTF8.GetBytes(lastKey);
        var cursor = new byte[1 + MacLength + key.Length];
        cursor[0] = Version;
        Sign(await keys.GetAsync(KeyName, cancellationToken), caller, identityProvider, key).CopyTo(cursor, 1);
        key.CopyTo(cursor, 1 + MacLength);
        return Base64Url.EncodeToString(cursor);
    }

    /// <summary>The last key the cursor stands for, or null when this server did not issue it for this caller.</summary>
    public async ValueTask<string?> ReadAsync(string searchId, Caller caller, string identityProvider, CancellationToken cancellationToken)
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
        return Check(secret, cursor, caller, identityProvider);
    }

    private static string? Check(byte[] secret, byte[] cursor, Caller caller, string identityProvider)
    {
        var key = cursor.AsSpan(1 + MacLength);
        var expected = Sign(secret, caller, identityProvider, key);
        return CryptographicOperations.FixedTimeEquals(expected, cursor.AsSpan(1, MacLength)) ? Encoding.UTF8.GetString(key) : null;
    }

    private static byte[] Sign(byte[] secret, Caller caller, string identityProvider, ReadOnlySpan<byte> lastKey)
    {
        var context = Encoding.UTF8.GetBytes($"{caller.UserId}\0{caller.ClientAppId}\0{identityProvider}\0");
        var message = new byte[context.Length + lastKey.Length];
        context.CopyTo(message, 0);
        lastKey.CopyTo(message.AsSpan(context.Length));
        return HMACSHA256.HashData(secret, message)[..MacLength];
    }
}
