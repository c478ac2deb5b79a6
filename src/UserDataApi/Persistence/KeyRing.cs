using System.Security.Cryptography.X509Certificates;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Npgsql;

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
            : X509CertificateLoader.LoadPkcs12FromFile(path, Password, X509KeyStorageFlags.EphemeralKeySet);
        if (!certificate.HasPrivateKey || certificate.GetRSAPrivateKey() is null)
        {
            certificate.Dispose();
            throw new InvalidOperationException("the certificate has no RSA private key");
        }
        return certificate;
    }

    private static bool IsPem(string path)
    {
        using var file = File.OpenText(path);
        var start = new char[11];
        return file.ReadBlock(start) == start.Length && new string(start) == "-----BEGIN ";
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

    /// <summary>Certificates that only decrypt: those used before the current one, while keys they encrypted are still in use.</summary>
    public List<CertificateFile> PreviousCertificates { get; set; } = [];
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
/// ASP.NET Core Data Protection with its key ring in PostgreSQL, so that every instance seals and opens with the
/// same keys, and those keys encrypted by <c>DataProtection:Certificate</c> (SPEC §4.2).
/// </summary>
public static class KeyRing
{
    /// <summary>Isolates this server's payloads from other apps'; the same on every instance, wherever it is installed.</summary>
    public const string ApplicationName = "UserDataApi";

    public static WebApplicationBuilder AddKeyRing(this WebApplicationBuilder builder)
    {
        var settings = builder.Configuration.GetSection(KeyRingOptions.Section).Get<KeyRingOptions>() ?? new KeyRingOptions();
        var connectionString = builder.Configuration.GetConnectionString(PersistenceExtensions.ConnectionStringName) ?? "";
        var protection = builder.Services.AddDataProtection().SetApplicationName(ApplicationName);
        builder.Services.AddOptions<KeyManagementOptions>().Configure(options => options.XmlRepository = new PostgresXmlRepository(connectionString));
        if (!string.IsNullOrEmpty(settings.Certificate?.Path))
        {
            protection.ProtectKeysWithCertificate(settings.Certificate.Load());
            protection.UnprotectKeysWithAnyCertificate([.. settings.PreviousCertificates.Select(previous => previous.Load())]);
        }
        return builder;
    }

    /// <summary>
    /// The key ring's table. Data Protection reads and writes it synchronously, which a multiplexing data source
    /// refuses, so it has a small pool of its own.
    /// </summary>
    private sealed class PostgresXmlRepository : IXmlRepository
    {
        private readonly NpgsqlDataSource _dataSource;

        public PostgresXmlRepository(string connectionString)
        {
            var builder = new NpgsqlDataSourceBuilder(connectionString);
            builder.ConnectionStringBuilder.Multiplexing = false;
            builder.ConnectionStringBuilder.MaxPoolSize = 2;
            _dataSource = builder.Build();
        }

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
    }
}
