using System.Text.Json.Serialization.Metadata;
using FluentValidation;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using UserDataApi.Auth;
using UserDataApi.Hosting;
using UserDataApi.IdentityProviders;
using UserDataApi.Persistence;

namespace UserDataApi.UserData;

/// <summary>
/// The steps every user-data endpoint of every sub-family shares, in the order SPEC §3 fixes: token (-1, -2),
/// scopes (-3; by-email also a verified email), body and fields (-5), limits, identity provider (by-idp: -4, -6),
/// then the endpoint's own storage work, where an unreachable database answers -4. Each answer takes its code from
/// the sub-family's own table (its <c>TCode</c>).
/// </summary>
public sealed class UserDataPipeline(
    TokenChecker tokens, IdentityProviderCatalog catalog, StorageDeadline deadline, UserDataMetrics metrics, ILogger<UserDataPipeline> logger)
{
    /// <summary>
    /// Answers one user-data call. The endpoint's <c>work</c> runs within <see cref="StorageDeadline.RunAsync{T}"/>, unless
    /// it is <c>queued</c>: it only queues its statement on a <see cref="StatementBatcher{TCall, TResult}"/> (get, set, delete,
    /// list-get, and shared-list-get once its cursor key is cached), which holds each call to the storage deadline itself,
    /// so it runs on the request's own thread with no deadline around it.
    /// </summary>
    public async Task<TResponse> RunAsync<TRequest, TResponse, TCode>(
        HttpContext http,
        UserDataFamily family,
        JsonTypeInfo<TRequest> requestType,
        ScopeSet requiredScopes,
        Func<Filing, TRequest, Caller, CancellationToken, Task<TResponse>> work,
        Func<TRequest>? whenEmpty = null,
        bool queued = false)
        where TRequest : UserDataRequest
        where TResponse : UserDataResponse<TCode>, IUserDataResponse<TResponse, TCode>
        where TCode : struct, Enum
    {
        var response = await AnswerAsync<TRequest, TResponse, TCode>(http, family, requestType, requiredScopes, work, whenEmpty, queued);
        metrics.Record(http, ResultCodes<TCode>.Number(response.Result));
        return response;
    }

    private async Task<TResponse> AnswerAsync<TRequest, TResponse, TCode>(
        HttpContext http,
        UserDataFamily family,
        JsonTypeInfo<TRequest> requestType,
        ScopeSet requiredScopes,
        Func<Filing, TRequest, Caller, CancellationToken, Task<TResponse>> work,
        Func<TRequest>? whenEmpty,
        bool queued)
        where TRequest : UserDataRequest
        where TResponse : UserDataResponse<TCode>, IUserDataResponse<TResponse, TCode>
        where TCode : struct, Enum
    {
        var cancellationToken = http.RequestAborted;
        long? requestId = null;
        try
        {
            var request = await JsonRequestBody.ReadAsync(http.Request, requestType, cancellationToken, whenEmpty);
            requestId = request?.RequestId;
            var (refusal, caller) = await CheckAsync<TRequest, TResponse, TCode>(http, family, request, requiredScopes);
            if (refusal is not null)
            {
                return refusal;
            }
            var filing = Filing.Of(family, caller!, request!);
            return queued
                ? await work(filing, request!, caller!, cancellationToken)
                : await deadline.RunAsync(http, storage => work(filing, request!, caller!, storage));
        }
        catch (StorageQueueFullException)
        {
            // Under a flood, one line per refused call would flood the logs too; the answer counter shows the -4s.
            logger.LogDebug("Storage queue full for {Path}", http.Request.Path);
            return TResponse.Answer(requestId, ResultCodes<TCode>.ServiceTemporarilyNotValid);
        }
        catch (Exception exception) when (IsStorageUnavailable(exception, cancellationToken))
        {
            logger.LogWarning("Storage unavailable for {Path}: {Error}", http.Request.Path, exception.Message);
            return TResponse.Answer(requestId, ResultCodes<TCode>.ServiceTemporarilyNotValid);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Anything else is a fault of ours, wherever it arose (token check, validation, storage): still an
            // answer of the contract, with its arrays and request_id.
            logger.LogError("Unexpected {Exception} for {Path}", exception.GetType().Name, http.Request.Path);
            return TResponse.Answer(requestId, ResultCodes<TCode>.ServiceTemporarilyNotValid);
        }
    }

    /// <summary>The checks before the endpoint's own work, in SPEC §3's order: the answer of the first that fails, or the caller.</summary>
    private async ValueTask<(TResponse? Refusal, Caller? Caller)> CheckAsync<TRequest, TResponse, TCode>(
        HttpContext http, UserDataFamily family, TRequest? request, ScopeSet requiredScopes)
        where TRequest : UserDataRequest
        where TResponse : UserDataResponse<TCode>, IUserDataResponse<TResponse, TCode>
        where TCode : struct, Enum
    {
        var requestId = request?.RequestId;
        var token = await tokens.CheckAsync(http);
        if (token.Caller is not { } caller)
        {
            return (TResponse.Answer(requestId, token.Status switch
            {
                TokenStatus.Expired => ResultCodes<TCode>.TokenExpired,
                // Every answer is HTTP 200: "temporarily not valid" makes the SDKs back off, where -1 would make them retry at once.
                TokenStatus.AuthorityUnavailable or TokenStatus.TooManyFailures => ResultCodes<TCode>.ServiceTemporarilyNotValid,
                _ => ResultCodes<TCode>.TokenInvalid,
            }), null);
        }
        // by-email: an address the token does not vouch for must never open another person's records.
        if (!caller.Scopes.Covers(requiredScopes) || (family == UserDataFamily.ByEmail && caller.VerifiedEmail is null))
        {
            return (TResponse.Answer(requestId, ResultCodes<TCode>.AccessDenied), null);
        }
        if (request is null)
        {
            return (TResponse.Answer(requestId, ResultCodes<TCode>.InvalidParameters), null);
        }
        if (Validate<TRequest, TCode>(http.RequestServices.GetRequiredService<IValidator<TRequest>>(), request) is { } invalid)
        {
            return (TResponse.Answer(requestId, invalid), null);
        }
        if (request is IIdentityProviderRequest { IdentityProvider: var identityProvider })
        {
            if (!catalog.IsLoaded)
            {
                return (TResponse.Answer(requestId, ResultCodes<TCode>.ServiceTemporarilyNotValid), null);
            }
            if (!catalog.Contains(identityProvider))
            {
                return (TResponse.Answer(requestId, ResultCodes<TCode>.IdentityProviderNotFound
                    ?? throw new InvalidOperationException($"{typeof(TCode).Name} has no code for an unknown identity provider")), null);
            }
        }
        return (null, caller);
    }

    /// <summary>
    /// Field errors answer -5; a rule that carries a <see cref="UserDataLimit"/> as its state answers the family's
    /// code for that limit, but only when no field error comes first.
    /// </summary>
    private static TCode? Validate<TRequest, TCode>(IValidator<TRequest> validator, TRequest request) where TCode : struct, Enum
    {
        var result = validator.Validate(request);
        if (result.IsValid)
        {
            return null;
        }
        return result.Errors.Any(e => e.CustomState is not UserDataLimit)
            ? ResultCodes<TCode>.InvalidParameters
            : ResultCodes<TCode>.KeysSizeLimitReached;
    }
    private static bool IsStorageUnavailable(Exception exception, CancellationToken requestAborted) => exception switch
    {
        NpgsqlException or DbUpdateException or TimeoutException => true,
        OperationCanceledException => !requestAborted.IsCancellationRequested,
        InvalidOperationException { InnerException: NpgsqlException or TimeoutException } => true,
        _ => false,
    };
}
