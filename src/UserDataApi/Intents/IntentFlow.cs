using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using FluentValidation;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using UserDataApi.Auth;
using UserDataApi.Persistence;

namespace UserDataApi.Intents;

/// <summary>
/// The life of an intent: started (auth URL handed out), then succeeded or failed at the provider's
/// callback, then consumed by one retrieve. Every change is one conditional UPDATE on the intent's
/// state, so a replayed callback or a second retrieve, on any instance, finds nothing left to change.
/// The application layer of the intents: it takes plain requests and answers outcomes; transports map them.
/// </summary>
public sealed class IntentFlow(
    UserDataDbContext db,
    ExternalProviders providers,
    IntentSecrets secrets,
    IValidator<StartIntentRequest> startRules,
    IOptions<IntentsOptions> options,
    TimeProvider time,
    ILogger<IntentFlow> logger)
{
    private IntentsOptions Settings => options.Value;

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    public async Task<IntentOutcome<StartIntentResponse>> StartAsync(
        Caller caller, StartIntentRequest request, string redirectUri, CancellationToken cancellationToken)
    {
        if (startRules.Check(request) is { } invalid)
        {
            return invalid;
        }
        if (providers.Find(request.IdpId!) is not { } provider)
        {
            return IntentFailures.ProviderNotFound(request.IdpId!);
        }

        ProviderEndpoints endpoints;
        try
        {
            endpoints = await providers.ResolveAsync(request.IdpId!, provider, cancellationToken);
        }
        catch (ProviderException exception)
        {
            logger.LogWarning("Intent not started for {IdpId}: {Reason}", request.IdpId, exception.Description);
            return IntentFailures.ProviderUnavailable();
        }

        var state = IntentSecrets.NewToken();
        var verifier = IntentSecrets.NewToken();
        var now = Now;
        var id = IntentSecrets.NewId();
        byte[] sealedVerifier;
        try
        {
            sealedVerifier = secrets.Seal(id, SealedField.Verifier, verifier);
        }
        catch (CryptographicException exception)
        {
            logger.LogWarning("Intent not started for {IdpId}: its verifier cannot be sealed ({Reason})", request.IdpId, exception.Message);
            return IntentFailures.CannotSeal();
        }
        var intent = new IdpIntent
        {
            Id = id,
            IdpId = request.IdpId!,
            ResourceOwner = Settings.ResourceOwner,
            ClientAppId = caller.ClientAppId,
            State = IntentState.Started,
            Sequence = 1,
            StateHash = IntentSecrets.Hash(state),
            ProtectedVerifier = sealedVerifier,
            Nonce = IntentSecrets.NewToken(),
            SuccessUrl = request.Urls!.SuccessUrl!,
            FailureUrl = request.Urls.FailureUrl!,
            CreatedAt = now,
            ChangedAt = now,
            ExpiresAt = now.AddSeconds(Settings.LifetimeSeconds),
        };
        db.Intents.Add(intent);
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Intent {IntentId} started for {IdpId}", intent.Id, intent.IdpId);

        var authUrl = ExternalProviders.AuthorizationUrl(endpoints, provider, redirectUri, state, intent.Nonce, IntentSecrets.Challenge(verifier));
        return new StartIntentResponse(DetailsOf(intent), authUrl);
    }

    /// <summary>The provider's redirect back: ends the intent; its outcome is where to send the browser (the success or failure URL).</summary>
    public async Task<IntentOutcome<string>> CompleteAsync(CallbackParameters callback, string redirectUri, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(callback.State))
        {
            return IntentFailures.StateMissing();
        }
        var stateHash = IntentSecrets.Hash(callback.State);
        var intent = await db.Intents.AsNoTracking().SingleOrDefaultAsync(i => i.StateHash == stateHash, cancellationToken);
        if (intent is null)
        {
            return IntentFailures.StateUnknown();
        }
        if (intent.State != IntentState.Started)
        {
            logger.LogWarning("Callback for intent {IntentId} replayed; it is already {State}", intent.Id, intent.State);
            return FailureRedirect(intent, "invalid_request", "the intent has already been completed");
        }
        if (intent.ExpiresAt <= Now)
        {
            return await FailAsync(intent, "invalid_request", "the intent has expired", cancellationToken);
        }
        if (!string.IsNullOrEmpty(callback.Error))
        {
            return await FailAsync(intent, callback.Error, callback.ErrorDescription ?? "", cancellationToken);
        }
        if (string.IsNullOrEmpty(callback.Code))
        {
            return await FailAsync(intent, "invalid_request", "the provider sent no code", cancellationToken);
        }
        if (providers.Find(intent.IdpId) is not { } provider)
        {
            return await FailAsync(intent, "server_error", "the identity provider is no longer configured", cancellationToken);
        }

        string verifier;
        try
        {
            verifier = await secrets.OpenAsync(intent.Id, SealedField.Verifier, intent.ProtectedVerifier, cancellationToken);
        }
        catch (CryptographicException exception)
        {
            logger.LogWarning("Intent {IntentId}: its verifier does not open with this server's Data Protection keys ({Reason})", intent.Id, exception.Message);
            return await FailAsync(intent, "server_error", "the intent's sealed verifier cannot be opened", cancellationToken);
        }

        ProviderUser user;
        try
        {
            user = await providers.CompleteAsync(intent.IdpId, provider, callback.Code, verifier, intent.Nonce, redirectUri, cancellationToken);
        }
        catch (ProviderException exception)
        {
            return await FailAsync(intent, exception.Error, exception.Description, cancellationToken);
        }

        var token = IntentSecrets.NewToken();
        var tokenHash = IntentSecrets.Hash(token);
        var raw = user.Claims.ToJsonString();
        byte[] accessToken;
        byte[]? idToken;
        try
        {
            accessToken = secrets.Seal(intent.Id, SealedField.AccessToken, user.AccessToken);
            idToken = user.IdToken is null ? null : secrets.Seal(intent.Id, SealedField.IdToken, user.IdToken);
        }
        catch (CryptographicException exception)
        {
            logger.LogWarning("Intent {IntentId}: the provider's tokens cannot be sealed ({Reason})", intent.Id, exception.Message);
            return await FailAsync(intent, "server_error", "the provider's tokens cannot be sealed", cancellationToken);
        }
        var now = Now;
        var succeeded = await db.Intents
            .Where(i => i.Id == intent.Id && i.State == IntentState.Started)
            .ExecuteUpdateAsync(set => set
                .SetProperty(i => i.State, IntentState.Succeeded)
                .SetProperty(i => i.Sequence, i => i.Sequence + 1)
                .SetProperty(i => i.TokenHash, tokenHash)
                .SetProperty(i => i.IdpUserId, user.UserId)
                .SetProperty(i => i.IdpUserName, user.UserName)
                .SetProperty(i => i.RawInformation, raw)
                .SetProperty(i => i.ProtectedAccessToken, accessToken)
                .SetProperty(i => i.ProtectedIdToken, idToken)
                .SetProperty(i => i.ChangedAt, now)
                // SPEC §4.2: a succeeded intent lives its lifetime again, counted from its success.
                .SetProperty(i => i.ExpiresAt, now.AddSeconds(Settings.LifetimeSeconds)), cancellationToken);
        if (succeeded == 0)
        {
            return FailureRedirect(intent, "invalid_request", "the intent has already been completed");
        }

        var linkedUser = await LinkedUserAsync(intent.IdpId, user.UserId, cancellationToken);
        logger.LogInformation("Intent {IntentId} succeeded{Linked}", intent.Id, linkedUser is null ? "" : " for a linked user");
        var query = new Dictionary<string, string?> { ["id"] = intent.Id, ["token"] = token };
        if (linkedUser is not null)
        {
            query["user"] = linkedUser;
        }
        return QueryHelpers.AddQueryString(intent.SuccessUrl, query);
    }

    /// <summary>
    /// Hands out what the provider returned, once, to the holder of the intent token, and only to the client
    /// app that started the intent: the token travels in a URL (browser history, the login UI's logs), so
    /// holding it must not be enough for another client app to read the provider's tokens.
    /// </summary>
    public async Task<IntentOutcome<RetrieveIntentResponse>> RetrieveAsync(
        Caller caller, string intentId, RetrieveIntentRequest request, CancellationToken cancellationToken)
    {
        var intent = await db.Intents.AsNoTracking().SingleOrDefaultAsync(i => i.Id == intentId, cancellationToken);
        if (intent is null)
        {
            return IntentFailures.IntentNotFound();
        }
        if (intent.TokenHash is null)
        {
            return IntentFailures.NotSucceeded(failed: intent.State == IntentState.Failed);
        }
        if (string.IsNullOrEmpty(request.IdpIntentToken) || !IntentSecrets.Matches(request.IdpIntentToken, intent.TokenHash)
            || !string.Equals(caller.ClientAppId, intent.ClientAppId, StringComparison.Ordinal))
        {
            return IntentFailures.InvalidIntentToken();
        }
        if (intent.State == IntentState.Consumed)
        {
            return IntentFailures.AlreadyRetrieved();
        }
        OAuthInformation tokens;
        try
        {
            tokens = new OAuthInformation(
                intent.ProtectedAccessToken is null ? null : await secrets.OpenAsync(intent.Id, SealedField.AccessToken, intent.ProtectedAccessToken, cancellationToken),
                intent.ProtectedIdToken is null ? null : await secrets.OpenAsync(intent.Id, SealedField.IdToken, intent.ProtectedIdToken, cancellationToken));
        }
        catch (CryptographicException exception)
        {
            // Sealed for another row, altered, or sealed with keys this server cannot reach: nothing is handed out,
            // and the intent stays as it is.
            logger.LogWarning("Intent {IntentId}: its provider tokens do not open with this server's Data Protection keys ({Reason})", intent.Id, exception.Message);
            return IntentFailures.CannotOpen();
        }

        var now = Now;
        var consumed = await db.Intents
            .Where(i => i.Id == intentId && i.State == IntentState.Succeeded && i.ExpiresAt > now)
            .ExecuteUpdateAsync(set => set
                .SetProperty(i => i.State, IntentState.Consumed)
                .SetProperty(i => i.Sequence, i => i.Sequence + 1)
                .SetProperty(i => i.ChangedAt, now), cancellationToken);
        if (consumed == 0)
        {
            return intent.ExpiresAt <= now ? IntentFailures.Expired() : IntentFailures.AlreadyRetrieved();
        }
        intent.Sequence++;
        intent.ChangedAt = now;

        var claims = JsonNode.Parse(intent.RawInformation ?? "{}")!.AsObject();
        var link = new IdpLinkInfo(intent.IdpId, intent.IdpUserId!, intent.IdpUserName ?? "");
        var linkedUser = await LinkedUserAsync(intent.IdpId, intent.IdpUserId!, cancellationToken);
        var information = new IdpInformation(
            intent.IdpId,
            intent.IdpUserId!,
            intent.IdpUserName,
            JsonDocument.Parse(intent.RawInformation ?? "{}").RootElement.Clone(),
            tokens);

        logger.LogInformation("Intent {IntentId} retrieved", intent.Id);
        return new RetrieveIntentResponse(
            DetailsOf(intent),
            information,
            linkedUser,
            linkedUser is null ? IntentMapping.AddHumanUser(claims, link) : null,
            linkedUser is null ? null : IntentMapping.UpdateHumanUser(linkedUser, claims),
            IntentMapping.CreateUser(intent.ResourceOwner, linkedUser, claims, link));
    }

    private Task<string?> LinkedUserAsync(string idpId, string providerUserId, CancellationToken cancellationToken) =>
        db.Links.AsNoTracking()
            .Where(l => l.IdpId == idpId && l.LinkedUserId == providerUserId)
            .Select(l => l.UserId)
            .FirstOrDefaultAsync(cancellationToken);

    /// <summary>Fails the intent, and sends the browser to its failure URL with the error (cleaned: it may be the provider's, or a forger's).</summary>
    private async Task<string> FailAsync(
        IdpIntent intent, string error, string description, CancellationToken cancellationToken)
    {
        error = ProviderErrorText.Error(error);
        description = ProviderErrorText.Description(description);
        await db.Intents
            .Where(i => i.Id == intent.Id && i.State == IntentState.Started)
            .ExecuteUpdateAsync(set => set
                .SetProperty(i => i.State, IntentState.Failed)
                .SetProperty(i => i.Sequence, i => i.Sequence + 1)
                .SetProperty(i => i.FailureReason, $"{error}: {description}")
                .SetProperty(i => i.ChangedAt, Now), cancellationToken);
        logger.LogWarning("Intent {IntentId} failed: {Error} {Description}", intent.Id, error, description);
        return FailureRedirect(intent, error, description);
    }

    private static string FailureRedirect(IdpIntent intent, string error, string description) =>
        QueryHelpers.AddQueryString(intent.FailureUrl, new Dictionary<string, string?>
        {
            ["id"] = intent.Id,
            ["error"] = error,
            ["error_description"] = description,
        });

    private static Details DetailsOf(IdpIntent intent) => new(intent.Sequence, intent.ChangedAt, intent.ResourceOwner, intent.CreatedAt);
}

/// <summary>What the provider sends back to <c>/idps/callback</c>, by query (GET) or form (POST).</summary>
public sealed record CallbackParameters(string? State, string? Code, string? Error, string? ErrorDescription);
