using System.Collections.Concurrent;
using System.DirectoryServices.Protocols;
using System.Formats.Asn1;
using System.Net;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Options;

namespace UserDataApi.Intents;

/// <summary>A directory entry that a username and password signed in as: its DN and every attribute it showed (binary values in base64).</summary>
public sealed record LdapEntry(string DistinguishedName, IReadOnlyDictionary<string, IReadOnlyList<string>> Attributes);

/// <summary>How a sign-in at a directory ended: the entry, refused credentials, or a directory that could not answer.</summary>
public sealed record LdapSignIn(LdapEntry? Entry, string? Refused, string? Unavailable)
{
    public static LdapSignIn Success(LdapEntry entry) => new(entry, null, null);
    public static LdapSignIn Refusal(string reason) => new(null, reason, null);
    public static LdapSignIn Failure(string reason) => new(null, null, reason);
}

/// <summary>
/// Signs users in at an <c>ldap</c> provider's directory (SPEC §4.4), with System.DirectoryServices.Protocols over the
/// OpenLDAP client library: bind as the service account, search for exactly one entry of the user's object classes
/// whose filter attributes equal the username (escaped per RFC 4515), bind as that entry with the password, and
/// keep what the search read of it. The servers are tried in order within the provider's <c>TimeoutSeconds</c>.
/// Passwords and attribute values are never logged.
/// </summary>
public sealed class LdapDirectory : IDisposable
{
    /// <summary>The longest <c>TimeoutSeconds</c> a provider may have.</summary>
    public const int MaxTimeoutSeconds = 300;

    /// <summary>Directory calls at once; each holds a thread (the library's calls block), so they are bounded.</summary>
    private const int MaxConcurrentCalls = 32;

    /// <summary>Attributes that hold passwords or their hashes: never handed out, whatever the directory lets the service account read.</summary>
    private static readonly HashSet<string> SecretAttributes = new(StringComparer.OrdinalIgnoreCase)
    {
        "userPassword", "unicodePwd", "authPassword", "sambaNTPassword", "sambaLMPassword", "ntPwdHistory", "lmPwdHistory", "supplementalCredentials",
    };

    /// <summary>LDAP's result code for a wrong DN or password (RFC 4511), which the library's <see cref="ResultCode"/> does not name.</summary>
    private const int InvalidCredentials = 49;

    private readonly ILogger<LdapDirectory> _logger;
    private readonly SemaphoreSlim _calls = new(MaxConcurrentCalls, MaxConcurrentCalls);
    private readonly ConcurrentDictionary<string, string> _trustDirectories = new(StringComparer.Ordinal);

    public LdapDirectory(IOptions<IntentsOptions> options, ILogger<LdapDirectory> logger)
    {
        _logger = logger;
        var ldap = options.Value.Providers.Values.Where(provider => provider.IsLdap).ToList();
        if (ldap.Count > 0 && !LibraryTimeouts.Set(ldap.Max(provider => provider.TimeoutSeconds)))
        {
            logger.LogWarning("The OpenLDAP client library's timeouts could not be set: a directory that accepts connections and never answers holds a thread until the connection ends");
        }
    }

