using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;

namespace UserDataApi.Intents;

/// <summary>The secrets an intent row holds sealed; each is sealed for its own field of its own row.</summary>
public enum SealedField
{
    Verifier,
    AccessToken,
    IdToken,
}

/// <summary>
/// Random values, hashes and at-rest encryption for intents. Tokens and states are 256 random bits; only
/// their SHA-256 is stored. Provider tokens and PKCE verifiers are sealed with ASP.NET Core Data Protection,
/// whose keys every instance shares through PostgreSQL, encrypted by a certificate kept outside it
/// (<see cref="Persistence.KeyRing"/>). The intent's id and the field are the protector's purposes, so a
/// sealed value copied to another row or field does not open.
/// </summary>
public sealed class IntentSecrets(IDataProtectionProvider protection)
{
    internal const string Purpose = "UserDataApi.Intents.v1";

    public static string NewToken() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>A 63-bit decimal id, as ZITADEL's ids look.</summary>
    public static string NewId() => (BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)) >> 1).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));

    public static bool Matches(string candidate, byte[]? expectedHash) =>
        expectedHash is not null && CryptographicOperations.FixedTimeEquals(Hash(candidate), expectedHash);

    /// <summary>The PKCE S256 challenge of a verifier.</summary>
    public static string Challenge(string verifier) => Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    public byte[] Seal(string intentId, SealedField field, string plaintext) =>
        ProtectorFor(intentId, field).Protect(Encoding.UTF8.GetBytes(plaintext));

    /// <summary>Opens what <see cref="Seal"/> sealed for this row and field; a <see cref="CryptographicException"/> otherwise.</summary>
    public string Open(string intentId, SealedField field, byte[] sealedBytes) =>
        Encoding.UTF8.GetString(ProtectorFor(intentId, field).Unprotect(sealedBytes));

    private IDataProtector ProtectorFor(string intentId, SealedField field) => protection.CreateProtector(Purpose, field.ToString(), intentId);

    /// <summary>What rows sealed before Data Protection hold: a 12-byte nonce, the ciphertext, a 16-byte AES-GCM tag.</summary>
    public static string OpenLegacy(byte[] key, byte[] sealedBytes)
    {
        const int nonceSize = 12, tagSize = 16;
        var length = sealedBytes.Length - nonceSize - tagSize;
        var data = new byte[length];
        using var aes = new AesGcm(key, tagSize);
        aes.Decrypt(sealedBytes.AsSpan(0, nonceSize), sealedBytes.AsSpan(nonceSize, length), sealedBytes.AsSpan(nonceSize + length), data);
        return Encoding.UTF8.GetString(data);
    }
}
