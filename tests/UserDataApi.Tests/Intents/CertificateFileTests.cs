using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using UserDataApi.Persistence;
using UserDataApi.Tests.Infrastructure;

namespace UserDataApi.Tests.Intents;

/// <summary>The forms a <c>DataProtection:Certificate</c> may take: PKCS#12 with a password, PEM with the key beside it or in it.</summary>
public sealed class CertificateFileTests
{
    [Fact]
    public void A_pkcs12_file_loads_with_its_password()
    {
        var file = TestCertificates.KeyProtection;

        using var loaded = new CertificateFile { Path = file.Path, Password = file.Password }.Load();

        Assert.Equal(file.Certificate.Thumbprint, loaded.Thumbprint);
        Assert.NotNull(loaded.GetRSAPrivateKey());
    }

    [Fact]
    public void Pem_files_load_with_the_key_in_its_own_file_or_in_the_certificate_s()
    {
        var certificate = TestCertificates.KeyProtection.Certificate;
        var directory = Directory.CreateTempSubdirectory("pem-").FullName;
        var certificatePath = Path.Combine(directory, "keys.crt");
        var keyPath = Path.Combine(directory, "keys.key");
        var bothPath = Path.Combine(directory, "both.pem");
        var keyPem = certificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem();
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, keyPem);
        File.WriteAllText(bothPath, certificate.ExportCertificatePem() + "\n" + keyPem);

        using var separate = new CertificateFile { Path = certificatePath, KeyPath = keyPath }.Load();
        using var together = new CertificateFile { Path = bothPath }.Load();

        Assert.Equal(certificate.Thumbprint, separate.Thumbprint);
        Assert.Equal(certificate.Thumbprint, together.Thumbprint);
        Assert.Throws<CryptographicException>(() => new CertificateFile { Path = certificatePath }.Load());
    }

    [Fact]
    public void A_certificate_without_a_private_key_is_refused()
    {
        var path = Path.Combine(Path.GetTempPath(), $"public-only-{Guid.NewGuid():N}.crt");
        File.WriteAllText(path, TestCertificates.KeyProtection.Certificate.ExportCertificatePem());
        var der = Path.ChangeExtension(path, ".cer");
        File.WriteAllBytes(der, TestCertificates.KeyProtection.Certificate.Export(X509ContentType.Cert));

        Assert.ThrowsAny<CryptographicException>(() => new CertificateFile { Path = path }.Load());
        Assert.ThrowsAny<CryptographicException>(() => new CertificateFile { Path = der }.Load());
    }
}
