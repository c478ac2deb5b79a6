using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using UserDataApi.Hosting;

namespace UserDataApi.Intents;

/// <summary>The start-up rules of an <c>ldap</c> provider (SPEC §4.4), and its settings that may come as one string.</summary>
public static partial class LdapSettings
{
    /// <summary>The provider settings that are lists and that operators often write as one space-separated string.</summary>
    public static readonly string[] ListSettings = [nameof(ProviderOptions.Servers), nameof(ProviderOptions.UserObjectClasses), nameof(ProviderOptions.UserFilters)];

    /// <summary>An attribute description of RFC 4512: a name (letters, digits, hyphens) or an OID. Nothing that could open a filter.</summary>
    [GeneratedRegex(@"^([A-Za-z][A-Za-z0-9-]*|[0-9]+(\.[0-9]+)+)$")]
    private static partial Regex AttributeName();

    /// <summary>Adds the items of a list setting written as one string ("uid mail", "ldap://a ldap://b").</summary>
    public static void SplitLists(IConfigurationSection providers, IntentsOptions options)
    {
        foreach (var (idpId, provider) in options.Providers)
        {
            foreach (var setting in ListSettings)
            {
                if (providers[$"{idpId}:{setting}"] is not { } text)
                {
                    continue;
                }
                var items = SettingRules.ItemsOf(text);
                (setting switch
                {
                    nameof(ProviderOptions.Servers) => provider.Servers,
                    nameof(ProviderOptions.UserObjectClasses) => provider.UserObjectClasses,
                    _ => provider.UserFilters,
                }).AddRange(items);
            }
        }
    }

    public static IEnumerable<string?> Failures(string key, ProviderOptions provider)
    {
        if (provider.Servers.Count == 0)
        {
            yield return $"{key}:{nameof(ProviderOptions.Servers)} is required: one or more ldap:// or ldaps:// URLs.";
        }
        foreach (var server in provider.Servers)
        {
            if (!Uri.TryCreate(server, UriKind.Absolute, out var uri) || uri.Scheme is not ("ldap" or "ldaps") || uri.Host.Length == 0
                || uri.AbsolutePath.Trim('/').Length > 0 || uri.Query.Length > 0 || uri.UserInfo.Length > 0)
            {
                yield return $"{key}:{nameof(ProviderOptions.Servers)} must hold ldap:// or ldaps:// URLs of a host and port only, not '{server}'.";
            }
            else if (uri.Scheme == "ldaps" && provider.StartTls)
            {
                yield return $"{key}:{nameof(ProviderOptions.StartTls)} upgrades ldap:// connections; '{server}' is ldaps:// already.";
            }
        }
        yield return Hosting.SettingRules.Required($"{key}:{nameof(ProviderOptions.BaseDn)}", provider.BaseDn);
        if (!string.IsNullOrWhiteSpace(provider.BindDn) && string.IsNullOrEmpty(provider.BindPassword))
        {
            // A bind with a name and no password is an unauthenticated bind: it would search as anonymous, and hide it.
            yield return $"{key}:{nameof(ProviderOptions.BindPassword)} is required when {nameof(ProviderOptions.BindDn)} is set.";
        }
        yield return AttributeNames($"{key}:{nameof(ProviderOptions.UserObjectClasses)}", provider.UserObjectClasses);
        yield return AttributeNames($"{key}:{nameof(ProviderOptions.UserFilters)}", provider.UserFilters);
        var mapped = new (string Name, string? Value)[]
        {
            (nameof(ProviderOptions.IdAttribute), provider.UserIdAttribute),
            (nameof(ProviderOptions.FirstNameAttribute), provider.FirstNameAttribute), (nameof(ProviderOptions.LastNameAttribute), provider.LastNameAttribute),
            (nameof(ProviderOptions.DisplayNameAttribute), provider.DisplayNameAttribute), (nameof(ProviderOptions.NickNameAttribute), provider.NickNameAttribute),
            (nameof(ProviderOptions.PreferredUsernameAttribute), provider.PreferredUsernameAttribute), (nameof(ProviderOptions.EmailAttribute), provider.EmailAttribute),
            (nameof(ProviderOptions.EmailVerifiedAttribute), provider.EmailVerifiedAttribute), (nameof(ProviderOptions.PhoneAttribute), provider.PhoneAttribute),
            (nameof(ProviderOptions.PhoneVerifiedAttribute), provider.PhoneVerifiedAttribute),
            (nameof(ProviderOptions.PreferredLanguageAttribute), provider.PreferredLanguageAttribute),
            (nameof(ProviderOptions.AvatarUrlAttribute), provider.AvatarUrlAttribute), (nameof(ProviderOptions.ProfileAttribute), provider.ProfileAttribute),
        };
        foreach (var (name, value) in mapped)
        {
            if (!string.IsNullOrWhiteSpace(value) && !AttributeName().IsMatch(value))
            {
                yield return $"{key}:{name} must be an attribute name, not '{value}'.";
            }
        }
        if (!string.IsNullOrWhiteSpace(provider.RootCa))
        {
            yield return RootCaProblem($"{key}:{nameof(ProviderOptions.RootCa)}", provider.RootCa);
        }
    }

    /// <summary>The certificates of a <c>RootCa</c> PEM file.</summary>
    public static X509Certificate2Collection ReadRootCa(string path)
    {
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPemFile(path);
        return certificates;
    }

    private static string? AttributeNames(string key, List<string> names)
    {
        if (names.Count == 0)
        {
            return $"{key} is required: one or more attribute names.";
        }
        return names.FirstOrDefault(name => !AttributeName().IsMatch(name)) is { } wrong ? $"{key} must hold attribute names, not '{wrong}'." : null;
    }

    private static string? RootCaProblem(string key, string path)
    {
        try
        {
            return ReadRootCa(path).Count > 0 ? null : $"{key} holds no PEM certificate: '{path}'.";
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or CryptographicException)
        {
            return $"{key} cannot be read as a PEM certificate file: '{path}' ({exception.Message}).";
        }
    }
}
