using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Npgsql;

namespace UserDataApi.Intents;

/// <summary>The secrets an intent row holds sealed; each is sealed for its own field of its own row.</summary>
public enum SealedField
{
    Verifier,
    AccessToken,
    IdToken,
    LdapAttributes,
}

/// <summary>
/// Random values, hashes and at-rest encryption for intents. Tokens and states are 256 random bits; only
/// their SHA-256 is stored. Provider tokens and PKCE verifiers are sealed with ASP.NET Core Data Protection,
/// whose keys every instance shares through PostgreSQL, encrypted by a certificate kept outside it
/// (<see cref="Persistence.KeyRing"/>). The intent's id and the field are the protector's purposes, so a
/// sealed value copied to another row or field does not open.
/// </summary>
/// <remarks>
/// Rows sealed by earlier versions (AES-GCM under a key kept in <c>server_keys</c>, beside them) still open while
/// that key exists; <see cref="IntentSweeper"/> deletes it once no such row is left.
/// </remarks>
public sealed class IntentSecrets(IDataProtectionProvider protection, NpgsqlDataSource dataSource)
{
    internal const string Purpose = "UserDataApi.Intents.v1";

    /// <summary>The <c>server_keys</c> row the earlier sealing used.</summary>
    internal const string LegacyKeyName = "intent-encryption";

    /// <summary>How every Data Protection payload starts (its magic header), and no earlier sealed value is told by.</summary>
    internal static ReadOnlySpan<byte> DataProtectionHeader => [0x09, 0xF0, 0xC9, 0xF0];

    public static string NewToken() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>A 63-bit decimal id, as ZITADEL's ids look.</summary>
    public static string NewId() => (BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)) >> 1).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));

    public static bool Matches(string candidate, byte[]? expectedHash) =>
        expectedHash is not null && CryptographicOperations.FixedTimeEquals(Hash(candidate), expectedHash);

    /// <summary>The PKCE S256 challenge of a verifier.</summary>
    public static string Challenge(string verifier) => Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    /// <summary>Seals for this row and field; a <see cref="CryptographicException"/> when no key can be had.</summary>
    public byte[] Seal(string intentId, SealedField field, string plaintext)
    {
        try
        {
            return ProtectorFor(intentId, field).Protect(Encoding.UTF8.GetBytes(plaintext));
        }
        catch (InvalidOperationException exception)
        {
            // No usable key in the ring (it could not be read, or none has been made yet).
            throw new CryptographicException("no Data Protection key is available", exception);
        }
    }

    /// <summary>Opens what <see cref="Seal"/> sealed for this row and field; a <see cref="CryptographicException"/> otherwise.</summary>
    public async ValueTask<string> OpenAsync(string intentId, SealedField field, byte[] sealedBytes, CancellationToken cancellationToken)
    {
        if (sealedBytes.AsSpan().StartsWith(DataProtectionHeader))
        {
            try
            {
                return Encoding.UTF8.GetString(ProtectorFor(intentId, field).Unprotect(sealedBytes));
            }
            catch (InvalidOperationException exception)
            {
                throw new CryptographicException("the Data Protection key ring cannot be read", exception);
            }
        }
        var key = await LegacyKeyAsync(cancellationToken) ?? throw new CryptographicException("sealed by an earlier version whose key is gone");
        return OpenLegacy(key, sealedBytes);
    }

    private IDataProtector ProtectorFor(string intentId, SealedField field) => protection.CreateProtector(Purpose, field.ToString(), intentId);

    private async Task<byte[]?> LegacyKeyAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT material FROM server_keys WHERE name = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = LegacyKeyName });
        return await command.ExecuteScalarAsync(cancellationToken) as byte[];
    }

    /// <summary>What earlier versions sealed: a 12-byte nonce, the ciphertext, a 16-byte AES-GCM tag.</summary>
    private static string OpenLegacy(byte[] key, byte[] sealedBytes)
    {
        const int nonceSize = 12, tagSize = 16;
        var length = sealedBytes.Length - nonceSize - tagSize;
        if (length < 0 || key.Length != 32)
        {
            throw new CryptographicException("not a sealed value of an earlier version");
        }
        var data = new byte[length];
        using var aes = new AesGcm(key, tagSize);
        aes.Decrypt(sealedBytes.AsSpan(0, nonceSize), sealedBytes.AsSpan(nonceSize, length), sealedBytes.AsSpan(nonceSize + length), data);
        return Encoding.UTF8.GetString(data);
    }
}