    public async Task<LdapSignIn> SignInAsync(string idpId, ProviderOptions provider, string username, string password, CancellationToken cancellationToken)
    {
        // An empty password is an unauthenticated bind, which directories accept for any DN: never a login.
        if (password.Length == 0)
        {
            return LdapSignIn.Refusal("an empty password");
        }
        var budget = TimeSpan.FromSeconds(provider.TimeoutSeconds);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var trusted = TrustDirectory(idpId, provider);
        string? unavailable = null;
        foreach (var server in provider.Servers)
        {
            var left = budget - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                break;
            }
            if (!await _calls.WaitAsync(left, cancellationToken))
            {
                return LdapSignIn.Failure("too many directory calls at once");
            }
            var attempt = Task.Run(() => SignInAt(new Uri(server), provider, trusted, username, password, left), CancellationToken.None);
            try
            {
                var outcome = await attempt.WaitAsync(left, cancellationToken);
                if (outcome.Unavailable is null)
                {
                    return outcome;
                }
                unavailable = $"{server}: {outcome.Unavailable}";
                _logger.LogWarning("Directory {Server} of {IdpId} could not be used: {Reason}", server, idpId, outcome.Unavailable);
            }
            catch (TimeoutException)
            {
                unavailable = $"{server}: no answer within {provider.TimeoutSeconds} s";
                _logger.LogWarning("Directory {Server} of {IdpId} did not answer within {Seconds} s", server, idpId, provider.TimeoutSeconds);
            }
            finally
            {
                // The thread is given back when the library's own timeout ends the call, not before.
                _ = attempt.ContinueWith(_ => _calls.Release(), TaskScheduler.Default);
            }
        }
        return LdapSignIn.Failure(unavailable ?? $"no answer within {provider.TimeoutSeconds} s");
    }

    private static LdapSignIn SignInAt(Uri server, ProviderOptions provider, string? trusted, string username, string password, TimeSpan timeout)
    {
        var secure = server.Scheme == "ldaps";
        var port = server.IsDefaultPort || server.Port < 0 ? secure ? 636 : 389 : server.Port;
        using var connection = new LdapConnection(new LdapDirectoryIdentifier(server.Host, port, fullyQualifiedDnsHostName: true, connectionless: false))
        {
            AuthType = string.IsNullOrWhiteSpace(provider.BindDn) ? AuthType.Anonymous : AuthType.Basic,
            Timeout = timeout,
        };
        try
        {
            var session = connection.SessionOptions;
            session.ProtocolVersion = 3;
            session.ReferralChasing = ReferralChasingOptions.None;
            // (On Windows the library trusts the machine's store only: this server runs on Linux.)
            if (trusted is not null && !OperatingSystem.IsWindows())
            {
                session.TrustedCertificatesDirectory = trusted;
                session.StartNewTlsSessionContext();
            }
            session.SecureSocketLayer = secure;
            if (provider.StartTls)
            {
                // On Linux the wrapper starts TLS only on an open connection, and it opens one with the first bind:
                // an anonymous one, which carries no credentials (a directory that refuses it has connected anyway).
                connection.AuthType = AuthType.Anonymous;
                try
                {
                    connection.Bind();
                }
                catch (DirectoryOperationException)
                {
                }
                session.StartTransportLayerSecurity(null);
                connection.AuthType = string.IsNullOrWhiteSpace(provider.BindDn) ? AuthType.Anonymous : AuthType.Basic;
            }
            if (string.IsNullOrWhiteSpace(provider.BindDn))
            {
                connection.Bind();
            }
            else
            {
                connection.Bind(new NetworkCredential(provider.BindDn, provider.BindPassword));
            }
        }
        catch (LdapException exception)
        {
            return LdapSignIn.Failure($"{exception.Message} ({exception.ErrorCode})");
        }
        catch (DirectoryOperationException exception)
        {
            return LdapSignIn.Failure($"the service account's bind was refused: {exception.Response?.ResultCode}");
        }

        SearchResultEntry entry;
        try
        {
            var search = new SearchRequest(provider.UserSearchBase, Filter(provider, username), SearchScope.Subtree, null)
            {
                SizeLimit = 2,
                TimeLimit = timeout,
            };
            var found = (SearchResponse)connection.SendRequest(search, timeout);
            if (found.Entries.Count != 1)
            {
                return LdapSignIn.Refusal(found.Entries.Count == 0 ? "no entry" : "several entries");
            }
            entry = found.Entries[0];
        }
        catch (DirectoryOperationException exception) when (exception.Response?.ResultCode == ResultCode.SizeLimitExceeded)
        {
            return LdapSignIn.Refusal("several entries");
        }
        catch (DirectoryOperationException exception) when (exception.Response?.ResultCode == ResultCode.NoSuchObject)
        {
            return LdapSignIn.Refusal("no entry (the user base does not exist)");
        }
        catch (Exception exception) when (exception is LdapException or DirectoryOperationException)
        {
            return LdapSignIn.Failure($"the search failed: {exception.Message}");
        }

        try
        {
            connection.AuthType = AuthType.Basic;
            connection.Bind(new NetworkCredential(entry.DistinguishedName, password));
        }
        catch (LdapException exception) when (exception.ErrorCode is InvalidCredentials or (int)ResultCode.UnwillingToPerform)
        {
            return LdapSignIn.Refusal("the password does not match");
        }
        catch (DirectoryOperationException exception)
        {
            return LdapSignIn.Refusal($"the user's bind was refused: {exception.Response?.ResultCode}");
        }
        catch (LdapException exception)
        {
            return LdapSignIn.Failure($"{exception.Message} ({exception.ErrorCode})");
        }
        return LdapSignIn.Success(new LdapEntry(entry.DistinguishedName, AttributesOf(entry)));
    }

    /// <summary>
    /// <c>(&amp;(objectClass=c1)…(|(f1=username)(f2=username)…))</c>, the username escaped per RFC 4515 so that it can
    /// only ever be a value: <c>*</c>, parentheses, backslash and NUL become <c>\2a</c>, <c>\28</c>, <c>\29</c>, <c>\5c</c>, <c>\00</c>.
    /// </summary>
    public static string Filter(ProviderOptions provider, string username)
    {
        var value = Escape(username);
        var filter = new StringBuilder("(&");
        foreach (var objectClass in provider.UserObjectClasses)
        {
            filter.Append("(objectClass=").Append(objectClass).Append(')');
        }
        filter.Append("(|");
        foreach (var attribute in provider.UserFilters)
        {
            filter.Append('(').Append(attribute).Append('=').Append(value).Append(')');
        }
        return filter.Append("))").ToString();
    }

    public static string Escape(string value)
    {
        var escaped = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            escaped.Append(c switch
            {
                '*' => @"\2a",
                '(' => @"\28",
                ')' => @"\29",
                '\\' => @"\5c",
                '\0' => @"\00",
                _ => c.ToString(),
            });
        }
        return escaped.ToString();
    }

    /// <summary>Every attribute the search returned, by the name the directory gave it, values as text or, when not UTF-8 text, base64.</summary>
    private static Dictionary<string, IReadOnlyList<string>> AttributesOf(SearchResultEntry entry)
    {
        var attributes = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (DirectoryAttribute attribute in entry.Attributes.Values)
        {
            if (SecretAttributes.Contains(attribute.Name.Split(';')[0]))
            {
                continue;
            }
            attributes[attribute.Name] = attribute.GetValues(typeof(byte[])).Cast<byte[]>().Select(TextOrBase64).ToList();
        }
        return attributes;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static string TextOrBase64(byte[] value)
    {
        try
        {
            var text = StrictUtf8.GetString(value);
            return text.Any(c => char.IsControl(c) && c is not ('\t' or '\n' or '\r')) ? Convert.ToBase64String(value) : text;
        }
        catch (DecoderFallbackException)
        {
            return Convert.ToBase64String(value);
        }
    }

    /// <summary>
    /// A directory holding the provider's <c>RootCa</c> certificates under the names OpenSSL looks them up by
    /// (the subject-name hash): the client library takes trusted certificates only as such a directory.
    /// </summary>
    private string? TrustDirectory(string idpId, ProviderOptions provider)
    {
        if (string.IsNullOrWhiteSpace(provider.RootCa))
        {
            return null;
        }
        return _trustDirectories.GetOrAdd(idpId, _ =>
        {
            var directory = Directory.CreateTempSubdirectory("userdataapi-ldap-ca-").FullName;
            var taken = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var certificate in LdapSettings.ReadRootCa(provider.RootCa))
            {
                var hash = OpenSslSubjectHash(certificate.SubjectName);
                var index = taken[hash] = taken.GetValueOrDefault(hash, -1) + 1;
                File.WriteAllText(Path.Combine(directory, $"{hash}.{index}"), certificate.ExportCertificatePem());
            }
            return directory;
        });
    }

    /// <summary>
    /// OpenSSL's <c>X509_NAME_hash</c>: the first four bytes (little-endian) of the SHA-1 of the name's canonical
    /// encoding, in which every string value is UTF-8, trimmed, its inner runs of white space made one space, and
    /// its ASCII letters made lower case, and the outer SEQUENCE is left out.
    /// </summary>
    public static string OpenSslSubjectHash(X500DistinguishedName name)
    {
        var canonical = new AsnWriter(AsnEncodingRules.DER);
        var reader = new AsnReader(name.RawData, AsnEncodingRules.DER).ReadSequence();
        while (reader.HasData)
        {
            var set = reader.ReadSetOf();
            using (canonical.PushSetOf())
            {
                while (set.HasData)
                {
                    var pair = set.ReadSequence();
                    using (canonical.PushSequence())
                    {
                        canonical.WriteObjectIdentifier(pair.ReadObjectIdentifier());
                        var tag = pair.PeekTag();
                        if (tag.TagClass == TagClass.Universal && CanonicalTypes.Contains((UniversalTagNumber)tag.TagValue))
                        {
                            canonical.WriteCharacterString(UniversalTagNumber.UTF8String, Canonical(pair.ReadCharacterString((UniversalTagNumber)tag.TagValue)));
                        }
                        else
                        {
                            canonical.WriteEncodedValue(pair.ReadEncodedValue().Span);
                        }
                    }
                }
            }
        }
        var digest = SHA1.HashData(canonical.Encode());
        return BitConverter.ToUInt32([digest[0], digest[1], digest[2], digest[3]]).ToString("x8");
    }

    private static readonly HashSet<UniversalTagNumber> CanonicalTypes =
    [
        UniversalTagNumber.UTF8String, UniversalTagNumber.BMPString, UniversalTagNumber.UniversalString, UniversalTagNumber.PrintableString,
        UniversalTagNumber.T61String, UniversalTagNumber.IA5String, UniversalTagNumber.VisibleString,
    ];

    private static string Canonical(string value)
    {
        var result = new StringBuilder(value.Length);
        var space = false;
        foreach (var c in value.Trim(' ', '\t', '\n', '\v', '\f', '\r'))
        {
            if (c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r')
            {
                space = true;
                continue;
            }
            if (space)
            {
                result.Append(' ');
                space = false;
            }
            result.Append(c is >= 'A' and <= 'Z' ? (char)(c + 32) : c);
        }
        return result.ToString();
    }

    public void Dispose() => _calls.Dispose();

    /// <summary>
    /// The OpenLDAP client library's default timeouts (for connecting, and for every synchronous call). The .NET
    /// wrapper sets neither for a bind, so a directory that accepts a connection and never answers would block the
    /// call for ever; new connections take these defaults.
    /// </summary>
    private static class LibraryTimeouts
    {
        private const int OptionTimeout = 0x5002;
        private const int OptionNetworkTimeout = 0x5005;
        // The names System.DirectoryServices.Protocols tries, in its order: the same library it uses.
        private static readonly string[] Names = ["libldap.so.2", "libldap-2.6.so.0", "libldap-2.5.so.0", "libldap-2.4.so.2"];

        [StructLayout(LayoutKind.Sequential)]
        private struct TimeValue
        {
            public nint Seconds;
            public nint Microseconds;
        }

        public static unsafe bool Set(int seconds)
        {
            foreach (var name in Names)
            {
                if (!NativeLibrary.TryLoad(name, out var library) || !NativeLibrary.TryGetExport(library, "ldap_set_option", out var export))
                {
                    continue;
                }
                var setOption = (delegate* unmanaged<nint, int, void*, int>)export;
                var value = new TimeValue { Seconds = seconds };
                return setOption(0, OptionTimeout, &value) == 0 && setOption(0, OptionNetworkTimeout, &value) == 0;
            }
            return false;
        }
    }
}
