using Microsoft.AspNetCore.Http.HttpResults;
using UserDataApi.Hosting;

namespace UserDataApi.Intents;

/// <summary>The REST gateway's error answers: the one place where an intent failure's gRPC status meets an HTTP status.</summary>
public static class IntentErrors
{
    /// <summary>SPEC §4.1's table of HTTP statuses.</summary>
    public static int HttpStatusOf(StatusCode code) => code switch
    {
        StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.OutOfRange => StatusCodes.Status400BadRequest,
        StatusCode.Unauthenticated => StatusCodes.Status401Unauthorized,
        StatusCode.PermissionDenied => StatusCodes.Status403Forbidden,
        StatusCode.NotFound => StatusCodes.Status404NotFound,
        StatusCode.AlreadyExists or StatusCode.Aborted => StatusCodes.Status409Conflict,
        StatusCode.ResourceExhausted => StatusCodes.Status429TooManyRequests,
        StatusCode.Cancelled => 499,
        StatusCode.Unimplemented => StatusCodes.Status501NotImplemented,
        StatusCode.DeadlineExceeded => StatusCodes.Status504GatewayTimeout,
        _ => StatusCodes.Status503ServiceUnavailable,
    };

    /// <summary>The gateway's body for <paramref name="error"/>, with its HTTP status.</summary>
    public static JsonHttpResult<GatewayError> ToRest(this IntentError error) =>
        TypedResults.Json(new GatewayError((int)error.Code, error.Message, []), IntentJsonContext.Default.GatewayError, statusCode: HttpStatusOf(error.Code));

    /// <summary>As <see cref="ToRest(IntentError)"/>, and <c>Retry-After</c> (whole seconds, at least 1) when the caller is asked to wait.</summary>
    public static JsonHttpResult<GatewayError> ToRest(this IntentError error, HttpContext http)
    {
        if (error.RetryAfter is { } retryAfter)
        {
            http.Response.Headers.RetryAfter = Math.Max(1, Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return error.ToRest();
    }

    /// <summary>A call's outcome as a REST answer: 200 with its value, or the error.</summary>
    public static Results<Ok<T>, JsonHttpResult<GatewayError>> ToRest<T>(this IntentOutcome<T> outcome) =>
        outcome.Error is { } error ? error.ToRest() : TypedResults.Ok(outcome.Value!);
}

/// <summary>An intent endpoint's answer to a failure nothing else caught: 503 unavailable, in the gateway's error shape.</summary>
public sealed class IntentErrorAnswer : IErrorAnswer
{
    public static readonly IntentErrorAnswer Instance = new();

    public Task WriteAsync(HttpContext context) => IntentFailures.Unavailable().ToRest().ExecuteAsync(context);
}
