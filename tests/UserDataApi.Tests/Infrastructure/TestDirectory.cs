using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace UserDataApi.Tests.Infrastructure;

/// <summary>A user of the test directory, with what a test compares against.</summary>
public sealed record DirectoryUser(string Uid, string Password, string[] Mails, string? GivenName = null, string? Surname = null, string? DisplayName = null)
{
    public string Dn => $"uid={Uid},{TestDirectory.People}";
}

/// <summary>
/// A throwaway OpenLDAP server (Debian's <c>slapd</c>, installed by scripts/test.sh) on 127.0.0.1: plain LDAP (and
/// StartTLS) on one port and LDAPS on another, with a certificate signed by a CA the test makes, and a few users.
/// Beside it, a port where nothing listens and one that accepts connections and never answers.
/// </summary>
public sealed class TestDirectory : IAsyncDisposable
{
    public const string BaseDn = "dc=example,dc=test";
    public const string People = "ou=people," + BaseDn;
    public const string ReaderDn = "cn=reader," + BaseDn;
    public const string ReaderPassword = "reader-secret-4f1c";

    /// <summary>Two mail values, a display name, a language and a phone.</summary>
    public static readonly DirectoryUser Alice = new("alice", "alice-password-93x", ["alice@example.test", "a.liddell@example.test"], "Alice", "Liddell", "Alice Liddell");

    /// <summary>A JPEG photo (a binary attribute), no given name.</summary>
    public static readonly DirectoryUser Bob = new("bob", "bob-password-71q", ["bob@example.test"], Surname: "Builder");

    /// <summary>Carol and Dave share a mail address: a lookup by it is ambiguous.</summary>
    public static readonly DirectoryUser Carol = new("carol", "carol-password-22z", ["carol@example.test", "shared@example.test"], "Carol", "Shared");
    public static readonly DirectoryUser Dave = new("dave", "dave-password-58k", ["dave@example.test", "shared@example.test"], "Dave", "Shared");

