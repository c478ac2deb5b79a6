using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using UserDataApi.Intents;
using UserDataApi.Persistence;
using UserDataApi.Tests.Infrastructure;

namespace UserDataApi.Tests.Intents;

/// <summary>
/// SPEC §4.2: provider tokens and verifiers are sealed with Data Protection, bound to their row and field, under keys
/// that PostgreSQL holds only encrypted by a certificate from configuration, made one instance at a time; rows sealed
/// the earlier way stay readable until they expire, and their key goes with the last of them.
/// </summary>
public sealed class SealedSecretsTests(IntentFixture fixture) : IClassFixture<IntentFixture>
{
    private async Task<Dictionary<string, string>> LoginAsync(Infrastructure.ProviderUser user)
    {
        var (_, authUrl) = await fixture.StartIntentAsync(fixture.First);
        var landing = await fixture.DeliverCallbackAsync(fixture.First, await fixture.SignInAtProviderAsync(authUrl, user));
        return QueryHelpers.ParseQuery(landing.Query).ToDictionary(p => p.Key, p => p.Value.ToString());
    }

    private async Task<JsonElement> RetrieveOkAsync(Dictionary<string, string> landing)
    {
        using var response = await fixture.RetrieveAsync(fixture.First, landing["id"], landing["token"]);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    [Fact]
    public async Task A_database_dump_holds_no_key_that_opens_the_sealed_provider_tokens()
    {
        var landing = await LoginAsync(TestIdentityProvider.Alice);
        var accessToken = (await RetrieveOkAsync(landing)).GetProperty("idpInformation").GetProperty("oauth").GetProperty("accessToken").GetString()!;

        var sealedToken = await TestSql.ScalarAsync<byte[]>(Db, "SELECT protected_access_token FROM idp_intents WHERE id = $1", landing["id"]);
        var keyXml = await TestSql.ColumnAsync<string>(Db, "SELECT xml FROM data_protection_keys");
        var serverKeys = await TestSql.ColumnAsync<string>(Db, "SELECT name FROM server_keys");

        Assert.DoesNotContain(LegacyKeyName, serverKeys);
        Assert.True(sealedToken.AsSpan().StartsWith(IntentSecrets.DataProtectionHeader), "sealed with Data Protection");
        Assert.NotEmpty(keyXml);
        Assert.All(keyXml, xml =>
        {
            var key = XElement.Parse(xml);
            Assert.Contains(key.Descendants(), e => e.Name.LocalName == "EncryptedData");
            Assert.Empty(key.Descendants("masterKey").Elements("value"));
        });
        Assert.ThrowsAny<CryptographicException>(() => OpenFromDump(keyXml, certificate: null, landing["id"], sealedToken));
        // The same dump with the certificate, which lives outside the database, opens it: the test itself can open what it must not.
        Assert.Equal(accessToken, OpenFromDump(keyXml, TestCertificates.KeyProtection.Certificate, landing["id"], sealedToken));
    }

    [Fact]
    public async Task A_sealed_token_copied_to_another_intent_or_field_does_not_open_and_leaves_both_intents_retrievable()
    {
        var a = await LoginAsync(TestIdentityProvider.Alice);
        var b = await LoginAsync(TestIdentityProvider.Bob);
        var bAccess = await TestSql.ScalarAsync<byte[]>(Db, "SELECT protected_access_token FROM idp_intents WHERE id = $1", b["id"]);

        await TestSql.ExecuteAsync(Db, "UPDATE idp_intents SET protected_access_token = (SELECT protected_access_token FROM idp_intents WHERE id = $1) WHERE id = $2", a["id"], b["id"]);
        using var swappedRow = await fixture.RetrieveAsync(fixture.First, b["id"], b["token"]);
        await TestSql.ExecuteAsync(Db, "UPDATE idp_intents SET protected_access_token = protected_id_token WHERE id = $1", b["id"]);
        using var swappedField = await fixture.RetrieveAsync(fixture.First, b["id"], b["token"]);

        foreach (var refused in new[] { swappedRow, swappedField })
        {
            var body = await refused.Content.ReadAsStringAsync();
            Assert.True(refused.StatusCode == HttpStatusCode.ServiceUnavailable, body);
            Assert.Equal(StatusCode.Unavailable, (StatusCode)JsonDocument.Parse(body).RootElement.GetProperty("code").GetInt32());
            Assert.DoesNotContain("oauth", body);
        }
        var aToken = (await RetrieveOkAsync(a)).GetProperty("idpInformation").GetProperty("oauth").GetProperty("accessToken").GetString();
        await TestSql.ExecuteAsync(Db, "UPDATE idp_intents SET protected_access_token = $1 WHERE id = $2", bAccess, b["id"]);
        var bToken = (await RetrieveOkAsync(b)).GetProperty("idpInformation").GetProperty("oauth").GetProperty("accessToken").GetString();
        Assert.NotEqual(aToken, bToken);
    }

    [Fact]
    public async Task Intents_sealed_before_data_protection_stay_readable_and_their_key_goes_when_the_last_of_them_does()
    {
        var legacyKey = RandomNumberGenerator.GetBytes(32);
        var id = "legacy-" + Guid.NewGuid().ToString("N")[..12];
        var token = "legacy-intent-token-" + Guid.NewGuid().ToString("N");
        await TestSql.ExecuteAsync(Db, "INSERT INTO server_keys (name, material, created_at) VALUES ('intent-encryption', $1, now())", legacyKey);
        await TestSql.ExecuteAsync(Db, """
            INSERT INTO idp_intents (id, idp_id, resource_owner, client_app_id, state, sequence, state_hash, protected_verifier, nonce,
                                     success_url, failure_url, token_hash, idp_user_id, idp_user_name, raw_information,
                                     protected_access_token, created_at, changed_at, expires_at)
            VALUES ($1, 'test-oidc', 'org-test', 'app-1', 1, 2, sha256(convert_to($1, 'UTF8')), $2, 'nonce', 'https://login.example/ok', 'https://login.example/no',
                    sha256(convert_to($3, 'UTF8')), 'legacy-sub', 'legacy', '{"sub":"legacy-sub","preferred_username":"legacy"}', $4,
                    now(), now(), now() + interval '1 hour')
            """, id, SealLegacy(legacyKey, "legacy-verifier"), token, SealLegacy(legacyKey, "legacy-access-token"));
        await using var upgraded = await fixture.StartInstanceAsync(new Dictionary<string, string?> { ["Intents:SweepSeconds"] = "1" });

        using var response = await fixture.RetrieveAsync(upgraded, id, token);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal("legacy-access-token", JsonDocument.Parse(body).RootElement.GetProperty("idpInformation").GetProperty("oauth").GetProperty("accessToken").GetString());
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Contains(LegacyKeyName, await TestSql.ColumnAsync<string>(Db, "SELECT name FROM server_keys"));

        await TestSql.ExecuteAsync(Db, "UPDATE idp_intents SET expires_at = now() - interval '1 second' WHERE id = $1", id);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while ((await TestSql.ColumnAsync<string>(Db, "SELECT name FROM server_keys")).Contains(LegacyKeyName) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }
        Assert.DoesNotContain(LegacyKeyName, await TestSql.ColumnAsync<string>(Db, "SELECT name FROM server_keys"));
    }

    [Fact]
    public async Task A_key_kept_in_clear_by_an_earlier_configuration_is_deleted_at_start_and_never_used()
    {
        var clearKey = ClearKeyXml();
        await TestSql.ExecuteAsync(Db, "INSERT INTO data_protection_keys (friendly_name, xml, created_at) VALUES ('clear', $1, now())", clearKey.ToString());
        var logs = new LogCapture();

        await using var instance = await fixture.StartInstanceAsync(logs: logs);
        var landing = await LoginAsync(TestIdentityProvider.Alice);

        var keyXml = await TestSql.ColumnAsync<string>(Db, "SELECT xml FROM data_protection_keys");
        Assert.DoesNotContain(keyXml, xml => XElement.Parse(xml).Attribute("id")?.Value == clearKey.Attribute("id")!.Value);
        Assert.All(keyXml, xml => Assert.Contains("<encryptedSecret", xml));
        Assert.Contains(logs.Lines, line => line.Message.Contains("kept in clear"));
        var sealedToken = await TestSql.ScalarAsync<byte[]>(Db, "SELECT protected_access_token FROM idp_intents WHERE id = $1", landing["id"]);
        Assert.NotEqual(Guid.Parse(clearKey.Attribute("id")!.Value), new Guid(sealedToken.AsSpan(4, 16)));
    }

    [Fact]
    public async Task Without_a_certificate_the_keys_stay_in_memory_and_nothing_is_written_to_the_database()
    {
        var database = await TestPostgres.CreateDatabaseAsync();
        await using var api = await new ApiFactory(fixture.Authority, database,
            new Dictionary<string, string?> { ["DataProtection:Certificate:Path"] = "" }).StartedAsync();

        var protector = api.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("test");
        Assert.Equal("x", protector.Unprotect(protector.Protect("x")));
        Assert.Equal(0L, await TestSql.ScalarAsync<long>(database, "SELECT count(*) FROM data_protection_keys"));
    }

    [Fact]
    public async Task Instances_starting_together_on_an_empty_ring_make_one_key_between_them()
    {
        var database = await TestPostgres.CreateDatabaseAsync();
        // The schema first (by an instance that keeps its keys in memory), so that the instances' starts overlap.
        await (await new ApiFactory(fixture.Authority, database, new Dictionary<string, string?> { ["DataProtection:Certificate:Path"] = "" }).StartedAsync()).DisposeAsync();
        (string, string)[] environment =
        [
            ("ConnectionStrings__UserData", database), ("Auth__Authority", fixture.Authority.Issuer), ("Auth__RequireHttpsMetadata", "false"),
            ("DataProtection__Certificate__Path", TestCertificates.KeyProtection.Path), ("DataProtection__Certificate__Password", TestCertificates.KeyProtection.Password),
        ];
        var instances = Enumerable.Range(0, 4).Select(_ => ServerProcess.StartBuilt(environment)).ToList();
        try
        {
            await Task.WhenAll(instances.Select(instance => instance.WaitUntilListeningAsync(TimeSpan.FromSeconds(60))));

            Assert.Equal(1L, await TestSql.ScalarAsync<long>(database, "SELECT count(*) FROM data_protection_keys"));
        }
        finally
        {
            foreach (var instance in instances)
            {
                await instance.DisposeAsync();
            }
        }
    }

    /// <summary>A key as Data Protection writes it when no certificate encrypts it.</summary>
    private static XElement ClearKeyXml()
    {
        var stored = new List<XElement>();
        var services = new ServiceCollection();
        services.AddDataProtection().SetApplicationName(KeyRing.ApplicationName);
        services.Configure<KeyManagementOptions>(options => options.XmlRepository = new CapturedKeys(stored));
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IDataProtectionProvider>().CreateProtector("test").Protect([1]);
        return Assert.Single(stored);
    }

    private sealed class CapturedKeys(List<XElement> stored) : IXmlRepository
    {
        public IReadOnlyCollection<XElement> GetAllElements() => stored;

        public void StoreElement(XElement element, string friendlyName) => stored.Add(element);
    }

    /// <summary>Opens a sealed access token with nothing but the dumped key ring (and, if given, the certificate).</summary>
    private static string OpenFromDump(IReadOnlyList<string> keyXml, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate, string intentId, byte[] sealedBytes)
    {
        var services = new ServiceCollection();
        var protection = services.AddDataProtection().SetApplicationName(KeyRing.ApplicationName).DisableAutomaticKeyGeneration();
        if (certificate is not null)
        {
            protection.UnprotectKeysWithAnyCertificate(certificate);
        }
        services.Configure<KeyManagementOptions>(options => options.XmlRepository = new DumpedKeys(keyXml));
        using var provider = services.BuildServiceProvider();
        var protector = provider.GetRequiredService<IDataProtectionProvider>()
            .CreateProtector(IntentSecrets.Purpose, SealedField.AccessToken.ToString(), intentId);
        return Encoding.UTF8.GetString(protector.Unprotect(sealedBytes));
    }

    private sealed class DumpedKeys(IReadOnlyList<string> xml) : IXmlRepository
    {
        public IReadOnlyCollection<XElement> GetAllElements() => xml.Select(x => XElement.Parse(x)).ToList();

        public void StoreElement(XElement element, string friendlyName) => throw new InvalidOperationException("a dump is read-only");
    }

    /// <summary>How intent secrets were sealed before Data Protection: nonce, ciphertext, tag (AES-GCM).</summary>
    private static byte[] SealLegacy(byte[] key, string plaintext)
    {
        var data = Encoding.UTF8.GetBytes(plaintext);
        var sealedBytes = new byte[12 + data.Length + 16];
        RandomNumberGenerator.Fill(sealedBytes.AsSpan(0, 12));
        using var aes = new AesGcm(key, 16);
        aes.Encrypt(sealedBytes.AsSpan(0, 12), data, sealedBytes.AsSpan(12, data.Length), sealedBytes.AsSpan(12 + data.Length));
        return sealedBytes;
    }

    private string Db => fixture.ConnectionString;

    private const string LegacyKeyName = IntentSecrets.LegacyKeyName;
}
