using System.Security.Cryptography.X509Certificates;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Options;
using Npgsql;
using UserDataApi.Hosting;

namespace UserDataApi.Persistence;

/// <summary>A certificate with its private key: a PKCS#12 file (with <see cref="Password"/>), or PEM files.</summary>
public sealed class CertificateFile
{
    /// <summary>A <c>.pfx</c>/<c>.p12</c> file, or a PEM certificate (with its key in the same file or in <see cref="KeyPath"/>).</summary>
    public string? Path { get; set; }

    public string? KeyPath { get; set; }

    public string? Password { get; set; }

    public X509Certificate2 Load()
    {
        var path = Path ?? throw new InvalidOperationException("no certificate path is set");
        var certificate = IsPem(path)
            ? X509Certificate2.CreateFromPemFile(path, KeyPath)
            : X509CertificateLoader.LoadPkcs12FromFile(path, Password, OperatingSystem.IsMacOS() ? X509KeyStorageFlags.DefaultKeySet : X509KeyStorageFlags.EphemeralKeySet);
        if (!certificate.HasPrivateKey || certificate.GetRSAPrivateKey() is null)
        {
            certificate.Dispose();
            throw new InvalidOperationException("the certificate has no RSA private key");
        }
        return certificate;
    }

    /// <summary>PEM is text with a <c>-----BEGIN</c> line somewhere near its start (after "Bag Attributes", say); PKCS#12 is binary.</summary>
    private static bool IsPem(string path)
    {
        using var file = File.OpenRead(path);
        var start = new byte[4096];
        var read = file.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        return System.Text.Encoding.ASCII.GetString(start, 0, read).Contains("-----BEGIN ", StringComparison.Ordinal);
    }
}

/// <summary>
/// What protects the Data Protection keys that seal intent secrets (configuration section <c>DataProtection</c>):
/// a certificate kept outside the database, so that a dump or backup of the database opens nothing.
/// </summary>
public sealed class KeyRingOptions
{
    public const string Section = "DataProtection";

    /// <summary>Encrypts every new key, and decrypts the keys it encrypted.</summary>
    public CertificateFile? Certificate { get; set; }

    /// <summary>Certificates that only decrypt: those used before the current one, while keys they encrypted are still kept.</summary>
    public List<CertificateFile> PreviousCertificates { get; set; } = [];

    public bool IsPersistent => !string.IsNullOrWhiteSpace(Certificate?.Path);
}

internal sealed class KeyRingOptionsValidator : IValidateOptions<KeyRingOptions>
{
    public ValidateOptionsResult Validate(string? name, KeyRingOptions options)
    {
        var certificates = options.PreviousCertificates
            .Select((certificate, index) => (Key: $"{KeyRingOptions.Section}:PreviousCertificates:{index}", Certificate: (CertificateFile?)certificate))
            .Prepend((Key: $"{KeyRingOptions.Section}:Certificate", Certificate: options.Certificate));
        return SettingRules.Result(certificates.Where(c => !string.IsNullOrWhiteSpace(c.Certificate?.Path)).Select(c => Unreadable(c.Key, c.Certificate!)));
    }

    private static string? Unreadable(string key, CertificateFile file)
    {
        try
        {
            file.Load().Dispose();
            return null;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or InvalidOperationException)
        {
            return $"{key}:Path: no certificate with an RSA private key can be read from '{file.Path}' ({exception.Message}).";
        }
    }
}

/// <summary>One Data Protection key, as XML (its secret encrypted by the configured certificate).</summary>
public sealed class DataProtectionKeyRow
{
    public long Id { get; set; }
    public string? FriendlyName { get; set; }
    public required string Xml { get; set; }
    public DateTime CreatedAt { get; set; }
}

