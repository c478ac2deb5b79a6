using System.Text.Json;
using Microsoft.Extensions.Options;
using UserDataApi.Auth;

namespace UserDataApi.IdentityProviders;

/// <summary>Fetches the <c>identity_providers</c> list and puts it in the catalog; a failed load keeps the last good copy.</summary>
public sealed class IdentityProviderCatalogLoader(
    IdentityProviderCatalog catalog,
    IHttpClientFactory httpClients,
    IOptions<IdentityProvidersOptions> options,
    IOptions<AuthOptions> authOptions,
    IHostEnvironment environment,
    ILogger<IdentityProviderCatalogLoader> logger)
{
    public const string HttpClientName = "identity-provider-catalog";

    /// <summary>The largest catalog document read: a discovery document is a few KiB.</summary>
    public const int MaxDocumentBytes = 1024 * 1024;
    private const string PropertyName = "identity_providers";

    /// <summary>Loads the catalog once; returns whether it succeeded.</summary>
    public async Task<bool> LoadAsync(CancellationToken cancellationToken)
    {
        var source = Source;
        try
        {
            using var document = await ReadDocumentAsync(source, cancellationToken);
            var names = ParseNames(document.RootElement);
            catalog.Replace(names);
            logger.LogInformation("Identity-provider catalog loaded from {Source}: {Count} providers", Printable(source), names.Count);
            return true;
        }
        catch (Exception exception) when (exception is HttpRequestException or JsonException or IOException or FormatException
                                           or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Identity-provider catalog could not be loaded from {Source} ({Reason}); {State}",
                Printable(source), exception.Message, catalog.IsLoaded ? "keeping the last good copy" : "no catalog is loaded yet");
            return false;
        }
    }

    private string Source
    {
        get
        {
            var configured = options.Value;
            if (!string.IsNullOrWhiteSpace(configured.DiscoveryUrl))
            {
                return configured.DiscoveryUrl;
            }
            if (!string.IsNullOrWhiteSpace(configured.File))
            {
                return Path.GetFullPath(configured.File, environment.ContentRootPath);
            }
            return authOptions.Value.Authority.TrimEnd('/') + "/.well-known/openid-configuration";
        }
    }

    private async Task<JsonDocument> ReadDocumentAsync(string source, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(source, UriKind.Absolute, out var uri) || uri.IsFile)
        {
            await using var file = System.IO.File.OpenRead(source);
            return await JsonDocument.ParseAsync(file, cancellationToken: cancellationToken);
        }

        // Read whole into a buffer bounded by MaxDocumentBytes (the client's MaxResponseContentBufferSize).
        using var response = await httpClients.CreateClient(HttpClientName).GetAsync(uri, HttpCompletionOption.ResponseContentRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken));
    }

    /// <summary>A source as logs may show it: a URL without the credentials or query it may carry.</summary>
    private static string Printable(string source) =>
        Uri.TryCreate(source, UriKind.Absolute, out var uri) && !uri.IsFile ? uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped) : source;

    /// <summary>Accepts an array of names, or of objects that carry the name in <c>name</c>.</summary>
    private static List<string> ParseNames(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty(PropertyName, out var list)
            || list.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"the document has no '{PropertyName}' array");
        }

        var names = new List<string>();
        foreach (var entry in list.EnumerateArray())
        {
            var name = entry.ValueKind switch
            {
                JsonValueKind.String => entry.GetString(),
                JsonValueKind.Object when entry.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String => n.GetString(),
                _ => null,
            };
            if (!string.IsNullOrEmpty(name))
            {
                names.Add(name);
            }
        }
        return names;
    }
}
