using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using UserDataApi.Persistence;

namespace UserDataApi.Intents;

/// <summary>Where a provider's endpoints are, and (OIDC) the issuer and keys its ID tokens are checked against.</summary>
public sealed record ProviderEndpoints(string AuthorizationEndpoint, string TokenEndpoint, string? UserInfoEndpoint, string? Issuer, ICollection<SecurityKey> SigningKeys);

/// <summary>
/// What a provider said about the user after a successful code exchange: its id for the user, a user name that is
/// never empty, and its claims (OIDC: the user info, else the ID token's; OAuth: the user-info answer as it came).
/// </summary>
public sealed record ProviderUser(string UserId, string UserName, JsonObject Claims, string AccessToken, string? IdToken);

/// <summary>A provider call that failed; <see cref="Error"/> and <see cref="Description"/> go to the failure URL.</summary>
public sealed class ProviderException(string error, string description) : Exception(description)
{
    public string Error { get; } = error;
    public string Description { get; } = description;
}

/// <summary>The OAuth 2.0 / OpenID Connect client side of intents: authorization URL, code exchange, ID token, user info.</summary>
public sealed class ExternalProviders(IOptions<IntentsOptions> options, IHttpClientFactory httpClients)
{
    public const string HttpClientName = "external-providers";
    private static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);
    private static readonly JsonDocumentOptions StrictJson = new() { AllowDuplicateProperties = false };

    private readonly ConcurrentDictionary<string, ConfigurationManager<OpenIdConnectConfiguration>> _discovery = new(StringComparer.Ordinal);

    public ProviderOptions? Find(string idpId) => options.Value.Providers.GetValueOrDefault(idpId);

    /// <summary>Reads an OIDC provider's discovery document (cached, refreshed on unknown keys); an OAuth provider's endpoints come from its settings.</summary>
    public async Task<ProviderEndpoints> ResolveAsync(string idpId, ProviderOptions provider, CancellationToken cancellationToken)
    {
        if (!provider.IsOidc)
        {
            return new ProviderEndpoints(provider.AuthorizationEndpoint!, provider.TokenEndpoint!, provider.UserInfoEndpoint, null, []);
        }
        var manager = _discovery.GetOrAdd(idpId, _ => new ConfigurationManager<OpenIdConnectConfiguration>(
            provider.Issuer!.TrimEnd('/') + "/.well-known/openid-configuration",
            new OpenIdConnectConfigurationRetriever(),
            new HttpDocumentRetriever(ClientFor(provider)) { RequireHttps = provider.RequireHttpsMetadata }));
        OpenIdConnectConfiguration configuration;
        try
        {
            configuration = await manager.GetConfigurationAsync(cancellationToken);
        }
        catch (InvalidOperationException exception)
        {
            throw new ProviderException("server_error", $"the provider's discovery document could not be read: {exception.Message}");
        }
        if (UntrustedDiscovery(provider, configuration) is { } problem)
        {
            throw new ProviderException("server_error", $"the provider's discovery document is not trusted: {problem}");
        }
        return new ProviderEndpoints(configuration.AuthorizationEndpoint, configuration.TokenEndpoint,
            configuration.UserInfoEndpoint, configuration.Issuer, configuration.SigningKeys);
    }

    /// <summary>
    /// What makes a discovery document unfit to send the user, the code and the tokens to: an issuer other than the
    /// one configured (OpenID Connect Discovery §4.3: another issuer's document, or a forged one), or, unless
    /// <c>RequireHttpsMetadata</c> is off, an endpoint that is not https (the code, the client secret and the
    /// access token would cross the network in clear). Null when it is fit.
    /// </summary>
    private static string? UntrustedDiscovery(ProviderOptions provider, OpenIdConnectConfiguration configuration)
    {
        if (!string.Equals(configuration.Issuer?.TrimEnd('/'), provider.Issuer!.TrimEnd('/'), StringComparison.Ordinal))
        {
            return $"its issuer '{configuration.Issuer}' is not the configured '{provider.Issuer}'";
        }
        var endpoints = new (string Name, string? Url, bool Required)[]
        {
            ("authorization_endpoint", configuration.AuthorizationEndpoint, true),
            ("token_endpoint", configuration.TokenEndpoint, true),
            ("userinfo_endpoint", configuration.UserInfoEndpoint, false),
        };
        foreach (var (name, url, required) in endpoints)
        {
            if (string.IsNullOrEmpty(url))
            {
                if (required)
                {
                    return $"it names no {name}";
                }
                continue;
            }
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && (provider.RequireHttpsMetadata || uri.Scheme != Uri.UriSchemeHttp)))
            {
                return provider.RequireHttpsMetadata ? $"its {name} is not an https URL" : $"its {name} is not an http(s) URL";
            }
        }
        return null;
    }

    public static string AuthorizationUrl(ProviderEndpoints endpoints, ProviderOptions provider, string redirectUri, string state, string nonce, string codeChallenge)
    {
        var query = new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = provider.ClientId,
            ["redirect_uri"] = redirectUri,
            ["scope"] = provider.Scopes,
            ["state"] = state,
            ["code_challenge"] = codeChallenge,
            ["code_challenge_method"] = "S256",
        };
        if (provider.IsOidc)
        {
            query["nonce"] = nonce;
        }
        return Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(endpoints.AuthorizationEndpoint, query);
    }

    /// <summary>
    /// Exchanges the code, checks the ID token (OIDC), and reads user info. Whatever the provider does wrong
    /// (no answer in time, no connection, an answer that is not what OAuth asks for) is a <see cref="ProviderException"/>.
    /// </summary>
    public async Task<ProviderUser> CompleteAsync(
        string idpId, ProviderOptions provider, string code, string codeVerifier, string nonce, string redirectUri, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadUserAsync(idpId, provider, code, codeVerifier, nonce, redirectUri, cancellationToken);
        }
        catch (Exception exception) when (IsProviderFault(exception, cancellationToken))
        {
            throw new ProviderException("server_error", $"the provider's answer could not be read ({exception.GetType().Name})");
        }
    }

    private async Task<ProviderUser> ReadUserAsync(
        string idpId, ProviderOptions provider, string code, string codeVerifier, string nonce, string redirectUri, CancellationToken cancellationToken)
    {
        var endpoints = await ResolveAsync(idpId, provider, cancellationToken);
        var tokens = await ExchangeCodeAsync(endpoints, provider, code, codeVerifier, redirectUri, cancellationToken);
        var accessToken = TokenOf(tokens, "access_token") ?? throw new ProviderException("server_error", "the token response holds no access_token");
        var idToken = TokenOf(tokens, "id_token");

        var claims = new JsonObject();
        if (provider.IsOidc)
        {
            if (idToken is null)
            {
                throw new ProviderException("server_error", "the token response holds no id_token");
            }
            claims = await ValidateIdTokenAsync(idpId, provider, endpoints, idToken, nonce, cancellationToken);
        }
        if (endpoints.UserInfoEndpoint is not null)
        {
            var userInfo = await ReadUserInfoAsync(provider, endpoints.UserInfoEndpoint, accessToken, cancellationToken);
            if (provider.IsOidc && userInfo["sub"]?.ToString() != claims["sub"]?.ToString())
            {
                throw new ProviderException("server_error", "user info names another subject than the ID token");
            }
            claims = userInfo;
        }

        var userId = provider.IsOidc ? claims["sub"]?.ToString() : IdOf(claims[provider.UserIdAttribute]);
        if (string.IsNullOrEmpty(userId))
        {
            throw new ProviderException("server_error", $"the provider named no user id ({(provider.IsOidc ? "sub" : provider.UserIdAttribute)})");
        }
        if (!IsStorable(claims))
        {
            throw new ProviderException("server_error", "the provider's claims hold a NUL character, which cannot be stored");
        }
        var userName = IntentMapping.Text(claims, provider.IsOidc ? "preferred_username" : provider.UserNameAttribute)
                       ?? IntentMapping.Text(claims, "email")
                       ?? userId;
        return new ProviderUser(userId, userName, claims, accessToken, idToken);
    }

    /// <summary>A token of the token response; absent or null is null, anything but a string is the provider's fault.</summary>
    private static string? TokenOf(JsonObject tokens, string name) => tokens[name] switch
    {
        null => null,
        var token when token.GetValueKind() == JsonValueKind.String => token.GetValue<string>(),
        _ => throw new ProviderException("server_error", $"the token response's {name} is not a string"),
    };

    /// <summary>PostgreSQL stores neither NUL in text nor <c>\u0000</c> in jsonb, so claims holding it (in a name or a value) are refused here.</summary>
    private static bool IsStorable(JsonNode? node) => node switch
    {
        JsonObject claims => claims.All(claim => StoredText.IsStorable(claim.Key) && IsStorable(claim.Value)),
        JsonArray items => items.All(IsStorable),
        JsonValue value => value.GetValueKind() != JsonValueKind.String || StoredText.IsStorable(value.GetValue<string>()),
        _ => true,
    };

    /// <summary>
    /// What a provider's missing or malformed answer raises while it is read. A cancelled request is not the
    /// provider's fault: the browser left, and the intent stays open.
    /// </summary>
    private static bool IsProviderFault(Exception exception, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested
        && exception is HttpRequestException or JsonException or InvalidOperationException or KeyNotFoundException or FormatException
            or OperationCanceledException;

    /// <summary>
    /// A client for one provider's calls, each bounded by that provider's <see cref="ProviderOptions.TimeoutSeconds"/>
    /// and by <see cref="MaxAnswerBytes"/>: a larger answer fails as a provider fault instead of filling memory.
    /// </summary>
    private HttpClient ClientFor(ProviderOptions provider)
    {
        var client = httpClients.CreateClient(HttpClientName);
        client.Timeout = TimeSpan.FromSeconds(provider.TimeoutSeconds);
        client.MaxResponseContentBufferSize = MaxAnswerBytes;
        return client;
    }

    /// <summary>The largest answer read from a provider: discovery documents, key sets, tokens and user info are a few KiB.</summary>
    public const int MaxAnswerBytes = 1024 * 1024;

    private static string? IdOf(JsonNode? node) => node?.GetValueKind() switch
    {
        JsonValueKind.String => node.GetValue<string>(),
        JsonValueKind.Number => node.ToJsonString(),
        _ => null,
    };

    private async Task<JsonObject> ExchangeCodeAsync(
        ProviderEndpoints endpoints, ProviderOptions provider, string code, string codeVerifier, string redirectUri, CancellationToken cancellationToken)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = redirectUri,
            ["code_verifier"] = codeVerifier,
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoints.TokenEndpoint);
        if (string.Equals(provider.TokenEndpointAuthMethod, ProviderOptions.ClientSecretPost, StringComparison.OrdinalIgnoreCase))
        {
            form["client_id"] = provider.ClientId;
            form["client_secret"] = provider.ClientSecret;
        }
        else
        {
            // RFC 6749 §2.3.1: client id and secret are form-encoded before they are joined for Basic.
            var credentials = $"{Uri.EscapeDataString(provider.ClientId)}:{Uri.EscapeDataString(provider.ClientSecret)}";
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(credentials)));
        }
        request.Content = new FormUrlEncodedContent(form);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return await SendForJsonAsync(provider, request, "token endpoint", cancellationToken);
    }

    private async Task<JsonObject> ValidateIdTokenAsync(
        string idpId, ProviderOptions provider, ProviderEndpoints endpoints, string idToken, string nonce, CancellationToken cancellationToken)
    {
        var result = await ValidateWithKeysAsync(provider, endpoints, idToken);
        if (result.Exception is SecurityTokenSignatureKeyNotFoundException && _discovery.TryGetValue(idpId, out var manager))
        {
            // The provider may have rotated its keys since the discovery document was cached.
            manager.RequestRefresh();
            result = await ValidateWithKeysAsync(provider, await ResolveAsync(idpId, provider, cancellationToken), idToken);
        }
        if (!result.IsValid)
        {
            throw new ProviderException("server_error", $"the ID token is not valid ({result.Exception?.GetType().Name})");
        }
        var token = (JsonWebToken)result.SecurityToken;
        if (!token.TryGetPayloadValue<string>("nonce", out var tokenNonce) || tokenNonce != nonce)
        {
            throw new ProviderException("server_error", "the ID token's nonce does not match the intent");
        }
        var payload = System.Text.Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(token.EncodedPayload));
        return JsonNode.Parse(payload, documentOptions: StrictJson)!.AsObject();
    }

    private static Task<TokenValidationResult> ValidateWithKeysAsync(ProviderOptions provider, ProviderEndpoints endpoints, string idToken) =>
        new JsonWebTokenHandler().ValidateTokenAsync(idToken, new TokenValidationParameters
        {
            ValidIssuer = endpoints.Issuer,
            ValidAudience = provider.ClientId,
            IssuerSigningKeys = endpoints.SigningKeys,
            ValidateLifetime = true,
            ClockSkew = ClockSkew,
        });

    private async Task<JsonObject> ReadUserInfoAsync(ProviderOptions provider, string endpoint, string accessToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, endpoint);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return await SendForJsonAsync(provider, request, "user-info endpoint", cancellationToken);
    }

    private async Task<JsonObject> SendForJsonAsync(ProviderOptions provider, HttpRequestMessage request, string what, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await ClientFor(provider).SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new ProviderException("server_error", $"the provider's {what} answered {(int)response.StatusCode}");
            }
            return JsonNode.Parse(body, documentOptions: StrictJson) as JsonObject
                   ?? throw new ProviderException("server_error", $"the provider's {what} did not answer a JSON object");
        }
        catch (Exception exception) when (IsProviderFault(exception, cancellationToken))
        {
            throw new ProviderException("server_error", exception is OperationCanceledException
                ? $"the provider's {what} did not answer within {provider.TimeoutSeconds} s"
                : $"the provider's {what} could not be used ({exception.GetType().Name})");
        }
    }
}