/// <summary>
/// ASP.NET Core Data Protection for the secrets intents seal (SPEC §4.2). With <c>DataProtection:Certificate</c>, the
/// key ring lives in PostgreSQL, so that every instance seals and opens with the same keys, each key encrypted by
/// that certificate; keys are made by <see cref="KeyRingMaintenance"/>, one instance at a time. Without a
/// certificate (Development, or no provider configured) the keys live in memory only: nothing that would lie in
/// clear beside what it seals is ever written.
/// </summary>
public static class KeyRing
{
    /// <summary>Isolates this server's payloads from other apps'; the same on every instance, wherever it is installed.</summary>
    public const string ApplicationName = "UserDataApi";

    public static WebApplicationBuilder AddKeyRing(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(KeyRingOptions.Section);
        builder.Services.AddOptions<KeyRingOptions>().Bind(section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<KeyRingOptions>, KeyRingOptionsValidator>();
        var settings = section.Get<KeyRingOptions>() ?? new KeyRingOptions();
        var protection = builder.Services.AddDataProtection().SetApplicationName(ApplicationName);
        // A certificate that cannot be read is named by start-up's check (KeyRingOptionsValidator), which stops the
        // server before anything seals; until then the ring is left in memory.
        if (!settings.IsPersistent || TryLoad(settings) is not var (certificate, previous))
        {
            protection.UseEphemeralDataProtectionProvider();
            return builder;
        }

        var connectionString = builder.Configuration.GetConnectionString(PersistenceExtensions.ConnectionStringName) ?? "";
        builder.Services.AddSingleton(_ => new KeyRingTable(connectionString));
        builder.Services.AddOptions<KeyManagementOptions>().Configure<KeyRingTable>((options, table) => options.XmlRepository = table);
        protection.ProtectKeysWithCertificate(certificate);
        protection.UnprotectKeysWithAnyCertificate(previous);
        // Two instances starting on an empty ring would each make a key of their own, and neither could open the
        // other's seals until its ring is read again: keys are made under a lock instead (KeyRingMaintenance).
        protection.DisableAutomaticKeyGeneration();
        builder.Services.AddHostedService<KeyRingMaintenance>();
        return builder;
    }

    private static (X509Certificate2 Certificate, X509Certificate2[] Previous)? TryLoad(KeyRingOptions settings)
    {
        try
        {
            return (settings.Certificate!.Load(), [.. settings.PreviousCertificates.Where(c => !string.IsNullOrWhiteSpace(c.Path)).Select(c => c.Load())]);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or InvalidOperationException)
        {
            return null;
        }
    }
}

/// <summary>
/// The key ring's table. Data Protection reads and writes it synchronously, which a multiplexing data source
/// refuses, so it has a small pool of its own.
/// </summary>
public sealed class KeyRingTable : IXmlRepository, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;

    public KeyRingTable(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.Multiplexing = false;
        builder.ConnectionStringBuilder.MaxPoolSize = 2;
        _dataSource = builder.Build();
    }

    public NpgsqlDataSource DataSource => _dataSource;

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var command = _dataSource.CreateCommand("SELECT xml FROM data_protection_keys ORDER BY id");
        using var reader = command.ExecuteReader();
        var elements = new List<XElement>();
        while (reader.Read())
        {
            elements.Add(XElement.Parse(reader.GetString(0)));
        }
        return elements;
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var command = _dataSource.CreateCommand("INSERT INTO data_protection_keys (friendly_name, xml, created_at) VALUES ($1, $2, now())");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = friendlyName });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = element.ToString(SaveOptions.DisableFormatting) });
        command.ExecuteNonQuery();
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}

/// <summary>
/// Makes the key ring's keys, one instance at a time (a PostgreSQL advisory lock): before the server starts, a key
/// when none is usable, and every hour the next key well before the current one expires. Removes keys kept in
/// clear by an earlier configuration, and keys long expired (<see cref="ExpiredKeyRetention"/>).
/// </summary>
public sealed class KeyRingMaintenance(KeyRingTable table, IKeyManager keys, TimeProvider time, ILogger<KeyRingMaintenance> logger) : IHostedLifecycleService
{
    /// <summary>A key is made this long before the current one expires; every instance reads its ring again well within it.</summary>
    public static readonly TimeSpan Lead = TimeSpan.FromDays(3);

