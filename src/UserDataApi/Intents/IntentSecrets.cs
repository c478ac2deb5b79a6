using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using UserDataApi.Persistence;

namespace UserDataApi.Intents;

/// <summary>
/// Random values, hashes and at-rest encryption for intents. Tokens and states are 256 random bits;
/// only their SHA-256 is stored. Provider tokens and PKCE verifiers are sealed with AES-GCM under a
/// key kept in PostgreSQL (<see cref="ServerKeys"/>), so every instance can open what another sealed.
/// </summary>
public sealed class IntentSecrets(ServerKeys keys)
{
    private const string EncryptionKeyName = "intent-encryption";
    private const int NonceSize = 12;
    private const int TagSize = 16;

    public static string NewToken() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>A 63-bit decimal id, as ZITADEL's ids look.</summary>
    public static string NewId() => (BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)) >> 1).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));

    public static bool Matches(string candidate, byte[]? expectedHash) =>
        expectedHash is not null && CryptographicOperations.FixedTimeEquals(Hash(candidate), expectedHash);

    /// <summary>The PKCE S256 challenge of a verifier.</summary>
    public static string Challenge(string verifier) => Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    public async ValueTask<byte[]> SealAsync(string plaintext, CancellationToken cancellationToken)
    {
        var key = await keys.GetAsync(EncryptionKeyName, cancellationToken);
        var data = Encoding.UTF8.GetBytes(plaintext);
        var sealedBytes = new byte[NonceSize + data.Length + TagSize];
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, data, sealedBytes.AsSpan(NonceSize, data.Length), sealedBytes.AsSpan(NonceSize + data.Length));
        return sealedBytes;
    }

    public async ValueTask<string> OpenAsync(byte[] sealedBytes, CancellationToken cancellationToken)
    {
        var key = await keys.GetAsync(EncryptionKeyName, cancellationToken);
        return Open(key, sealedBytes);
    }

    private static string Open(byte[] key, byte[] sealedBytes)
    {
        var length = sealedBytes.Length - NonceSize - TagSize;
        var data = new byte[length];
        using var aes = new AesGcm(key, TagSize);
        aes.Decrypt(sealedBytes.AsSpan(0, NonceSize), sealedBytes.AsSpan(NonceSize, length), sealedBytes.AsSpan(NonceSize + length), data);
        return Encoding.UTF8.GetString(data);
    }
}