    public static readonly byte[] BobPhoto = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0x01, 0x80, 0xFE, 0x00];

    private readonly Process _slapd;
    private readonly string _directory;
    private readonly TcpListener _silent;
    private readonly List<Socket> _held = [];

    private TestDirectory(Process slapd, string directory, int ldapPort, int ldapsPort, string caPath, TcpListener silent, int downPort)
    {
        _slapd = slapd;
        _directory = directory;
        LdapUrl = $"ldap://127.0.0.1:{ldapPort}";
        LdapsUrl = $"ldaps://127.0.0.1:{ldapsPort}";
        RootCaPath = caPath;
        _silent = silent;
        SilentUrl = $"ldap://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}";
        DownUrl = $"ldap://127.0.0.1:{downPort}";
        _ = HoldConnectionsAsync();
    }

    public string LdapUrl { get; }
    public string LdapsUrl { get; }

    /// <summary>The CA that signed the server's certificate, as a PEM file (<c>RootCa</c>).</summary>
    public string RootCaPath { get; }

    /// <summary>Accepts connections and never answers.</summary>
    public string SilentUrl { get; }

    /// <summary>Nothing listens there.</summary>
    public string DownUrl { get; }

    public static async Task<TestDirectory> StartAsync()
    {
        const string slapd = "/usr/sbin/slapd";
        if (!File.Exists(slapd))
        {
            throw new InvalidOperationException("No slapd: run ./scripts/test.sh (it installs Debian's slapd).");
        }
        var directory = System.IO.Directory.CreateTempSubdirectory("userdataapi-slapd-").FullName;
        var caPath = WriteCertificates(directory);
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "data"));
        var config = Path.Combine(directory, "slapd.conf");
        await File.WriteAllTextAsync(config, $"""
            include /etc/ldap/schema/core.schema
            include /etc/ldap/schema/cosine.schema
            include /etc/ldap/schema/inetorgperson.schema
            include /etc/ldap/schema/nis.schema
            modulepath /usr/lib/ldap
            moduleload back_mdb
            pidfile {directory}/slapd.pid
            TLSCACertificateFile {directory}/ca.pem
            TLSCertificateFile {directory}/server.pem
            TLSCertificateKeyFile {directory}/server.key
            # Two lax settings a real directory may have, so that the server is seen to guard against them: the
            # service account reads password hashes, and a DN with an empty password binds (anonymously).
            allow bind_anon_dn
            access to attrs=userPassword by dn.exact="{ReaderDn}" read by self =xw by anonymous auth by * none
            access to * by users read by anonymous auth
            database mdb
            maxsize 67108864
            suffix "{BaseDn}"
            rootdn "cn=admin,{BaseDn}"
            rootpw admin-secret-not-used
            directory {directory}/data
            """);
        var ldif = Path.Combine(directory, "users.ldif");
        await File.WriteAllTextAsync(ldif, Ldif());
        await RunAsync("/usr/sbin/slapadd", "-q", "-f", config, "-l", ldif);

        // A port picked free may be taken by another test's listener before slapd binds it: slapd then exits at once,
        // and is started again on other ports.
        for (var start = 0; ; start++)
        {
            if (await TryStartAsync(slapd, config, directory, caPath) is { } started)
            {
                return started;
            }
            if (start == 2)
            {
                throw new InvalidOperationException("slapd did not start listening (three tries)");
            }
        }
    }

    private static async Task<TestDirectory?> TryStartAsync(string slapd, string config, string directory, string caPath)
    {
        var ldapPort = ServerProcess.FreePort();
        var ldapsPort = ServerProcess.FreePort();
        var start = new ProcessStartInfo(slapd, ["-f", config, "-h", $"ldap://127.0.0.1:{ldapPort}/ ldaps://127.0.0.1:{ldapsPort}/", "-d", "0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        for (var attempt = 0; attempt < 100 && !process.HasExited; attempt++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, ldapPort);
                var silent = new TcpListener(IPAddress.Loopback, 0);
                silent.Start();
                return new TestDirectory(process, directory, ldapPort, ldapsPort, caPath, silent, ServerProcess.FreePort());
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        // Not listening: the directory (its files kept for another try) is stopped, not disposed.
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
        return null;
    }

    /// <summary>The settings of an <c>ldap</c> provider on this directory: the service account, people, and the attribute mapping.</summary>
    public Dictionary<string, string?> ProviderSettings(string idpId, string servers, IReadOnlyDictionary<string, string?>? extra = null)
    {
        var prefix = $"Intents:Providers:{idpId}:";
        var settings = new Dictionary<string, string?>
        {
            [prefix + "Type"] = "ldap",
            [prefix + "Servers"] = servers,
            [prefix + "BaseDn"] = BaseDn,
            [prefix + "BindDn"] = ReaderDn,
            [prefix + "BindPassword"] = ReaderPassword,
            [prefix + "UserBase"] = People,
            [prefix + "UserObjectClasses"] = "inetOrgPerson",
            [prefix + "UserFilters"] = "uid mail",
            [prefix + "TimeoutSeconds"] = "2",
            [prefix + "PreferredUsernameAttribute"] = "uid",
            [prefix + "FirstNameAttribute"] = "givenName",
            [prefix + "LastNameAttribute"] = "sn",
            [prefix + "DisplayNameAttribute"] = "displayName",
            [prefix + "EmailAttribute"] = "mail",
            [prefix + "PhoneAttribute"] = "telephoneNumber",
            [prefix + "PreferredLanguageAttribute"] = "preferredLanguage",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[prefix + key] = value;
        }
        return settings;
    }

    private static string Ldif()
    {
        var entries = new List<string>
        {
            $"dn: {BaseDn}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example",
            $"dn: {People}\nobjectClass: organizationalUnit\nou: people",
            $"dn: {ReaderDn}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: reader\nuserPassword: {ReaderPassword}",
            Person(Alice, "displayName: Alice Liddell", "preferredLanguage: en-GB", "telephoneNumber: +44 20 7946 0000"),
            Person(Bob, "jpegPhoto:: " + Convert.ToBase64String(BobPhoto)),
            Person(Carol),
            Person(Dave),
        };
        return string.Join("\n\n", entries) + "\n";
    }

    private static string Person(DirectoryUser user, params string[] more)
    {
        var lines = new List<string> { $"dn: {user.Dn}", "objectClass: inetOrgPerson", $"uid: {user.Uid}", $"cn: {user.GivenName ?? user.Uid} {user.Surname}", $"sn: {user.Surname ?? user.Uid}" };
        if (user.GivenName is not null)
        {
            lines.Add($"givenName: {user.GivenName}");
        }
        lines.AddRange(user.Mails.Select(mail => $"mail: {mail}"));
        lines.AddRange(more);
        lines.Add($"userPassword: {user.Password}");
        return string.Join("\n", lines);
    }

    /// <summary>A CA and a server certificate it signs for 127.0.0.1 and localhost; returns the CA's PEM file.</summary>
    private static string WriteCertificates(string directory)
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=UserDataApi Test  Directory CA, O=Tests", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        using var serverKey = RSA.Create(2048);
        var serverRequest = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var server = serverRequest.Create(ca, now.AddMinutes(-4), now.AddDays(1).AddMinutes(-1), RandomNumberGenerator.GetBytes(8));

        var caPath = Path.Combine(directory, "ca.pem");
        File.WriteAllText(caPath, ca.ExportCertificatePem());
        File.WriteAllText(Path.Combine(directory, "server.pem"), server.ExportCertificatePem());
        File.WriteAllText(Path.Combine(directory, "server.key"), serverKey.ExportPkcs8PrivateKeyPem());
        return caPath;
    }

    private static async Task RunAsync(string file, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} failed ({process.ExitCode}): {errors}");
        }
    }

    /// <summary>The silent port: connections are accepted, held, and never answered.</summary>
    private async Task HoldConnectionsAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _silent.AcceptSocketAsync();
                lock (_held)
                {
                    _held.Add(socket);
                }
            }
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _silent.Stop();
        lock (_held)
        {
            _held.ForEach(socket => socket.Dispose());
        }
        if (!_slapd.HasExited)
        {
            _slapd.Kill(entireProcessTree: true);
            await _slapd.WaitForExitAsync();
        }
        _slapd.Dispose();
        try
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Left for the system's temporary-file cleaning.
        }
    }
}
