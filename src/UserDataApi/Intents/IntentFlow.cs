using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using FluentValidation;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;
using UserDataApi.Auth;
using UserDataApi.Intents.Rpc.Object;
using UserDataApi.Intents.Rpc.User;
using UserDataApi.Persistence;

namespace UserDataApi.Intents;

/// <summary>
/// The life of an intent: started (auth URL handed out), then succeeded or failed at the provider's callback,
/// then retrieved, as often as needed, until its lifetime ends. Every change is one conditional UPDATE on the
/// intent's state, so a replayed callback, on any instance, finds nothing left to change. The application layer
/// of the intents: it takes the requests of ZITADEL's UserService and answers its messages, or an
/// <see cref="IntentError"/>; the transports only carry them.
/// </summary>
public sealed class IntentFlow(
    UserDataDbContext db,
    RetrieveBatcher reads,
    ExternalProviders providers,
    LdapDirectory directory,
    IntentRateLimits limits,
    IntentSecrets secrets,
    IValidator<StartIdentityProviderIntentRequest> startRules,
    IOptions<IntentsOptions> options,
    TimeProvider time,
    ILogger<IntentFlow> logger)
{
    private IntentsOptions Settings => options.Value;

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    public async Task<IntentOutcome<StartIdentityProviderIntentResponse>> StartAsync(
        Caller caller, StartIdentityProviderIntentRequest request, string redirectUri, CancellationToken cancellationToken)
    {
        if (startRules.Check(request) is { } invalid)
        {
            return invalid;
        }
        if (providers.Find(request.IdpId) is not { } provider)
        {
            return IntentFailures.ProviderNotFound(request.IdpId);
        }
        if (provider.IsLdap)
        {
            return request.ContentCase == StartIdentityProviderIntentRequest.ContentOneofCase.Ldap
                ? await SignInAtDirectoryAsync(caller, request.IdpId, provider, request.Ldap, cancellationToken)
                : IntentFailures.InvalidArgument($"identity provider '{request.IdpId}' signs users in with a username and password: ldap is required");
        }
        if (request.ContentCase != StartIdentityProviderIntentRequest.ContentOneofCase.Urls)
        {
            return IntentFailures.InvalidArgument($"identity provider '{request.IdpId}' signs users in by redirect: urls are required");
        }

        ProviderEndpoints endpoints;
        try
        {
            endpoints = await providers.ResolveAsync(request.IdpId, provider, cancellationToken);
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
            IdpId = request.IdpId,
            ResourceOwner = Settings.ResourceOwner,
            ClientAppId = caller.ClientAppId,
            State = IntentState.Started,
            Sequence = 1,
            StateHash = IntentSecrets.Hash(state),
            ProtectedVerifier = sealedVerifier,
            Nonce = IntentSecrets.NewToken(),
            SuccessUrl = StartIntentRequestValidator.Canonical(request.Urls.SuccessUrl)!,
            FailureUrl = StartIntentRequestValidator.Canonical(request.Urls.FailureUrl)!,
            CreatedAt = now,
            ChangedAt = now,
            ExpiresAt = now.AddSeconds(Settings.LifetimeSeconds),
        };
        db.Intents.Add(intent);
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Intent {IntentId} started for {IdpId}", intent.Id, intent.IdpId);

        var authUrl = ExternalProviders.AuthorizationUrl(endpoints, provider, redirectUri, state, intent.Nonce, IntentSecrets.Challenge(verifier));
        return new StartIdentityProviderIntentResponse { Details = DetailsOf(intent), AuthUrl = authUrl };
    }

    /// <summary>
    /// SPEC §4.4: the sign-in at a directory, at once: the intent is stored succeeded (its token answered, with the
    /// linked user if any) or failed. A refusal says nothing of why (wrong password, no entry, several entries, an
    /// empty password); only the log does, without the password or anything the directory holds.
    /// </summary>
    private async Task<IntentOutcome<StartIdentityProviderIntentResponse>> SignInAtDirectoryAsync(
        Caller caller, string idpId, ProviderOptions provider, LDAPCredentials credentials, CancellationToken cancellationToken)
    {
        if (limits.RefuseUsername(idpId, credentials.Username) is { } retryAfter)
        {
            return IntentFailures.TooManyPasswordAttempts(retryAfter);
        }
        var signIn = await directory.SignInAsync(idpId, provider, credentials.Username, credentials.Password, cancellationToken);
        var now = Now;
        var intent = new IdpIntent
        {
            Id = IntentSecrets.NewId(),
            IdpId = idpId,
            ResourceOwner = Settings.ResourceOwner,
            ClientAppId = caller.ClientAppId,
            Sequence = 1,
            // No browser comes back: there is no state, verifier, nonce or redirect, and nothing can match these.
            StateHash = IntentSecrets.Hash(IntentSecrets.NewToken()),
            ProtectedVerifier = [],
            Nonce = "",
            SuccessUrl = "",
            FailureUrl = "",
            CreatedAt = now,
            ChangedAt = now,
            ExpiresAt = now.AddSeconds(Settings.LifetimeSeconds),
        };
        var fields = signIn.Entry is { } entry ? IntentMapping.LdapFields(provider, entry) : null;
        var userId = fields is null ? null : IntentMapping.Text(fields, "id");
        if (signIn.Entry is null || userId is null)
        {
            var reason = signIn.Refused ?? signIn.Unavailable ?? $"the entry has no {provider.UserIdAttribute}";
            intent.State = IntentState.Failed;
            intent.FailureReason = ProviderErrorText.Description((signIn.Unavailable is null ? "access_denied: " : "server_error: ") + reason);
            db.Intents.Add(intent);
            await db.SaveChangesAsync(cancellationToken);
            logger.LogWarning("Intent {IntentId} failed: sign-in at {IdpId}: {Reason}", intent.Id, idpId, reason);
            return signIn.Unavailable is null ? IntentFailures.LdapSignInFailed() : IntentFailures.DirectoryUnavailable();
        }

        var token = IntentSecrets.NewToken();
        try
        {
            intent.ProtectedLdapAttributes = secrets.Seal(intent.Id, SealedField.LdapAttributes, JsonSerializer.Serialize(signIn.Entry.Attributes));
        }
        catch (CryptographicException exception)
        {
            logger.LogWarning("Intent not stored for {IdpId}: the directory's attributes cannot be sealed ({Reason})", idpId, exception.Message);
            return IntentFailures.CannotSeal();
        }
        intent.State = IntentState.Succeeded;
        intent.TokenHash = IntentSecrets.Hash(token);
        intent.IdpUserId = userId;
        intent.IdpUserName = IntentMapping.Text(fields!, "preferredUsername") ?? IntentMapping.Text(fields!, "email") ?? userId;
        intent.RawInformation = fields!.ToJsonString();
        db.Intents.Add(intent);
        await db.SaveChangesAsync(cancellationToken);

        var linkedUser = await LinkedUserAsync(idpId, userId, cancellationToken);
        logger.LogInformation("Intent {IntentId} succeeded at {IdpId}{Linked}", intent.Id, idpId, linkedUser is null ? "" : " for a linked user");
        var answer = new IDPIntent { IdpIntentId = intent.Id, IdpIntentToken = token };
        if (linkedUser is not null)
        {
            answer.UserId = linkedUser;
        }
        return new StartIdentityProviderIntentResponse { Details = DetailsOf(intent), IdpIntent = answer };
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
    /// Hands out what the provider returned to the holder of the intent token, and only to the client app that
    /// started the intent: the token travels in a URL (browser history, the login UI's logs), so holding it must not be
    /// enough for another client app to read the provider's tokens. The token is checked first: a wrong one, another
    /// client app's call, or an id that does not exist are the same permission denied, so that nothing about other
    /// intents is told. Within its lifetime a succeeded intent answers the same again (a lost answer must not strand
    /// the user).
    /// </summary>
    public async Task<IntentOutcome<RetrieveIdentityProviderIntentResponse>> RetrieveAsync(
        Caller caller, RetrieveIdentityProviderIntentRequest request, CancellationToken cancellationToken)
    {
        IntentWithLink? found;
        try
        {
            found = await reads.FindAsync(request.IdpIntentId, cancellationToken);
        }
        catch (StorageQueueFullException)
        {
            // Under a flood, one line per refused call would flood the logs too.
            logger.LogDebug("Storage queue full: a retrieve was refused");
            return IntentFailures.Unavailable();
        }
        var intent = found?.Intent;
        if (intent?.TokenHash is null || string.IsNullOrEmpty(request.IdpIntentToken) || !IntentSecrets.Matches(request.IdpIntentToken, intent.TokenHash)
            || !string.Equals(caller.ClientAppId, intent.ClientAppId, StringComparison.Ordinal))
        {
            return IntentFailures.InvalidIntentToken();
        }
        if (intent.State == IntentState.Consumed)
        {
            return IntentFailures.AlreadyRetrieved();
        }
        if (intent.State != IntentState.Succeeded)
        {
            return IntentFailures.NotSucceeded(failed: intent.State == IntentState.Failed);
        }
        if (intent.ExpiresAt <= Now)
        {
            return IntentFailures.Expired();
        }
        var information = new IDPInformation { IdpId = intent.IdpId, UserId = intent.IdpUserId! };
        var raw = JsonNode.Parse(intent.RawInformation ?? "{}") as JsonObject ?? new JsonObject();
        JsonObject claims;
        try
        {
            if (intent.ProtectedLdapAttributes is not null)
            {
                var attributes = await secrets.OpenAsync(intent.Id, SealedField.LdapAttributes, intent.ProtectedLdapAttributes, cancellationToken);
                information.Ldap = new IDPLDAPAccessInformation { Attributes = Google.Protobuf.JsonParser.Default.Parse<Struct>(attributes) };
                information.RawInformation = IntentMapping.StructOf(raw);
                claims = IntentMapping.ClaimsOfLdap(raw);
            }
            else
            {
                information.Oauth = new IDPOAuthAccessInformation
                {
                    AccessToken = intent.ProtectedAccessToken is null ? "" : await secrets.OpenAsync(intent.Id, SealedField.AccessToken, intent.ProtectedAccessToken, cancellationToken),
                };
                if (intent.ProtectedIdToken is not null)
                {
                    information.Oauth.IdToken = await secrets.OpenAsync(intent.Id, SealedField.IdToken, intent.ProtectedIdToken, cancellationToken);
                }
                information.RawInformation = RawInformationOf(intent.IdpId, raw);
                claims = raw;
            }
        }
        catch (CryptographicException exception)
        {
            // Sealed for another row, altered, or sealed with keys this server cannot reach: nothing is handed out,
            // and the intent stays as it is.
            logger.LogWarning("Intent {IntentId}: what it sealed does not open with this server's Data Protection keys ({Reason})", intent.Id, exception.Message);
            return IntentFailures.CannotOpen();
        }

        var userName = string.IsNullOrEmpty(intent.IdpUserName) ? intent.IdpUserId! : intent.IdpUserName;
        information.UserName = userName;
        var link = new IDPLink { IdpId = intent.IdpId, UserId = intent.IdpUserId!, UserName = userName };
        var linkedUser = found!.LinkedUserId;
        var response = new RetrieveIdentityProviderIntentResponse
        {
            Details = DetailsOf(intent),
            IdpInformation = information,
            CreateUser = IntentMapping.CreateUser(intent.ResourceOwner, linkedUser, claims, link),
        };
        if (linkedUser is null)
        {
            response.AddHumanUser = IntentMapping.AddHumanUser(claims, link);
        }
        else
        {
            response.UserId = linkedUser;
            response.UpdateHumanUser = IntentMapping.UpdateHumanUser(linkedUser, claims, userName);
        }
        logger.LogInformation("Intent {IntentId} retrieved", intent.Id);
        return response;
    }

    /// <summary>SPEC §4.3: an OIDC provider's user-info claims as they are; an OAuth provider's answer wrapped in <c>RawInfo</c>, as ZITADEL does.</summary>
    private Struct RawInformationOf(string idpId, JsonObject claims)
    {
        var raw = IntentMapping.StructOf(claims);
        return providers.Find(idpId)?.IsOAuth == true ? new Struct { Fields = { ["RawInfo"] = Value.ForStruct(raw) } } : raw;
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

    private static Details DetailsOf(IdpIntent intent) => new()
    {
        Sequence = (ulong)intent.Sequence,
        ChangeDate = Timestamp.FromDateTime(DateTime.SpecifyKind(intent.ChangedAt, DateTimeKind.Utc)),
        ResourceOwner = intent.ResourceOwner,
        CreationDate = Timestamp.FromDateTime(DateTime.SpecifyKind(intent.CreatedAt, DateTimeKind.Utc)),
    };
}

