using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>A certificate file with its private key and password, as an operator would mount one.</summary>
public sealed record CertificateFileOnDisk(string Path, string Password, X509Certificate2 Certificate);

/// <summary>Self-signed certificates the tests make, written as password-protected PKCS#12 files.</summary>
public static class TestCertificates
{
    private static readonly Lazy<CertificateFileOnDisk> DataProtection = new(() => Create("userdataapi-data-protection"));

    /// <summary>The certificate every test server protects its Data Protection keys with (<c>DataProtection:Certificate</c>).</summary>
    public static CertificateFileOnDisk KeyProtection => DataProtection.Value;

    /// <summary>A new self-signed RSA certificate for <paramref name="subject"/>, valid for a day, with <c>localhost</c> and 127.0.0.1 as names.</summary>
    public static CertificateFileOnDisk Create(string subject)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{subject}-{Guid.NewGuid():N}.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12, password));
        return new CertificateFileOnDisk(path, password, X509CertificateLoader.LoadPkcs12FromFile(path, password, X509KeyStorageFlags.EphemeralKeySet));
    }
}
