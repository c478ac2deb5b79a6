using System.Text.Json.Serialization.Metadata;
using FluentValidation;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using UserDataApi.Auth;
using UserDataApi.Hosting;
using UserDataApi.IdentityProviders;

namespace UserDataApi.UserData;

/// <summary>
/// The steps every user-data endpoint shares, in the order SPEC §3 fixes: token (-1, -2), scopes (-3),
/// body and fields (-5), limits (-7), identity provider (-4, -6), then the endpoint's own storage work,
/// where an unreachable database answers -4.
/// </summary>
public sealed class UserDataPipeline(TokenChecker tokens, IdentityProviderCatalog catalog, UserDataMetrics metrics, ILogger<UserDataPipeline> logger)
{
    public async Task<TResponse> RunAsync<TRequest, TResponse>(
        HttpContext http,
        JsonTypeInfo<TRequest> requestType,
        ScopeSet requiredScopes,
        Func<TRequest, Caller, CancellationToken, Task<TResponse>> work)
        where TRequest : UserDataRequest
        where TResponse : UserDataResponse, IUserDataResponse<TResponse>
    {
        var response = await AnswerAsync(http, requestType, requiredScopes, work);
        metrics.Record(http, response.Result);
        return response;
    }

    private async Task<TResponse> AnswerAsync<TRequest, TResponse>(
        HttpContext http,
        JsonTypeInfo<TRequest> requestType,
        ScopeSet requiredScopes,
        Func<TRequest, Caller, CancellationToken, Task<TResponse>> work)
        where TRequest : UserDataRequest
        where TResponse : UserDataResponse, IUserDataResponse<TResponse>
    {
        var cancellationToken = http.RequestAborted;
        long? requestId = null;
        try
        {
            var request = await JsonRequestBody.ReadAsync(http.Request, requestType, cancellationToken);
            requestId = request?.RequestId;
            var (refusal, caller) = await CheckAsync<TRequest, TResponse>(http, request, requiredScopes);
            return refusal ?? await work(request!, caller!, cancellationToken);
        }
        catch (GetQueueFullException)
        {
            // Under a flood, one line per refused get would flood the logs too; the answer counter shows the -4s.
            logger.LogDebug("Get queue full for {Path}", http.Request.Path);
            return TResponse.Answer(requestId, ResultCode.ServiceTemporarilyNotValid);
        }
        catch (Exception exception) when (IsStorageUnavailable(exception, cancellationToken))
        {
            logger.LogWarning("Storage unavailable for {Path}: {Error}", http.Request.Path, exception.Message);
            return TResponse.Answer(requestId, ResultCode.ServiceTemporarilyNotValid);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Anything else is a fault of ours, wherever it arose (token check, validation, storage): still an
            // answer of the contract, with its arrays and request_id.
            logger.LogError("Unexpected {Exception} for {Path}", exception.GetType().Name, http.Request.Path);
            return TResponse.Answer(requestId, ResultCode.ServiceTemporarilyNotValid);
        }
    }

    /// <summary>The checks before the endpoint's own work, in SPEC §3's order: the answer of the first that fails, or the caller.</summary>
    private async Task<(TResponse? Refusal, Caller? Caller)> CheckAsync<TRequest, TResponse>(HttpContext http, TRequest? request, ScopeSet requiredScopes)
        where TRequest : UserDataRequest
        where TResponse : UserDataResponse, IUserDataResponse<TResponse>
    {
        var requestId = request?.RequestId;
        var token = await tokens.CheckAsync(http);
        if (token.Caller is not { } caller)
        {
            return (TResponse.Answer(requestId, token.Status switch
            {
                TokenStatus.Expired => ResultCode.TokenExpired,
                // Every answer is HTTP 200: "temporarily not valid" makes the SDKs back off, where -1 would make them retry at once.
                TokenStatus.AuthorityUnavailable or TokenStatus.TooManyFailures => ResultCode.ServiceTemporarilyNotValid,
                _ => ResultCode.TokenInvalid,
            }), null);
        }
        if (!caller.Scopes.Covers(requiredScopes))
        {
            return (TResponse.Answer(requestId, ResultCode.AccessDenied), null);
        }
        if (request is null)
        {
            return (TResponse.Answer(requestId, ResultCode.InvalidParameters), null);
        }
        if (Validate(http.RequestServices.GetRequiredService<IValidator<TRequest>>(), request) is { } invalid)
        {
            return (TResponse.Answer(requestId, invalid), null);
        }
        if (!catalog.IsLoaded)
        {
            return (TResponse.Answer(requestId, ResultCode.ServiceTemporarilyNotValid), null);
        }
        if (!catalog.Contains(request.IdentityProvider))
        {
            return (TResponse.Answer(requestId, ResultCode.IdentityProviderNotFound), null);
        }
        return (null, caller);
    }

    /// <summary>
    /// Field errors answer -5; a rule that carries a <see cref="ResultCode"/> as its state (a limit)
    /// answers with that code, but only when no field error comes first.
    /// </summary>
    private static ResultCode? Validate<TRequest>(IValidator<TRequest> validator, TRequest request)
    {
        var result = validator.Validate(request);
        if (result.IsValid)
        {
            return null;
        }
        return result.Errors.Any(e => e.CustomState is not ResultCode)
            ? ResultCode.InvalidParameters
            : (ResultCode)result.Errors[0].CustomState;
    }

    private static bool IsStorageUnavailable(Exception exception, CancellationToken requestAborted) => exception switch
    {
        NpgsqlException or DbUpdateException or TimeoutException => true,
        OperationCanceledException => !requestAborted.IsCancellationRequested,
        InvalidOperationException { InnerException: NpgsqlException or TimeoutException } => true,
        _ => false,
    };
}