    /// <summary>Expired keys are kept this long for what they sealed (intents live far shorter), then deleted.</summary>
    public static readonly TimeSpan ExpiredKeyRetention = TimeSpan.FromDays(30);

    private static readonly TimeSpan Period = TimeSpan.FromHours(1);
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromMinutes(1);

    // Any 64-bit number the server's other advisory locks do not use.
    private const long LockId = 0x5544_4150_4B45_5953; // "UDAPKEYS"

    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;

    /// <summary>Runs before every hosted service's start, Data Protection's own key-ring load among them.</summary>
    public async Task StartingAsync(CancellationToken cancellationToken) => await MaintainAsync(cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = LoopAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task LoopAsync(CancellationToken stoppingToken)
    {
        var wait = Period;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(wait, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            wait = await MaintainAsync(stoppingToken) ? Period : RetryAfterFailure;
        }
    }

    /// <summary>One round; false when it could not be done (the database away, say), to be tried again soon.</summary>
    internal async Task<bool> MaintainAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await table.DataSource.OpenConnectionAsync(cancellationToken);
            await ExecuteAsync(connection, $"SELECT pg_advisory_lock({LockId})", cancellationToken);
            try
            {
                var clear = await ExecuteAsync(connection,
                    "DELETE FROM data_protection_keys WHERE xml LIKE '<key %' AND xml NOT LIKE '%<encryptedSecret%'", cancellationToken);
                if (clear > 0)
                {
                    logger.LogWarning("Deleted {Count} Data Protection keys kept in clear by an earlier configuration", clear);
                }
                EnsureKey();
                await DeleteExpiredAsync(connection, cancellationToken);
            }
            finally
            {
                await ExecuteAsync(connection, $"SELECT pg_advisory_unlock({LockId})", CancellationToken.None);
            }
            return true;
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Data Protection key maintenance failed ({Exception}: {Reason}); trying again in a minute",
                exception.GetType().Name, exception.Message);
            return false;
        }
    }

    /// <summary>Makes a key when none that this server can open covers the coming <see cref="Lead"/>.</summary>
    private void EnsureKey()
    {
        var now = time.GetUtcNow();
        var usable = keys.GetAllKeys().Where(key => !key.IsRevoked && CanOpen(key)).ToList();
        var current = usable.Where(key => key.ActivationDate <= now && key.ExpirationDate > now).MaxBy(key => key.ExpirationDate);
        if (usable.Any(key => key.ActivationDate <= (current?.ExpirationDate ?? now) && key.ExpirationDate > now + Lead))
        {
            return;
        }
        var activation = current is null ? now : current.ExpirationDate;
        var made = keys.CreateNewKey(activation, activation + TimeSpan.FromDays(90));
        logger.LogInformation("Made Data Protection key {KeyId}, active from {Activation:u}", made.KeyId, activation);
    }

    private static bool CanOpen(IKey key)
    {
        try
        {
            return key.Descriptor is not null;
        }
        catch (Exception exception) when (exception is System.Security.Cryptography.CryptographicException or InvalidOperationException)
        {
            // Encrypted by a certificate that is no longer configured.
            return false;
        }
    }

    private async Task DeleteExpiredAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - ExpiredKeyRetention;
        var expired = new List<long>();
        await using (var command = new NpgsqlCommand("SELECT id, xml FROM data_protection_keys", connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var expiration = XElement.Parse(reader.GetString(1)).Element("expirationDate")?.Value;
                if (DateTimeOffset.TryParse(expiration, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var expires)
                    && expires < cutoff)
                {
                    expired.Add(reader.GetInt64(0));
                }
            }
        }
        if (expired.Count > 0)
        {
            await using var delete = new NpgsqlCommand("DELETE FROM data_protection_keys WHERE id = ANY($1)", connection);
            delete.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. expired] });
            await delete.ExecuteNonQueryAsync(cancellationToken);
            logger.LogInformation("Deleted {Count} Data Protection keys expired more than {Days} days ago", expired.Count, ExpiredKeyRetention.TotalDays);
        }
    }

    private static async Task<int> ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
